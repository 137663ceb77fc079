#pragma once

#include <string>
#include <vector>

#include "state/connection.hpp"

namespace pgparity::state {

/// Another client session on the same database.
struct Session {
  int pid = 0;
  std::string application_name;
  std::string state;          ///< active, idle, idle in transaction, ...
  double state_seconds = 0;   ///< how long it has been in that state
  std::string query;          ///< its last statement, shortened
  std::string backend_start;  ///< when its backend started, as the server prints it: with pid, who it is
};

/// Other client sessions on the session's database that keep it from being
/// quiet: active or idle in a transaction. With `include_idle`, idle ones too.
std::vector<Session> busy_sessions(pqxx::connection_base& session, bool include_idle = false);

/// Sessions that hold a granted lock on a member table of `extension`, or,
/// when none does, every other session with an open transaction: who keeps
/// an ALTER EXTENSION waiting.
std::vector<Session> lock_holders(pqxx::connection_base& session, const std::string& extension);

/// Ends these sessions (pg_terminate_backend, waiting up to 5 s each), each
/// only if its pid still belongs to the same backend (backend_start), on this
/// database, in the same state, and is a client backend; the pids that ended.
std::vector<int> terminate(pqxx::connection_base& session, const std::vector<Session>& sessions);

/// The session-level advisory lock that makes pgparity one writer per database.
bool try_run_lock(pqxx::connection_base& session);
/// Lets it go (it also goes with the session).
void release_run_lock(pqxx::connection_base& session);
/// The pid holding it, or 0.
int run_lock_holder(pqxx::connection_base& session);

/// What a change session learns in its first round trip, one simple-query string: it sets
/// client_connection_check_interval (1s), reads pg_is_in_recovery() and, when `reference_identifier`
/// is given, the cluster's system_identifier, and tries the run lock only on a primary that is not
/// the reference (CASE evaluates the lock last, and only then). A role that may not read the
/// identifier makes it throw, as reading it alone would.
struct ChangeSessionStart {
  bool in_recovery = false;
  std::string system_identifier;  ///< "" unless a reference identifier was given
  bool locked = false;            ///< the run lock is held now
};
ChangeSessionStart start_change_session(pqxx::connection_base& session, const std::string& reference_identifier);

/// An extension version a run will install (create, recreate or update to).
struct Install {
  std::string extension;
  std::string version;
};

/// The pre-flight's questions, asked in one round trip:
/// - whether pgparity's state schema `schema` may be written: absent, or owned by the session's role
///   or a superuser (a trigger planted in a schema someone else owns would run with the applying role's rights);
/// - whether the session's role may install each of `installs` by itself: a superuser, a
///   non-superuser extension version, or a trusted one with CREATE on the database;
/// - `extra`, an expression of the caller's (the journal's shape), read back as text.
struct PreflightAnswers {
  std::vector<std::string> problems;  ///< why not, one line each; empty when every answer is yes
  std::string extra;
};
PreflightAnswers preflight_reads(pqxx::connection_base& session, const std::string& schema,
                                 const std::vector<Install>& installs, const std::string& extra);

/// foreign_state_schema's question alone (the settings run asks only this).
std::string foreign_state_schema(pqxx::connection_base& session, const std::string& schema);

/// pg_is_in_recovery(): whether the session reached a standby.
bool in_recovery(pqxx::connection_base& session);

/// Whether backend `pid` still exists (shown in pg_stat_activity; a backend
/// leaves it only after its COMMIT or ROLLBACK is over and its statistics are written).
bool backend_alive(pqxx::connection_base& session, int pid);

/// pg_terminate_backend(pid, 5000) for one of pgparity's own backends (an
/// in-doubt COMMIT that lingers); whether it ended.
bool terminate_backend(pqxx::connection_base& session, int pid);

/// pg_cancel_backend(pid): cancels what one of pgparity's own backends runs, from another session.
bool cancel_backend(pqxx::connection_base& session, int pid);

/// What the session's role may do.
struct Privileges {
  bool superuser = false;
  bool create_on_database = false;  ///< CREATE on the database: enough for trusted extensions
  std::string role;
};
Privileges privileges(pqxx::connection_base& session);

}  // namespace pgparity::state
