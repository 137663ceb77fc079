#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "planner/plan.hpp"
#include "planner/planner.hpp"

/// The checks of a target's topology: its standbys, its pooler's routes, and whether it is a
/// writable cluster of its own. Pure, like the rest of the planner.
namespace pgparity::planner {

/// The standby's label in step ids and apply: "replica-N", N its place in the manifest's list.
std::string replica_label(std::size_t index);

/// Whether a standby can be planned for: observed, in recovery, and a copy of its primary.
bool replica_usable(const std::string& target, const state::TargetState& primary, const state::ReplicaState& replica,
                    Plan& plan);

/// What the target's extension steps need on a standby that replays them: the
/// version's scripts (a standby reads its own control files and scripts), and for
/// an update the same path and the module. A standby's library files are checked with preload.
void check_replica_versions(const std::string& target, const std::vector<Step>& steps, std::size_t first,
                            const state::TargetState& primary, const state::ReplicaState& replica, Plan& plan);

/// Routing isolation: where each alias of a managed target's pooler leads. An alias that reaches the
/// reference's cluster is a blocker (the cross-contamination the routing layer must never allow);
/// one that reaches a cluster the manifest does not know, or cannot be followed, is a warning.
void check_pooler_routes(const PlanInput& input, const std::string& name, const state::TargetState& observed,
                         Plan& plan);

/// What the primary runs must stay loadable on a standby: every installed version of a manifest
/// extension needs its scripts there too, on every plan (not only when a step changes it), so a
/// standby rebuilt from an older package is reported until it is fixed.
void check_replica_installed(const desired::Manifest& manifest, const std::string& target,
                             const state::TargetState& primary, const state::ReplicaState& replica, Plan& plan);

/// A managed target that is not a writable cluster of its own: a standby, the
/// reference's cluster under another name, or another managed target's
/// cluster with databases in common. Such a target gets blockers and no steps.
bool isolated(const PlanInput& input, const std::string& name, const state::TargetState& observed, Plan& plan);

}  // namespace pgparity::planner
