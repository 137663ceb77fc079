#include "reconciler/pooler.hpp"

#include <chrono>
#include <future>

#include "core/error.hpp"
#include "state/connection.hpp"
#include "state/pooler_console.hpp"

namespace pgparity::reconciler {

using state::PoolerConsole;

std::vector<std::string> pooler_aliases(PoolerConsole& console, const std::string& database,
                                        const std::string& target_dsn) {
  const state::Endpoint target = state::dsn_endpoint(target_dsn);
  auto same = [](const std::string& a, const std::string& b) { return a.empty() || b.empty() || a == b; };
  std::vector<std::string> aliases;
  for (const auto& row : console.rows("SHOW DATABASES")) {
    const auto name = row.find("name");
    const auto db = row.find("database");
    if (name == row.end() || db == row.end() || name->second == "pgbouncer") continue;
    const std::string host = row.count("host") ? row.at("host") : "";
    const std::string port = row.count("port") ? row.at("port") : "";
    if (db->second == database && same(host, target.host) && same(port, target.port)) aliases.push_back(name->second);
  }
  if (aliases.empty()) aliases.push_back(database);
  return aliases;
}

PoolerPause::PoolerPause(const std::string& admin_dsn, const std::string& database, const std::string& target_dsn,
                         Duration timeout, const std::atomic<bool>* stop, Hooks hooks)
    : admin_dsn_(admin_dsn), hooks_(std::move(hooks)) {
  console_ = std::make_unique<PoolerConsole>(admin_dsn);
  try {
    for (const auto& alias : pooler_aliases(*console_, database, target_dsn)) pause(alias, timeout, stop);
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
    // Let the pending PAUSE go: RESUME from a second console session (libpq allows one command at a
    // time per connection, and the first is still waiting), then wait for the first to return.
    try {
      resume_pooler(admin_dsn_, alias);
      if (hooks_.resumed) hooks_.resumed(alias);
    } catch (const std::exception&) {
      // The journal's pause row stays open: doctor reports it.
    }
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
