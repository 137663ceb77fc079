#pragma once

// The planner of one server's settings (private to planner/): settings_plan.cpp (values and their
// set steps), preload.cpp (preload libraries and their files), ratios.cpp (setting ratios).

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "planner/planner.hpp"

#include "desired/ratio_expr.hpp"

namespace pgparity::planner {

using desired::Manifest;

/// The settings that name libraries to load: at server start (shared_preload_libraries), or at every
/// session start (session_ and local_preload_libraries), where a missing file fails every new session.
bool is_library_list(const std::string& name);

/// Settings, preload libraries and ratios of one managed target.
class ClusterPlanner {
 public:
  ClusterPlanner(const PlanInput& input, const state::TargetState& target, Plan& plan)
      : input_(input), manifest_(*input.manifest), target_(target), plan_(plan) {}

  void run(std::vector<Step>& steps);

  /// With patroni.url in the manifest: the one PATCH /config that makes the settings hold, when any differ.
  std::optional<Step> patroni_step() const;

 private:
  /// patroni.url of the target in the manifest ("" when its settings are the server's own).
  const std::string& patroni_url() const;
  /// A setting of a Patroni-declared target: a change in the PATCH, a pending restart, or nothing.
  void plan_through_patroni(const state::Setting& current, const std::string& wanted, bool running);

  void block(BlockerCode code, const std::string& message, const std::string& hint);

  /// Whether two values in postgresql.conf form mean the same for this setting.
  static bool same_written(const std::string& a, const std::string& b, const state::Setting& s);

  /// "10ms, 10s or 10min" for a time setting, "10kB, 10MB or 10GB" for memory.
  static std::string unit_examples(const std::string& number, const std::string& unit);

  /// A value the server would refuse, or would read other than written: not a number, a bare number
  /// for a setting with a unit, out of min/max, not one of enumvals. "" when fine.
  static std::string invalid(const std::string& value, const state::Setting& s);

  /// The value as it will be written: lists in postgresql.conf form, numbers with a unit in one human unit.
  static std::string canonical(const std::string& value, const state::Setting& s);

  /// A set step for `name` = `value`, or nothing when the server already runs
  /// it, or a pending restart when postgresql.auto.conf already holds it.
  void plan_setting(const state::Setting& current, const std::string& wanted, std::vector<Step>& steps,
                    const std::string& reason = "");

  void plan_values(std::vector<Step>& steps);

  /// Whether every library has its file in the server's library folder (or that cannot be told);
  /// a blocker for each one that does not: the server would not start again with it in the list.
  bool libraries_present(const std::vector<std::string>& libraries);

  /// The preload libraries the manifest needs: settings.preload, then
  /// extensions with preload: true, in that order, each once.
  std::vector<std::string> required_preload() const;

  void check_preload(std::vector<Step>& steps);

  std::optional<double> value_after(const state::ClusterState& cluster, const std::string& name) const;

  /// For "a / b": the value of a that makes the ratio `wanted` here, rounded to
  /// a's unit and kept within its min/max, with the arithmetic shown:
  /// "set work_mem: 2MB on staging (0.03125 × shared_buffers 64MB = 2MB), e.g. in settings.values".
  std::string suggest(const desired::Ratio& ratio, double wanted, const std::string& otherwise) const;

  void check_ratios();

  const PlanInput& input_;
  const Manifest& manifest_;
  const state::TargetState& target_;
  Plan& plan_;
  std::map<std::string, std::optional<double>> planned_;  // settings after the planned set steps
  bool ha_blocked_ = false;                               ///< the settings-owned-by-ha-manager blocker is said once
  bool config_blocked_ = false;                           ///< the config-file-errors blocker is said once
  bool patroni_blocked_ = false;                          ///< the patroni-unreachable blocker is said once
  std::map<std::string, std::pair<std::string, std::string>> patroni_changes_;  ///< name -> (value, running)
  std::set<std::string> patroni_restart_only_;
};

}  // namespace pgparity::planner
