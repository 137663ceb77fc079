#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace pgparity::reconciler {

/// Installs SIGINT and SIGTERM handlers that set the returned flag (once
/// installed, a second signal does not kill the process either): long waits
/// check it and give up cleanly, a running statement is cancelled (CancelOnStop)
/// and its transaction rolls back, and guards such as a pooler pause are
/// released on the way out.
const std::atomic<bool>& stop_on_signals();

/// While it lives, a stop request calls `cancel` (pg_cancel_backend of the
/// change session, from a session of its own: libpq's connection objects are
/// not shared between threads), and again every second until it is destroyed,
/// so a long statement (a slow update script, a lock wait) ends at once with
/// "canceling statement due to user request" and its transaction rolls back.
/// A cancel that reaches the backend between two statements is discarded by
/// the server, hence the repeats. Destroy it before COMMIT.
class CancelOnStop {
 public:
  CancelOnStop(std::function<void()> cancel, const std::atomic<bool>* stop);
  ~CancelOnStop();
  CancelOnStop(const CancelOnStop&) = delete;
  CancelOnStop& operator=(const CancelOnStop&) = delete;
  /// Whether a cancel was sent.
  bool cancelled() const { return cancelled_.load(); }

 private:
  std::mutex mutex_;
  std::condition_variable ended_;
  bool done_ = false;  ///< guarded by mutex_
  std::atomic<bool> cancelled_{false};
  std::thread watcher_;
};

}  // namespace pgparity::reconciler
