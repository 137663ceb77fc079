#pragma once

#include <atomic>
#include <iosfwd>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "core/values.hpp"
#include "desired/manifest.hpp"
#include "planner/plan.hpp"

namespace pgparity::state {
class SessionCache;
}  // namespace pgparity::state

namespace pgparity::reconciler {

struct ApplyOptions {
  Duration lock_wait;     ///< how long to wait for another run's lock before skipping
  unsigned parallel = 4;  ///< databases changed at once
  /// Databases that may wait for their quiet window at once (at least `parallel`): waiting costs a
  /// connection, not a change, so many can wait while `parallel` bounds the changes.
  unsigned drain_parallel = 16;
  std::string plan_digest;                  ///< recorded in the journal
  std::string manifest_digest;              ///< recorded in the journal
  std::string revision;                     ///< the manifest's revision ("main@sha1:…"), recorded in the journal
  std::ostream* progress = nullptr;         ///< where waits and steps are told (stderr)
  const std::atomic<bool>* stop = nullptr;  ///< set by a signal: give up waiting, change nothing more
  std::string wave;                         ///< the rollout wave a run belongs to, for the journal ("" without)
  /// The reference's system_identifier, read by apply_plan: a change session (or a standby's) that
  /// reaches that cluster is refused, whatever the observation said (a DSN may lead elsewhere now).
  std::string reference_identifier;
  /// The observation's sessions (apply --auto-approve): a database's change takes its own from here
  /// when kept, so it costs no second connection; nullptr or none kept: the change connects.
  state::SessionCache* sessions = nullptr;
};

/// A step that ran, and how long it took.
struct StepRun {
  std::string id;
  std::string step;        ///< create, update, set, ...
  std::string object_key;  ///< "extension", "setting" or "schema": the field name reconcile's log events use
  std::string object;      ///< the extension, setting or schema
  long long duration_ms = 0;
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
  std::vector<StepRun> steps;  ///< in the order they ran (rolled back ones too, when the database failed)
  std::string sqlstate;        ///< the server's error code when a statement failed
};

/// A rollout that stopped: the waves after `wave` were not started.
struct RolloutHalt {
  std::string target;
  std::string wave;                    ///< the wave that failed
  std::string reason;                  ///< which database, and what failed
  std::vector<std::string> untouched;  ///< the databases of the later waves, left as they were
};

struct ApplyResult {
  std::vector<DatabaseResult> results;  ///< in the order they ran: settings, then databases (wave by wave)
  std::vector<RolloutHalt> halted;      ///< rollouts halted by a failure (policy.rollout.halt_on_failure)
  bool failed() const;
  bool skipped() const;  ///< another run held a database's lock
  bool blocked() const;
};

/// Executes the plan's steps on the managed databases it names, as
/// docs/apply.md describes: per database a session-level advisory lock,
/// pre-flight checks, a drain, one transaction holding the snapshot and every
/// step (a savepoint each, SET LOCAL lock_timeout), then verification. A
/// database that fails is rolled back whole and does not stop the others.
/// The reference's system_identifier, read on a read-only session ("" without a reference); every
/// session that writes (or rehearses) is checked against it. Throws ConnectionError when it cannot be read.
std::string reference_identifier(const desired::Manifest& manifest);

ApplyResult apply_plan(const desired::Manifest& manifest, const planner::Plan& plan, const ApplyOptions& options);

/// What pgparity_steps_applied_total credits for a run: per (target, database, kind) the change
/// steps of each unit that was applied, as that unit ran them; a standby's settings count on the
/// standby ("@replica-N"), never on its primary; schema steps are not counted.
std::map<std::tuple<std::string, std::string, std::string>, int> applied_steps(const ApplyResult& result);

/// A line per database, for people.
std::string summarize(const ApplyResult& result);

/// "applied", "unchanged", "skipped", "failed" or "blocked".
const char* name_of(DatabaseResult::Outcome outcome);

/// apply --format json: the run as one document (docs/cli.md), with the field names
/// reconcile's JSON log events use (target, database, run_id, step, duration_ms, ...).
/// `plan` gives the fingerprint and, when it was blocked, the blockers.
/// `revision`: the manifest's ("main@sha1:…"), null in the document when "".
std::string render_apply_json(const ApplyResult& result, const planner::Plan& plan, const std::string& revision = "");

}  // namespace pgparity::reconciler
