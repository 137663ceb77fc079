#include "reconciler/pooler.hpp"

#include <chrono>

#include "core/error.hpp"
#include "state/connection.hpp"
#include "state/pooler_console.hpp"

namespace pgparity::reconciler {

using state::PoolerConsole;

std::vector<std::string> pooler_aliases(PoolerConsole& console, const std::string& database,
                                        const std::string& target_dsn, const std::string& admin_dsn,
                                        const std::string& target_identifier, const std::function<bool()>& give_up,
                                        std::vector<std::string>* notes) {
  if (target_identifier.empty()) {
    throw Error("the pooler: which alias routes to " + database +
                    " cannot be proven: the target's system_identifier is unknown; nothing was paused and nothing "
                    "changed",
                "", "let the role read pg_control_system() (GRANT EXECUTE ON FUNCTION pg_control_system() TO it)");
  }
  // Candidates: every alias whose server database is named like ours, wherever the pooler says it is
  // (its host and port can be written many ways); with none, the name itself (a `*` route).
  std::vector<std::string> candidates;
  std::vector<std::string> paused_by_others;
  for (const auto& row : console.rows("SHOW DATABASES")) {
    const auto name = row.find("name");
    const auto db = row.find("database");
    if (name == row.end() || db == row.end() || name->second == "pgbouncer" || db->second != database) continue;
    const auto paused = row.find("paused");
    // Already paused by someone else: its clients are held already, and its RESUME is not ours to send.
    (paused != row.end() && paused->second == "1" ? paused_by_others : candidates).push_back(name->second);
  }
  if (candidates.empty() && paused_by_others.empty()) candidates.push_back(database);
  // Paused only when proven: a session through the alias lands in this cluster and this database.
  std::vector<std::string> proven;
  std::string looked;
  for (const auto& alias : candidates) {
    try {
      const state::RouteEnd end = state::follow_alias(admin_dsn, target_dsn, alias, give_up);
      if (end.system_identifier == target_identifier && end.database == database) {
        proven.push_back(alias);
        continue;
      }
      looked += "; " + alias + " leads to " + end.database + " on system_identifier " + end.system_identifier;
    } catch (const Error& e) {
      looked += "; " + alias + " cannot be followed (" + one_line(e.detail().empty() ? e.message() : e.detail()) + ")";
    }
  }
  if (notes != nullptr) {
    for (const auto& alias : paused_by_others) notes->push_back("alias " + alias + " is already paused: left as it is");
    if (!looked.empty() && !proven.empty()) notes->push_back("not paused:" + looked.substr(1));
  }
  if (proven.empty() && paused_by_others.empty()) {
    throw Error("the pooler: no alias is proven to route to " + database + " on this cluster (system_identifier " +
                    target_identifier + ")" + (looked.empty() ? "" : ":" + looked.substr(1)) +
                    "; nothing was paused and nothing changed",
                "",
                "the target's role must open the alias through the pooler and read pg_control_system(); behind a "
                "PgBouncer that asks for a password, list its host in PGPARITY_ALLOWED_HOSTS so the target's "
                "password may go there; or add an alias for " +
                    database + " to the pooler's [databases]");
  }
  return proven;
}

PoolerPause::PoolerPause(const std::string& admin_dsn, const std::string& database, const std::string& target_dsn,
                         const std::string& target_identifier, Duration timeout, const std::atomic<bool>* stop,
                         Hooks hooks)
    : admin_dsn_(admin_dsn), hooks_(std::move(hooks)) {
  // One deadline for the whole pause, aliases followed and paused alike.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout.ms());
  bool stopped = false;
  const auto give_up = [&] {
    stopped = stop != nullptr && stop->load();
    return stopped || std::chrono::steady_clock::now() >= deadline;
  };
  console_ = std::make_unique<PoolerConsole>(admin_dsn);
  try {
    const auto aliases = pooler_aliases(*console_, database, target_dsn, admin_dsn, target_identifier, give_up,
                                        hooks_.note ? &notes_ : nullptr);
    for (const auto& alias : aliases) pause(alias, give_up, stopped, timeout);
  } catch (...) {
    for (const auto& alias : paused_) resume(alias);
    throw;
  }
  if (hooks_.note) {
    for (const auto& n : notes_) hooks_.note(n);
  }
}

void PoolerPause::pause(const std::string& alias, const std::function<bool()>& give_up, const bool& stopped,
                        Duration timeout) {
  const std::string quoted = PoolerConsole::quote(alias);
  if (hooks_.before_pause) hooks_.before_pause(alias);
  bool answered = false;
  try {
    answered = console_->command_until("PAUSE " + quoted, give_up);
  } catch (...) {
    // Refused (or the console lost): a pending PAUSE must not stay behind either.
    console_.reset();
    resume(alias);
    throw;
  }
  if (answered) {
    paused_.push_back(alias);
    return;
  }
  // Given up: the console that sent PAUSE is closed (PgBouncer never answers a PAUSE that a RESUME
  // cancelled, so nothing waits for it); RESUME goes from a new session.
  console_.reset();
  resume(alias);
  if (stopped) throw Error("stopped while the pooler was pausing " + alias + "; it was resumed");
  throw Error("the pooler did not pause " + alias + " within " + timeout.str() + "; it was resumed", "",
              "in session pooling, PAUSE waits for clients to disconnect; use transaction pooling or a longer "
              "policy.drain.timeout");
}

void PoolerPause::resume(const std::string& alias) noexcept {
  bool done = false;
  try {
    if (!console_) throw Error("no console");  // closed after an abandoned PAUSE: a new session below
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
