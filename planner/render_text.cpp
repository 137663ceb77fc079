#include <map>
#include <sstream>

#include "planner/render.hpp"

namespace pgparity::planner {

namespace {

struct Style {
  bool color;
  std::string paint(const char* code, const std::string& text) const {
    return color ? std::string("\033[") + code + "m" + text + "\033[0m" : text;
  }
  std::string red(const std::string& t) const { return paint("31", t); }
  std::string green(const std::string& t) const { return paint("32", t); }
  std::string yellow(const std::string& t) const { return paint("33", t); }
  std::string bold(const std::string& t) const { return paint("1", t); }
  std::string dim(const std::string& t) const { return paint("2", t); }
};

std::string describe(const Step& s, const Style& style) {
  if (const auto* p = s.get_if<SchemaCreate>()) return style.green("+ schema  ") + p->schema;
  if (const auto* p = s.get_if<ExtensionCreate>()) {
    return style.green("+ create  ") + p->extension + " " + p->to.str() +
           (p->schema.empty() ? "" : " in schema " + p->schema);
  }
  if (const auto* p = s.get_if<ExtensionUpdate>()) {
    return style.yellow("~ update  ") + p->extension + " " + p->from.str() + " → " + p->to.str() + " (path " +
           path_text(p->path) + ")";
  }
  if (const auto* p = s.get_if<ExtensionDrop>()) {
    return style.red("- drop    ") + p->extension + " " + p->from.str() + (p->cascade ? " CASCADE" : "");
  }
  if (const auto* p = s.get_if<ExtensionRecreate>()) {
    return style.red("± recreate ") + p->extension + " " + p->from.str() + " → " + p->to.str() +
           (p->cascade ? " CASCADE" : "");
  }
  if (const auto* p = s.get_if<SettingChange>()) {
    return style.yellow("~ set     ") + p->setting + " " + p->current + " → " + p->value +
           (p->restart_required ? style.bold(" (restart required)") : "");
  }
  if (const auto* p = s.get_if<PatroniPatch>()) {
    std::string changes;
    for (std::size_t i = 0; i < p->settings.size(); ++i) {
      changes += (i ? ", " : "") + p->settings[i] + " (now " + (p->current[i].empty() ? "''" : p->current[i]) + ")";
    }
    return style.yellow("~ patroni ") + changes + style.dim("  PATCH " + p->url + "/config " + p->body);
  }
  if (const auto* p = s.get_if<ServerRestart>()) {
    if (!p->member.empty()) {
      return style.red("↻ restart ") + "member " + p->member + (p->leader ? " (the leader)" : " (a replica)") +
             ", for " + settings_text(*p) + style.dim("  POST /restart {\"restart_pending\": true}");
    }
    return style.red("↻ restart ") + "the server, for " + settings_text(*p) + style.dim("  $ " + command_text(*p));
  }
  return style.dim(std::string("· ") + name_of(s.kind));
}

}  // namespace

std::string summary_line(const Plan& plan) {
  std::map<StepKind, int> counts;
  for (const auto& s : plan.steps) {
    if (!is_gate(s.kind)) ++counts[s.kind];
  }
  std::string out;
  auto add = [&](StepKind kind, const std::string& words) {
    if (counts[kind] == 0) return;
    out += (out.empty() ? "" : ", ") + std::to_string(counts[kind]) + " " + words;
  };
  add(StepKind::create, "to create");
  add(StepKind::update, "to update");
  add(StepKind::drop, "to drop");
  add(StepKind::recreate, "to recreate");
  add(StepKind::set, counts[StepKind::set] == 1 ? "setting to change" : "settings to change");
  add(StepKind::restart, counts[StepKind::restart] == 1 ? "restart" : "restarts");
  add(StepKind::patroni, "Patroni configuration to change");
  if (out.empty()) out = "no changes";
  if (plan.blocked()) {
    out += "; " + std::to_string(plan.blockers.size()) + (plan.blockers.size() == 1 ? " blocker" : " blockers");
  }
  return out;
}

std::string render_text(const Plan& plan, bool color) {
  const Style style{color};
  std::ostringstream out;
  out << style.bold("pgparity plan: " + summary_line(plan)) << "\n";
  if (plan.blocked()) {
    out << "\n" << style.red(style.bold("Blocked")) << " — nothing is applied while any of these remain:\n";
    for (const auto& b : plan.blockers) {
      std::string where = b.target + (b.database.empty() ? "" : "/" + b.database);
      out << "  " << style.red("✗") << " " << where << ": " << b.message << "\n";
      if (!b.hint.empty()) out << "    hint: " << b.hint << "\n";
    }
  }
  std::string group;
  for (const auto& s : plan.steps) {
    const std::string here = s.kind == StepKind::barrier
                                 ? s.target + " (barrier)"
                                 : s.target + (s.replica.empty() ? "" : "@" + s.replica) +
                                       (s.database.empty() ? " (server settings)" : "/" + s.database);
    if (here != group) {
      group = here;
      out << "\n" << style.bold(here) << "\n";
    }
    out << "  " << describe(s, style);
    if (!s.reason.empty() && (!is_gate(s.kind) || s.kind == StepKind::barrier)) out << style.dim("  — " + s.reason);
    out << "\n";
    if (!blast_radius_of(s).empty()) {
      out << "      takes with it:";
      for (const auto& o : blast_radius_of(s)) out << " " << planner::describe(o) << ";";
      out << "\n";
    }
    if (const auto* r = s.get_if<ExtensionRecreate>(); r != nullptr && !r->keeps.empty()) {
      out << "      keeps:";
      for (const auto& k : r->keeps) out << " " << k << ";";
      out << "\n";
    }
    for (const auto& sql : s.sql) out << "      " << style.dim(sql + ";") << "\n";
    if (s.rehearsal) out << "      rehearsal: " << rehearsal_text(*s.rehearsal) << "\n";
  }
  if (!plan.rehearsals.empty()) out << "\n";
  for (const auto& line : plan.rehearsals) out << line << "\n";
  for (const auto& p : plan.pending_restarts) {
    out << "\n"
        << style.yellow("pending restart: ") << p.target << " " << p.setting << " = " << p.written
        << " is in postgresql.auto.conf; the server runs " << p.running
        << " until it is restarted (pgparity restarts it only when policy.restart allows and the target has a "
           "restart.command)";
  }
  if (!plan.pending_restarts.empty()) out << "\n";
  for (const auto& d : plan.auto_conf_drift) out << "\n" << style.yellow("drift: ") << auto_conf_drift_text(d);
  if (!plan.auto_conf_drift.empty()) out << "\n";
  for (const auto& w : plan.waves) {
    out << "\n" << style.bold("rollout ") << w.target << " " << w.name << ": ";
    for (std::size_t i = 0; i < w.databases.size(); ++i) out << (i ? ", " : "") << w.databases[i];
  }
  if (!plan.waves.empty()) out << "\n";
  for (const auto& w : plan.warnings) out << "\n" << style.yellow("warning: ") << w;
  if (!plan.warnings.empty()) out << "\n";
  return out.str();
}

}  // namespace pgparity::planner
