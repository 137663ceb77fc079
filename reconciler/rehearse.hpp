#pragma once

#include "desired/manifest.hpp"
#include "planner/plan.hpp"

namespace pgparity::reconciler {

/// plan --rehearse: runs the plan's SQL for real on each managed database,
/// with the executor's own change transaction (ChangeTransaction), and always
/// rolls it back. Per database: one session, BEGIN, SET LOCAL lock_timeout and
/// statement_timeout (policy.rehearse), every change step in plan order in a
/// savepoint, then the policy's health queries against the rehearsed
/// versions, then ROLLBACK. No journal row, no advisory lock, no drain, no
/// pooler pause; it takes the same locks as the real change while it runs.
/// Server settings: set_config(name, value, true) in a rolled-back
/// transaction where the setting's context allows it; the others were checked
/// against pg_settings (type, unit, range) when the plan was made. A
/// standby's settings are rehearsed on that standby. It is the executor
/// (executor.hpp) with a runner that rolls back: the plan's graph orders it.
/// Fills each step's `rehearsal`, adds a line per database to
/// `plan.rehearsals` and a `rehearsal-failed` blocker per failed database,
/// and marks the plan rehearsed. Reference targets are never touched.
void rehearse(const desired::Manifest& manifest, planner::Plan& plan, unsigned parallel);

}  // namespace pgparity::reconciler
