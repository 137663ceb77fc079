#include "planner/plan_file.hpp"

#include <nlohmann/json.hpp>
#include <stdexcept>

#include "planner/render.hpp"

namespace pgparity::planner {

namespace {

StepKind kind_named(const std::string& name) {
  for (StepKind k : {StepKind::preflight, StepKind::drain, StepKind::snapshot, StepKind::schema, StepKind::create,
                     StepKind::update, StepKind::drop, StepKind::recreate, StepKind::set, StepKind::verify}) {
    if (name == name_of(k)) return k;
  }
  throw std::invalid_argument("unknown step kind '" + name + "'");
}

std::string text(const nlohmann::json& object, const char* key) {
  auto it = object.find(key);
  return it == object.end() ? std::string() : it->get<std::string>();
}

}  // namespace

Plan parse_plan(const std::string& json) {
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(json);
  } catch (const nlohmann::json::exception& e) {
    throw std::invalid_argument(std::string("not JSON: ") + e.what());
  }
  if (!doc.is_object() || doc.value("kind", "") != "Plan" || doc.value("apiVersion", "") != "pgparity/v1") {
    throw std::invalid_argument("not a pgparity plan (kind Plan, apiVersion pgparity/v1)");
  }
  if (doc.value("formatVersion", 0) != plan_format_version) {
    throw std::invalid_argument("plan format version " + std::to_string(doc.value("formatVersion", 0)) +
                                " is not the " + std::to_string(plan_format_version) + " this build reads");
  }
  try {
    Plan plan;
    plan.fingerprint = doc.at("fingerprint").get<std::string>();
    for (const auto& s : doc.at("steps")) {
      Step step;
      step.id = s.at("id");
      step.kind = kind_named(s.at("kind"));
      step.target = s.at("target");
      step.database = s.at("database");
      step.extension = text(s, "extension");
      step.from = text(s, "from");
      step.to = text(s, "to");
      step.path = s.value("path", std::vector<std::string>{});
      step.schema = text(s, "schema");
      step.cascade = s.value("cascade", false);
      for (const auto& o : s.value("blastRadius", nlohmann::json::array())) {
        state::DependentObject object{o.at("object"), o.at("kind"), std::nullopt};
        if (o.contains("rows")) object.rows = o.at("rows").get<long long>();
        step.blast_radius.push_back(std::move(object));
      }
      step.keeps = s.value("keeps", std::vector<std::string>{});
      step.setting = text(s, "setting");
      step.value = text(s, "value");
      step.current = text(s, "current");
      step.restart_required = s.value("restartRequired", false);
      step.undo_sql = s.value("undoSql", std::vector<std::string>{});
      if (s.contains("rehearsal")) {
        const auto& r = s.at("rehearsal");
        step.rehearsal = Rehearsal{r.at("status"),   r.at("durationMs").get<long long>(),
                                   r.at("how"),      r.at("error"),
                                   r.at("sqlstate"), r.at("detail"),
                                   r.at("hint")};
      }
      step.reason = text(s, "reason");
      step.sql = s.at("sql").get<std::vector<std::string>>();
      step.after = s.at("after").get<std::vector<std::string>>();
      plan.steps.push_back(std::move(step));
    }
    for (const auto& b : doc.at("blockers")) {
      plan.blockers.push_back(
          {b.at("code"), b.at("target"), b.at("database"), b.at("extension"), b.at("message"), b.at("hint")});
    }
    plan.warnings = doc.value("warnings", std::vector<std::string>{});
    for (const auto& w : doc.value("waves", nlohmann::json::array())) {
      plan.waves.push_back({w.at("target"), w.at("name"), w.at("databases").get<std::vector<std::string>>()});
    }
    if (doc.contains("rehearsal")) {
      plan.rehearsed = doc.at("rehearsal").value("rehearsed", false);
      plan.rehearsals = doc.at("rehearsal").value("databases", std::vector<std::string>{});
    }
    for (const auto& p : doc.value("pendingRestarts", nlohmann::json::array())) {
      plan.pending_restarts.push_back({p.at("target"), p.at("setting"), p.at("running"), p.at("written")});
    }
    return plan;
  } catch (const nlohmann::json::exception& e) {
    throw std::invalid_argument(std::string("bad plan field: ") + e.what());
  }
}

namespace {

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : "; ") + i;
  return out.empty() ? "nothing" : out;
}

std::string objects(const std::vector<state::DependentObject>& blast) {
  std::vector<std::string> out;
  for (const auto& o : blast) out.push_back(describe(o));
  return joined(out);
}

}  // namespace

std::string first_difference(const Plan& saved, const Plan& fresh) {
  const std::size_t common = std::min(saved.steps.size(), fresh.steps.size());
  for (std::size_t i = 0; i < common; ++i) {
    const Step& a = saved.steps[i];
    const Step& b = fresh.steps[i];
    if (a.id != b.id || a.kind != b.kind)
      return "step " + std::to_string(i + 1) + " was " + a.id + ", now it is " + b.id;
    const std::string step = "step " + a.id + ": ";
    if (a.from != b.from || a.to != b.to) {
      return step + "planned " + (a.from.empty() ? "absent" : a.from) + " → " + (a.to.empty() ? "absent" : a.to) +
             ", now " + (b.from.empty() ? "absent" : b.from) + " → " + (b.to.empty() ? "absent" : b.to);
    }
    if (!state::same_blast_radius(a.blast_radius, b.blast_radius)) {
      return step + "the blast radius changed: it was " + objects(a.blast_radius) + "; now it is " +
             objects(b.blast_radius);
    }
    if (a.keeps != b.keeps) return step + "the kept rows changed: " + joined(a.keeps) + ", now " + joined(b.keeps);
    if (a.sql != b.sql) {
      for (std::size_t k = 0; k < std::max(a.sql.size(), b.sql.size()); ++k) {
        const std::string x = k < a.sql.size() ? a.sql[k] : "(nothing)";
        const std::string y = k < b.sql.size() ? b.sql[k] : "(nothing)";
        if (x != y) return step + "its SQL differs: the file says " + x + ", pgparity would run " + y;
      }
    }
    if (a.cascade != b.cascade || a.after != b.after || a.value != b.value || a.setting != b.setting ||
        a.schema != b.schema || a.path != b.path) {
      return step + "the step itself changed";
    }
  }
  if (saved.steps.size() > common) return "step " + saved.steps[common].id + " is in the file but not needed now";
  if (fresh.steps.size() > common) return "step " + fresh.steps[common].id + " is needed now but not in the file";
  if (saved.blockers != fresh.blockers) return "the blockers changed";
  if (saved.fingerprint != fresh.fingerprint) {
    return "it was made from another manifest, pgparity version or database state (fingerprint " +
           saved.fingerprint.substr(0, 12) + "…, now " + fresh.fingerprint.substr(0, 12) + "…)";
  }
  return "";
}

}  // namespace pgparity::planner
