#include <sstream>

#include "planner/render.hpp"

namespace pgparity::planner {

namespace {

/// Table cells must not break the table.
std::string cell(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '|') {
      out += "\\|";
    } else if (c == '\n') {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

std::string change_of(const Step& s) {
  switch (s.kind) {
    case StepKind::schema:
      return "→ created";
    case StepKind::create:
      return "→ " + s.to;
    case StepKind::update:
      return s.from + " → " + s.to;
    case StepKind::drop:
      return s.from + " → (absent)";
    case StepKind::recreate:
      return s.from + " → " + s.to + " (drop + create)";
    case StepKind::set:
      return s.current + " → " + s.value;
    default:
      return "";
  }
}

std::string detail_of(const Step& s) {
  std::string out = s.reason;
  if (s.kind == StepKind::update) {
    std::string path;
    for (const auto& v : s.path) path += (path.empty() ? "" : "--") + v;
    out = "path `" + path + "`";
  }
  if (!s.blast_radius.empty()) {
    out += (out.empty() ? "" : "; ") + std::string("takes: ");
    for (std::size_t i = 0; i < s.blast_radius.size(); ++i) {
      out += (i ? ", " : "") + planner::describe(s.blast_radius[i]);
    }
  }
  if (!s.keeps.empty()) {
    out += (out.empty() ? "" : "; ") + std::string("keeps: ");
    for (std::size_t i = 0; i < s.keeps.size(); ++i) out += (i ? ", " : "") + s.keeps[i];
  }
  if (s.restart_required) out += (out.empty() ? "" : "; ") + std::string("**restart required**");
  if (s.rehearsal) {
    out += (out.empty() ? "" : "; ") + std::string(s.rehearsal->status == "failed" ? "rehearsal ✗ " : "rehearsal ✓ ") +
           rehearsal_text(*s.rehearsal);
  }
  return out;
}

}  // namespace

std::string render_markdown(const Plan& plan) {
  std::ostringstream out;
  out << markdown_marker << "\n";
  out << "### pgparity plan: " << summary_line(plan) << "\n\n";
  for (const auto& line : plan.rehearsals) out << "- " << cell(line) << "\n";
  if (!plan.rehearsals.empty()) out << "\n";
  if (plan.blocked()) {
    out << "> [!CAUTION]\n> **Blocked** — nothing is applied while any of these remain.\n\n";
    out << "| where | extension | problem | hint |\n|---|---|---|---|\n";
    for (const auto& b : plan.blockers) {
      out << "| " << cell(b.target + (b.database.empty() ? "" : "/" + b.database)) << " | " << cell(b.extension)
          << " | " << cell(b.message) << " | " << cell(b.hint) << " |\n";
    }
    out << "\n";
  }
  if (!plan.has_changes() && !plan.blocked()) out << "Every managed database matches the manifest.\n";

  std::string group;
  std::string sql;
  auto close_group = [&] {
    if (group.empty()) return;
    out << "\n<details><summary>SQL for " << group << "</summary>\n\n```sql\n" << sql << "```\n\n</details>\n";
    sql.clear();
  };
  for (const auto& s : plan.steps) {
    if (is_gate(s.kind)) continue;
    const std::string here = s.target + (s.database.empty() ? " (server settings)" : "/" + s.database);
    if (here != group) {
      close_group();
      group = here;
      out << "\n#### " << here << "\n\n| step | object | change | detail |\n|---|---|---|---|\n";
    }
    out << "| " << name_of(s.kind) << " | "
        << cell(!s.extension.empty() ? s.extension
                : !s.setting.empty() ? s.setting
                                     : s.schema)
        << " | " << cell(change_of(s)) << " | " << cell(detail_of(s)) << " |\n";
    for (const auto& statement : s.sql) sql += statement + ";\n";
  }
  close_group();
  for (const auto& p : plan.pending_restarts) {
    out << "\n> [!NOTE]\n> **pending restart**: " << cell(p.target + " " + p.setting + " = " + p.written)
        << " is written to postgresql.auto.conf; the server runs " << cell(p.running) << " until it is restarted\n";
  }
  for (const auto& w : plan.warnings) out << "\n> [!WARNING]\n> " << cell(w) << "\n";
  out << "\n<sub>fingerprint " << plan.fingerprint << "</sub>\n";
  return out.str();
}

}  // namespace pgparity::planner
