#include "planner/plan_file.hpp"

#include <nlohmann/json.hpp>
#include <stdexcept>

namespace pgparity::planner {

namespace {

StepKind kind_named(const std::string& name) {
  for (StepKind k : {StepKind::preflight, StepKind::drain, StepKind::snapshot, StepKind::create, StepKind::update,
                     StepKind::drop, StepKind::recreate, StepKind::set, StepKind::verify}) {
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
        step.blast_radius.push_back({o.at("object"), o.at("kind")});
      }
      step.setting = text(s, "setting");
      step.value = text(s, "value");
      step.current = text(s, "current");
      step.restart_required = s.value("restartRequired", false);
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
    return plan;
  } catch (const nlohmann::json::exception& e) {
    throw std::invalid_argument(std::string("bad plan field: ") + e.what());
  }
}

}  // namespace pgparity::planner
