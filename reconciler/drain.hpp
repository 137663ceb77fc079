#pragma once

#include <atomic>
#include <functional>
#include <pqxx/connection_base>
#include <string>

#include "desired/manifest.hpp"

namespace pgparity::state {
struct Session;
}

namespace pgparity::reconciler {

/// "pid 4711 (report-job) idle in transaction for 95s: SELECT …"
std::string describe_session(const state::Session& s);

/// Waits, on the change session, until no other client session of the
/// database is active or idle in a transaction for policy.quiet_for,
/// terminating only what the policy names (docs/apply.md).
class Drain {
 public:
  Drain(pqxx::connection_base& session, const desired::Drain& policy, const std::atomic<bool>* stop,
        std::function<void(const std::string&)> say)
      : session_(session), policy_(policy), stop_(stop), say_(std::move(say)) {}

  /// "" once quiet; else why it gave up (timeout or stop), naming who is busy.
  std::string wait();

  /// One look: no other session is busy right now (after a wait for a change slot).
  bool quiet_now() const;

  /// Whether the policy lets pgparity end this session: only the states it
  /// names, never pgparity's own sessions or an application on never_terminate.
  bool may_terminate(const state::Session& s) const;

 private:
  void terminate_allowed();
  pqxx::connection_base& session_;
  const desired::Drain& policy_;
  const std::atomic<bool>* stop_;
  std::function<void(const std::string&)> say_;
};

}  // namespace pgparity::reconciler
