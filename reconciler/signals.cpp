#include "reconciler/signals.hpp"

#include <chrono>
#include <csignal>
#include <pqxx/connection_base>

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

CancelOnStop::CancelOnStop(pqxx::connection_base& session, const std::atomic<bool>* stop) {
  if (stop == nullptr) return;
  watcher_ = std::thread([this, &session, stop] {
    while (!done_.load()) {
      if (stop->load()) {
        // PQcancel opens its own connection to the server; it is meant to be
        // called while another thread waits on the session.
        try {
          session.cancel_query();
          cancelled_.store(true);
        } catch (const std::exception&) {
        }
        return;
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
