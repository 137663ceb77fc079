#include "reconciler/drain.hpp"

#include <algorithm>
#include <chrono>
#include <sstream>
#include <thread>

#include "core/error.hpp"
#include "state/activity.hpp"

namespace pgparity::reconciler {

namespace {

using Clock = std::chrono::steady_clock;

}  // namespace

std::string describe_session(const state::Session& s) {
  std::ostringstream out;
  out << "pid " << s.pid << (s.application_name.empty() ? "" : " (" + s.application_name + ")") << " " << s.state
      << " for " << static_cast<int>(s.state_seconds) << "s";
  if (!s.query.empty()) out << ": " << one_line(s.query);
  return out.str();
}

bool Drain::may_terminate(const state::Session& s) const {
  const bool idle = s.state == "idle";
  const bool in_transaction = s.state.rfind("idle in transaction", 0) == 0;
  if (!(idle && policy_.terminate_idle) && !(in_transaction && policy_.terminate_idle_in_transaction)) return false;
  if (s.application_name.rfind("pgparity", 0) == 0) return false;
  const auto& spared = policy_.never_terminate;
  return std::find(spared.begin(), spared.end(), s.application_name) == spared.end();
}

void Drain::terminate_allowed() {
  if (!policy_.terminate_idle && !policy_.terminate_idle_in_transaction) return;
  std::vector<state::Session> chosen;
  for (const auto& s : state::busy_sessions(session_, true)) {
    if (may_terminate(s)) chosen.push_back(s);
  }
  if (chosen.empty()) return;
  std::string pids;
  for (int p : state::terminate(session_, chosen)) pids += (pids.empty() ? "" : ", ") + std::to_string(p);
  if (!pids.empty()) say_("terminated sessions (policy.drain.terminate_idle*): pid " + pids);
}

bool Drain::quiet_now() const { return !policy_.enabled || state::busy_sessions(session_).empty(); }

std::string Drain::wait() {
  if (!policy_.enabled) return "";
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::milliseconds(policy_.timeout.ms());
  const auto quiet_for = std::chrono::milliseconds(policy_.quiet_for.ms());
  auto quiet_since = Clock::now();
  auto last_told = start - std::chrono::hours(1);
  bool was_busy = false;
  std::string last_state = "-";
  while (true) {
    // After a stop, nothing new starts: no session is ended for a change that will not run.
    if (stop_ == nullptr || !stop_->load()) terminate_allowed();
    const auto busy = state::busy_sessions(session_);
    const auto now = Clock::now();
    if (!busy.empty()) {
      quiet_since = now;
      was_busy = true;
    }
    if (busy.empty() && now - quiet_since >= quiet_for) {
      if (was_busy) say_("quiet; going on");
      return "";
    }
    const bool stopped = stop_ != nullptr && stop_->load();
    if (now >= deadline || stopped) {
      std::string who;
      std::string pids;
      for (const auto& s : busy) {
        who += "; " + describe_session(s);
        pids += (pids.empty() ? "" : ", ") + std::to_string(s.pid);
      }
      if (stopped) return "stopped waiting for quiet" + (who.empty() ? "" : ": still busy" + who) + "; nothing changed";
      return "drain timed out after " + policy_.timeout.str() + " waiting for quiet" +
             (who.empty() ? "" : ": still busy" + who) + "; nothing changed. hint: look at pid " +
             (pids.empty() ? "(none now)" : pids) +
             " in pg_stat_activity; set policy.drain.terminate_idle (idle sessions) or "
             "terminate_idle_in_transaction (open transactions), or a shorter policy.drain.quiet_for "
             "(now " +
             policy_.quiet_for.str() + ") or a longer timeout";
    }
    // Told when who is busy changes, and otherwise every 10 s.
    std::string state;
    for (const auto& s : busy) state += std::to_string(s.pid) + s.state + ";";
    if (state != last_state || now - last_told >= std::chrono::seconds(10)) {
      last_told = now;
      last_state = state;
      const auto waited = std::chrono::duration_cast<std::chrono::seconds>(now - start).count();
      if (busy.empty()) {
        say_("quiet, waiting out quiet_for " + policy_.quiet_for.str() + " (" + std::to_string(waited) + "s so far)");
      } else {
        for (const auto& s : busy) say_("draining (" + std::to_string(waited) + "s): " + describe_session(s));
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(std::min<long long>(250, policy_.quiet_for.ms() + 1)));
  }
}

}  // namespace pgparity::reconciler
