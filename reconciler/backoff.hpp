#pragma once

#include <set>
#include <string>

#include "planner/plan.hpp"

namespace pgparity::reconciler {

/// The key reconcile backs a failing unit off by: "target/database", "target/" for a server's
/// settings, "target/@replica-N" for a standby's.
std::string backoff_scope(const planner::Step& step);

/// `plan` without the change steps of the scopes in `waiting` (backoff_scope keys), and of what
/// depends on them: a target's standbys and databases wait with its settings, and a rollout's later
/// waves wait for a database of an earlier one, so a halted rollout stays halted until it succeeds.
/// Gates stay; the executor skips a scope left with gates only.
planner::Plan without_scopes(planner::Plan plan, const std::set<std::string>& waiting);

}  // namespace pgparity::reconciler
