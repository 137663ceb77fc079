// Over ~500 lines, knowingly: the unit of one database (lock, pre-flight, drain, steps, commit and
// in-doubt handling) and the wave loop still share this file. Issue 24 replaces them with one
// executor over the plan's graph; the standby wait already lives in replica_wait.cpp.
#include "reconciler/apply.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <map>
#include <mutex>
#include <optional>
#include <ostream>
#include <pqxx/pqxx>
#include <semaphore>
#include <set>
#include <sstream>
#include <thread>

#include "core/error.hpp"
#include "core/parallel.hpp"
#include "planner/render.hpp"
#include "reconciler/change.hpp"
#include "reconciler/drain.hpp"
#include "reconciler/journal.hpp"
#include "reconciler/logging.hpp"
#include "reconciler/pooler.hpp"
#include "reconciler/replica_wait.hpp"
#include "reconciler/run_lock.hpp"
#include "reconciler/settings_writer.hpp"
#include "reconciler/signals.hpp"
#include "reconciler/verifier.hpp"
#include "state/activity.hpp"
#include "state/connection.hpp"
#include "state/observe.hpp"

namespace pgparity::reconciler {

namespace {

using Clock = std::chrono::steady_clock;
using planner::Step;
using planner::StepKind;
using Outcome = DatabaseResult::Outcome;

/// The work for one database (or the settings of one server): the plan's
/// steps for it, gates included, executed in the plan's order. Each gate is
/// backed by one part that owns its resource: the run lock (RunLock), the
/// pooler pause (PoolerPause), the drain (Drain), the change transaction
/// (ChangeTransaction), the verification (verify_database), the settings
/// writer (write_settings).
using ChangeSlots = std::counting_semaphore<1024>;

/// The standby a "@replica-N" group names, or nullptr.
const desired::Replica* replica_of(const desired::Target& target, const std::string& group) {
  const std::string prefix = "@replica-";
  if (group.rfind(prefix, 0) != 0) return nullptr;
  const std::string number = group.substr(prefix.size());
  if (number.empty() || number.find_first_not_of("0123456789") != std::string::npos || number.size() > 4) {
    return nullptr;
  }
  const std::size_t index = std::stoul(number);
  return index >= 1 && index <= target.replicas.size() ? &target.replicas[index - 1] : nullptr;
}

class Unit {
 public:
  Unit(const desired::Manifest& manifest, const desired::Target& target, std::string database, std::vector<Step> steps,
       const ApplyOptions& options, std::mutex& output, ChangeSlots* change_slots = nullptr)
      : manifest_(manifest),
        target_(target),
        database_(std::move(database)),
        steps_(std::move(steps)),
        options_(options),
        output_(output),
        change_slots_(change_slots) {
    result_.target = target_.name;
    result_.database = database_;
  }

  DatabaseResult run() {
    // After SIGINT/SIGTERM nothing new starts: no connection, no lock, no journal row, no pause.
    if (stopped()) {
      result_.outcome = Outcome::skipped;
      result_.message = "stopped by a signal before it started; nothing changed";
      return result_;
    }
    if (!database_.empty() && database_.front() == '@') {
      apply_replica_settings();
      return result_;
    }
    try {
      session_ = connect();
      // Checked again on the change session: a multi-host DSN or a DNS change may lead elsewhere now.
      if (state::in_recovery(*session_)) {
        result_.outcome = Outcome::blocked;
        result_.message =
            "the session reached a standby (pg_is_in_recovery() is true); nothing changed. hint: use "
            "the primary's DSN";
        return result_;
      }
      if (!options_.reference_identifier.empty() &&
          state::system_identifier(*session_) == options_.reference_identifier) {
        result_.outcome = Outcome::blocked;
        result_.message = "the session reached the reference's cluster (system_identifier " +
                          options_.reference_identifier + "); nothing changed. hint: check the target's DSN";
        return result_;
      }
      RunLock lock(*session_);
      const int holder = lock.acquire(options_.lock_wait, options_.stop, [this](int pid) {
        say("waiting for the lock held by another pgparity run (pid " + std::to_string(pid) + ")");
      });
      if (holder < 0 && stopped()) {
        result_.outcome = Outcome::skipped;
        result_.message = "stopped by a signal before it started; nothing changed";
        return result_;
      }
      if (holder >= 0) {
        result_.outcome = Outcome::skipped;
        result_.message = "another pgparity run holds the lock" +
                          (holder ? " (pid " + std::to_string(holder) + ")" : std::string()) +
                          "; nothing changed. hint: --lock-wait 5m waits for it";
        return result_;
      }
      if (database_.empty()) {
        apply_settings();
      } else {
        apply_extensions();
      }
    } catch (const Error& e) {
      fail(e.message() + (e.detail().empty() ? "" : ": " + one_line(e.detail())));
    } catch (const std::exception& e) {
      fail(one_line(e.what()));
    }
    return result_;
  }

