#pragma once

#include <string>

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

 private:
  ::pg_conn* connection_ = nullptr;
  std::string dsn_;
};

}  // namespace pgparity::state
