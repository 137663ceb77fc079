#pragma once

#include <functional>
#include <string>
#include <vector>

#include "state/connection.hpp"
#include "state/observed.hpp"

namespace pgparity::state {

class SessionCache;

/// What to observe of one target.
struct ObserveRequest {
  std::string target;  ///< its name, for messages
  std::string dsn;
  Access access = Access::read_only;
  bool all_databases = false;  ///< every connectable, non-template database (that `selects` takes)
  /// With all_databases: which of the connectable databases to observe (globs, excludes); all when unset.
  std::function<bool(const std::string&)> selects;
  std::vector<std::string> databases;   ///< these; empty and !all_databases: the DSN's own database
  unsigned parallel = 4;                ///< databases observed at once (at least 1)
  std::vector<std::string> extensions;  ///< looked at closely: available versions and update paths
  std::vector<std::string> droppable;   ///< whose DROP ... CASCADE blast radius is measured
  bool activity = false;                ///< count the other sessions of each database
  std::vector<std::string> libraries;   ///< checked for a file in the library folder
  bool every_extension = false;         ///< available versions of all, update paths of every installed one
  bool preload_files = false;           ///< also check the files of shared_preload_libraries
  bool integrity = false;               ///< membership problems and missing module files, per database
  /// Standbys of the target (DSNs), each observed on one read-only session after the primary.
  std::vector<std::string> replicas;
  /// Sessions kept between reconcile ticks: taken from here and given back; none kept when null.
  SessionCache* sessions = nullptr;
  /// Run on each database's own session after it is observed (doctor reads
  /// pgparity's journal there): no second connection per database.
  std::function<void(pqxx::connection_base&, DatabaseState&)> also;
};

/// Observes a target: one session for what is the same in every database
/// (settings, database list, library files, available versions, update
/// paths, postgresql.auto.conf, recovery, identity: eight queries), then one session and one to three queries per
/// selected database, at most `parallel` at a time. Never writes.
/// Throws ConnectionError, or InputError for a named database that does not exist.
TargetState observe(const ObserveRequest& request);

/// The cluster-wide part, on an open session; `libraries` are checked on disk.
ClusterState observe_cluster(pqxx::connection_base& session, std::vector<std::string> libraries = {},
                             bool preload_files = false);

/// One database, on a session connected to it: one query, plus one for the
/// blast radius of `droppable` extensions and one for `activity` when asked.
DatabaseState observe_database(pqxx::connection_base& session, const std::vector<std::string>& droppable = {},
                               bool activity = false);

/// A standby: its cluster-wide state (as observe_cluster), the available versions of `extensions`,
/// the update paths from the `pairs` installed on its primary, and its replay position. A standby
/// that cannot be observed is returned with `error` set, never thrown.
ReplicaState observe_replica(const std::string& dsn, const std::vector<std::string>& extensions,
                             const std::vector<std::string>& libraries, const std::string& pairs);

/// The server's system_identifier (pg_control_system()), read in one read-only round trip.
std::string system_identifier(pqxx::connection_base& session);

/// The primary's WAL insert position (pg_current_wal_insert_lsn), what a standby must replay past.
std::string wal_insert_lsn(pqxx::connection_base& session);

/// Where a standby's replay stands (pg_last_wal_replay_lsn, "" on a primary), and whether it is at
/// or past `lsn` — compared by the server as pg_lsn.
struct ReplayProgress {
  std::string replayed;
  bool reached = false;
};
ReplayProgress replay_progress(pqxx::connection_base& session, const std::string& lsn);

/// Membership problems and missing module files of the session's database (two queries).
std::vector<IntegrityProblem> observe_integrity(pqxx::connection_base& session);

}  // namespace pgparity::state
