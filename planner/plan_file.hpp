#pragma once

#include <string>

#include "planner/plan.hpp"

namespace pgparity::planner {

/// Reads a plan document written by render_json. Throws std::invalid_argument
/// saying what is wrong (not a plan, another format version, a bad field).
Plan parse_plan(const std::string& json);

}  // namespace pgparity::planner
