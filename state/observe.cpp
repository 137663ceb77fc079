#include "state/observe.hpp"

#include <algorithm>
#include <cstdlib>
#include <exception>
#include <map>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>
#include <set>

#include "core/error.hpp"
#include "core/parallel.hpp"
#include "state/catalog_read.hpp"
#include "state/catalog_sql.hpp"
#include "state/session_cache.hpp"
#include "state/settings.hpp"

namespace pgparity::state {

namespace {

std::string join(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ",") + n;
  return out;
}

std::optional<Identifier> optional_identifier(const nlohmann::json& value) {
  if (value.is_null()) return std::nullopt;
  return Identifier::from_catalog(value.get<std::string>());
}

}  // namespace

ClusterState observe_cluster(pqxx::connection_base& session, std::vector<std::string> libraries, bool preload_files) {
  ClusterState cluster;
  CatalogRead tx(session);
  for (const auto& row : tx.exec(sql::settings)) {
    Setting s;
    s.name = row[0].c_str();
    s.value = row[1].c_str();
    s.unit = row[2].c_str();
    s.context = setting_context_named(row[3].c_str());
    s.source = row[4].c_str();
    s.pending_restart = row[5].as<bool>();
    s.normalized = normalize_setting(s.value, s.unit);
    cluster.server_version = row[6].c_str();
    cluster.server_version_num = row[7].as<int>();
    cluster.dsn_database = row[8].c_str();
    s.type = setting_type_named(row[9].c_str());
    s.min = row[10].c_str();
    s.max = row[11].c_str();
    if (const std::string values = row[12].c_str(); !values.empty()) s.enum_values = split_library_list(values);
    s.boot_value = row[13].c_str();
    s.reset_value = row[14].c_str();
    s.may_alter_system = row[15].as<bool>();
    cluster.may_reload = row[16].as<bool>();
    cluster.superuser = row[17].is_null() || row[17].as<bool>();
    cluster.settings.emplace(s.name, std::move(s));
  }
  if (auto it = cluster.settings.find("shared_preload_libraries"); it != cluster.settings.end()) {
    cluster.preload_libraries = split_library_list(it->second.value);
  }
  for (const auto& row : tx.exec(sql::databases)) cluster.connectable_databases.emplace_back(row[0].c_str());
  tx.commit();
  {
    CatalogRead recovery(session);
    cluster.in_recovery = recovery.exec1(sql::in_recovery)[0].as<bool>();
    recovery.commit();
  }
  // An HA manager (Patroni) starts the postmaster with cluster_name and max_connections on its command line.
  const auto from_command_line = [&](const char* name) {
    const auto it = cluster.settings.find(name);
    return it != cluster.settings.end() && it->second.source == "command line";
  };
  // (Patroni passes all of these; a server started by hand with a -c or two does not look like it.)
  if (from_command_line("cluster_name") && from_command_line("max_connections") &&
      from_command_line("max_locks_per_transaction") && from_command_line("max_wal_senders") &&
      from_command_line("max_replication_slots")) {
    cluster.ha_evidence.push_back("cluster_name '" + cluster.settings.at("cluster_name").value +
                                  "', max_connections and the other settings Patroni passes come from the "
                                  "postmaster's command line");
  }
  if (cluster.in_recovery) {
    // Who it follows: after a switchover, the new primary a fixed DSN should name now.
    try {
      CatalogRead receiver(session);
      const pqxx::result rows = receiver.exec(sql::upstream);
      if (!rows.empty()) cluster.upstream = rows[0][0].c_str();
      receiver.commit();
    } catch (const pqxx::sql_error&) {
    }
  }
  try {
    CatalogRead identity(session);
    cluster.system_identifier = identity.exec1(sql::identity)[0].c_str();
    identity.commit();
  } catch (const pqxx::sql_error&) {
    // Without the right to pg_control_system() the identity stays unknown.
  }
  try {
    CatalogRead files(session);
    for (const auto& row : files.exec(sql::auto_conf)) {
      if (!row[4].is_null() && row[4].as<bool>()) {
        cluster.ha_evidence.push_back("the configuration includes postgresql.base.conf (Patroni's layout)");
        continue;
      }
      if (row[2].as<bool>()) {
        cluster.config_errors.push_back(row[3].c_str());
        continue;
      }
      {
        // primary_conninfo and its kin may hold a password (pg_basebackup -R writes one): masked, as it is
        // shown and logged.
        const std::string name = row[0].c_str();
        const std::string value = row[1].is_null() ? "" : row[1].c_str();
        const bool conninfo = name.size() >= 8 && name.compare(name.size() - 8, 8, "conninfo") == 0;
        cluster.auto_conf_entries[name] = conninfo ? mask_dsn(value) : value;
      }
      auto it = cluster.settings.find(row[0].c_str());
      if (it != cluster.settings.end()) it->second.auto_conf = row[1].is_null() ? "" : row[1].c_str();
    }
    files.commit();
    cluster.auto_conf_known = true;
  } catch (const pqxx::sql_error&) {
    // Without superuser the files cannot be read: a pending restart is then told by pending_restart alone.
  }

  if (preload_files) {
    for (const auto& lib : cluster.preload_libraries) {
      if (std::find(libraries.begin(), libraries.end(), lib) == libraries.end()) libraries.push_back(lib);
    }
  }
  if (!libraries.empty()) {
    for (const auto& lib : libraries) cluster.library_files[lib] = std::nullopt;
    try {
      CatalogRead files(session);
      for (const auto& row : files.exec_params(sql::library_files, join(libraries))) {
        cluster.library_dir = row[0].c_str();
        cluster.library_files[row[1].c_str()] = row[2].as<bool>();
      }
      files.commit();
    } catch (const pqxx::sql_error&) {
      // Without superuser or pg_read_server_files the files cannot be checked: they stay "cannot tell".
    }
  }
  return cluster;
}

