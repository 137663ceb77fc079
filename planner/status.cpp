// What `pgparity status` and reconcile's status page say of each managed database. Pure.
#include "planner/status.hpp"

#include <algorithm>

namespace pgparity::planner {

namespace {

std::string status_of(const Plan& plan, const std::string& target, const std::string& database,
                      std::vector<std::string>& blockers) {
  for (const auto& b : plan.blockers) {
    if (b.target == target && (b.database == database || b.database.empty())) {
      blockers.push_back(b.message + (b.hint.empty() ? "" : " (hint: " + b.hint + ")"));
    }
  }
  if (!blockers.empty()) return "blocked";
  const bool drifted = std::any_of(plan.steps.begin(), plan.steps.end(), [&](const Step& s) {
    return !is_gate(s.kind) && s.target == target && s.database == database;
  });
  if (drifted) return "drifted";
  const bool pending = database.empty() && std::any_of(plan.pending_restarts.begin(), plan.pending_restarts.end(),
                                                       [&](const auto& p) { return p.target == target; });
  return pending ? "pending-restart" : "converged";
}

}  // namespace

std::vector<DatabaseStatus> database_statuses(const desired::Manifest& manifest, const Plan& plan,
                                              const std::map<std::string, state::TargetState>& observed) {
  std::vector<DatabaseStatus> rows;
  for (const auto& [name, state] : observed) {
    const auto target = manifest.targets.find(name);
    if (target == manifest.targets.end() || target->second.role != desired::Role::managed) continue;
    DatabaseStatus server{name, "", "", {}, std::nullopt};
    server.status = status_of(plan, name, "", server.blockers);
    rows.push_back(std::move(server));
    for (const auto& db : state.databases) {
      DatabaseStatus row{name, db.name, "", {}, db.converged};
      row.status = status_of(plan, name, db.name, row.blockers);
      rows.push_back(std::move(row));
    }
  }
  return rows;
}

}  // namespace pgparity::planner
