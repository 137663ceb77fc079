#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/values.hpp"

namespace pgparity::state {
class PoolerConsole;
}

namespace pgparity::reconciler {

/// The PgBouncer aliases proven to route to `database` on the target's cluster: each alias whose
/// SHOW DATABASES row names `database` as its server database (or, with none, `database` itself, as
/// a `*` route makes it) is followed through the pooler with `target_dsn`'s user (state::follow_alias,
/// asking `give_up`), and kept when the session lands on `target_identifier`'s cluster in `database`.
/// Host and port as the pooler writes them prove nothing, nor does a name. An alias already paused
/// (by an operator) is left alone. What was not paused, and why, goes to `notes`. Throws Error
/// (nothing paused) when the identifier is unknown or no alias is proven.
std::vector<std::string> pooler_aliases(state::PoolerConsole& console, const std::string& database,
                                        const std::string& target_dsn, const std::string& admin_dsn,
                                        const std::string& target_identifier, const std::function<bool()>& give_up,
                                        std::vector<std::string>* notes = nullptr);

/// PAUSE of the aliases routing to one database on a PgBouncer admin console
/// for as long as the object lives; RESUME when it goes, on every way out
/// (success, failure, exception, SIGTERM/SIGINT, which end waits and unwind).
/// PAUSE waits until the pooler has released the database's server
/// connections: in transaction pooling that is the end of the running
/// transactions; in session pooling it is the clients disconnecting, so the
/// wait is bounded by `timeout` and ends early when `stop` is set. A PAUSE given
/// up is abandoned with its console session closed, and the alias resumed.
class PoolerPause {
 public:
  struct Hooks {
    std::function<void(const std::string& alias)> before_pause;  ///< journal: recorded before PAUSE is sent
    std::function<void(const std::string& alias)> resumed;       ///< journal: recorded after RESUME
    std::function<void(const std::string& line)> note;           ///< progress: aliases not paused, and why
  };
  PoolerPause(const std::string& admin_dsn, const std::string& database, const std::string& target_dsn,
              const std::string& target_identifier, Duration timeout, const std::atomic<bool>* stop, Hooks hooks);
  ~PoolerPause();
  PoolerPause(const PoolerPause&) = delete;
  PoolerPause& operator=(const PoolerPause&) = delete;

  const std::vector<std::string>& aliases() const { return paused_; }

 private:
  void pause(const std::string& alias, const std::function<bool()>& give_up, const bool& stopped, Duration timeout);
  void resume(const std::string& alias) noexcept;
  std::unique_ptr<state::PoolerConsole> console_;
  std::string admin_dsn_;
  std::vector<std::string> paused_;
  std::vector<std::string> notes_;
  Hooks hooks_;
};

/// RESUME of `alias` on a fresh admin session (pgparity recover --mode resume-pooler).
void resume_pooler(const std::string& admin_dsn, const std::string& alias);

}  // namespace pgparity::reconciler
