#include "reconciler/backoff.hpp"

#include <algorithm>
#include <map>

namespace pgparity::reconciler {

std::string backoff_scope(const planner::Step& s) {
  if (s.kind == planner::StepKind::restart) return s.target + "/@restart";  // as restart_server names its result
  if (s.kind == planner::StepKind::patroni) return s.target + "/@patroni";  // as apply_patroni names its result
  return s.target + "/" + (s.replica.empty() ? s.database : "@" + s.replica);
}

planner::Plan without_scopes(planner::Plan plan, const std::set<std::string>& waiting) {
  auto wave_of = [&](const std::string& target, const std::string& database) {
    for (std::size_t w = 0; w < plan.waves.size(); ++w) {
      const auto& dbs = plan.waves[w].databases;
      if (plan.waves[w].target == target && std::find(dbs.begin(), dbs.end(), database) != dbs.end()) return w;
    }
    return plan.waves.size();
  };
  std::map<std::string, std::size_t> first_wave;  // target -> the first wave holding a waiting database
  std::set<std::string> settings_waiting;         // targets whose primary's settings wait
  for (const auto& key : waiting) {
    const auto slash = key.find('/');
    const std::string target = key.substr(0, slash);
    const std::string database = slash == std::string::npos ? "" : key.substr(slash + 1);
    // A waiting restart holds back everything of its target, as waiting settings do: the databases
    // may need what it makes take effect (a preload library).
    if (database.empty() || database == "@restart" || database == "@patroni") settings_waiting.insert(target);
    const std::size_t w = wave_of(target, database);
    if (w == plan.waves.size()) continue;
    auto [at, fresh] = first_wave.emplace(target, w);
    if (!fresh) at->second = std::min(at->second, w);
  }
  std::erase_if(plan.steps, [&](const planner::Step& s) {
    if (planner::is_gate(s.kind)) return false;
    if (waiting.contains(backoff_scope(s)) || settings_waiting.contains(s.target)) return true;
    const auto first = first_wave.find(s.target);
    return first != first_wave.end() && !s.database.empty() && wave_of(s.target, s.database) > first->second;
  });
  return plan;
}

}  // namespace pgparity::reconciler
