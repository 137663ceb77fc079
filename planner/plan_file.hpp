#pragma once

#include <string>

#include "planner/plan.hpp"

namespace pgparity::planner {

/// Reads a plan document written by render_json. Throws std::invalid_argument
/// saying what is wrong (not a plan, another format version, a bad field).
Plan parse_plan(const std::string& json);

/// The first way a saved plan differs from the plan made now, for people
/// ("step staging/app/drop/hstore: its SQL differs: ..."), or "" when they
/// are the same: the same steps in the same order with the same SQL, blast
/// radius, kept rows and edges, the same blockers, and the same fingerprint.
std::string first_difference(const Plan& saved, const Plan& fresh);

}  // namespace pgparity::planner
