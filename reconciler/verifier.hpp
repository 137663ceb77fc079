#pragma once

#include <map>
#include <pqxx/connection_base>
#include <string>
#include <vector>

#include "core/values.hpp"
#include "planner/plan.hpp"

namespace pgparity::reconciler {

/// After a database's change: every version is what the steps said (absent
/// after a drop), and the health queries of the extensions present succeed.
/// "" when all holds, else each problem after "; ".
std::string verify_database(pqxx::connection_base& session, const std::vector<planner::Step>& steps,
                            const std::map<Identifier, std::string>& health);

}  // namespace pgparity::reconciler
