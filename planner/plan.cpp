#include "planner/plan.hpp"

#include "planner/render.hpp"

#include <algorithm>

namespace pgparity::planner {

const char* name_of(StepKind kind) {
  switch (kind) {
    case StepKind::preflight:
      return "preflight";
    case StepKind::drain:
      return "drain";
    case StepKind::snapshot:
      return "snapshot";
    case StepKind::schema:
      return "schema";
    case StepKind::create:
      return "create";
    case StepKind::update:
      return "update";
    case StepKind::drop:
      return "drop";
    case StepKind::recreate:
      return "recreate";
    case StepKind::set:
      return "set";
    case StepKind::verify:
      return "verify";
    case StepKind::barrier:
      return "barrier";
  }
  return "?";
}

std::vector<Wave> rollout_waves(const std::string& target, int canary, const std::vector<int>& waves,
                                std::vector<std::string> databases) {
  std::sort(databases.begin(), databases.end());
  std::vector<Wave> out;
  std::size_t done = 0;
  const auto take = [&](const std::string& name, std::size_t upto) {
    upto = std::min(upto, databases.size());
    if (upto <= done) return;
    out.push_back({target, name,
                   std::vector<std::string>(databases.begin() + static_cast<std::ptrdiff_t>(done),
                                            databases.begin() + static_cast<std::ptrdiff_t>(upto))});
    done = upto;
  };
  take("canary", static_cast<std::size_t>(std::max(canary, 0)));
  for (std::size_t i = 0; i < waves.size(); ++i) {
    const std::size_t upto = (databases.size() * static_cast<std::size_t>(waves[i]) + 99) / 100;
    take("wave " + std::to_string(i + 1) + " (" + std::to_string(waves[i]) + "%)", upto);
  }
  take("wave " + std::to_string(waves.size() + 1) + " (rest)", databases.size());  // never leave one out
  return out;
}

bool is_gate(StepKind kind) {
  return kind == StepKind::preflight || kind == StepKind::drain || kind == StepKind::snapshot ||
         kind == StepKind::verify || kind == StepKind::barrier;
}

std::string describe(const Step& s) {
  switch (s.kind) {
    case StepKind::schema:
      return "create schema " + s.schema;
    case StepKind::create:
      return "create " + s.extension + " " + s.to;
    case StepKind::update:
      return "update " + s.extension + " " + s.from + " → " + s.to;
    case StepKind::drop:
      return "drop " + s.extension + " " + s.from;
    case StepKind::recreate:
      return "recreate " + s.extension + " " + s.from + " → " + s.to;
    case StepKind::set:
      return "set " + s.setting + " = " + s.value + (s.replica.empty() ? "" : " on " + s.replica);
    default:
      return planner::name_of(s.kind);
  }
}

std::string rehearsal_text(const Rehearsal& r) {
  if (r.status != "failed") return r.status + " (" + std::to_string(r.ms) + " ms, " + r.how + ")";
  std::string out = "failed: " + r.error + (r.sqlstate.empty() ? "" : " (SQLSTATE " + r.sqlstate + ")");
  if (!r.detail.empty()) out += "; detail: " + r.detail;
  if (!r.hint.empty()) out += "; hint: " + r.hint;
  return out + " [" + r.how + "]";
}

std::string describe(const state::DependentObject& o) {
  std::string notes;
  if (o.rows) notes = std::to_string(*o.rows) + (*o.rows == 1 ? " row" : " rows");
  if (o.user_data()) notes += (notes.empty() ? "" : ", ") + std::string("data");
  return o.description + (notes.empty() ? "" : " (" + notes + ")");
}

std::size_t Plan::change_count() const {
  return static_cast<std::size_t>(
      std::count_if(steps.begin(), steps.end(), [](const Step& s) { return !is_gate(s.kind); }));
}

}  // namespace pgparity::planner
