#include "reconciler/observation.hpp"

#include "state/patroni.hpp"

#include <filesystem>

#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <functional>
#include <pqxx/pqxx>
#include <set>

#include "core/error.hpp"
#include "core/spelling.hpp"
#include "planner/planner.hpp"
#include "reconciler/journal.hpp"
#include "reconciler/patroni.hpp"
#include "reconciler/version.hpp"
#include "state/activity.hpp"
#include "state/catalog_sql.hpp"
#include "state/connection.hpp"
#include "state/observe.hpp"
#include "state/pooler_console.hpp"

namespace pgparity::reconciler {

const desired::Target& find_target(const desired::Manifest& manifest, const std::string& name) {
  auto it = manifest.targets.find(name);
  if (it != manifest.targets.end()) return it->second;
  std::vector<std::string> names;
  for (const auto& [n, t] : manifest.targets) names.push_back(n);
  throw InputError("no target '" + name + "' in the manifest" + did_you_mean(name, names));
}

const desired::Target& find_target_or_only_managed(const desired::Manifest& manifest, const std::string& name) {
  if (!name.empty()) return find_target(manifest, name);
  std::vector<std::string> managed;
  for (const auto& [n, t] : manifest.targets) {
    if (t.role == desired::Role::managed) managed.push_back(n);
  }
  if (managed.size() == 1) return manifest.targets.at(managed.front());
  std::string names;
  for (const auto& n : managed) names += (names.empty() ? "" : ", ") + n;
  throw InputError("--target is needed: the manifest has " + std::to_string(managed.size()) + " managed targets" +
                   (names.empty() ? std::string() : " (" + names + ")"));
}

/// The target's databases, read-only, one session each.
state::ObserveRequest observe_request_for(const desired::Target& target, unsigned parallel) {
  state::ObserveRequest request;
  request.target = target.name;
  request.dsn = target.dsn;
  request.access = state::Access::read_only;
  request.all_databases = target.databases.listed();
  if (request.all_databases) {
    request.selects = [selection = target.databases](const std::string& db) { return selection.selects(db); };
  } else {
    for (const auto& db : target.databases.names) request.databases.push_back(db.str());
  }
  request.parallel = parallel;
  return request;
}

namespace {

/// The addresses a host name resolves to (the name itself when it does not resolve).
std::set<std::string> addresses_of(const std::string& host) {
  std::set<std::string> out = {host};
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.c_str(), nullptr, &hints, &found) != 0) return out;
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    char text[NI_MAXHOST];
    if (getnameinfo(a->ai_addr, a->ai_addrlen, text, sizeof text, nullptr, 0, NI_NUMERICHOST) == 0) out.insert(text);
  }
  freeaddrinfo(found);
  return out;
}

/// Whether a DSN's endpoint is Patroni's member: the same port, and the same host, a name that resolves
/// to its address, or a local socket (a member on this machine).
bool endpoint_is(const state::Endpoint& e, const state::PatroniMember& m) {
  if (e.port.empty() || e.port != m.port) return false;
  if (e.host == m.host || e.host.empty() || e.host.front() == '/') return true;
  const auto mine = addresses_of(e.host);
  const auto theirs = addresses_of(m.host);
  return std::any_of(mine.begin(), mine.end(), [&](const std::string& a) { return theirs.contains(a); });
}

/// Reads pgparity's journal, and whether a run holds the lock, on each database's own session.
std::function<void(pqxx::connection_base&, state::DatabaseState&)> journal_reader(const desired::Manifest& manifest) {
  return [schema = manifest.policy.state_schema.str()](pqxx::connection_base& session, state::DatabaseState& db) {
    db.runs = Journal(session, schema).runs();
    db.converged = Journal(session, schema).converged();
    db.open_pauses = Journal(session, schema).open_pauses();
    db.run_in_progress = state::run_lock_holder(session) != 0;
  };
}

}  // namespace

namespace {

/// The pooler's numeric settings as "pooler.<key>", so ratio expressions can name them
/// (pooler.default_pool_size / max_connections) and diff compares them like the server's.
void add_pooler_settings(const state::PoolerState& pooler, state::ClusterState& cluster) {
  for (const auto& [key, value] : pooler.config) {
    state::Setting s;
    s.name = "pooler." + key;
    s.value = value;
    s.type = state::SettingType::pooler;
    char* end = nullptr;
    const double number = std::strtod(value.c_str(), &end);
    if (!value.empty() && end != nullptr && *end == '\0') s.normalized = number;
    cluster.settings.emplace(s.name, std::move(s));
  }
}

}  // namespace

