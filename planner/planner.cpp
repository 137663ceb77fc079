#include "planner/planner.hpp"

#include <algorithm>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "planner/cluster_planner.hpp"
#include "planner/database_planner.hpp"
#include "planner/render.hpp"
#include "planner/schedule.hpp"
#include "planner/topology.hpp"

namespace pgparity::planner {

namespace {

/// Gates around a group of changes: pre-flight → drain → snapshot → changes → verify.
void append_with_gates(std::vector<Step>& steps, std::vector<Step> changes, const std::string& target,
                       const std::string& database, const std::string& replica = "") {
  if (changes.empty()) return;
  const std::string base = target + (replica.empty() ? "" : "@" + replica) + (database.empty() ? "" : "/" + database);
  auto gate = [&](StepKind kind, const std::string& reason) {
    Step s;
    s.kind = kind;
    s.id = base + "/" + name_of(kind);
    s.target = target;
    s.database = database;
    s.replica = replica;
    s.reason = reason;
    return s;
  };
  const std::size_t first_gate = steps.size();
  steps.push_back(gate(StepKind::preflight, "server answers, privileges suffice, nothing blocks"));
  if (!database.empty()) {
    steps.push_back(gate(StepKind::drain, "no other session active or idle in transaction for policy.drain.quiet_for"));
    steps.push_back(gate(StepKind::snapshot, "pg_extension rows saved, in the same transaction as the changes"));
  }
  for (std::size_t i = first_gate + 1; i < steps.size(); ++i) steps[i].after.push_back(steps[i - 1].id);
  const std::string last_gate = steps.back().id;
  Step verify = gate(StepKind::verify, database.empty() ? "one reload, then the settings read back"
                                                        : "versions re-observed; health queries run");
  if (database.empty()) verify.sql.push_back("SELECT pg_catalog.pg_reload_conf()");
  verify.after.reserve(changes.size());
  for (auto& change : changes) {
    change.after.insert(change.after.begin(), last_gate);
    verify.after.push_back(change.id);
    steps.push_back(std::move(change));
  }
  steps.push_back(std::move(verify));
}

/// Why a restart of `name` may not run now (another managed target on the same server, outside the
/// maintenance window), as a warning; "" when it may.
std::string restart_held(const PlanInput& input, const std::string& name, const state::TargetState& observed) {
  const Manifest& manifest = *input.manifest;
  // Another managed target on the same server would have its sessions cut mid-change.
  for (const auto& [other, state] : input.observed) {
    const auto t = manifest.targets.find(other);
    if (other == name || t == manifest.targets.end() || t->second.role != desired::Role::managed) continue;
    if (!observed.cluster.system_identifier.empty() &&
        state.cluster.system_identifier == observed.cluster.system_identifier) {
      return name + ": not restarted: managed target " + other +
             " is on the same server; its restart-only settings stay pending";
    }
  }
  if (manifest.policy.maintenance_window && !input.in_maintenance_window) {
    return name +
           ": the restart waits for policy.maintenance_window; its restart-only settings stay pending until then";
  }
  return "";
}

/// Settings a standby must run at no less than its primary: lowering one restarts the leader first
/// (Patroni's documented order), raising one the replicas first.
bool lowers_a_standby_floor(const PatroniPatch& patch) {
  static const std::set<std::string> floors = {"max_connections", "max_prepared_transactions",
                                               "max_locks_per_transaction", "max_wal_senders", "max_worker_processes"};
  const auto values = nlohmann::json::parse(patch.body).at("postgresql").at("parameters");
  for (std::size_t i = 0; i < patch.settings.size(); ++i) {
    if (!floors.contains(patch.settings[i])) continue;
    try {
      if (std::stoll(values.at(patch.settings[i]).get<std::string>()) < std::stoll(patch.current[i])) return true;
    } catch (const std::exception&) {
      continue;  // not a number: no order to keep
    }
  }
  return false;
}

/// One restart per Patroni member, one after the other (docs/apply.md, "Restarts"): each member's
/// POST /restart runs once Patroni reports a restart pending there.
std::vector<Step> plan_member_restarts(const PlanInput& input, const std::string& name,
                                       const state::TargetState& observed, const PatroniPatch* patch,
                                       std::set<std::string> settings, Plan& plan) {
  const Manifest& manifest = *input.manifest;
  const state::PatroniConfig* patroni = observed.patroni ? &*observed.patroni : nullptr;
  // Unreachable, or another cluster: the plan is blocked already.
  if (patroni == nullptr || !patroni->reached || patroni->system_identifier != observed.cluster.system_identifier) {
    return {};
  }
  // Only for what the manifest needs: a restart someone staged for their own window is not pgparity's.
  if (settings.empty() || !manifest.policy.restart.allowed) return {};
  if (const std::string held = restart_held(input, name, observed); !held.empty()) {
    plan.warnings.push_back(held);
    return {};
  }
  for (const auto& m : patroni->members) {
    if (!m.healthy()) {
      plan.warnings.push_back(name + ": not restarted: Patroni member " + m.name + " is " + m.state +
                              ", not running; the restart-only settings stay pending");
      return {};
    }
  }
  for (const auto& [setting, s] : observed.cluster.settings) {
    if (s.pending_restart) settings.insert(setting);
  }
  // A PATCH of a restart-only setting leaves it pending on every member; else only where Patroni says so.
  const bool everyone = patch != nullptr && !patch->restart_only.empty();
  std::vector<const state::PatroniMember*> order;
  for (const auto& m : patroni->members) {
    if (everyone || m.pending_restart) order.push_back(&m);
  }
  const bool leader_first = patch != nullptr && lowers_a_standby_floor(*patch);
  std::stable_sort(order.begin(), order.end(), [&](const auto* a, const auto* b) {
    if (a->leader() != b->leader()) return a->leader() == leader_first;
    return a->name < b->name;
  });
  std::vector<Step> out;
  for (const auto* m : order) {
    Step restart = make_step(StepKind::restart);
    restart.id = name + "/restart/" + m->name;
    restart.target = name;
    restart.as<ServerRestart>() = {{}, {settings.begin(), settings.end()}, m->name, m->leader()};
    if (!out.empty()) restart.after.push_back(out.back().id);
    restart.reason = std::string("restart-only settings take effect (policy.restart.allowed), one member at a time, ") +
                     (leader_first ? "the leader first (a setting standbys must not run below the primary is lowered)"
                                   : "replicas first") +
                     "; the member must be running again, started anew, with no restart pending" +
                     (m->leader() ? "" : " and its lag under 16 MB") + ", within policy.restart.timeout " +
                     manifest.policy.restart.timeout.str();
    out.push_back(std::move(restart));
  }
  return out;
}

/// The restarts that make `target`'s restart-only settings take effect: those written by `changes` (or
/// Patroni's `patch`) and those already written and pending. None when none is needed, or when the
/// manifest does not let pgparity restart this server (then they stay pending restarts, as the plan tells).
std::vector<Step> plan_restarts(const PlanInput& input, const std::string& name, const state::TargetState& observed,
                                const std::vector<Step>& changes, const PatroniPatch* patch, Plan& plan) {
  const Manifest& manifest = *input.manifest;
  std::set<std::string> settings;
  for (const auto& c : changes) {
    if (const auto* set = c.get_if<SettingChange>(); set != nullptr && set->restart_required)
      settings.insert(set->setting);
  }
  if (patch != nullptr) settings.insert(patch->restart_only.begin(), patch->restart_only.end());
  for (const auto& p : plan.pending_restarts) {
    if (p.target == name) settings.insert(p.setting);
  }
  const auto& target = manifest.targets.at(name);
  if (!target.patroni_url.empty()) return plan_member_restarts(input, name, observed, patch, settings, plan);
  if (settings.empty() || !manifest.policy.restart.allowed || target.restart_command.empty()) return {};
  if (!target.replicas.empty() || !observed.replicas.empty()) {
    // Its standbys would have to restart first (a primary's max_connections above a standby's stops the
    // standby's recovery), and they have no restart command of their own yet.
    plan.warnings.push_back(name + ": not restarted: a primary with standbys is not restarted by pgparity yet; " +
                            "its restart-only settings stay pending");
    return {};
  }
  if (const std::string held = restart_held(input, name, observed); !held.empty()) {
    plan.warnings.push_back(held);
    return {};
  }
  // Whatever else waits for a restart (a DBA's staged change) takes effect too: the plan names it.
  for (const auto& [setting, s] : observed.cluster.settings) {
    if (s.pending_restart) settings.insert(setting);
  }
  Step restart = make_step(StepKind::restart);
  restart.id = name + "/restart";
  restart.target = name;
  restart.as<ServerRestart>() = {target.restart_command, {settings.begin(), settings.end()}, "", false};
  restart.reason =
      "restart-only settings take effect (policy.restart.allowed); the server must answer again, "
      "the same server, with none of them pending, within policy.restart.timeout " +
      manifest.policy.restart.timeout.str();
  return {std::move(restart)};
}

/// An extension whose library must be preloaded is created only once the server has loaded it:
/// after the restart step when there is one; else not in this plan (CREATE would succeed, and every
/// use of it fail until a restart).
void hold_unloaded_creates(const Manifest& manifest, const state::TargetState& observed, bool restart_planned,
                           std::vector<Step>& changes, Plan& plan) {
  if (restart_planned) return;
  std::set<std::string> held;
  for (const auto& c : changes) {
    if (c.kind != StepKind::create && c.kind != StepKind::recreate) continue;
    const std::string& extension = extension_of(c);
    const auto& loaded = observed.cluster.preload_libraries;
    const bool preload = std::any_of(manifest.extensions.begin(), manifest.extensions.end(), [&](const auto& e) {
      return e.preload && !e.absent && e.name.str() == extension;
    });
    if (!preload || std::find(loaded.begin(), loaded.end(), extension) != loaded.end()) continue;
    held.insert(c.id);
    plan.warnings.push_back(c.target + "/" + c.database + ": " + extension +
                            " is created once the server has restarted with it in shared_preload_libraries (allow "
                            "policy.restart" +
                            (manifest.targets.at(c.target).patroni_url.empty()
                                 ? std::string(" and give the target a restart.command")
                                 : std::string()) +
                            " to have pgparity restart it)");
  }
  // What waits for a held step waits too.
  for (bool more = !held.empty(); more;) {
    more = false;
    for (const auto& c : changes) {
      if (held.contains(c.id)) continue;
      if (std::any_of(c.after.begin(), c.after.end(), [&](const std::string& id) { return held.contains(id); })) {
        more = held.insert(c.id).second || more;
      }
    }
  }
  if (held.empty()) return;
  std::erase_if(changes, [&](const Step& c) { return held.contains(c.id); });
  // A CREATE SCHEMA that only a held step needed waits with it.
  std::erase_if(changes, [&](const Step& c) {
    return c.kind == StepKind::schema && !std::any_of(changes.begin(), changes.end(), [&](const Step& other) {
             return std::find(other.after.begin(), other.after.end(), c.id) != other.after.end();
           });
  });
}

/// Values ALTER SYSTEM left on the members of a target whose settings are Patroni's: drift, each named
/// by its member (docs/apply.md, "Patroni").
void report_auto_conf(const Manifest& manifest, const std::string& name, const state::TargetState& observed,
                      Plan& plan) {
  if (manifest.targets.at(name).patroni_url.empty()) return;
  std::string leader = "primary";
  if (observed.patroni) {
    for (const auto& m : observed.patroni->members) {
      if (m.leader()) leader = m.name;
    }
  }
  for (const auto& [setting, value] : observed.cluster.auto_conf_entries) {
    plan.auto_conf_drift.push_back({name, leader, setting, value});
  }
  for (std::size_t r = 0; r < observed.replicas.size(); ++r) {
    const state::ReplicaState& replica = observed.replicas[r];
    const std::string member = replica.member.empty() ? "replica-" + std::to_string(r + 1) : replica.member;
    for (const auto& [setting, value] : replica.cluster.auto_conf_entries) {
      plan.auto_conf_drift.push_back({name, member, setting, value});
    }
  }
}

}  // namespace

Plan make_plan(const PlanInput& input) {
  Plan plan;
  const Manifest& manifest = *input.manifest;
  plan.fingerprint = fingerprint(input);
  std::vector<Step> steps;
  for (const auto& [name, target] : manifest.targets) {
    if (target.role != desired::Role::managed) continue;
    if (!input.only_target.empty() && input.only_target != name) continue;
    auto it = input.observed.find(name);
    if (it == input.observed.end()) continue;
    const state::TargetState& observed = it->second;
    if (!isolated(input, name, observed, plan)) continue;
    // A pattern that selects nothing is worth saying: a typo, or a fleet that is not there yet.
    for (const auto& pattern : target.databases.patterns) {
      const auto& all = observed.cluster.connectable_databases;
      if (std::none_of(all.begin(), all.end(),
                       [&](const std::string& db) { return desired::DatabaseSelection::matches(pattern, db); })) {
        plan.unmatched_patterns.push_back({name, pattern});
        plan.warnings.push_back(name + ": databases pattern '" + pattern +
                                "' matches no connectable database (templates and datallowconn = false are skipped)");
      }
    }

    if (observed.pooler) check_pooler_routes(input, name, observed, plan);
    const std::size_t target_first = steps.size();
    std::vector<Step> changes;
    ClusterPlanner settings(input, observed, plan);
    settings.run(changes);
    report_auto_conf(manifest, name, observed, plan);
    std::optional<Step> patroni = settings.patroni_step();
    std::vector<Step> restarts =
        plan_restarts(input, name, observed, changes, patroni ? &patroni->as<PatroniPatch>() : nullptr, plan);
    append_with_gates(steps, std::move(changes), name, "");
    if ((patroni || !restarts.empty()) && observed.patroni && !observed.patroni->unauthorized.empty()) {
      // Every PATCH and POST would be refused: nothing of it is planned to half-run.
      plan.blockers.push_back({BlockerCode::patroni_unauthorized, name, "", "",
                               observed.patroni->unauthorized + ": it would refuse the change",
                               "set patroni.username and patroni.password (a ${PGPARITY_*} variable) to the "
                               "credentials of Patroni's restapi.authentication"});
    }
    if (patroni) steps.push_back(std::move(*patroni));
    const bool restart_planned = !restarts.empty();
    for (auto& r : restarts) steps.push_back(std::move(r));
    for (const auto& db : observed.databases) {
      if (!db.name.empty() && db.name.front() == '@') {
        // "@replica-N" names a standby's group of steps: a database named so would be taken for one.
        plan.blockers.push_back({BlockerCode::database_name_reserved, name, db.name, "",
                                 "database " + db.name + " starts with '@', which pgparity reserves for standbys",
                                 "rename the database, or leave it out with exclude"});
        continue;
      }
      changes.clear();
      DatabasePlanner(input, observed, db, plan).run(changes);
      hold_unloaded_creates(manifest, observed, restart_planned, changes, plan);
      append_with_gates(steps, std::move(changes), name, db.name);
    }
    // Standbys: what the changes need there, and their own settings (ALTER SYSTEM is not replicated).
    for (std::size_t r = 0; r < observed.replicas.size(); ++r) {
      const state::ReplicaState& replica = observed.replicas[r];
      if (!replica_usable(name, observed, replica, plan)) continue;
      check_replica_versions(name, steps, target_first, observed, replica, plan);
      check_replica_installed(manifest, name, observed, replica, plan);
      state::TargetState view;
      view.target = name;
      view.endpoint = replica.endpoint;
      view.cluster = replica.cluster;
      // The pooler is the target's: ratios naming pooler.* use its values on the standby too.
      for (const auto& [setting, value] : observed.cluster.settings) {
        if (setting.rfind("pooler.", 0) == 0) view.cluster.settings.emplace(setting, value);
      }
      const std::size_t first_blocker = plan.blockers.size();
      changes.clear();
      ClusterPlanner(input, view, plan).run(changes);
      for (std::size_t b = first_blocker; b < plan.blockers.size(); ++b) {
        plan.blockers[b].message = "standby " + replica.endpoint + ": " + plan.blockers[b].message;
      }
      const std::string label = replica_label(r);
      for (auto& c : changes) {
        c.replica = label;
        c.id = name + "@" + label + "/" + name_of(c.kind) + "/" + c.as<SettingChange>().setting;
        c.reason = "standby " + replica.endpoint + (c.reason.empty() ? "" : "; " + c.reason);
      }
      append_with_gates(steps, std::move(changes), name, "", label);
    }
  }
  std::map<std::string, std::string> cluster_of;
  for (const auto& [name, observed] : input.observed) cluster_of.emplace(name, observed.cluster.system_identifier);
  schedule(manifest, cluster_of, std::move(steps), plan);
  return plan;
}

std::vector<std::string> extensions_to_observe(const desired::Manifest& manifest) {
  std::set<std::string> names;
  for (const auto& e : manifest.extensions) names.insert(e.name.str());
  return {names.begin(), names.end()};
}

std::vector<std::string> extensions_to_measure_for_drop(const desired::Manifest& manifest) {
  std::set<std::string> names;
  const bool recreate = manifest.policy.recreate != desired::RecreatePolicy::never;
  for (const auto& e : manifest.extensions) {
    // version: reference may mirror an absence on the reference: a drop.
    if (e.absent || recreate || e.version.kind == desired::VersionSpec::Kind::reference) names.insert(e.name.str());
  }
  return {names.begin(), names.end()};
}

}  // namespace pgparity::planner
