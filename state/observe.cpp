#include "state/observe.hpp"

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <pqxx/pqxx>
#include <thread>

#include "core/error.hpp"
#include "state/settings.hpp"

namespace pgparity::state {

namespace {

constexpr const char* settings_sql =
    "SELECT name, setting, coalesce(unit, ''), context, source, pending_restart, "
    "       current_setting('server_version'), current_setting('server_version_num')::int, current_database() "
    "FROM pg_catalog.pg_settings ORDER BY name";

constexpr const char* databases_sql =
    "SELECT datname FROM pg_catalog.pg_database WHERE datallowconn AND NOT datistemplate ORDER BY datname";

constexpr const char* installed_sql =
    "SELECT e.extname, e.extversion, n.nspname, e.extrelocatable "
    "FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace "
    "ORDER BY e.extname";

}  // namespace

ClusterState observe_cluster(pqxx::connection_base& session) {
  ClusterState cluster;
  pqxx::read_transaction tx(session);
  for (const auto& row : tx.exec(settings_sql)) {
    Setting s;
    s.name = row[0].c_str();
    s.value = row[1].c_str();
    s.unit = row[2].c_str();
    s.context = row[3].c_str();
    s.source = row[4].c_str();
    s.pending_restart = row[5].as<bool>();
    s.normalized = normalize_setting(s.value, s.unit);
    cluster.server_version = row[6].c_str();
    cluster.server_version_num = row[7].as<int>();
    cluster.dsn_database = row[8].c_str();
    cluster.settings.emplace(s.name, std::move(s));
  }
  if (auto it = cluster.settings.find("shared_preload_libraries"); it != cluster.settings.end()) {
    cluster.preload_libraries = split_library_list(it->second.value);
  }
  for (const auto& row : tx.exec(databases_sql)) cluster.connectable_databases.emplace_back(row[0].c_str());
  tx.commit();
  return cluster;
}

DatabaseState observe_database(pqxx::connection_base& session) {
  DatabaseState db;
  pqxx::read_transaction tx(session);
  db.name = tx.exec1("SELECT current_database()")[0].c_str();
  for (const auto& row : tx.exec(installed_sql)) {
    db.installed.push_back({Identifier::from_catalog(row[0].c_str()), Version::from_catalog(row[1].c_str()),
                            Identifier::from_catalog(row[2].c_str()), row[3].as<bool>()});
  }
  tx.commit();
  return db;
}

namespace {

/// The same failure, told where it happened.
ConnectionError located(const Error& e, const std::string& target, const std::string& database) {
  return ConnectionError(e.message(), e.detail(), e.hint(), Where{target, database, "", ""});
}

}  // namespace

TargetState observe(const ObserveRequest& request) {
  TargetState state;
  state.target = request.target;
  std::unique_ptr<pqxx::connection> first;
  try {
    first = connect(request.dsn, request.access, "pgparity", {});
    state.cluster = observe_cluster(*first);
  } catch (const ConnectionError& e) {
    throw located(e, request.target, "");
  } catch (const pqxx::failure& e) {
    throw ConnectionError("cannot read the settings", e.what(), "", Where{request.target, "", "", ""});
  }

  std::vector<std::string> selected;
  if (request.all_databases) {
    selected = state.cluster.connectable_databases;
  } else if (!request.databases.empty()) {
    for (const auto& name : request.databases) {
      const auto& all = state.cluster.connectable_databases;
      if (std::find(all.begin(), all.end(), name) == all.end()) {
        throw InputError("database '" + name + "' does not exist or does not allow connections", "",
                         "create it, or remove it from the target's databases", Where{request.target, "", "", ""});
      }
      selected.push_back(name);
    }
  } else {
    selected.push_back(state.cluster.dsn_database);
  }
  std::sort(selected.begin(), selected.end());
  state.databases.resize(selected.size());

  // The DSN's own database reuses the first session; the others get one session each.
  std::vector<std::size_t> pending;
  for (std::size_t i = 0; i < selected.size(); ++i) {
    if (selected[i] == state.cluster.dsn_database) {
      state.databases[i] = observe_database(*first);
    } else {
      pending.push_back(i);
    }
  }
  first.reset();

  std::atomic<std::size_t> next{0};
  std::mutex failure_mutex;
  std::exception_ptr failure;
  auto worker = [&] {
    for (std::size_t k = next++; k < pending.size(); k = next++) {
      const std::size_t i = pending[k];
      try {
        auto session = connect(request.dsn, request.access, "pgparity", selected[i]);
        state.databases[i] = observe_database(*session);
      } catch (const Error& e) {
        std::lock_guard lock(failure_mutex);
        if (!failure) failure = std::make_exception_ptr(located(e, request.target, selected[i]));
      } catch (const std::exception& e) {
        std::lock_guard lock(failure_mutex);
        if (!failure) {
          failure = std::make_exception_ptr(
              ConnectionError("cannot observe the database", e.what(), "", Where{request.target, selected[i], "", ""}));
        }
      }
    }
  };
  const auto threads = static_cast<unsigned>(std::min<std::size_t>(std::max(1u, request.parallel), pending.size()));
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
  if (failure) std::rethrow_exception(failure);
  return state;
}

}  // namespace pgparity::state
