#include "reconciler/pooler.hpp"

#include <chrono>
#include <future>

#include "core/error.hpp"
#include "state/pooler_console.hpp"

namespace pgparity::reconciler {

using state::PoolerConsole;

std::vector<std::string> pooler_aliases(PoolerConsole& console, const std::string& database) {
  std::vector<std::string> aliases;
  for (const auto& row : console.rows("SHOW DATABASES")) {
    const auto name = row.find("name");
    const auto db = row.find("database");
    if (name == row.end() || db == row.end() || name->second == "pgbouncer") continue;
    if (db->second == database) aliases.push_back(name->second);
  }
  if (aliases.empty()) aliases.push_back(database);
  return aliases;
}

PoolerPause::PoolerPause(const std::string& admin_dsn, const std::string& database, Duration timeout,
                         const std::atomic<bool>* stop, Hooks hooks)
    : admin_dsn_(admin_dsn), hooks_(std::move(hooks)) {
  console_ = std::make_unique<PoolerConsole>(admin_dsn);
  try {
    for (const auto& alias : pooler_aliases(*console_, database)) pause(alias, timeout, stop);
  } catch (...) {
    for (const auto& alias : paused_) resume(alias);
    throw;
  }
}

void PoolerPause::pause(const std::string& alias, Duration timeout, const std::atomic<bool>* stop) {
  const std::string quoted = PoolerConsole::quote(alias);
  if (hooks_.before_pause) hooks_.before_pause(alias);
  auto pausing = std::async(std::launch::async, [this, quoted] { console_->command("PAUSE " + quoted); });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout.ms());
  bool stopped = false;
  while (pausing.wait_for(std::chrono::milliseconds(100)) != std::future_status::ready) {
    stopped = stop != nullptr && stop->load();
    if (!stopped && std::chrono::steady_clock::now() < deadline) continue;
    // Let the pending PAUSE go: RESUME from a second console session, then wait for the first to return.
    resume(alias);
    try {
      pausing.get();
    } catch (const std::exception&) {
    }
    console_ = std::make_unique<PoolerConsole>(admin_dsn_);
    if (stopped) throw Error("stopped while the pooler was pausing " + alias + "; it was resumed");
    throw Error("the pooler did not pause " + alias + " within " + timeout.str() + "; it was resumed", "",
                "in session pooling, PAUSE waits for clients to disconnect; use transaction pooling or a longer "
                "policy.drain.timeout");
  }
  try {
    pausing.get();  // rethrows the console's refusal
  } catch (...) {
    if (hooks_.resumed) hooks_.resumed(alias);  // never paused: nothing is left open
    throw;
  }
  paused_.push_back(alias);
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
