#include "planner/plan_json.hpp"
#include "planner/render.hpp"

namespace pgparity::planner {

std::string render_json(const Plan& plan) { return nlohmann::ordered_json(plan).dump(2) + "\n"; }

}  // namespace pgparity::planner