void observe_available(pqxx::connection_base& session, const std::vector<std::string>& extensions,
                       ClusterState& cluster) {
  CatalogRead tx(session);
  const auto result = nlohmann::json::parse(tx.exec_params1(sql::available, join(extensions))[0].c_str());
  tx.commit();
  if (result.at("names").is_array()) cluster.offered = result.at("names").get<std::vector<std::string>>();
  for (const auto& v : result.at("versions")) {
    const std::string name = v.at("name");
    AvailableExtension& ext = cluster.available[name];
    ext.name = Identifier::from_catalog(name);
    if (!v.at("default").is_null()) ext.default_version = Version::from_catalog(v.at("default"));
    AvailableVersion version;
    version.version = Version::from_catalog(v.at("version"));
    for (const auto& r : v.at("requires")) version.required.push_back(Identifier::from_catalog(r.get<std::string>()));
    version.superuser = v.at("superuser").get<bool>();
    version.trusted = v.at("trusted").get<bool>();
    version.relocatable = v.at("relocatable").get<bool>();
    version.schema = optional_identifier(v.at("schema"));
    ext.versions.push_back(std::move(version));
  }
}

/// The "name:version" pairs whose update paths a plan needs: installed versions the server still has scripts for.
std::string update_path_pairs(const std::vector<DatabaseState>& databases, const std::vector<std::string>& extensions,
                              bool every_extension, const ClusterState& cluster) {
  std::set<std::string> pairs;
  for (const auto& db : databases) {
    for (const auto& e : db.installed) {
      const AvailableExtension* available = cluster.find_available(e.name.str());
      const bool asked =
          every_extension || std::find(extensions.begin(), extensions.end(), e.name.str()) != extensions.end();
      if (asked && available != nullptr && available->find(e.version) != nullptr) {
        pairs.insert(e.name.str() + ":" + e.version.str());
      }
    }
  }
  return join(std::vector<std::string>(pairs.begin(), pairs.end()));
}

