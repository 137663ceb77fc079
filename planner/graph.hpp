#pragma once

#include <vector>

#include "planner/plan.hpp"

namespace pgparity::planner {

/// The steps in an order where every step comes after the steps in its
/// `after` list (a topological sort of the step graph, Boost.Graph). Among
/// steps free to run, the earlier-listed one comes first, so the order is
/// deterministic. Edges to unknown ids are dropped. Throws std::logic_error
/// on a cycle (the planner never builds one).
std::vector<Step> order_steps(std::vector<Step> steps);

}  // namespace pgparity::planner
