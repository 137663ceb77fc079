#pragma once

#include <mutex>
#include <string>

#include "desired/manifest.hpp"
#include "reconciler/apply.hpp"

namespace pgparity::reconciler {

/// A restart step (docs/apply.md, "Restarts"): journaled on the target's own database ("@restart"),
/// then the target's restart.command runs (no shell, policy.restart.timeout), then the server must
/// answer again within the timeout as the same cluster (system_identifier), started anew
/// (pg_postmaster_start_time), with none of the step's settings pending a restart.
/// The result's outcome is applied or failed; its message says which stage stopped it.
DatabaseResult restart_server(const desired::Manifest& manifest, const planner::Step& restart,
                              const ApplyOptions& options, std::mutex& output);

/// Runs argv (argv[0] an absolute path, no shell) with stdout and stderr captured together; kills it
/// when it outlives `timeout`. Returns the exit code (128 + signal when killed), and what it printed
/// (its last 2,000 bytes).
struct CommandOutcome {
  int exit_code = 0;
  bool timed_out = false;
  std::string output;
};
CommandOutcome run_command(const std::vector<std::string>& argv, Duration timeout);

}  // namespace pgparity::reconciler