void observe_update_paths(pqxx::connection_base& session, const std::string& pairs, ClusterState& cluster) {
  if (pairs.empty()) return;
  CatalogRead tx(session);
  const auto doc = nlohmann::json::parse(tx.exec_params1(sql::update_paths, pairs)[0].c_str());
  tx.commit();
  for (const auto& p : doc) {
    UpdatePath path{Version::from_catalog(p.at("from")), Version::from_catalog(p.at("to")), {}};
    const std::string text = p.at("path");
    for (std::size_t start = 0;;) {
      const std::size_t end = text.find("--", start);
      path.steps.push_back(Version::from_catalog(text.substr(start, end - start)));
      if (end == std::string::npos) break;
      start = end + 2;
    }
    cluster.paths[p.at("name")].push_back(std::move(path));
  }
}

namespace {

/// The rows of sql::installed into `db`: extensions and schemas, each sorted by name (bytewise).
void read_installed(const pqxx::result& rows, DatabaseState& db) {
  for (const auto& row : rows) {
    db.may_create = row[4].as<bool>();
    db.schemas.emplace_back(row[0].c_str());
    if (row[5].as<bool>()) db.unsafe_schemas.emplace_back(row[0].c_str());
    if (row[1].is_null()) continue;
    db.installed.push_back({Identifier::from_catalog(row[1].c_str()), Version::from_catalog(row[2].c_str()),
                            Identifier::from_catalog(row[0].c_str()), row[3].as<bool>()});
  }
  std::sort(db.schemas.begin(), db.schemas.end());
  db.schemas.erase(std::unique(db.schemas.begin(), db.schemas.end()), db.schemas.end());
  std::sort(db.unsafe_schemas.begin(), db.unsafe_schemas.end());
  db.unsafe_schemas.erase(std::unique(db.unsafe_schemas.begin(), db.unsafe_schemas.end()), db.unsafe_schemas.end());
  std::sort(db.installed.begin(), db.installed.end(),
            [](const InstalledExtension& a, const InstalledExtension& b) { return a.name.str() < b.name.str(); });
}

}  // namespace

DatabaseState observe_database(pqxx::connection_base& session, const std::vector<std::string>& droppable,
                               bool activity) {
  DatabaseState db;
  db.name = session.dbname();
  // One read-only transaction: every read of the database sees one snapshot. With nothing
  // else to read, the whole read is one round trip (what an idle reconcile tick costs).
  if (droppable.empty() && !activity) {
    read_installed(CatalogRead::once(session, sql::installed), db);
    return db;
  }
  CatalogRead tx(session);
  read_installed(tx.exec(sql::installed), db);
  if (!droppable.empty()) {
    for (const auto& b : nlohmann::json::parse(tx.exec_params1(sql::blast_radius, join(droppable))[0].c_str())) {
      DependentObject object{b.at("object"), object_kind_named(b.at("kind")), std::nullopt, ""};
      if (!b.at("rows").is_null()) object.rows = b.at("rows").get<long long>();
      if (!b.at("extension").is_null()) object.extension = b.at("extension").get<std::string>();
      if (object.configuration()) {
        db.config_tables[b.at("name")].push_back(
            {Identifier::from_catalog(b.at("schema")), Identifier::from_catalog(b.at("table")),
             object.kind == ObjectKind::configuration_sequence, b.at("condition"), object.rows});
      }
      db.blast_radius[b.at("name")].push_back(std::move(object));
    }
  }
  if (activity) {
    const auto row = tx.exec1(sql::activity);
    db.activity = {row[0].as<int>(), row[1].as<int>(), row[2].as<int>()};
  }
  tx.commit();
  return db;
}

