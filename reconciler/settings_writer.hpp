#pragma once

#include <functional>
#include <pqxx/connection_base>
#include <string>
#include <vector>

#include "planner/plan.hpp"

namespace pgparity::reconciler {

/// Writes a server's `set` steps: ALTER SYSTEM cannot run in a transaction,
/// so each runs on its own, then the verify gate's SQL (the one reload the
/// plan shows), then the values are read back.
/// If a write, the reload or the read-back fails, each setting already
/// written is put back exactly as postgresql.auto.conf had it (the step's
/// undo_sql: the old entry, or ALTER SYSTEM RESET when there was none) and
/// the configuration reloaded again. `done` is told each step written with
/// its duration. "" when all is written and shows, else what went wrong and
/// what was put back.
std::string write_settings(pqxx::connection_base& session, const std::vector<planner::Step>& steps,
                           const std::function<void(const planner::Step&, long long ms)>& done);

}  // namespace pgparity::reconciler
