#pragma once

#include <atomic>
#include <thread>

namespace pqxx {
class connection_base;
}

namespace pgparity::reconciler {

/// Installs SIGINT and SIGTERM handlers that set the returned flag (once
/// installed, a second signal does not kill the process either): long waits
/// check it and give up cleanly, a running statement is cancelled (CancelOnStop)
/// and its transaction rolls back, and guards such as a pooler pause are
/// released on the way out.
const std::atomic<bool>& stop_on_signals();

/// While it lives, a stop request sends libpq's cancel request for whatever
/// `session` runs, so a long statement (a slow update script, a lock wait)
/// ends at once with "canceling statement due to user request" and its
/// transaction rolls back, instead of running on after SIGTERM.
class CancelOnStop {
 public:
  CancelOnStop(pqxx::connection_base& session, const std::atomic<bool>* stop);
  ~CancelOnStop();
  CancelOnStop(const CancelOnStop&) = delete;
  CancelOnStop& operator=(const CancelOnStop&) = delete;
  /// Whether a cancel request was sent.
  bool cancelled() const { return cancelled_.load(); }

 private:
  std::atomic<bool> done_{false};
  std::atomic<bool> cancelled_{false};
  std::thread watcher_;
};

}  // namespace pgparity::reconciler
