#pragma once

#include <atomic>
#include <functional>
#include <pqxx/connection_base>

#include "core/values.hpp"

namespace pgparity::reconciler {

/// One writer per database: pgparity's session-level advisory lock on the
/// change session, held from acquire() until the object goes.
class RunLock {
 public:
  explicit RunLock(pqxx::connection_base& session) : session_(session) {}
  ~RunLock();
  RunLock(const RunLock&) = delete;
  RunLock& operator=(const RunLock&) = delete;

  /// Takes the lock, waiting up to `wait` for another run to let it go (less
  /// when `stop` is set); `waiting` is told the holder's pid once. Returns the
  /// holder's pid (0 if unknown) when it could not be had, -1 when held now.
  int acquire(Duration wait, const std::atomic<bool>* stop, const std::function<void(int holder)>& waiting);
  /// The lock was taken on the session already (state::start_change_session): held from now, as
  /// acquire() would have it. Returns -1, acquire()'s "held now".
  int adopt() {
    held_ = true;
    return -1;
  }

 private:
  pqxx::connection_base& session_;
  bool held_ = false;
};

}  // namespace pgparity::reconciler
