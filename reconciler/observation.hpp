#pragma once

#include <map>
#include <string>
#include <vector>

#include "desired/manifest.hpp"
#include "planner/planner.hpp"
#include "state/observe.hpp"
#include "state/observed.hpp"

namespace pgparity::reconciler {

/// Observes what a plan of `manifest` needs: the reference target (if any)
/// and the managed targets (only `only_target` when given), every read a
/// read-only transaction. Throws InputError for an unknown or reference `only_target`.
/// With `sessions`, observation sessions are taken from and given back to it (reconcile keeps them between ticks;
/// apply hands them to the changes). `managed` is how a managed target's sessions are opened: read-only at the
/// server unless the caller goes on to change it on the same sessions (every catalog read is a read-only
/// transaction either way; a reference's sessions are always read-only).
std::map<std::string, state::TargetState> observe_for_plan(const desired::Manifest& manifest,
                                                           const std::string& only_target, unsigned parallel,
                                                           state::SessionCache* sessions = nullptr,
                                                           state::Access managed = state::Access::read_only);

/// Observes one target of the manifest, read-only. `diagnosis` adds what
/// doctor needs: every extension's available versions and update paths, the
/// preload libraries' files, membership problems, the run journal and
/// whether a run is in progress — on the same session per database.
state::TargetState observe_target(const desired::Manifest& manifest, const desired::Target& target, unsigned parallel,
                                  bool diagnosis = false, state::SessionCache* sessions = nullptr,
                                  state::Access managed = state::Access::read_only);

/// The run journal of each of the target's databases (or only `database`),
/// newest first; read-only, one session per database.
std::map<std::string, std::vector<state::RunRecord>> read_journals(const desired::Manifest& manifest,
                                                                   const desired::Target& target,
                                                                   const std::string& database = "");

/// The target named `name`, or InputError with a did-you-mean.
const desired::Target& find_target(const desired::Manifest& manifest, const std::string& name);

/// A read-only request for the target's databases ("*", globs and excludes applied to the server's list).
state::ObserveRequest observe_request_for(const desired::Target& target, unsigned parallel);

/// The target named `name`; with no name, the manifest's only managed target
/// (InputError naming the choices when there are several, or none).
const desired::Target& find_target_or_only_managed(const desired::Manifest& manifest, const std::string& name);

/// For each managed target that declares its Patroni, with a DSN that names one host: when GET /cluster
/// says another member leads now (a switchover or failover since the manifest was written) and the DSN
/// reaches a standby of Patroni's own cluster (the same system_identifier), the target's DSN becomes
/// the leader's. A listed replica at the leader's address lends its own DSN (its credentials)
/// and takes the old one in exchange; else the target's DSN is pointed at the leader's host and port
/// (dsn_through: its password only when that host is its own or PGPARITY_ALLOWED_HOSTS pins it). Only
/// the expanded DSNs change, never what the manifest wrote. Returns a line per target it followed.
std::vector<std::string> follow_patroni_leaders(desired::Manifest& manifest);

/// Whether `now` (seconds since the epoch) is inside the policy's maintenance window.
bool in_maintenance_window(const desired::Policy& policy, long long now);

/// What make_plan needs: the manifest, what was observed, and whether the
/// clock is inside the maintenance window now.
planner::PlanInput plan_input(const desired::Manifest& manifest, std::map<std::string, state::TargetState> observed,
                              const std::string& only_target = "");

/// Observes what a plan needs (as observe_for_plan) and makes the plan.
/// `sessions` and `managed` as for observe_for_plan.
planner::Plan plan_now(const desired::Manifest& manifest, const std::string& only_target, unsigned parallel,
                       state::SessionCache* sessions = nullptr, state::Access managed = state::Access::read_only);

}  // namespace pgparity::reconciler
