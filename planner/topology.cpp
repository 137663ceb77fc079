#include "planner/topology.hpp"

#include <map>
#include <set>

#include "planner/words.hpp"

namespace pgparity::planner {

using desired::Manifest;

/// The standby's label in step ids and apply: "replica-N", N its place in the manifest's list.
std::string replica_label(std::size_t index) { return "replica-" + std::to_string(index + 1); }

/// Whether a standby can be planned for: observed, in recovery, and a copy of its primary.
bool replica_usable(const std::string& target, const state::TargetState& primary, const state::ReplicaState& replica,
                    Plan& plan) {
  auto block = [&](BlockerCode code, const std::string& message, const std::string& hint) {
    plan.blockers.push_back({code, target, "", "", "standby " + replica.endpoint + ": " + message, hint});
  };
  if (!replica.error.empty()) {
    block(BlockerCode::replica_unreachable, "cannot be observed: " + replica.error,
          "start it, fix its DSN in replicas, or remove it from the manifest");
    return false;
  }
  if (!replica.cluster.in_recovery) {
    block(BlockerCode::replica_not_standby, "pg_is_in_recovery() is false: it is a primary, not a standby of " + target,
          "list only physical standbys of the target's primary in replicas");
    return false;
  }
  if (!replica.cluster.system_identifier.empty() && !primary.cluster.system_identifier.empty() &&
      replica.cluster.system_identifier != primary.cluster.system_identifier) {
    block(BlockerCode::replica_of_other_cluster,
          "its system_identifier " + replica.cluster.system_identifier + " is not its primary's (" +
              primary.cluster.system_identifier + "): it replicates another cluster",
          "list only standbys of " + target + "'s primary in replicas");
    return false;
  }
  if (primary.patroni && primary.patroni->reached && replica.member.empty()) {
    // Not one of Patroni's members: its settings are not Patroni's to change, nor its restarts.
    std::string members;
    for (const auto& m : primary.patroni->members)
      members += (members.empty() ? "" : ", ") + m.name + " (" + m.port + ")";
    block(BlockerCode::patroni_member_unknown, "Patroni lists no replica at its port (GET /cluster: " + members + ")",
          "list only Patroni's members in replicas (each by the port GET /cluster shows), or leave patroni.url out");
    return false;
  }
  return true;
}

/// A module the primary has for `extension` (a library named like it) that the standby lacks: every
/// query on the standby that loads it would fail, and so would the standby after a failover.
namespace {

bool replica_lacks_module(const std::string& target, const std::string& database, const std::string& extension,
                          const state::TargetState& primary, const state::ReplicaState& replica, Plan& plan) {
  const auto ours = primary.cluster.library_files.find(extension);
  const auto theirs = replica.cluster.library_files.find(extension);
  if (ours == primary.cluster.library_files.end() || !ours->second.value_or(false)) return false;
  if (theirs == replica.cluster.library_files.end() || !theirs->second.has_value() || *theirs->second) return false;
  plan.blockers.push_back({BlockerCode::replica_library_missing, target, database, extension,
                           "standby " + replica.endpoint + " has no " + extension + " module in " +
                               replica.cluster.library_dir +
                               " (the primary has one): queries on the standby that "
                               "use " +
                               extension + " would fail, and so would the standby after a failover",
                           "install the package that ships " + extension + " on the standby"});
  return true;
}

}  // namespace

/// What the target's extension steps need on a standby that replays them: the
/// version's scripts (a standby reads its own control files and scripts), and for
/// an update the same path and the module. A standby's library files are checked with preload.
void check_replica_versions(const std::string& target, const std::vector<Step>& steps, std::size_t first,
                            const state::TargetState& primary, const state::ReplicaState& replica, Plan& plan) {
  std::set<std::string> told;
  for (std::size_t i = first; i < steps.size(); ++i) {
    const Step& s = steps[i];
    if (s.kind != StepKind::create && s.kind != StepKind::update && s.kind != StepKind::recreate) continue;
    const StepObject o = object_of(s);
    if (told.insert(o.name + " module").second &&
        replica_lacks_module(target, s.database, o.name, primary, replica, plan)) {
      continue;
    }
    if (!told.insert(o.name + " " + o.from + " " + o.to).second) continue;
    const auto* available = replica.cluster.find_available(o.name);
    if (available == nullptr || available->find(Version::from_catalog(o.to)) == nullptr) {
      plan.blockers.push_back({BlockerCode::replica_version_not_available, target, s.database, o.name,
                               o.name + " " + o.to + " is not available on standby " + replica.endpoint +
                                   " (available there: " + available_list(available) +
                                   "); after the change, queries on the standby would fail",
                               "install the package that ships " + o.name + " " + o.to + " on the standby first"});
      continue;
    }
    const auto* update = s.get_if<ExtensionUpdate>();
    if (update != nullptr && replica.cluster.find_path(o.name, update->from, update->to) == nullptr) {
      plan.blockers.push_back(
          {BlockerCode::replica_no_update_path, target, s.database, o.name,
           "standby " + replica.endpoint + " has no update path for " + o.name + " " + o.from + " → " + o.to,
           "install the same package version on the standby as on the primary"});
    }
  }
}

/// Routing isolation: where each alias of a managed target's pooler leads. An alias that reaches the
/// reference's cluster is a blocker (the cross-contamination the routing layer must never allow);
/// one that reaches a cluster the manifest does not know, or cannot be followed, is a warning.
void check_pooler_routes(const PlanInput& input, const std::string& name, const state::TargetState& observed,
                         Plan& plan) {
  const state::PoolerState& pooler = *observed.pooler;
  if (!pooler.error.empty()) {
    plan.warnings.push_back(name + ": the pooler (" + pooler.endpoint + ") could not be observed: " + pooler.error);
    return;
  }
  std::map<std::string, std::string> known;  // system_identifier -> target
  for (const auto& [other, state] : input.observed) {
    if (!state.cluster.system_identifier.empty()) known.emplace(state.cluster.system_identifier, other);
  }
  const desired::Target* reference = input.manifest->reference();
  if (observed.cluster.system_identifier.empty()) {
    plan.warnings.push_back(name +
                            ": its system_identifier is unknown (pg_control_system() not allowed), so where "
                            "its pooler's aliases lead cannot be checked");
    return;
  }
  for (const auto& route : pooler.routes) {
    if (!route.error.empty()) {
      // With a reference in the manifest, an alias whose destination cannot be told may be it: fail closed.
      if (reference != nullptr) {
        plan.blockers.push_back(
            {BlockerCode::pooler_route_unverified, name, route.alias, "",
             name + "'s pooler: where alias '" + route.alias + "' leads cannot be told: " + route.error,
             "the target's credentials must open the alias through the pooler (and may read "
             "pg_control_system()); fix the alias, or the role"});
      } else {
        plan.warnings.push_back(name + "'s pooler: alias '" + route.alias + "' could not be followed: " + route.error);
      }
      continue;
    }
    if (route.system_identifier.empty() || route.system_identifier == observed.cluster.system_identifier) continue;
    auto it = known.find(route.system_identifier);
    if (it == known.end()) {
      plan.warnings.push_back(name + "'s pooler routes '" + route.alias +
                              "' to a cluster the manifest does not know (system_identifier " +
                              route.system_identifier + ")");
    } else if (reference != nullptr && it->second == reference->name) {
      plan.blockers.push_back({BlockerCode::pooler_routes_to_reference, name, route.alias, "",
                               name + "'s pooler routes '" + route.alias + "' to " + reference->name +
                                   "'s cluster (system_identifier " + route.system_identifier +
                                   "): its clients would read and write " + reference->name,
                               "point the alias in the pooler's [databases] at " + name + "'s own server"});
    } else {
      plan.warnings.push_back(name + "'s pooler routes '" + route.alias + "' to " + it->second + "'s cluster");
    }
  }
}

/// What the primary runs must stay loadable on a standby: every installed version of a manifest
/// extension needs its scripts there too, on every plan (not only when a step changes it), so a
/// standby rebuilt from an older package is reported until it is fixed.
void check_replica_installed(const desired::Manifest& manifest, const std::string& target,
                             const state::TargetState& primary, const state::ReplicaState& replica, Plan& plan) {
  std::set<std::string> names;
  for (const auto& e : manifest.extensions) names.insert(e.name.str());
  std::set<std::string> told;
  for (const auto& db : primary.databases) {
    for (const auto& e : db.installed) {
      if (!names.contains(e.name.str()) || !told.insert(e.name.str() + " " + e.version.str()).second) continue;
      if (told.insert(e.name.str() + " module").second &&
          replica_lacks_module(target, db.name, e.name.str(), primary, replica, plan)) {
        continue;
      }
      const auto* available = replica.cluster.find_available(e.name.str());
      if (available != nullptr && available->find(e.version) != nullptr) continue;
      plan.blockers.push_back(
          {BlockerCode::replica_version_not_available, target, db.name, e.name.str(),
           e.name.str() + " " + e.version.str() + " (installed on the primary) is not available on standby " +
               replica.endpoint + " (available there: " + available_list(available) +
               "); queries on the standby may fail",
           "install the package that ships " + e.name.str() + " " + e.version.str() + " on the standby"});
    }
  }
}

/// A managed target that is not a writable cluster of its own: a standby, the
/// reference's cluster under another name, or another managed target's
/// cluster with databases in common. Such a target gets blockers and no steps.
bool isolated(const PlanInput& input, const std::string& name, const state::TargetState& observed, Plan& plan) {
  auto block = [&](BlockerCode code, const std::string& message, const std::string& hint) {
    plan.blockers.push_back({code, name, "", "", message, hint});
  };
  bool ok = true;
  if (observed.cluster.in_recovery) {
    const std::string& upstream = observed.cluster.upstream;
    block(BlockerCode::managed_is_standby,
          name + " (" + observed.endpoint + ") points at a standby: pg_is_in_recovery() is true" +
              (upstream.empty() ? "" : "; it replicates from " + upstream + ", the primary now"),
          "use the primary's DSN" + std::string(upstream.empty() ? "" : " (" + upstream + ")") +
              ", or after failovers a multi-host DSN with target_session_attrs=read-write, which follows the "
              "primary; pgparity changes only primaries");
    ok = false;
  }
  const std::string& id = observed.cluster.system_identifier;
  if (id.empty()) return ok;
  for (const auto& [other_name, other] : input.observed) {
    if (other_name == name || other.cluster.system_identifier != id) continue;
    const auto target = input.manifest->targets.find(other_name);
    if (target == input.manifest->targets.end()) continue;
    if (target->second.role == desired::Role::reference) {
      block(BlockerCode::managed_is_reference,
            name + " (" + observed.endpoint + ") reaches the same cluster as the reference " + other_name + " (" +
                other.endpoint + "): system_identifier " + id + "; nothing is written there",
            "point " + name + " at its own cluster; pgparity never writes to a reference");
      ok = false;
    } else {
      std::vector<std::string> common;
      for (const auto& db : observed.databases) {
        for (const auto& theirs : other.databases) {
          if (theirs.name == db.name) common.push_back(db.name);
        }
      }
      if (!common.empty()) {
        block(BlockerCode::managed_twice,
              name + " (" + observed.endpoint + ") and " + other_name + " (" + other.endpoint +
                  ") are the same cluster (system_identifier " + id +
                  ") with databases in common: " + join(common, ", "),
              "list the cluster once in the manifest, or give each target its own databases");
        ok = false;
      }
    }
  }
  return ok;
}

}  // namespace pgparity::planner
