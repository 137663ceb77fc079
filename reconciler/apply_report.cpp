// What an apply did, for people (summarize) and for pipelines (apply --format json).
#include <nlohmann/json.hpp>
#include <sstream>

#include "planner/plan_json.hpp"
#include "planner/render.hpp"
#include "reconciler/apply.hpp"

namespace pgparity::reconciler {

using Outcome = DatabaseResult::Outcome;

const char* name_of(Outcome outcome) {
  switch (outcome) {
    case Outcome::applied:
      return "applied";
    case Outcome::unchanged:
      return "unchanged";
    case Outcome::skipped:
      return "skipped";
    case Outcome::failed:
      return "failed";
    case Outcome::blocked:
      return "blocked";
  }
  return "?";
}

std::string summarize(const ApplyResult& result) {
  std::ostringstream out;
  int applied = 0;
  int failed = 0;
  for (const auto& r : result.results) {
    applied += r.outcome == Outcome::applied;
    failed += r.outcome == Outcome::failed || r.outcome == Outcome::blocked;
  }
  out << "apply: " << applied << " changed, " << failed << " failed, "
      << result.results.size() - static_cast<std::size_t>(applied + failed) << " unchanged or skipped\n";
  for (const auto& r : result.results) {
    const char* mark = r.outcome == Outcome::applied   ? "✓"
                       : r.outcome == Outcome::failed  ? "✗"
                       : r.outcome == Outcome::blocked ? "✗"
                       : r.outcome == Outcome::skipped ? "-"
                                                       : "=";
    out << "  " << mark << " " << r.target << (r.database.empty() ? " (server settings)" : "/" + r.database) << ": "
        << r.message << "\n";
  }
  for (const auto& h : result.halted) {
    out << "  ✗ rollout on " << h.target << " halted after " << h.wave << ": " << h.reason << "\n    not touched: ";
    for (std::size_t i = 0; i < h.untouched.size(); ++i) out << (i ? ", " : "") << h.untouched[i];
    out << (h.untouched.empty() ? "(nothing left)" : "") << "\n";
  }
  return out.str();
}

std::string render_apply_json(const ApplyResult& result, const planner::Plan& plan, const std::string& revision) {
  std::string status = "unchanged";
  if (plan.blocked() || result.blocked()) {
    status = "blocked";
  } else if (!result.halted.empty()) {
    status = "halted";
  } else if (result.failed()) {
    status = "failed";
  } else if (result.skipped()) {
    status = "skipped";
  } else {
    for (const auto& r : result.results) status = r.outcome == Outcome::applied ? "applied" : status;
  }
  nlohmann::ordered_json databases = nlohmann::ordered_json::array();
  for (const auto& r : result.results) {
    nlohmann::ordered_json steps = nlohmann::ordered_json::array();
    for (const auto& s : r.steps) {
      steps.push_back({{"id", s.id}, {"step", s.step}, {s.object_key, s.object}, {"duration_ms", s.duration_ms}});
    }
    nlohmann::ordered_json database{{"target", r.target}, {"database", r.database},     {"status", name_of(r.outcome)},
                                    {"run_id", r.run_id}, {"steps_done", r.steps_done}, {"message", r.message},
                                    {"steps", steps}};
    if (r.outcome == Outcome::failed || r.outcome == Outcome::blocked) {
      database["error"] = {{"message", r.message}, {"sqlstate", r.sqlstate}};
    }
    databases.push_back(database);
  }
  // The blockers through the plan's own codec, from the plan object.
  const nlohmann::ordered_json blockers = plan.blockers;
  nlohmann::ordered_json halted = nlohmann::ordered_json::array();
  for (const auto& h : result.halted) {
    halted.push_back({{"target", h.target}, {"wave", h.wave}, {"reason", h.reason}, {"untouched", h.untouched}});
  }
  return nlohmann::ordered_json{
             {"apiVersion", "pgparity/v1"},
             {"kind", "ApplyResult"},
             {"status", status},
             {"revision", revision.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(revision)},
             {"fingerprint", plan.fingerprint},
             {"databases", databases},
             {"blockers", blockers},
             {"halted", halted}}
             .dump(2) +
         "\n";
}

std::map<std::tuple<std::string, std::string, std::string>, int> applied_steps(const ApplyResult& result) {
  std::map<std::tuple<std::string, std::string, std::string>, int> out;
  for (const auto& r : result.results) {
    if (r.outcome != DatabaseResult::Outcome::applied) continue;
    for (const auto& s : r.steps) {
      if (s.object_key != "schema") ++out[{r.target, r.database, s.step}];
    }
  }
  return out;
}

}  // namespace pgparity::reconciler
