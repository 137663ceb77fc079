#include "reconciler/pooler.hpp"

#include <chrono>

#include "core/error.hpp"
#include "state/connection.hpp"
#include "state/pooler_console.hpp"

namespace pgparity::reconciler {

using state::PoolerConsole;

std::vector<std::string> pooler_aliases(PoolerConsole& console, const std::string& database,
                                        const std::string& target_dsn, const std::string& admin_dsn,
                                        const std::string& target_identifier) {
  // Candidates: every alias whose server database is named like ours, wherever the pooler says it is
  // (its host and port can be written many ways); with none, the name itself (a `*` route).
  std::vector<std::string> candidates;
  for (const auto& row : console.rows("SHOW DATABASES")) {
    const auto name = row.find("name");
    const auto db = row.find("database");
    if (name == row.end() || db == row.end() || name->second == "pgbouncer") continue;
    if (db->second == database) candidates.push_back(name->second);
  }
  if (candidates.empty()) candidates.push_back(database);
  if (target_identifier.empty()) {
    throw Error("the pooler: which alias routes to " + database +
                    " cannot be proven: the target's "
                    "system_identifier is unknown; nothing was paused and nothing changed",
                "", "let the role read pg_control_system() (GRANT EXECUTE ON FUNCTION pg_control_system() TO it)");
  }
  // Paused only when proven: a session through the alias lands in this cluster and this database.
  std::vector<std::string> proven;
  for (const auto& alias : candidates) {
    state::RouteEnd end;
    try {
      end = state::follow_alias(admin_dsn, target_dsn, alias);
    } catch (const Error& e) {
      throw Error("the pooler: where alias '" + alias + "' leads cannot be proven (" + e.message() + ": " +
                      one_line(e.detail()) + "); nothing was paused and nothing changed",
                  "", "the target's role must open the alias through the pooler and read pg_control_system()");
    }
    if (end.system_identifier == target_identifier && end.database == database) proven.push_back(alias);
  }
  if (proven.empty()) {
    throw Error(
        "the pooler: no alias is proven to route to " + database + " on this cluster (system_identifier " +
            target_identifier + "; looked at: " +
            [&] {
              std::string all;
              for (const auto& a : candidates) all += (all.empty() ? "" : ", ") + a;
              return all;
            }() +
            "); nothing was paused and nothing changed",
        "", "add an alias for " + database + " to the pooler's [databases], or remove pooler from the target");
  }
  return proven;
}

PoolerPause::PoolerPause(const std::string& admin_dsn, const std::string& database, const std::string& target_dsn,
                         const std::string& target_identifier, Duration timeout, const std::atomic<bool>* stop,
                         Hooks hooks)
    : admin_dsn_(admin_dsn), hooks_(std::move(hooks)) {
  console_ = std::make_unique<PoolerConsole>(admin_dsn);
  try {
    for (const auto& alias : pooler_aliases(*console_, database, target_dsn, admin_dsn, target_identifier)) {
      pause(alias, timeout, stop);
    }
  } catch (...) {
    for (const auto& alias : paused_) resume(alias);
    throw;
  }
}

void PoolerPause::pause(const std::string& alias, Duration timeout, const std::atomic<bool>* stop) {
  const std::string quoted = PoolerConsole::quote(alias);
  if (hooks_.before_pause) hooks_.before_pause(alias);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout.ms());
  bool stopped = false;
  bool answered = false;
  try {
    answered = console_->command_until("PAUSE " + quoted, [&] {
      stopped = stop != nullptr && stop->load();
      return stopped || std::chrono::steady_clock::now() >= deadline;
    });
  } catch (...) {
    // Refused (or the console lost): a pending PAUSE must not stay behind either.
    console_ = std::make_unique<PoolerConsole>(admin_dsn_);
    resume(alias);
    throw;
  }
  if (answered) {
    paused_.push_back(alias);
    return;
  }
  // Given up: the console that sent PAUSE is closed (PgBouncer never answers a PAUSE that a RESUME
  // cancelled, so nothing waits for it); RESUME from a new session, then see that it took.
  console_ = std::make_unique<PoolerConsole>(admin_dsn_);
  resume(alias);
  if (stopped) throw Error("stopped while the pooler was pausing " + alias + "; it was resumed");
  throw Error("the pooler did not pause " + alias + " within " + timeout.str() + "; it was resumed", "",
              "in session pooling, PAUSE waits for clients to disconnect; use transaction pooling or a longer "
              "policy.drain.timeout");
}

void PoolerPause::resume(const std::string& alias) noexcept {
  bool done = false;
  try {
    console_->command("RESUME " + PoolerConsole::quote(alias));
    done = true;
  } catch (const std::exception&) {
    try {
      resume_pooler(admin_dsn_, alias);
      done = true;
    } catch (const std::exception&) {
      // The pooler stays paused: the journal's pause row lets doctor report it.
    }
  }
  if (done && hooks_.resumed) {
    try {
      hooks_.resumed(alias);
    } catch (const std::exception&) {
    }
  }
}

PoolerPause::~PoolerPause() {
  for (auto it = paused_.rbegin(); it != paused_.rend(); ++it) resume(*it);
}

void resume_pooler(const std::string& admin_dsn, const std::string& alias) {
  PoolerConsole console(admin_dsn);
  try {
    console.command("RESUME " + PoolerConsole::quote(alias));
  } catch (const ConnectionError& e) {
    // RESUME of an alias that is not paused is refused; that is the state we want.
    if (e.detail().find("not paused") == std::string::npos) throw;
  }
}

}  // namespace pgparity::reconciler