 private:
  bool stopped() const { return options_.stop != nullptr && options_.stop->load(); }

  /// The change session's system_identifier ("" when the role may not read it).
  std::string identifier() const {
    try {
      return state::system_identifier(*session_);
    } catch (const pqxx::sql_error&) {
      return "";
    }
  }

  std::string where() const { return target_.name + (database_.empty() ? "" : "/" + database_); }

  /// A change session. If pgparity dies (SIGKILL, OOM, a lost node), the
  /// server notices within a second (client_connection_check_interval) and
  /// cancels the running statement: the lock is freed and the rollback
  /// happens at once, not when the script would have finished.
  std::unique_ptr<pqxx::connection> connect() const {
    auto session = state::connect(target_.dsn, state::Access::read_write, "pgparity",
                                  database_.empty() ? std::nullopt : std::optional<std::string>(database_));
    pqxx::nontransaction tx(*session);
    tx.exec("SET client_connection_check_interval = '1s'");
    return session;
  }

  void say(const std::string& line, std::vector<std::pair<std::string, std::string>> fields = {}) {
    if (options_.progress == nullptr) return;
    fields.insert(fields.begin(), {{"target", target_.name}, {"database", database_}});
    if (!result_.run_id.empty()) fields.emplace_back("run_id", result_.run_id);  // as in apply --format json
    std::lock_guard lock(output_);
    const LogFields scope(std::move(fields));  // JSON logs: each becomes a key of the event
    *options_.progress << where() << ": " << line << std::endl;
  }

  /// One event per step: what it changed and how long it took.
  void say_step(const Step& s, long long ms, const std::string& note = "") {
    std::vector<std::pair<std::string, std::string>> fields{{"step", planner::name_of(s.kind)}};
    if (!s.extension.empty()) fields.emplace_back("extension", s.extension);
    if (!s.setting.empty()) fields.emplace_back("setting", s.setting);
    if (!s.from.empty() || !s.current.empty()) fields.emplace_back("from", s.setting.empty() ? s.from : s.current);
    if (!s.to.empty() || !s.value.empty()) fields.emplace_back("to", s.setting.empty() ? s.to : s.value);
    fields.emplace_back("duration_ms", std::to_string(ms));
    const bool setting = !s.setting.empty();
    const bool schema = s.kind == StepKind::schema;
    result_.steps.push_back({s.id, planner::name_of(s.kind),
                             setting  ? "setting"
                             : schema ? "schema"
                                      : "extension",
                             setting  ? s.setting
                             : schema ? s.schema
                                      : s.extension,
                             ms});
    say(planner::describe(s) + note, std::move(fields));
  }

  void fail(const std::string& message) {
    result_.outcome = Outcome::failed;
    result_.message = message;
  }

  std::vector<Step> changes() const {
    std::vector<Step> out;
    for (const auto& s : steps_) {
      if (!planner::is_gate(s.kind)) out.push_back(s);
    }
    return out;
  }

  /// What the change steps expect to find, checked against `now`.
  /// Returns "" when every step still applies, "converged" when all are already done, else what changed.
  std::string recheck(const state::DatabaseState& now) const {
    std::size_t done = 0;
    std::string changed;
    const auto steps = changes();
    for (const auto& s : steps) {
      if (s.kind == StepKind::schema) {
        // Created by someone else meanwhile: CREATE SCHEMA would fail, so the plan no longer holds.
        if (now.has_schema(s.schema)) changed += (changed.empty() ? "" : "; ") + ("schema " + s.schema + " now exists");
        continue;
      }
      const state::InstalledExtension* e = now.find(s.extension);
      const std::string installed = e == nullptr ? "" : e->version.str();
      const std::string before = s.kind == StepKind::create ? "" : s.from;
      const std::string after = s.kind == StepKind::drop ? "" : s.to;
      if (installed == before) continue;
      if (installed == after) {
        ++done;
        continue;
      }
      changed += (changed.empty() ? "" : "; ") + s.extension + " is " + (installed.empty() ? "absent" : installed) +
                 ", the plan expected " + (before.empty() ? "it absent" : before);
    }
    if (!changed.empty()) return changed;
    return done == steps.size() ? "converged" : "";
  }

