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

/// Whether the session's role may install `extension` at `version` by itself:
/// a superuser, or a non-superuser extension version, or a trusted one with CREATE on the database.
/// "" when it may, else why not.
std::string cannot_install(pqxx::connection_base& session, const std::string& extension, const std::string& version);

/// "" when pgparity's state schema `schema` is absent, or owned by the
/// session's role or a superuser; else why it must not be written (a trigger
/// planted in a schema someone else owns would run with the applying role's rights).
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
