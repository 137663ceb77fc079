#pragma once

#include <map>
#include <string>
#include <vector>

#include "desired/manifest.hpp"
#include "planner/plan.hpp"

namespace pgparity::planner {

/// Links the planned units (a database's steps, a server's settings) into the
/// whole run's graph, so the executor keeps no order of its own:
/// - a standby's settings after its primary's;
/// - every database of a target after the target's settings (primary and standbys);
/// - with policy.rollout, the databases in waves (plan.waves), each wave ended
///   by a barrier step that the next wave's databases wait for;
/// - without a rollout, one barrier after a target's databases when it has
///   standbys (they replay and verify the changes).
/// - the settings of managed targets on one cluster (`cluster_of`: target ->
///   system_identifier, "" when unknown) one after the other, in name order: an
///   undo must never put back over another target's write to the same file.
/// Sets `wave` on each step of a rolled-out database, then orders the steps
/// (order_steps) into plan.steps.
void schedule(const desired::Manifest& manifest, const std::map<std::string, std::string>& cluster_of,
              std::vector<Step> steps, Plan& plan);

}  // namespace pgparity::planner