  /// Versions and blast radius observed again, just before the transaction:
  /// "" when they are what the plan was made from, else the first difference.
  std::string remeasure() {
    std::vector<std::string> droppable;
    for (const auto& s : steps_) {
      if (s.kind == StepKind::drop || s.kind == StepKind::recreate) droppable.push_back(s.extension);
    }
    const state::DatabaseState now = state::observe_database(*session_, droppable);
    if (const std::string changed = recheck(now); !changed.empty()) {
      return changed == "converged" ? "another run already made these changes" : changed;
    }
    for (const auto& s : steps_) {
      if (s.kind != StepKind::drop && s.kind != StepKind::recreate) continue;
      const auto& blast = now.dependents(s.extension);
      if (state::same_blast_radius(blast, s.blast_radius)) continue;
      std::string seen;
      for (const auto& o : blast) seen += (seen.empty() ? "" : ", ") + planner::describe(o);
      return "the blast radius of " + s.extension + " changed; it now takes " + (seen.empty() ? "nothing" : seen);
    }
    return "";
  }

  /// The pre-flight gate: still as planned, and the role may do every step.
  /// false (with the outcome set) when nothing is to be done.
  bool preflight() {
    const state::DatabaseState before = state::observe_database(*session_);
    const std::string changed = recheck(before);
    if (changed == "converged") {
      result_.outcome = Outcome::unchanged;
      result_.message = "already as planned (another run was first); nothing changed";
      return false;
    }
    if (!changed.empty()) {
      fail("changed since it was planned: " + changed + "; nothing changed. hint: plan again");
      return false;
    }
    std::vector<std::string> problems;
    if (const std::string why = state::foreign_state_schema(*session_, manifest_.policy.state_schema.str());
        !why.empty()) {
      problems.push_back(why + "; drop or rename it, or set policy.state_schema");
    }
    for (const auto& s : steps_) {
      if (s.kind == StepKind::create || s.kind == StepKind::recreate || s.kind == StepKind::update) {
        const std::string why = state::cannot_install(*session_, s.extension, s.to);
        if (!why.empty()) problems.push_back(why);
      }
    }
    if (problems.empty()) return true;
    result_.outcome = Outcome::blocked;
    for (const auto& p : problems) result_.message += (result_.message.empty() ? "" : "; ") + p;
    result_.message = "pre-flight: " + result_.message + "; nothing changed";
    return false;
  }

  /// The drain gate: the pooler paused (journaled), no other session busy,
  /// then versions and blast radius measured again. "" when the change may go on.
  std::string drain(Journal& journal, std::optional<PoolerPause>& paused) {
    // Behind a pooler the slot comes first: clients must not stay paused while a slot is awaited.
    if (target_.pooler && change_slots_ != nullptr && !take_slot()) {
      return "stopped waiting for a change slot; nothing changed";
    }
    if (target_.pooler) {
      say("pausing " + database_ + " on the pooler");
      const std::string pooler = state::mask_dsn(target_.pooler->admin_dsn);
      paused.emplace(
          target_.pooler->admin_dsn, database_, target_.dsn, identifier(), manifest_.policy.drain.timeout,
          options_.stop,
          PoolerPause::Hooks{[&journal, pooler, this](const std::string& alias) {
                               journal.pause_started(result_.run_id, pooler, alias);
                             },
                             [&journal, this](const std::string& alias) { journal.pause_ended(result_.run_id, alias); },
                             [this](const std::string& line) { say("pooler: " + line); }});
    }
    Drain quiet(*session_, manifest_.policy.drain, options_.stop, [this](const std::string& line) { say(line); });
    while (true) {
      if (const std::string busy = quiet.wait(); !busy.empty()) return busy;
      if (change_slots_ == nullptr || slot_) break;
      // Quiet: now wait for one of the --parallel change slots. If someone became busy meanwhile,
      // give the slot back and wait for quiet again.
      if (!take_slot()) return "stopped waiting for a change slot; nothing changed";
      if (quiet.quiet_now()) break;
      slot_.reset();
    }
    // Lock held, drain done: what the plan was made from must still hold, measured again.
    if (const std::string stale = remeasure(); !stale.empty()) {
      return "plan is stale: " + stale + "; nothing changed. hint: plan again and review the new plan";
    }
    return "";
  }

