#include "reconciler/pooler.hpp"

#include <chrono>
#include <future>

#include "core/error.hpp"
#include "state/pooler_console.hpp"

namespace pgparity::reconciler {

// The admin console takes bare names, so only plain identifiers are sent to it.
PoolerPause::PoolerPause(const std::string& admin_dsn, const std::string& database, Duration timeout)
    : admin_dsn_(admin_dsn), database_(database) {
  if (!Identifier::parse(database)) {
    throw Error("cannot pause database '" + database + "' on the pooler: its admin console takes only plain names");
  }
  console_ = std::make_unique<state::PoolerConsole>(admin_dsn);
  auto pausing = std::async(std::launch::async, [this] { console_->command("PAUSE " + database_); });
  if (pausing.wait_for(std::chrono::milliseconds(timeout.ms())) != std::future_status::ready) {
    // Let the pending PAUSE go: RESUME from a second console session, then wait for the first to return.
    try {
      state::PoolerConsole(admin_dsn_).command("RESUME " + database_);
    } catch (const std::exception&) {
    }
    try {
      pausing.get();
    } catch (const std::exception&) {
    }
    console_.reset();
    throw Error("the pooler did not pause " + database_ + " within " + timeout.str(), "",
                "in session pooling, PAUSE waits for clients to disconnect; use transaction pooling or a longer "
                "policy.drain.timeout");
  }
  pausing.get();  // rethrows the console's refusal
}

PoolerPause::~PoolerPause() {
  try {
    console_->command("RESUME " + database_);
  } catch (const std::exception&) {
    try {
      state::PoolerConsole(admin_dsn_).command("RESUME " + database_);
    } catch (const std::exception&) {
      // Nothing more can be done here; the pooler stays paused until someone resumes it.
    }
  }
}

}  // namespace pgparity::reconciler
