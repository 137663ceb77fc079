#pragma once

#include <memory>
#include <string>

#include "core/values.hpp"

namespace pgparity::state {
class PoolerConsole;
}

namespace pgparity::reconciler {

/// PAUSE of one database on a PgBouncer admin console for as long as the
/// object lives; RESUME when it goes, on every way out (success, failure,
/// exception). PAUSE waits until the pooler has released the database's
/// server connections: in transaction pooling that is the end of the running
/// transactions; in session pooling it is the clients disconnecting, so it
/// is bounded by `timeout`. New client queries wait in the pooler meanwhile.
class PoolerPause {
 public:
  PoolerPause(const std::string& admin_dsn, const std::string& database, Duration timeout);
  ~PoolerPause();
  PoolerPause(const PoolerPause&) = delete;
  PoolerPause& operator=(const PoolerPause&) = delete;

 private:
  std::unique_ptr<state::PoolerConsole> console_;
  std::string admin_dsn_;
  std::string database_;
};

}  // namespace pgparity::reconciler
