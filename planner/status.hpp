#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "desired/manifest.hpp"
#include "planner/plan.hpp"
#include "state/observed.hpp"

namespace pgparity::planner {

/// How one managed database (or, with database "", a target's server-wide settings and restarts) stands
/// against a plan made now: `converged`, `drifted` (the plan has steps for it), `blocked` (its blockers'
/// messages and hints) or, for a server row, `pending-restart`.
struct DatabaseStatus {
  std::string target;
  std::string database;
  std::string status;
  std::vector<std::string> blockers;
  std::optional<state::ConvergedRecord> converged;  ///< what the database says it was last converged to
};

/// A server row, then a row per observed database, for every managed target observed; in target order.
std::vector<DatabaseStatus> database_statuses(const desired::Manifest& manifest, const Plan& plan,
                                              const std::map<std::string, state::TargetState>& observed);

}  // namespace pgparity::planner
