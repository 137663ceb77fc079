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
    while (!done_.load()) {
      if (stop->load() && std::chrono::steady_clock::now() >= next) {
        try {
          cancel();
          cancelled_.store(true);
        } catch (const std::exception&) {
          // The server may be gone; the session's own error ends the change anyway.
        }
        next = std::chrono::steady_clock::now() + std::chrono::seconds(1);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });
}

CancelOnStop::~CancelOnStop() {
  done_.store(true);
  if (watcher_.joinable()) watcher_.join();
}

}  // namespace pgparity::reconciler