  void apply_extensions() {
    Journal journal(*session_, manifest_.policy.state_schema.str());
    std::optional<PoolerPause> paused;  // declared first: resumed after the transaction is gone
    std::optional<ChangeTransaction> change;
    std::optional<CancelOnStop> cancel;  // only around the steps: never during COMMIT or the journal's writes
    bool started = false;
    const Step* current = nullptr;
    try {
      for (const Step& s : steps_) {
        current = nullptr;
        switch (s.kind) {
          case StepKind::preflight:
            if (!preflight()) return;
            journal.ensure();
            journal.close_interrupted();  // under the lock: no other run is live on this database
            result_.run_id = new_run_id();
            journal.start(result_.run_id, target_.name, database_, options_.plan_digest, options_.manifest_digest,
                          options_.wave);
            started = true;
            break;
          case StepKind::drain:
            if (const std::string why = drain(journal, paused); !why.empty()) {
              fail(why);
              change.reset();
              paused.reset();
              journal.finish(result_.run_id, "failed", 0, result_.message);
              return;
            }
            say("applying " + std::to_string(changes().size()) + " step" + (changes().size() == 1 ? "" : "s") +
                " in one transaction");
            break;
          case StepKind::snapshot:
            change.emplace(*session_, &journal, result_.run_id, manifest_.policy.lock_timeout);
            cancel.emplace(
                [this, pid = session_->backendpid()] {
                  auto canceller = connect();
                  state::cancel_backend(*canceller, pid);
                },
                options_.stop);
            break;
          case StepKind::verify:
            cancel.reset();
            finish(journal, change, paused);
            return;
          default: {
            if (!change) throw std::logic_error("the plan has no snapshot gate before " + s.id);
            if (options_.stop != nullptr && options_.stop->load()) {
              throw Error("stopped by a signal before " + planner::describe(s) +
                          "; the transaction is rolled back and nothing changed");
            }
            current = &s;
            const auto begun = Clock::now();
            const auto notices = change->run(s);
            const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - begun).count();
            say_step(s, ms, " (" + std::to_string(ms) + " ms)");
            for (const auto& n : notices) say(s.extension + ": " + n);
          }
        }
      }
    } catch (const pqxx::sql_error& e) {
      // The watcher may not have marked its cancel yet when the error arrives: the signal and the
      // server's "canceling statement due to user request" say it as well.
      const bool stopped = (cancel && cancel->cancelled()) || (options_.stop != nullptr && options_.stop->load() &&
                                                               std::string_view(e.sqlstate()) == "57014");
      result_.sqlstate = e.sqlstate();
      cancel.reset();
      change.reset();  // ROLLBACK first: the session then answers who held the lock
      fail(stopped ? "stopped by a signal: " + (current ? planner::describe(*current) : std::string("the change")) +
                         " was cancelled; the transaction is rolled back and nothing changed"
                   : step_failure(current, e));
    } catch (const pqxx::broken_connection&) {
      fail("the connection was lost during " + (current ? planner::describe(*current) : std::string("the change")) +
           "; PostgreSQL rolled the whole transaction back");
    } catch (const Error& e) {
      fail(e.message() + (e.detail().empty() ? "" : ": " + one_line(e.detail())));
    } catch (const std::exception& e) {
      fail(one_line(e.what()));
    }
    // Every way out after the journal's start row closes the run with its error.
    cancel.reset();
    change.reset();
    paused.reset();
    if (started) record_failure("failed");
  }