state::TargetState observe_target(const desired::Manifest& manifest, const desired::Target& target, unsigned parallel,
                                  bool diagnosis, state::SessionCache* sessions, state::Access managed) {
  state::ObserveRequest request = observe_request_for(target, parallel);
  if (target.role == desired::Role::managed) request.access = managed;
  request.extensions = planner::extensions_to_observe(manifest);
  request.droppable = planner::extensions_to_measure_for_drop(manifest);
  request.libraries = planner::libraries_to_check(manifest);
  request.every_extension = diagnosis;
  request.preload_files = diagnosis;
  request.integrity = diagnosis;
  if (diagnosis) request.also = journal_reader(manifest);
  request.sessions = sessions;
  if (target.role == desired::Role::managed) {
    for (const auto& r : target.replicas) request.replicas.push_back(r.dsn);
  }
  state::TargetState observed = state::observe(request);
  if (target.pooler) {
    std::vector<std::string> databases;
    for (const auto& db : observed.databases) databases.push_back(db.name);
    // Routes of a managed target's pooler are followed (routing isolation); a reference's are only read.
    observed.pooler = state::observe_pooler(target.pooler->admin_dsn,
                                            target.role == desired::Role::managed ? target.dsn : "", databases);
    add_pooler_settings(*observed.pooler, observed.cluster);
  }
  if (!target.patroni_url.empty()) {
    observed.patroni = state::read_patroni_config(patroni_access(target));
    // Which member each listed standby is: the replica Patroni lists at its address.
    for (std::size_t i = 0; i < observed.replicas.size() && i < target.replicas.size(); ++i) {
      const state::Endpoint at = state::dsn_endpoint(target.replicas[i].dsn);
      for (const auto& m : observed.patroni->members) {
        if (!m.leader() && endpoint_is(at, m)) observed.replicas[i].member = m.name;
      }
    }
  }
  return observed;
}

std::map<std::string, std::vector<state::RunRecord>> read_journals(const desired::Manifest& manifest,
                                                                   const desired::Target& target,
                                                                   const std::string& database) {
  state::ObserveRequest request = observe_request_for(target, 4);
  if (!database.empty()) {
    request.all_databases = false;
    request.databases = {database};
  }
  request.also = journal_reader(manifest);
  std::map<std::string, std::vector<state::RunRecord>> runs;
  for (auto& db : state::observe(request).databases) runs[db.name] = std::move(db.runs);
  return runs;
}

std::map<std::string, state::TargetState> observe_for_plan(const desired::Manifest& manifest,
                                                           const std::string& only_target, unsigned parallel,
                                                           state::SessionCache* sessions, state::Access managed) {
  if (!only_target.empty() && find_target(manifest, only_target).role == desired::Role::reference) {
    throw InputError("target '" + only_target + "' is a reference: pgparity never plans changes to it", "",
                     "name a managed target, or leave --target out");
  }
  std::map<std::string, state::TargetState> observed;
  for (const auto& [name, target] : manifest.targets) {
    const bool wanted = target.role == desired::Role::reference || only_target.empty() || only_target == name;
    if (wanted) observed.emplace(name, observe_target(manifest, target, parallel, false, sessions, managed));
  }
  return observed;
}

