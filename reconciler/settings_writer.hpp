#pragma once

#include <functional>
#include <pqxx/connection_base>
#include <string>
#include <vector>

#include "planner/plan.hpp"

namespace pgparity::reconciler {

/// Writes a server's `set` steps: ALTER SYSTEM cannot run in a transaction,
/// so each runs on its own, then the configuration is reloaded and the values
/// read back. If a write fails, those already written are put back. `done`
/// is told each step written with its duration. "" when all is written and
/// shows, else what went wrong.
std::string write_settings(pqxx::connection_base& session, const std::vector<planner::Step>& steps,
                           const std::function<void(const planner::Step&, long long ms)>& done);

}  // namespace pgparity::reconciler