  /// The verify gate: COMMIT (resolving a commit whose outcome the lost
  /// connection hid), RESUME, then versions and health checked.
  void finish(Journal& journal, std::optional<ChangeTransaction>& change, std::optional<PoolerPause>& paused) {
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
            .finish(result_.run_id, "verify-failed", done, result_.message);
      } catch (const std::exception&) {
      }
    }
  }

  /// PGPARITY_TEST_HOOK=terminate-before-commit: the integration tests' way to
  /// lose the connection at the moment of COMMIT (docs/development.md).
  void test_hook_before_commit() {
    const char* hook = std::getenv("PGPARITY_TEST_HOOK");
    if (hook == nullptr || std::string(hook) != "terminate-before-commit") return;
    auto other = state::connect(target_.dsn, state::Access::read_write, "pgparity-test-hook", database_);
    state::terminate_backend(*other, session_->backendpid());
  }

  /// The connection was lost during COMMIT: the snapshot rows, written in the
  /// same transaction, say on a new session whether it committed.
  void resolve_in_doubt(int done, int backend) {
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
      journal.finish(result_.run_id, "rolled-back", 0, result_.message);
    } catch (const std::exception& e) {
      fail("the connection was lost while committing, and the outcome cannot be read (" + one_line(e.what()) +
           "); run pgparity doctor");
    }
  }

  std::string step_failure(const Step* step, const pqxx::sql_error& e) {
    const std::string what = step ? planner::describe(*step) : std::string("the snapshot");
    if (e.sqlstate() == "55P03" && step != nullptr) {
      std::string holders;
      try {
        for (const auto& s : state::lock_holders(*session_, step->extension)) {
          holders += "; blocked by " + describe_session(s);
        }
      } catch (const std::exception&) {
      }
      return what + ": lock timeout after " + manifest_.policy.lock_timeout.str() + holders +
             "; everything in this database was rolled back";
    }
    return what + " failed: " + one_line(e.what()) + " (SQLSTATE " + e.sqlstate() +
           "); everything in this database was rolled back";
  }

  /// Writes the failure into the journal, on a fresh session when the old one is gone.
  void record_failure(const std::string& status) {
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

  void verify(pqxx::connection_base& session, Journal& journal) {
    const std::string problems = verify_database(session, steps_, manifest_.policy.health);
    if (!problems.empty()) {
      fail("verification failed" + problems);
      journal.finish(result_.run_id, "verify-failed", result_.steps_done, result_.message);
      return;
    }
    journal.finish(result_.run_id, "succeeded", result_.steps_done, "");
    result_.outcome = Outcome::applied;
    result_.message = std::to_string(result_.steps_done) + " step" + (result_.steps_done == 1 ? "" : "s") +
                      " applied and verified (run " + result_.run_id + ")";
  }

  /// Settings runs are journaled in the DSN's database like extension runs,
  /// with each setting's value before and after.
  void apply_settings() {
    if (const std::string why = state::foreign_state_schema(*session_, manifest_.policy.state_schema.str());
        !why.empty()) {
      result_.outcome = Outcome::blocked;
      result_.message = "pre-flight: " + why + "; nothing changed";
      return;
    }
    Journal journal(*session_, manifest_.policy.state_schema.str());
    journal.ensure();
    result_.run_id = new_run_id();
    journal.start(result_.run_id, target_.name, "", options_.plan_digest, options_.manifest_digest, options_.wave);
    const std::string problem = write_settings(*session_, steps_, [&](const Step& s, long long ms) {
      journal.record_setting(result_.run_id, s.setting, s.current, s.value,
                             s.undo_sql.empty() ? "" : s.undo_sql.front());
      say_step(s, ms, s.restart_required ? " (takes effect after a restart)" : "");
    });
    if (!problem.empty()) {
      fail(problem);
      journal.finish(result_.run_id, "failed", 0, result_.message);
      return;
    }
    journal.finish(result_.run_id, "succeeded", static_cast<int>(changes().size()), "");
    result_.steps_done = static_cast<int>(changes().size());
    result_.outcome = Outcome::applied;
    result_.message = std::to_string(result_.steps_done) + " setting" + (result_.steps_done == 1 ? "" : "s") +
                      " written and reloaded";
  }

  /// Settings on a standby: ALTER SYSTEM is not replicated, and works on a hot standby. No journal
  /// (a standby cannot be written) and no run lock; postgresql.auto.conf is put back on failure as on
  /// a primary.
  void apply_replica_settings() {
    const desired::Replica* replica = replica_of(target_, database_);
    if (replica == nullptr) {
      fail("the plan names standby " + database_.substr(1) + ", which the manifest's target " + target_.name +
           " does not list");
      return;
    }
    try {
      // The primary's run lock (the one its own settings run takes) serialises standby writes too.
      auto primary = state::connect(target_.dsn, state::Access::read_write, "pgparity", std::nullopt);
      RunLock lock(*primary);
      if (lock.acquire(options_.lock_wait, options_.stop, [](int) {}) >= 0) {
        result_.outcome = Outcome::skipped;
        result_.message = "another pgparity run holds the target's lock; nothing changed on the standby";
        return;
      }
      auto session = state::connect(replica->dsn, state::Access::read_write, "pgparity", std::nullopt);
      if (!state::in_recovery(*session)) {
        result_.outcome = Outcome::blocked;
        result_.message = "standby " + state::mask_dsn(replica->dsn) + " is no longer in recovery; nothing changed";
        return;
      }
      // Checked on the sessions that write, not only at observation: the DSN may lead elsewhere now.
      const std::string identity = state::system_identifier(*session);
      if (identity != state::system_identifier(*primary) || identity == options_.reference_identifier) {
        result_.outcome = Outcome::blocked;
        result_.message = "standby " + state::mask_dsn(replica->dsn) + " (system_identifier " + identity +
                          ") is not a standby of " + target_.name + "'s primary; nothing changed";
        return;
      }
      const std::string problem = write_settings(*session, steps_, [&](const Step& s, long long ms) {
        say_step(s, ms, s.restart_required ? " (takes effect after a restart)" : "");
      });
      if (!problem.empty()) {
        fail("standby " + state::mask_dsn(replica->dsn) + ": " + problem);
        return;
      }
      result_.steps_done = static_cast<int>(changes().size());
      result_.outcome = Outcome::applied;
      result_.message = std::to_string(result_.steps_done) + " setting" + (result_.steps_done == 1 ? "" : "s") +
                        " written and reloaded on standby " + state::mask_dsn(replica->dsn);
    } catch (const std::exception& e) {
      fail("standby " + state::mask_dsn(replica->dsn) + ": " + one_line(e.what()));
    }
  }

  const desired::Manifest& manifest_;
  const desired::Target& target_;
  std::string database_;
  std::vector<Step> steps_;  ///< this database's steps, gates included, in the plan's order
  const ApplyOptions& options_;
  std::mutex& output_;
  ChangeSlots* change_slots_;

  /// Waits for a change slot (--parallel); false when a signal stops the wait.
  bool take_slot() {
    while (!change_slots_->try_acquire_for(std::chrono::milliseconds(100))) {
      if (options_.stop != nullptr && options_.stop->load()) return false;
    }
    slot_.emplace(*change_slots_);
    return true;
  }
  /// A change slot, held from the end of the drain until the run is over.
  struct Slot {
    explicit Slot(ChangeSlots& slots) : slots_(slots) {}
    ~Slot() { slots_.release(); }
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;
    ChangeSlots& slots_;
  };
  std::optional<Slot> slot_;
  std::unique_ptr<pqxx::connection> session_;
  DatabaseResult result_;
};

}  // namespace

