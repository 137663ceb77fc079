#include <nlohmann/json.hpp>

#include "planner/render.hpp"

namespace pgparity::planner {

std::string render_json(const Plan& plan) {
  using nlohmann::ordered_json;
  ordered_json steps = ordered_json::array();
  for (const auto& s : plan.steps) {
    ordered_json step{{"id", s.id}, {"kind", name_of(s.kind)}, {"target", s.target}, {"database", s.database}};
    if (!s.replica.empty()) step["replica"] = s.replica;
    if (!s.extension.empty()) step["extension"] = s.extension;
    if (!s.from.empty()) step["from"] = s.from;
    if (!s.to.empty()) step["to"] = s.to;
    if (!s.path.empty()) step["path"] = s.path;
    if (!s.schema.empty()) step["schema"] = s.schema;
    if (s.kind == StepKind::drop || s.kind == StepKind::recreate) {
      step["cascade"] = s.cascade;
      ordered_json blast = ordered_json::array();
      for (const auto& o : s.blast_radius) {
        ordered_json object{{"object", o.description}, {"kind", o.kind}, {"userData", o.user_data()}};
        if (o.rows) object["rows"] = *o.rows;
        blast.push_back(std::move(object));
      }
      step["blastRadius"] = std::move(blast);
      if (!s.keeps.empty()) step["keeps"] = s.keeps;
    }
    if (s.kind == StepKind::set) {
      step["setting"] = s.setting;
      step["value"] = s.value;
      step["current"] = s.current;
      step["restartRequired"] = s.restart_required;
      step["undoSql"] = s.undo_sql;
    }
    if (!s.reason.empty()) step["reason"] = s.reason;
    if (s.rehearsal) {
      const auto& r = *s.rehearsal;
      step["rehearsal"] = {{"status", r.status},     {"durationMs", r.ms}, {"how", r.how},  {"error", r.error},
                           {"sqlstate", r.sqlstate}, {"detail", r.detail}, {"hint", r.hint}};
    }
    step["sql"] = s.sql;
    step["after"] = s.after;
    steps.push_back(std::move(step));
  }
  ordered_json blockers = ordered_json::array();
  for (const auto& b : plan.blockers) {
    blockers.push_back({{"code", b.code},
                        {"target", b.target},
                        {"database", b.database},
                        {"extension", b.extension},
                        {"message", b.message},
                        {"hint", b.hint}});
  }
  ordered_json pending = ordered_json::array();
  for (const auto& p : plan.pending_restarts) {
    pending.push_back({{"target", p.target}, {"setting", p.setting}, {"running", p.running}, {"written", p.written}});
  }
  ordered_json waves = ordered_json::array();
  for (const auto& w : plan.waves)
    waves.push_back({{"target", w.target}, {"name", w.name}, {"databases", w.databases}});
  ordered_json doc{
      {"apiVersion", "pgparity/v1"},
      {"kind", "Plan"},
      {"formatVersion", plan_format_version},
      {"fingerprint", plan.fingerprint},
      {"summary", {{"text", summary_line(plan)}, {"changes", plan.change_count()}, {"blocked", plan.blocked()}}},
      {"blockers", std::move(blockers)},
      {"steps", std::move(steps)},
      {"warnings", plan.warnings},
      {"waves", std::move(waves)},
      {"pendingRestarts", std::move(pending)}};
  if (plan.rehearsed) {
    doc["rehearsal"] = {{"rehearsed", true}, {"fingerprint", plan.fingerprint}, {"databases", plan.rehearsals}};
  }
  return doc.dump(2) + "\n";
}

}  // namespace pgparity::planner
