#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <pqxx/connection>
#include <string>

#include "state/connection.hpp"
#include "state/observed.hpp"

namespace pgparity::state {

/// Observation sessions kept open between reconcile ticks, so an idle tick
/// costs a few round trips per database instead of a backend start; and, in
/// `apply --auto-approve`, from a database's observation to its change, so
/// the change costs no second connection.
///
/// A session is keyed by the exact conninfo it was opened with (DSN, access,
/// database), so a manifest that changes a DSN gets new sessions. Per server
/// (the DSN) at most `capacity` sessions are kept, and never more than a
/// quarter (reconcile, between ticks) or half (apply, for the seconds of a
/// run) of that server's max_connections. Sessions a tick did not use are
/// closed at the end of the tick. Thread-safe: observation takes sessions from
/// several threads at once.
class SessionCache {
 public:
  /// At most `capacity` sessions, and per server at most 1/`share` of its max_connections.
  explicit SessionCache(std::size_t capacity, int share = 4) : capacity_(capacity), share_(share) {}
  SessionCache(const SessionCache&) = delete;
  SessionCache& operator=(const SessionCache&) = delete;

  /// A kept session for (dsn, access, database), or nullptr when none is kept.
  std::unique_ptr<pqxx::connection> take(const std::string& dsn, Access access,
                                         const std::optional<std::string>& database);

  /// Keeps an open session for the next tick, unless the DSN's share is
  /// used up (`max_connections` of that server; 0 when unknown) — then it is closed.
  void give_back(const std::string& dsn, Access access, const std::optional<std::string>& database,
                 std::unique_ptr<pqxx::connection> session, int max_connections);

  /// Closes the kept sessions that no tick took since the last call.
  void end_tick();

  /// Closes every kept session whose DSN and database (the one it is connected to) `wanted` refuses
  /// (apply: those of databases it will not change).
  void retain(const std::function<bool(const std::string& dsn, const std::string& database)>& wanted);

  std::size_t size() const;
  std::size_t capacity() const { return capacity_; }

  /// What an installation offered at the last tick: available versions (of
  /// the extensions `asked`) and update paths (from the installed `pairs`).
  /// Reading them parses every control file of the installation (~50 ms on
  /// Debian's), more than an idle tick's whole catalog read, so an idle tick
  /// reuses them while `validator` (the names and default versions of
  /// pg_available_extensions, a cheap read) is unchanged and they are younger
  /// than offers_max_age. Reconcile re-reads them whenever a tick finds
  /// something to do.
  struct Offers {
    std::string validator;
    std::string asked;
    std::chrono::steady_clock::time_point read_at;
    std::map<std::string, AvailableExtension> available;
    std::vector<std::string> offered;
    std::string pairs;
    std::map<std::string, std::vector<UpdatePath>> paths;
  };
  static constexpr std::chrono::minutes offers_max_age{10};
  /// A kept session is reopened after this long: a DSN whose name now leads to another server, a
  /// revoked login or a changed pg_hba.conf takes effect within it.
  static constexpr std::chrono::minutes session_max_age{10};
  /// The offers kept for `dsn` when they match `validator` and `asked` and are young enough.
  std::optional<Offers> offers(const std::string& dsn, const std::string& validator, const std::string& asked) const;
  void keep_offers(const std::string& dsn, Offers offers);
  /// The next observation reads every installation's offers anew.
  void forget_offers();

 private:
  struct Kept {
    std::string server;  ///< the DSN: what the per-server limit counts by
    std::unique_ptr<pqxx::connection> session;
    bool used = true;
    std::string database;  ///< the database it is connected to (the DSN's own one too)
  };
  std::size_t kept_for(const std::string& server) const;

  std::size_t capacity_;
  int share_;
  mutable std::mutex mutex_;
  std::map<std::string, Kept> kept_;                                   ///< by conninfo
  std::map<std::string, Offers> offers_;                               ///< by DSN
  std::map<std::string, std::chrono::steady_clock::time_point> born_;  ///< by conninfo: when first kept
};

/// Runs `read` on a session to `database` of `dsn` and returns that session:
/// a kept one from `cache` when there is one, else a new one. A kept session
/// on which `read` fails (the server restarted, a pooler closed it) is dropped
/// and `read` runs once more on a new session, so a restart between ticks
/// costs a reconnect, not an error. Without a cache this is connect() then
/// `read`. The caller gives the session back (SessionCache::give_back) once it
/// is done with it.
std::unique_ptr<pqxx::connection> with_session(SessionCache* cache, const std::string& dsn, Access access,
                                               const std::optional<std::string>& database,
                                               const std::function<void(pqxx::connection&)>& read);

}  // namespace pgparity::state
