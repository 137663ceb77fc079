#include "reconciler/run_lock.hpp"

#include <chrono>
#include <pqxx/pqxx>
#include <thread>

#include "state/activity.hpp"

namespace pgparity::reconciler {

int RunLock::acquire(Duration wait, const std::atomic<bool>* stop, const std::function<void(int holder)>& waiting) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(wait.ms());
  bool told = false;
  while (!state::try_run_lock(session_)) {
    const int holder = state::run_lock_holder(session_);
    if (std::chrono::steady_clock::now() >= deadline || (stop != nullptr && stop->load())) return holder;
    if (!told && waiting) waiting(holder);
    told = true;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  held_ = true;
  return -1;
}

RunLock::~RunLock() {
  if (!held_) return;
  try {
    if (session_.is_open()) state::release_run_lock(session_);
  } catch (const std::exception&) {
    // The session is gone, and the server released its session-level lock with it.
  }
}

}  // namespace pgparity::reconciler
