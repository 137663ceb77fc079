#pragma once

#include <mutex>

#include "desired/manifest.hpp"
#include "reconciler/apply.hpp"
#include "state/patroni.hpp"

namespace pgparity::reconciler {

/// The target's Patroni URL and REST API credentials (patroni.username, patroni.password).
state::PatroniAccess patroni_access(const desired::Target& target);

/// A patroni step (docs/apply.md, "Patroni"): the target's DSN must still reach a primary that is not
/// the reference; the run is journaled on it ("@patroni"); then one PATCH /config with the planned
/// body, and a wait (policy.replica_wait, at least 30 s: Patroni applies it on its next loop) until the
/// leader runs every setting that needs no restart; a stop signal ends the wait, not the change.
DatabaseResult apply_patroni(const desired::Manifest& manifest, const planner::Step& step, const ApplyOptions& options,
                             std::mutex& output);

/// A restart step of a Patroni member (docs/apply.md, "Restarts through Patroni"): the member must
/// the run is journaled on the target ("@restart/<member>"); the member must still be in the target's
/// cluster with the role the plan saw (a switchover since halts the rollout); once Patroni reports a restart pending on
/// the member, POST /restart {"restart_pending": true}; then the member must be running again, started
/// anew, with nothing pending (a replica: lag under 16 MB) within policy.restart.timeout.
DatabaseResult restart_member(const desired::Manifest& manifest, const planner::Step& step, const ApplyOptions& options,
                              std::mutex& output);

}  // namespace pgparity::reconciler