std::vector<std::string> follow_patroni_leaders(desired::Manifest& manifest) {
  std::vector<std::string> said;
  // The member at a DSN's address: the same port, and the same host or a local socket of this machine.
  const auto at = endpoint_is;
  for (auto& [name, target] : manifest.targets) {
    // Behind a pooler the DSN is the pooler's: rewiring it past the pooler would drain the wrong one.
    if (target.patroni_url.empty() || target.role != desired::Role::managed || target.pooler) continue;
    const state::Endpoint own = state::dsn_endpoint(target.dsn);
    if (own.host.find(',') != std::string::npos) continue;  // a multi-host DSN follows the leader itself
    std::string error;
    const auto members = state::read_patroni_members(target.patroni_url, error);
    const auto leader = std::find_if(members.begin(), members.end(), [](const auto& m) { return m.leader(); });
    if (leader == members.end() || at(own, *leader)) continue;  // observation says what Patroni answers
    // Followed only from a standby of Patroni's own cluster: a DSN that reaches a primary, another
    // cluster, or nothing is left as written (the plan then says what is wrong with it).
    try {
      auto session = state::connect(target.dsn, state::Access::read_only, "pgparity");
      pqxx::read_transaction tx(*session);
      const auto row =
          tx.exec1(std::string("SELECT (") + state::sql::in_recovery + "), (" + state::sql::identity + ")");
      if (!row[0].as<bool>() || row[1].c_str() != state::patroni_system_identifier(target.patroni_url)) continue;
    } catch (const std::exception&) {
      continue;
    }
    const auto listed = std::find_if(target.replicas.begin(), target.replicas.end(), [&](const desired::Replica& r) {
      return at(state::dsn_endpoint(r.dsn), *leader);
    });
    if (listed != target.replicas.end()) {
      std::swap(target.dsn, listed->dsn);
    } else {
      target.dsn = state::dsn_through(target.dsn, leader->host, leader->port);
    }
    said.push_back(name + ": Patroni's leader is member " + leader->name + " (" + leader->host + ":" + leader->port +
                   "), not the DSN's address: following it" +
                   (listed != target.replicas.end() ? " through the listed standby's DSN" : ""));
  }
  return said;
}

bool in_maintenance_window(const desired::Policy& policy, long long now) {
  if (!policy.maintenance_window) return false;
  const desired::MaintenanceWindow& w = *policy.maintenance_window;
  // glibc reads an unknown zone as UTC without a word: a window in a zone this machine's time zone
  // database lacks is refused instead of being evaluated in the wrong zone.
  if (w.timezone != "UTC") {
    const char* tzdir = std::getenv("TZDIR");
    const std::filesystem::path zone =
        std::filesystem::path(tzdir != nullptr && *tzdir != 0 ? tzdir : "/usr/share/zoneinfo") / w.timezone;
    std::error_code ignored;
    if (!std::filesystem::is_regular_file(zone, ignored)) {
      throw InputError("policy.maintenance_window timezone '" + w.timezone +
                           "' is not in this machine's time zone "
                           "database (" +
                           zone.parent_path().string() + ")",
                       "", "check the name (an IANA name such as Europe/Berlin), or install tzdata");
    }
  }
  // localtime_r in the window's zone; TZ is swapped only while no other thread runs.
  const char* saved = std::getenv("TZ");
  const std::string previous = saved == nullptr ? "" : saved;
  setenv("TZ", w.timezone.c_str(), 1);
  tzset();
  const std::time_t t = static_cast<std::time_t>(now);
  std::tm local{};
  localtime_r(&t, &local);
  if (saved == nullptr) {
    unsetenv("TZ");
  } else {
    setenv("TZ", previous.c_str(), 1);
  }
  tzset();
  const int minute = local.tm_hour * 60 + local.tm_min;
  auto day_in = [&](int day) { return std::find(w.days.begin(), w.days.end(), day) != w.days.end(); };
  if (w.start_minute < w.end_minute) return day_in(local.tm_wday) && minute >= w.start_minute && minute < w.end_minute;
  // Spans midnight: the evening part belongs to today, the morning part to yesterday's window.
  if (minute >= w.start_minute) return day_in(local.tm_wday);
  return minute < w.end_minute && day_in((local.tm_wday + 6) % 7);
}

planner::PlanInput plan_input(const desired::Manifest& manifest, std::map<std::string, state::TargetState> observed,
                              const std::string& only_target) {
  planner::PlanInput input;
  input.manifest = &manifest;
  input.only_target = only_target;
  input.observed = std::move(observed);
  input.in_maintenance_window = in_maintenance_window(manifest.policy, static_cast<long long>(std::time(nullptr)));
  input.tool_version = version;
  return input;
}

planner::Plan plan_now(const desired::Manifest& manifest, const std::string& only_target, unsigned parallel,
                       state::SessionCache* sessions, state::Access managed) {
  return planner::make_plan(
      plan_input(manifest, observe_for_plan(manifest, only_target, parallel, sessions, managed), only_target));
}

}  // namespace pgparity::reconciler
