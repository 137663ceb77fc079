#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "state/observed.hpp"

struct pg_conn;

namespace pgparity::state {

/// A session on a PgBouncer admin console (libpq directly: the console is
/// not a PostgreSQL server, and libpqxx refuses its version). Simple
/// commands only: PAUSE, RESUME, SHOW.
class PoolerConsole {
 public:
  /// Throws ConnectionError (password masked).
  explicit PoolerConsole(const std::string& admin_dsn);
  ~PoolerConsole();
  PoolerConsole(const PoolerConsole&) = delete;
  PoolerConsole& operator=(const PoolerConsole&) = delete;

  /// Runs one command; throws ConnectionError with the console's message when it fails.
  void command(const std::string& text);
  /// Sends one command and waits for its answer, asking `give_up` every 100 ms. true when it answered
  /// (throws like command() when it was refused); false when given up: the session is then closed,
  /// and the console's own janitor drops what it was waiting for (a PAUSE that never answers).
  bool command_until(const std::string& text, const std::function<bool()>& give_up);
  /// Runs a SHOW command; each row as column name → text.
  std::vector<std::map<std::string, std::string>> rows(const std::string& text);

  /// A name as the admin console reads it: in double quotes (it has no way to
  /// escape one inside, so such a name throws InputError).
  static std::string quote(const std::string& name);

 private:
  ::pg_conn* connection_ = nullptr;
  std::string dsn_;
};

/// Reads a PgBouncer's configuration, routes and pools on its admin console.
/// With `follow_dsn`, each alias (and each of `databases`, for a `*` route) is
/// also followed: a session through the pooler with that DSN's credentials
/// (its host and port replaced by the pooler's) reads the system_identifier of
/// the cluster it reaches, in one read-only transaction. Never throws: a
/// pooler that cannot be read comes back with `error` set.
/// Where a session through the pooler's alias lands: the cluster and the database.
struct RouteEnd {
  std::string system_identifier;
  std::string database;
};
/// Follows `alias` through the pooler at `admin_dsn`'s host and port with `follow_dsn`'s user and
/// options (its password only where dsn_through allows) and reads where it lands, read-only, in one
/// round trip. `give_up` is asked every 100 ms (a paused alias, or a full pool, holds the query until
/// PgBouncer's query_wait_timeout). Throws ConnectionError (password masked) when the alias cannot be
/// followed or the wait was given up.
RouteEnd follow_alias(const std::string& admin_dsn, const std::string& follow_dsn, const std::string& alias,
                      const std::function<bool()>& give_up);

PoolerState observe_pooler(const std::string& admin_dsn, const std::string& follow_dsn,
                           const std::vector<std::string>& databases);

}  // namespace pgparity::state
