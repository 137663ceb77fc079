#pragma once

#include <string>
#include <vector>

#include "planner/plan.hpp"

namespace pgparity::planner {

/// One way a managed database differs from the manifest.
struct Deviation {
  std::string where;           ///< "staging/orders" or "staging" for a server setting
  std::string subject;         ///< extension or setting (or a blocker's code)
  std::string observed;        ///< "absent" when not installed
  std::string desired;         ///< "absent" when the manifest wants it gone
  std::string problem;         ///< for differences that cannot be closed: the blocker's message
  std::string kind = "drift";  ///< drift, blocked, or pending-restart (written; the server needs a restart)
};

/// Every deviation a plan closes or is blocked by (what `pgparity check` lists).
std::vector<Deviation> deviations_of(const Plan& plan);

}  // namespace pgparity::planner