bool ApplyResult::failed() const {
  return !halted.empty() ||
         std::any_of(results.begin(), results.end(), [](const auto& r) { return r.outcome == Outcome::failed; });
}

bool ApplyResult::skipped() const {
  return std::any_of(results.begin(), results.end(), [](const auto& r) { return r.outcome == Outcome::skipped; });
}

bool ApplyResult::blocked() const {
  return std::any_of(results.begin(), results.end(), [](const auto& r) { return r.outcome == Outcome::blocked; });
}

namespace {

/// After a wave's soak: each changed database of the wave is observed again on a fresh read-only
/// session and its health queries run; "" when all hold, else the first problem.
std::string health_after_soak(const desired::Manifest& manifest, const desired::Target& target,
                              const std::string& database, const std::vector<Step>& steps) {
  try {
    auto session = state::connect(target.dsn, state::Access::read_only, "pgparity", database);
    return verify_database(*session, steps, manifest.policy.health);
  } catch (const std::exception& e) {
    return "; " + one_line(e.what());
  }
}

}  // namespace

std::string reference_identifier(const desired::Manifest& manifest) {
  const desired::Target* reference = manifest.reference();
  if (reference == nullptr) return "";
  try {
    auto session = state::connect(reference->dsn, state::Access::read_only, "pgparity", std::nullopt);
    return state::system_identifier(*session);
  } catch (const std::exception& e) {
    // The plan read the reference a moment ago; without its identity nothing can be checked against it.
    throw ConnectionError("cannot read the reference's system_identifier before changing anything", one_line(e.what()),
                          "check the reference's DSN; nothing changed");
  }
}

