#pragma once

#include <mutex>
#include <string>
#include <vector>

#include "desired/manifest.hpp"
#include "reconciler/apply.hpp"

namespace pgparity::reconciler {

/// A database unit a barrier ends: its steps, and how it fared (a failed health query after the
/// soak turns it into a failure).
struct BarrierMember {
  std::string database;
  std::vector<planner::Step> changes;  ///< its change steps, gates left out
  DatabaseResult* result = nullptr;    ///< nullptr when it did not start
};

struct BarrierOutcome {
  std::string problem;                           ///< "" when what depends on the barrier may start
  std::vector<DatabaseResult> standby_failures;  ///< one per standby that did not replay or verify ("@replica-N")
};

/// A barrier step (docs/apply.md): the target's standbys replay and verify what the members
/// changed; then, for a rollout wave, the soak and the health queries again on fresh read-only
/// sessions. The problem is the first member that did not succeed, the first standby that failed,
/// a signal during the soak, or the first failed health query.
BarrierOutcome pass_barrier(const desired::Manifest& manifest, const planner::Step& barrier,
                            const std::vector<BarrierMember>& members, const ApplyOptions& options, std::mutex& output);

}  // namespace pgparity::reconciler
