#pragma once

#include <map>
#include <string>
#include <vector>

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
  /// Runs a SHOW command; each row as column name → text.
  std::vector<std::map<std::string, std::string>> rows(const std::string& text);

  /// A name as the admin console reads it: in double quotes (it has no way to
  /// escape one inside, so such a name throws InputError).
  static std::string quote(const std::string& name);

 private:
  ::pg_conn* connection_ = nullptr;
  std::string dsn_;
};

}  // namespace pgparity::state