ApplyResult apply_plan(const desired::Manifest& manifest, const planner::Plan& plan, const ApplyOptions& requested) {
  ApplyOptions options = requested;
  // Group the steps, gates included, by (target, database), keeping the plan's order within each.
  std::map<std::pair<std::string, std::string>, std::vector<Step>> groups;
  for (const auto& s : plan.steps) {
    const auto target = manifest.targets.find(s.target);
    if (target == manifest.targets.end() || target->second.role != desired::Role::managed) {
      throw InputError("the plan has a step for '" + s.target + "', which is not a managed target of the manifest");
    }
    groups[{s.target, s.replica.empty() ? s.database : "@" + s.replica}].push_back(s);
  }
  std::vector<std::pair<std::string, std::string>> keys;
  for (const auto& [key, steps] : groups) {
    const bool changes =
        std::any_of(steps.begin(), steps.end(), [](const Step& s) { return !planner::is_gate(s.kind); });
    if (changes) keys.push_back(key);
  }

  if (!keys.empty()) options.reference_identifier = reference_identifier(manifest);
  ApplyResult result;
  std::vector<DatabaseResult> results(keys.size());
  std::mutex output;
  // Up to drain_parallel databases wait for quiet at once; at most `parallel` of them change at once.
  const unsigned parallel = std::max(1u, options.parallel);
  const unsigned waiting = std::max(parallel, options.drain_parallel);
  ChangeSlots slots(static_cast<std::ptrdiff_t>(std::min(parallel, 1024u)));
  auto run = [&](std::size_t i, const ApplyOptions& with) {
    const auto& [target, database] = keys[i];
    results[i] = Unit(manifest, manifest.targets.at(target), database, groups.at(keys[i]), with, output, &slots).run();
  };
  std::vector<std::size_t> order;  // the order results are reported in
  auto batch = [&](const std::vector<std::size_t>& indices, const ApplyOptions& with) {
    parallel_for(indices.size(), waiting, [&](std::size_t k) { run(indices[k], with); });
    order.insert(order.end(), indices.begin(), indices.end());
  };
  // Server settings first, the primary's then its standbys' (a database's change may rely on them).
  auto server_wide = [&](std::size_t i) { return keys[i].second.empty() || keys[i].second.front() == '@'; };
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (!server_wide(i)) continue;
    // A standby never gets settings its primary did not take (keys sort "" before "@replica-N").
    const auto primary = std::find_if(keys.begin(), keys.end(),
                                      [&](const auto& k) { return k.first == keys[i].first && k.second.empty(); });
    if (!keys[i].second.empty() && primary != keys.end()) {
      const auto& r = results[static_cast<std::size_t>(primary - keys.begin())];
      if (r.outcome != Outcome::applied && r.outcome != Outcome::unchanged) {
        results[i].target = keys[i].first;
        results[i].database = keys[i].second;
        results[i].outcome = Outcome::skipped;
        results[i].message = "the primary's settings were not applied; the standby's are left as they are";
        order.push_back(i);
        continue;
      }
    }
    batch({i}, options);
  }
  // Databases of targets without a rollout: all at once (bounded by --parallel).
  std::vector<std::size_t> free;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    const bool rolled = std::any_of(plan.waves.begin(), plan.waves.end(),
                                    [&](const planner::Wave& w) { return w.target == keys[i].first; });
    if (!server_wide(i) && !rolled) free.push_back(i);
  }
  batch(free, options);
  // Rollouts: wave after wave; a failure, a standby that does not replay and verify the wave, or a
  // failed health query after the soak, halts the rest.
  std::set<std::string> halted;
  std::set<std::pair<std::string, std::string>> verified_on_standbys;
  std::vector<DatabaseResult> standby_failures;
  const auto& rollout = manifest.policy.rollout;
  for (std::size_t w = 0; w < plan.waves.size(); ++w) {
    const planner::Wave& wave = plan.waves[w];
    if (halted.contains(wave.target)) continue;
    // Nothing more starts after a signal, or when the server settings the waves rely on failed.
    std::string before;
    if (options.stop != nullptr && options.stop->load()) before = "stopped by a signal before " + wave.name;
    for (std::size_t i = 0; i < keys.size(); ++i) {
      if (keys[i].first == wave.target && server_wide(i) && results[i].outcome != Outcome::applied &&
          results[i].outcome != Outcome::unchanged) {
        before = "the server settings failed: " + results[i].message;
      }
    }
    if (!before.empty()) {
      RolloutHalt halt{
          wave.target,
          w == 0 || plan.waves[w - 1].target != wave.target ? "(before the first wave)" : plan.waves[w - 1].name,
          before,
          {}};
      for (std::size_t later = w; later < plan.waves.size(); ++later) {
        if (plan.waves[later].target != wave.target) continue;
        halt.untouched.insert(halt.untouched.end(), plan.waves[later].databases.begin(),
                              plan.waves[later].databases.end());
      }
      halted.insert(wave.target);
      result.halted.push_back(std::move(halt));
      continue;
    }
    std::vector<std::size_t> indices;
    for (std::size_t i = 0; i < keys.size(); ++i) {
      const auto& dbs = wave.databases;
      if (keys[i].first == wave.target && std::find(dbs.begin(), dbs.end(), keys[i].second) != dbs.end()) {
        indices.push_back(i);
      }
    }
    ApplyOptions with = options;
    with.wave = wave.name;
    if (options.progress != nullptr) {
      std::lock_guard lock(output);
      *options.progress << wave.target << ": rollout " << wave.name << ": " << indices.size() << " database"
                        << (indices.size() == 1 ? "" : "s") << std::endl;
    }
    batch(indices, with);
    std::string problem;
    for (std::size_t i : indices) {
      const auto& r = results[i];
      if (r.outcome != Outcome::applied && r.outcome != Outcome::unchanged && problem.empty()) {
        problem = r.target + "/" + r.database + ": " + r.message;
      }
    }
    // The wave's standbys replay and verify it before the next wave starts: a standby that cannot serve
    // the change halts the rollout after the canary, not after every database.
    if (problem.empty()) {
      std::map<std::string, std::vector<Step>> wave_changed;
      for (std::size_t i : indices) {
        if (results[i].outcome != Outcome::applied) continue;
        verified_on_standbys.insert(keys[i]);
        for (const auto& s : groups.at(keys[i])) {
          if (!planner::is_gate(s.kind)) wave_changed[keys[i].first + "/" + keys[i].second].push_back(s);
        }
      }
      for (auto& failure : wait_for_replicas(manifest, wave_changed, options, output)) {
        if (problem.empty()) problem = failure.target + "/" + failure.database + ": " + failure.message;
        standby_failures.push_back(std::move(failure));
      }
    }
    if (problem.empty() && rollout && rollout->soak.ms() > 0) {
      const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(rollout->soak.ms());
      while (std::chrono::steady_clock::now() < until && !(options.stop != nullptr && options.stop->load())) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      if (options.stop != nullptr && options.stop->load()) problem = "stopped by a signal during the soak";
    }
    if (problem.empty()) {
      for (std::size_t i : indices) {
        if (results[i].outcome != Outcome::applied) continue;
        std::vector<Step> changed;
        for (const auto& s : groups.at(keys[i])) {
          if (!planner::is_gate(s.kind)) changed.push_back(s);
        }
        const std::string unhealthy =
            health_after_soak(manifest, manifest.targets.at(keys[i].first), keys[i].second, changed);
        if (!unhealthy.empty()) {
          results[i].outcome = Outcome::failed;
          results[i].message = "applied, but after the soak:" + unhealthy.substr(1);
          problem = keys[i].first + "/" + keys[i].second + ": " + results[i].message;
          break;
        }
      }
    }
    if (problem.empty() || (rollout && !rollout->halt_on_failure)) continue;
    RolloutHalt halt{wave.target, wave.name, problem, {}};
    for (std::size_t later = w + 1; later < plan.waves.size(); ++later) {
      if (plan.waves[later].target != wave.target) continue;
      halt.untouched.insert(halt.untouched.end(), plan.waves[later].databases.begin(),
                            plan.waves[later].databases.end());
    }
    if (options.progress != nullptr) {
      std::lock_guard lock(output);
      *options.progress << wave.target << ": rollout halted after " << wave.name << " (" << problem << "); "
                        << halt.untouched.size() << " database" << (halt.untouched.size() == 1 ? "" : "s")
                        << " left untouched" << std::endl;
    }
    halted.insert(wave.target);
    result.halted.push_back(std::move(halt));
  }
  // The databases that changed, by "target/database", for the standbys to replay and be verified.
  std::map<std::string, std::vector<Step>> changed;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (server_wide(i) || results[i].outcome != Outcome::applied || verified_on_standbys.contains(keys[i])) continue;
    for (const auto& s : groups.at(keys[i])) {
      if (!planner::is_gate(s.kind)) changed[keys[i].first + "/" + keys[i].second].push_back(s);
    }
  }
  for (std::size_t i : order) result.results.push_back(std::move(results[i]));
  for (auto& failure : standby_failures) result.results.push_back(std::move(failure));
  for (auto& failure : wait_for_replicas(manifest, changed, options, output)) {
    result.results.push_back(std::move(failure));
  }
  return result;
}

}  // namespace pgparity::reconciler
