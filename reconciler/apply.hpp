#pragma once

#include <atomic>
#include <iosfwd>
#include <string>
#include <vector>

#include "core/values.hpp"
#include "desired/manifest.hpp"
#include "planner/plan.hpp"

namespace pgparity::reconciler {

struct ApplyOptions {
  Duration lock_wait;                       ///< how long to wait for another run's lock before skipping
  unsigned parallel = 4;                    ///< databases changed at once
  std::string plan_digest;                  ///< recorded in the journal
  std::string manifest_digest;              ///< recorded in the journal
  std::ostream* progress = nullptr;         ///< where waits and steps are told (stderr)
  const std::atomic<bool>* stop = nullptr;  ///< set by a signal: give up waiting, change nothing more
};

/// How one database (or one server's settings) fared.
struct DatabaseResult {
  enum class Outcome { applied, unchanged, skipped, failed, blocked };
  std::string target;
  std::string database;  ///< "" for server settings
  Outcome outcome = Outcome::unchanged;
  int steps_done = 0;
  std::string run_id;
  std::string message;
};

struct ApplyResult {
  std::vector<DatabaseResult> results;  ///< sorted by target, database
  bool failed() const;
  bool skipped() const;  ///< another run held a database's lock
  bool blocked() const;
};

/// Executes the plan's steps on the managed databases it names, as
/// docs/apply.md describes: per database a session-level advisory lock,
/// pre-flight checks, a drain, one transaction holding the snapshot and every
/// step (a savepoint each, SET LOCAL lock_timeout), then verification. A
/// database that fails is rolled back whole and does not stop the others.
ApplyResult apply_plan(const desired::Manifest& manifest, const planner::Plan& plan, const ApplyOptions& options);

/// A line per database, for people.
std::string summarize(const ApplyResult& result);

}  // namespace pgparity::reconciler
