#include "reconciler/unit.hpp"

#include <chrono>
#include <cstdlib>
#include <thread>

#include "core/error.hpp"
#include "reconciler/verifier.hpp"
#include "state/activity.hpp"
#include "state/connection.hpp"

namespace pgparity::reconciler {

using Outcome = DatabaseResult::Outcome;

/// The verify gate: COMMIT (resolving a commit whose outcome the lost
/// connection hid), RESUME, then versions and health checked.
void Unit::finish(Journal& journal, std::optional<ChangeTransaction>& change, std::optional<PoolerPause>& paused) {
  const int done = change ? change->steps_done() : 0;
  const int backend = session_->backendpid();
  test_hook_before_commit();
  const auto committed = change ? change->commit() : ChangeTransaction::Commit::committed;
  change.reset();
  paused.reset();  // RESUME as soon as the change is over
  if (committed == ChangeTransaction::Commit::in_doubt) {
    resolve_in_doubt(done, backend);
    return;
  }
  result_.steps_done = done;
  try {
    verify(*session_, journal);
  } catch (const std::exception& e) {
    // Committed: whatever fails now must not be reported as a rollback.
    fail("the change committed (" + std::to_string(done) +
         " steps), but verification could not run: " + one_line(e.what()) + "; run pgparity doctor");
    try {
      auto fresh = connect();
      Journal(*fresh, manifest_.policy.state_schema.str())
          .finish(result_.run_id, state::RunStatus::verify_failed, done, result_.message);
    } catch (const std::exception&) {
    }
  }
}

/// PGPARITY_TEST_HOOK=terminate-before-commit: the integration tests' way to
/// lose the connection at the moment of COMMIT (docs/development.md).
void Unit::test_hook_before_commit() {
  const char* hook = std::getenv("PGPARITY_TEST_HOOK");
  if (hook == nullptr || std::string(hook) != "terminate-before-commit") return;
  auto other = state::connect(target_.dsn, state::Access::read_write, "pgparity-test-hook", database_);
  state::terminate_backend(*other, session_->backendpid());
}

/// The connection was lost during COMMIT: the snapshot rows, written in the
/// same transaction, say on a new session whether it committed.
void Unit::resolve_in_doubt(int done, int backend) {
  try {
    auto fresh = connect();
    // The old backend may still be finishing its COMMIT (a synchronous standby, an I/O stall):
    // decide only once it is gone, ending it if it lingers.
    for (int i = 0; i < 300 && state::backend_alive(*fresh, backend); ++i) {
      if (i == 200) state::terminate_backend(*fresh, backend);
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    Journal journal(*fresh, manifest_.policy.state_schema.str());
    if (journal.has_snapshot(result_.run_id)) {
      say("the connection was lost while committing; the run's snapshot is there, so the change committed");
      result_.steps_done = done;
      verify(*fresh, journal);
      return;
    }
    fail(
        "the connection was lost while committing; the run's snapshot is not there, so PostgreSQL rolled the "
        "change back; nothing changed");
    journal.finish(result_.run_id, state::RunStatus::rolled_back, 0, result_.message);
  } catch (const std::exception& e) {
    fail("the connection was lost while committing, and the outcome cannot be read (" + one_line(e.what()) +
         "); run pgparity doctor");
  }
}

/// Writes the failure into the journal, on a fresh session when the old one is gone.
void Unit::record_failure(state::RunStatus status) {
  try {
    if (session_->is_open()) {
      Journal(*session_, manifest_.policy.state_schema.str()).finish(result_.run_id, status, 0, result_.message);
    } else {
      auto fresh = connect();
      Journal(*fresh, manifest_.policy.state_schema.str()).finish(result_.run_id, status, 0, result_.message);
    }
  } catch (const std::exception&) {
    // The run stays 'running' in the journal: doctor reports it as unfinished, the next run closes it.
  }
}

void Unit::verify(pqxx::connection_base& session, Journal& journal) {
  const std::string problems = verify_database(session, steps_, manifest_.policy.health);
  if (!problems.empty()) {
    fail("verification failed" + problems);
    journal.finish(result_.run_id, state::RunStatus::verify_failed, result_.steps_done, result_.message);
    return;
  }
  journal.finish(result_.run_id, state::RunStatus::succeeded, result_.steps_done, "");
  result_.outcome = Outcome::applied;
  result_.message = std::to_string(result_.steps_done) + " step" + (result_.steps_done == 1 ? "" : "s") +
                    " applied and verified (run " + result_.run_id + ")";
}

}  // namespace pgparity::reconciler
