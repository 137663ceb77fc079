#pragma once

#include <mutex>
#include <string>

#include "desired/manifest.hpp"
#include "reconciler/apply.hpp"

namespace pgparity::reconciler {

/// What the server-wide steps (a restart, a Patroni PATCH) share: a result under "@<scope>", progress
/// lines, and a run in the journal of the target's own database, opened once the step's checks passed.
class ServerStep {
 public:
  ServerStep(const desired::Manifest& manifest, const planner::Step& step, const ApplyOptions& options,
             std::mutex& output, const std::string& scope);

  /// "staging: <line>" on the progress stream.
  void say(const std::string& line);
  /// Opens the run in the journal; "" when done, else why not.
  std::string journal_start();
  /// The step failed: the result, its run closed as failed when it was opened, told with `told`.
  DatabaseResult fail(const std::string& message, const std::string& told);
  /// The step passed in `ms`: the result, its run closed as succeeded.
  DatabaseResult pass(long long ms, const std::string& message);

 private:
  void journal_finish(state::RunStatus status, int steps_done, const std::string& error);

  const desired::Manifest& manifest_;
  const planner::Step& step_;
  const ApplyOptions& options_;
  std::mutex& output_;
  std::string scope_;
  bool journaled_ = false;
  DatabaseResult result_;
};

}  // namespace pgparity::reconciler
