#include "reconciler/signals.hpp"

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

}  // namespace pgparity::reconciler
