#pragma once

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "desired/manifest.hpp"
#include "planner/plan.hpp"
#include "reconciler/apply.hpp"

namespace pgparity::reconciler {

/// After the changes: each standby of a target whose databases changed replays past the primary's
/// WAL position (read once every change has committed) within policy.replica_wait; then the
/// versions (and health queries, read-only) are verified on the standby. One result per standby
/// that fails, named "@replica-N".
/// A standby that fails is also journaled on its primary, in the DSN's database (a standby has no
/// journal of its own): a runs row for "@replica-N" with its message, for doctor and history.
/// `changed` maps "target/database" to the steps that changed it.
std::vector<DatabaseResult> wait_for_replicas(const desired::Manifest& manifest,
                                              const std::map<std::string, std::vector<planner::Step>>& changed,
                                              const ApplyOptions& options, std::mutex& output);

}  // namespace pgparity::reconciler
