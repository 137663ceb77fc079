#include "planner/cluster_planner.hpp"

#include <cmath>

#include "core/setting_list.hpp"
#include "core/spelling.hpp"
#include "desired/writer.hpp"
#include "planner/keep_config.hpp"
#include "planner/render.hpp"
#include "planner/settings_sql.hpp"
#include "planner/sql.hpp"
#include "planner/words.hpp"
#include "state/settings.hpp"

namespace pgparity::planner {

std::optional<double> ClusterPlanner::value_after(const state::ClusterState& cluster, const std::string& name) const {
  if (auto it = planned_.find(name); it != planned_.end() && it->second) return it->second;
  return cluster.normalized(name);
}

std::string ClusterPlanner::suggest(const desired::Ratio& ratio, double wanted, const std::string& otherwise) const {
  const auto parts = ratio.expr.simple_ratio();
  if (!parts) return otherwise;
  const auto a = target_.cluster.settings.find(parts->first);
  const auto b = target_.cluster.settings.find(parts->second);
  const auto divisor = value_after(target_.cluster, parts->second);
  if (a == target_.cluster.settings.end() || b == target_.cluster.settings.end() || !divisor) return otherwise;
  const auto unit = state::normalize_setting("1", a->second.unit);
  if (!unit || *unit <= 0) return otherwise;
  double count = std::round(wanted * *divisor / *unit);
  if (const auto low = state::normalize_setting(a->second.min, "")) count = std::max(count, *low);
  if (const auto high = state::normalize_setting(a->second.max, "")) count = std::min(count, *high);
  const std::string value = state::render_setting(count * *unit, a->second.unit);
  const std::string divisor_shown = state::render_setting(*divisor, b->second.unit);
  return "set " + parts->first + ": " + value + " on " + target_.target + " (" + desired::format_number(wanted) +
         " × " + parts->second + " " + divisor_shown + " = " + value + "), e.g. in settings.values";
}

void ClusterPlanner::check_ratios() {
  const desired::Target* reference = manifest_.reference();
  const state::TargetState* ref = nullptr;
  if (reference != nullptr) {
    auto it = input_.observed.find(reference->name);
    if (it != input_.observed.end()) ref = &it->second;
  }
  for (const auto& ratio : manifest_.settings.ratios) {
    const std::string text = ratio.expr.text();
    const auto value = ratio.expr.evaluate([&](const std::string& s) { return value_after(target_.cluster, s); });
    if (!value) {
      block(BlockerCode::ratio_unknown, text + " cannot be computed (a setting is unknown or a divisor is zero)",
            "check the setting names: " + join(ratio.expr.settings(), ", "));
      continue;
    }
    const std::string shown = desired::format_number(*value);
    if (ratio.min && *value < *ratio.min) {
      block(BlockerCode::ratio_out_of_bounds,
            text + " is " + shown + ", below its min " + desired::format_number(*ratio.min),
            suggest(ratio, *ratio.min, "change the settings in it, e.g. with settings.values"));
    }
    if (ratio.max && *value > *ratio.max) {
      block(BlockerCode::ratio_out_of_bounds,
            text + " is " + shown + ", above its max " + desired::format_number(*ratio.max),
            suggest(ratio, *ratio.max, "change the settings in it, e.g. with settings.values"));
    }
    if (ratio.match_reference) {
      if (ref == nullptr) {
        block(BlockerCode::reference_not_observed,
              text + ": match: reference, but the reference target was not observed", "");
        continue;
      }
      const auto expected = ratio.expr.evaluate([&](const std::string& s) { return ref->cluster.normalized(s); });
      if (!expected) {
        block(BlockerCode::ratio_unknown, text + " cannot be computed on the reference " + ref->target, "");
        continue;
      }
      const double allowed = ratio.tolerance * std::abs(*expected);
      if (std::abs(*value - *expected) > allowed) {
        block(BlockerCode::ratio_off_reference,
              text + " is " + shown + " on " + target_.target + ", " + desired::format_number(*expected) + " on " +
                  ref->target + " (tolerance " + desired::format_number(ratio.tolerance * 100) + " %)",
              suggest(ratio, *expected, "set the settings in it to match the reference, e.g. with settings.values"));
      }
    }
  }
}

}  // namespace pgparity::planner
