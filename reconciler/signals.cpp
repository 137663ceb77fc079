#include "reconciler/signals.hpp"

#include <chrono>
#include <csignal>

namespace pgparity::reconciler {

namespace {
std::atomic<bool> stop_requested{false};
extern "C" void request_stop(int) { stop_requested.store(true); }
}  // namespace

const std::atomic<bool>& stop_on_signals() {
  struct sigaction action {};
  action.sa_handler = request_stop;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  return stop_requested;
}

CancelOnStop::CancelOnStop(std::function<void()> cancel, const std::atomic<bool>* stop) {
  if (stop == nullptr) return;
  watcher_ = std::thread([this, cancel = std::move(cancel), stop] {
    auto next = std::chrono::steady_clock::now();
    std::unique_lock lock(mutex_);
    while (!done_) {
      if (stop->load() && std::chrono::steady_clock::now() >= next) {
        lock.unlock();
        try {
          cancel();
          cancelled_.store(true);
        } catch (const std::exception&) {
          // The server may be gone; the session's own error ends the change anyway.
        }
        next = std::chrono::steady_clock::now() + std::chrono::seconds(1);
        lock.lock();
      }
      // Woken at once when the guard goes (a change costs no watcher's nap), else every 50 ms to look at `stop`
      // (a signal handler cannot notify a condition variable).
      ended_.wait_for(lock, std::chrono::milliseconds(50), [this] { return done_; });
    }
  });
}

CancelOnStop::~CancelOnStop() {
  {
    std::lock_guard lock(mutex_);
    done_ = true;
  }
  ended_.notify_all();
  if (watcher_.joinable()) watcher_.join();
}

}  // namespace pgparity::reconciler
