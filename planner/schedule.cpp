#include "planner/schedule.hpp"

#include <algorithm>
#include <map>
#include <set>

#include "planner/graph.hpp"

namespace pgparity::planner {

namespace {

void link(Step& step, const std::string& before) {
  if (std::find(step.after.begin(), step.after.end(), before) == step.after.end()) step.after.push_back(before);
}

/// The ids of one target's units, as append_with_gates names their gates.
struct TargetUnits {
  std::vector<std::string> settings_done;  ///< verify of the primary's and the standbys' settings
  std::string primary_settings_done;       ///< "" when the primary's settings do not change
  std::string restart;                     ///< the restart step, when the plan restarts the server
  std::string patroni;                     ///< the PATCH /config step, when the target's Patroni changes
  std::set<std::string> databases;         ///< with changes
};

}  // namespace

void schedule(const desired::Manifest& manifest, const std::map<std::string, std::string>& cluster_of,
              std::vector<Step> steps, Plan& plan) {
  std::map<std::string, TargetUnits> targets;
  for (const auto& s : steps) {
    auto& t = targets[s.target];
    if (s.kind == StepKind::verify && s.database.empty()) {
      t.settings_done.push_back(s.id);
      if (s.replica.empty()) t.primary_settings_done = s.id;
    }
    if (!is_gate(s.kind) && !s.database.empty()) t.databases.insert(s.database);
    if (s.kind == StepKind::restart) t.restart = s.id;
    if (s.kind == StepKind::patroni) t.patroni = s.id;
  }
  std::map<std::string, std::string> last_on_cluster;  // system_identifier -> the settings verify before
  std::map<std::string, std::string> settings_after;   // target -> the other target's settings to wait for
  for (const auto& [name, t] : targets) {              // by name
    const auto cluster = cluster_of.find(name);
    if (t.primary_settings_done.empty() || cluster == cluster_of.end() || cluster->second.empty()) continue;
    auto [it, fresh] = last_on_cluster.emplace(cluster->second, t.primary_settings_done);
    if (!fresh) {
      settings_after[name] = it->second;
      it->second = t.primary_settings_done;
    }
  }
  for (auto& s : steps) {
    const auto& t = targets[s.target];
    if (s.kind == StepKind::restart && !t.primary_settings_done.empty()) link(s, t.primary_settings_done);
    if (s.kind == StepKind::restart && !t.patroni.empty()) link(s, t.patroni);  // Patroni's members restart after it
    if (s.kind != StepKind::preflight) continue;
    if (s.database.empty() && s.replica.empty() && settings_after.contains(s.target)) {
      link(s, settings_after.at(s.target));
    }
    if (!s.replica.empty()) {
      if (!t.primary_settings_done.empty()) link(s, t.primary_settings_done);  // a primary before its standbys
    } else if (!s.database.empty()) {
      for (const auto& id : t.settings_done) link(s, id);  // settings before databases
      if (!t.restart.empty()) link(s, t.restart);          // and the restart that makes them take effect
      if (!t.patroni.empty()) link(s, t.patroni);          // or Patroni's configuration
    }
  }
  for (const auto& [name, t] : targets) {
    if (t.databases.empty()) continue;
    const auto target = manifest.targets.find(name);
    const bool standbys = target != manifest.targets.end() && !target->second.replicas.empty();
    const auto& rollout = manifest.policy.rollout;
    std::vector<Wave> waves;
    if (rollout) {
      waves = rollout_waves(name, rollout->canary, rollout->waves, {t.databases.begin(), t.databases.end()});
    } else if (standbys) {
      waves.push_back({name, "", {t.databases.begin(), t.databases.end()}});
    }
    std::string previous;  // the barrier the next wave waits for
    for (std::size_t w = 0; w < waves.size(); ++w) {
      const Wave& wave = waves[w];
      const std::set<std::string> members(wave.databases.begin(), wave.databases.end());
      Step barrier;
      barrier.kind = StepKind::barrier;
      barrier.target = name;
      barrier.wave = wave.name;
      barrier.id = name + "/barrier/" + (rollout ? std::to_string(w + 1) : "standbys");
      std::string does = standbys ? "the standbys replay and verify it" : "";
      if (rollout && rollout->soak.ms() > 0) {
        does += (does.empty() ? "" : "; ") + ("soak " + rollout->soak.str() + ", then the health queries again");
      }
      if (!previous.empty()) link(barrier, previous);  // waves end in order, even one with nothing left to run
      barrier.reason =
          (rollout ? "end of rollout " + wave.name : "end of the database changes") + (does.empty() ? "" : ": " + does);
      for (auto& s : steps) {
        if (s.target != name || s.database.empty() || !members.contains(s.database)) continue;
        if (rollout) s.wave = wave.name;
        if (s.kind == StepKind::preflight && !previous.empty()) link(s, previous);
        if (s.kind == StepKind::verify) link(barrier, s.id);
      }
      previous = barrier.id;
      steps.push_back(std::move(barrier));
    }
    if (rollout) plan.waves.insert(plan.waves.end(), waves.begin(), waves.end());
  }
  plan.steps = order_steps(std::move(steps));
}

}  // namespace pgparity::planner