std::vector<IntegrityProblem> observe_integrity(pqxx::connection_base& session) {
  std::vector<IntegrityProblem> problems;
  std::map<std::string, std::string> modules;  // probin → the extension whose members load it
  CatalogRead tx(session);
  for (const auto& row : tx.exec(sql::integrity)) {
    if (std::string(row[0].c_str()) == "module") {
      modules.emplace(row[2].c_str(), row[1].c_str());
    } else {
      problems.push_back({row[0].c_str(), row[1].c_str(), row[2].c_str(), row[3].c_str()});
    }
  }
  if (modules.empty()) return problems;
  std::vector<std::string> files;
  for (const auto& [probin, extension] : modules) files.push_back(probin);
  try {
    for (const auto& row : tx.exec_params(sql::library_files, join(files))) {
      if (row[2].as<bool>()) continue;
      problems.push_back({"module-file-missing", modules.at(row[1].c_str()), row[1].c_str(),
                          std::string("a member function loads it, but it is not in ") + row[0].c_str()});
    }
  } catch (const pqxx::sql_error&) {
    // Without superuser or pg_read_server_files the files cannot be checked.
  }
  return problems;
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
  state.endpoint = mask_dsn(request.dsn);
  // Between reconcile ticks the installation's offers may be reused (SessionCache::Offers).
  const bool reuse_offers = request.sessions != nullptr && !request.every_extension;
  std::string validator;
  std::optional<SessionCache::Offers> kept_offers;
  std::unique_ptr<pqxx::connection> first;
  try {
    first = with_session(request.sessions, request.dsn, request.access, std::nullopt, [&](pqxx::connection& session) {
      state.cluster = observe_cluster(session, request.libraries, request.preload_files);
      if (request.every_extension) {
        observe_available(session, {"*"}, state.cluster);
      } else if (!request.extensions.empty()) {
        if (reuse_offers) {
          validator = CatalogRead::once(session, sql::offers_validator).at(0).at(0).c_str();
          kept_offers = request.sessions->offers(request.dsn, validator, join(request.extensions));
        }
        if (kept_offers) {
          state.cluster.available = kept_offers->available;
          state.cluster.offered = kept_offers->offered;
        } else {
          observe_available(session, request.extensions, state.cluster);
        }
      }
    });
  } catch (const ConnectionError& e) {
    throw located(e, request.target, "");
  } catch (const pqxx::failure& e) {
    throw ConnectionError("cannot read the settings", e.what(), "", Where{request.target, "", "", ""});
  } catch (const nlohmann::json::exception& e) {
    throw ConnectionError("cannot read the settings", e.what(), "", Where{request.target, "", "", ""});
  }

  std::vector<std::string> selected;
  if (request.all_databases) {
    for (const auto& name : state.cluster.connectable_databases) {
      if (!request.selects || request.selects(name)) selected.push_back(name);
    }
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

  // Sessions go back to the cache (when there is one) for the next tick, within the server's share.
  const auto max_connections = state.cluster.settings.find("max_connections");
  const int connection_limit =
      max_connections == state.cluster.settings.end() ? 0 : std::atoi(max_connections->second.value.c_str());
  auto keep = [&](const std::optional<std::string>& database, std::unique_ptr<pqxx::connection> session) {
    if (request.sessions != nullptr) {
      request.sessions->give_back(request.dsn, request.access, database, std::move(session), connection_limit);
    }
  };

  // The DSN's own database reuses the first session; the others get one session each.
  std::vector<std::size_t> pending;
  for (std::size_t i = 0; i < selected.size(); ++i) {
    if (selected[i] == state.cluster.dsn_database) {
      try {
        state.databases[i] = observe_database(*first, request.droppable, request.activity);
        if (request.integrity) state.databases[i].integrity = observe_integrity(*first);
        if (request.also) request.also(*first, state.databases[i]);
      } catch (const std::exception& e) {
        throw ConnectionError("cannot observe the database", e.what(), "", Where{request.target, selected[i], "", ""});
      }
    } else {
      pending.push_back(i);
    }
  }

  parallel_for(pending.size(), request.parallel, [&](std::size_t k) {
    const std::size_t i = pending[k];
    try {
      auto session = with_session(request.sessions, request.dsn, request.access, selected[i], [&](pqxx::connection& s) {
        state.databases[i] = observe_database(s, request.droppable, request.activity);
        if (request.integrity) state.databases[i].integrity = observe_integrity(s);
        if (request.also) request.also(s, state.databases[i]);
      });
      keep(selected[i], std::move(session));
    } catch (const Error& e) {
      throw located(e, request.target, selected[i]);
    } catch (const std::exception& e) {
      throw ConnectionError("cannot observe the database", e.what(), "", Where{request.target, selected[i], "", ""});
    }
  });
  try {
    const std::string pairs =
        update_path_pairs(state.databases, request.extensions, request.every_extension, state.cluster);
    if (kept_offers && kept_offers->pairs == pairs) {
      state.cluster.paths = kept_offers->paths;
    } else {
      observe_update_paths(*first, pairs, state.cluster);
    }
    if (reuse_offers && !request.extensions.empty()) {
      SessionCache::Offers offers{validator,
                                  join(request.extensions),
                                  kept_offers ? kept_offers->read_at : std::chrono::steady_clock::now(),
                                  state.cluster.available,
                                  state.cluster.offered,
                                  pairs,
                                  state.cluster.paths};
      request.sessions->keep_offers(request.dsn, std::move(offers));
    }
  } catch (const std::exception& e) {
    throw ConnectionError("cannot read update paths", e.what(), "", Where{request.target, "", "", ""});
  }
  // Never kept on a template (an open session there makes CREATE DATABASE fail).
  const auto& connectable = state.cluster.connectable_databases;
  if (std::find(connectable.begin(), connectable.end(), state.cluster.dsn_database) != connectable.end()) {
    keep(std::nullopt, std::move(first));
  }
  if (!request.replicas.empty()) {
    // Update paths on a standby are asked from the versions installed on its primary.
    const std::string pairs = update_path_pairs(state.databases, request.extensions, false, state.cluster);
    for (const auto& dsn : request.replicas) {
      state.replicas.push_back(observe_replica(dsn, request.extensions, request.libraries, pairs));
    }
  }
  return state;
}

std::string system_identifier(pqxx::connection_base& session) {
  return CatalogRead::once(session, sql::identity).at(0).at(0).c_str();
}

std::string wal_insert_lsn(pqxx::connection_base& session) {
  return CatalogRead::once(session, sql::wal_insert_lsn).at(0).at(0).c_str();
}

ReplayProgress replay_progress(pqxx::connection_base& session, const std::string& lsn) {
  CatalogRead tx(session);
  const auto row = tx.exec_params1(sql::replay_reached, lsn);
  tx.commit();
  return {row[0].c_str(), row[1].as<bool>()};
}

ReplicaState observe_replica(const std::string& dsn, const std::vector<std::string>& extensions,
                             const std::vector<std::string>& libraries, const std::string& pairs) {
  ReplicaState replica;
  replica.endpoint = mask_dsn(dsn);
  try {
    auto session = connect(dsn, Access::read_only, "pgparity", std::nullopt);
    replica.cluster = observe_cluster(*session, libraries, false);
    if (!extensions.empty()) observe_available(*session, extensions, replica.cluster);
    // Paths from versions the standby has no scripts for cannot be asked (the function fails): those
    // versions are missing there, which the planner reports.
    std::vector<std::string> known;
    for (std::size_t start = 0; start < pairs.size();) {
      std::size_t end = pairs.find(',', start);
      if (end == std::string::npos) end = pairs.size();
      const std::string pair = pairs.substr(start, end - start);
      const auto colon = pair.find(':');
      const auto* available = replica.cluster.find_available(pair.substr(0, colon));
      if (available != nullptr && available->find(Version::from_catalog(pair.substr(colon + 1))) != nullptr) {
        known.push_back(pair);
      }
      start = end + 1;
    }
    observe_update_paths(*session, join(known), replica.cluster);
    const auto row = CatalogRead::once(*session, sql::replay).at(0);
    replica.replay_lsn = row[0].c_str();
    if (!row[1].is_null()) replica.replay_lag_seconds = row[1].as<double>();
  } catch (const std::exception& e) {
    replica.error = e.what();
  }
  return replica;
}

}  // namespace pgparity::state
