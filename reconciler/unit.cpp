#include "reconciler/unit.hpp"

#include <algorithm>
#include <chrono>
#include <ostream>

#include "core/error.hpp"
#include "planner/render.hpp"
#include "planner/words.hpp"
#include "reconciler/drain.hpp"
#include "reconciler/logging.hpp"
#include "reconciler/run_lock.hpp"
#include "reconciler/signals.hpp"
#include "state/activity.hpp"
#include "state/connection.hpp"
#include "state/observe.hpp"
#include "state/session_cache.hpp"

namespace pgparity::reconciler {

using Clock = std::chrono::steady_clock;
using planner::Step;
using planner::StepKind;
using Outcome = DatabaseResult::Outcome;

Unit::Unit(const desired::Manifest& manifest, const desired::Target& target, std::string database,
           std::vector<Step> steps, const ApplyOptions& options, std::mutex& output, ChangeSlots* change_slots)
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

DatabaseResult Unit::run() {
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
    // The observation's session when apply kept it (no second connection), else a new one. Then one
    // round trip: the check interval set, standby and reference ruled out, the run lock tried.
    const std::optional<std::string> database =
        database_.empty() ? std::nullopt : std::optional<std::string>(database_);
    if (options_.sessions != nullptr) {
      session_ = options_.sessions->take(target_.dsn, state::Access::read_write, database);
      // The DSN's own database was observed on the server's first session, kept under no database name.
      if (!session_ && database) {
        session_ = options_.sessions->take(target_.dsn, state::Access::read_write, std::nullopt);
        if (session_ && session_->dbname() != *database) {
          options_.sessions->give_back(target_.dsn, state::Access::read_write, std::nullopt, std::move(session_), 0);
        }
      }
    }
    const bool kept = session_ != nullptr;
    if (!kept) session_ = connect(false);
    state::never_reconnect(*session_);  // a reconnected session would carry on without the run lock
    state::ChangeSessionStart start;
    try {
      start = state::start_change_session(*session_, options_.reference_identifier);
    } catch (const pqxx::broken_connection&) {
      if (!kept) throw;
      session_ = connect(false);  // the kept session died meanwhile (a server restart): a new one, once
      state::never_reconnect(*session_);
      start = state::start_change_session(*session_, options_.reference_identifier);
    }
    // Checked again on the change session: a multi-host DSN or a DNS change may lead elsewhere now.
    if (start.in_recovery) {
      result_.outcome = Outcome::blocked;
      result_.message =
          "the session reached a standby (pg_is_in_recovery() is true); nothing changed. hint: use "
          "the primary's DSN";
      return result_;
    }
    if (!options_.reference_identifier.empty() && start.system_identifier == options_.reference_identifier) {
      result_.outcome = Outcome::blocked;
      result_.message = "the session reached the reference's cluster (system_identifier " +
                        options_.reference_identifier + "); nothing changed. hint: check the target's DSN";
      return result_;
    }
    RunLock lock(*session_);
    const int holder = start.locked ? lock.adopt() : lock.acquire(options_.lock_wait, options_.stop, [this](int pid) {
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

/// The change session's system_identifier ("" when the role may not read it).
std::string Unit::identifier() const {
  try {
    return state::system_identifier(*session_);
  } catch (const pqxx::sql_error&) {
    return "";
  }
}

/// A change session. If pgparity dies (SIGKILL, OOM, a lost node), the
/// server notices within a second (client_connection_check_interval) and
/// cancels the running statement: the lock is freed and the rollback
/// happens at once, not when the script would have finished.
std::unique_ptr<pqxx::connection> Unit::connect(bool check_interval) const {
  auto session = state::connect(target_.dsn, state::Access::read_write, "pgparity",
                                database_.empty() ? std::nullopt : std::optional<std::string>(database_));
  if (check_interval) {
    pqxx::nontransaction tx(*session);
    tx.exec("SET client_connection_check_interval = '1s'");
  }
  return session;
}

void Unit::say(const std::string& line, std::vector<std::pair<std::string, std::string>> fields) {
  if (options_.progress == nullptr) return;
  fields.insert(fields.begin(), {{"target", target_.name}, {"database", database_}});
  if (!result_.run_id.empty()) fields.emplace_back("run_id", result_.run_id);  // as in apply --format json
  std::lock_guard lock(output_);
  const LogFields scope(std::move(fields));  // JSON logs: each becomes a key of the event
  *options_.progress << where() << ": " << line << std::endl;
}

/// One event per step: what it changed and how long it took.
void Unit::say_step(const Step& s, long long ms, const std::string& note) {
  std::vector<std::pair<std::string, std::string>> fields{{"step", planner::name_of(s.kind)}};
  const planner::StepObject object = planner::object_of(s);
  if (*object.key != 0) fields.emplace_back(object.key, object.name);
  if (!object.from.empty()) fields.emplace_back("from", object.from);
  if (!object.to.empty()) fields.emplace_back("to", object.to);
  fields.emplace_back("duration_ms", std::to_string(ms));
  result_.steps.push_back({s.id, planner::name_of(s.kind), object.key, object.name, ms});
  say(planner::describe(s) + note, std::move(fields));
}

void Unit::fail(const std::string& message) {
  result_.outcome = Outcome::failed;
  result_.message = message;
}

std::vector<Step> Unit::changes() const {
  std::vector<Step> out;
  for (const auto& s : steps_) {
    if (!planner::is_gate(s.kind)) out.push_back(s);
  }
  return out;
}

/// What the change steps expect to find, checked against `now`.
Recheck Unit::recheck(const state::DatabaseState& now) const {
  std::size_t done = 0;
  std::vector<std::string> changed;
  const auto steps = changes();
  for (const auto& s : steps) {
    // The extension's version before and after the step ("" when absent), or the schema created.
    const planner::StepObject o = planner::object_of(s);
    if (s.kind == StepKind::schema) {
      // Created by someone else meanwhile: CREATE SCHEMA would fail, so the plan no longer holds.
      if (now.has_schema(o.name)) changed.push_back("schema " + o.name + " now exists");
      continue;
    }
    const state::InstalledExtension* e = now.find(o.name);
    const std::string installed = e == nullptr ? "" : e->version.str();
    const std::string& before = o.from;
    const std::string& after = o.to;
    if (installed == before) continue;
    if (installed == after) {
      ++done;
      continue;
    }
    changed.push_back(o.name + " is " + (installed.empty() ? "absent" : installed) + ", the plan expected " +
                      (before.empty() ? "it absent" : before));
  }
  if (!changed.empty()) return {Recheck::Verdict::changed, planner::join(changed, "; ")};
  return {done == steps.size() ? Recheck::Verdict::converged : Recheck::Verdict::holds, ""};
}

/// Versions and blast radius observed again, just before the transaction:
/// "" when they are what the plan was made from, else the first difference.
std::string Unit::remeasure() {
  std::vector<std::string> droppable;
  for (const auto& s : steps_) {
    if (s.kind == StepKind::drop || s.kind == StepKind::recreate) droppable.push_back(planner::extension_of(s));
  }
  const state::DatabaseState now = state::observe_database(*session_, droppable);
  if (const Recheck again = recheck(now); again.verdict != Recheck::Verdict::holds) {
    return again.verdict == Recheck::Verdict::converged ? "another run already made these changes" : again.what;
  }
  for (const auto& s : steps_) {
    if (s.kind != StepKind::drop && s.kind != StepKind::recreate) continue;
    const auto& blast = now.dependents(planner::extension_of(s));
    if (state::same_blast_radius(blast, planner::blast_radius_of(s))) continue;
    std::string seen;
    for (const auto& o : blast) seen += (seen.empty() ? "" : ", ") + planner::describe(o);
    return "the blast radius of " + planner::extension_of(s) + " changed; it now takes " +
           (seen.empty() ? "nothing" : seen);
  }
  return "";
}

/// The pre-flight gate: still as planned, and the role may do every step.
/// false (with the outcome set) when nothing is to be done.
bool Unit::preflight(const Journal& journal, Journal::Shape& shape) {
  const state::DatabaseState before = state::observe_database(*session_);
  const Recheck changed = recheck(before);
  if (changed.verdict == Recheck::Verdict::converged) {
    result_.outcome = Outcome::unchanged;
    result_.message = "already as planned (another run was first); nothing changed";
    return false;
  }
  if (changed.verdict == Recheck::Verdict::changed) {
    fail("changed since it was planned: " + changed.what + "; nothing changed. hint: plan again");
    return false;
  }
  std::vector<state::Install> installs;
  for (const auto& s : steps_) {
    if (s.kind == StepKind::create || s.kind == StepKind::recreate || s.kind == StepKind::update) {
      installs.push_back({planner::extension_of(s), planner::object_of(s).to});
    }
  }
  // One round trip: the state schema's owner, the role's right to each install, the journal's shape.
  state::PreflightAnswers answers =
      state::preflight_reads(*session_, manifest_.policy.state_schema.str(), installs, journal.shape_sql());
  shape = Journal::shape_named(answers.extra);
  std::vector<std::string> problems = std::move(answers.problems);
  if (problems.empty()) return true;
  result_.outcome = Outcome::blocked;
  for (const auto& p : problems) result_.message += (result_.message.empty() ? "" : "; ") + p;
  result_.message = "pre-flight: " + result_.message + "; nothing changed";
  return false;
}

/// The drain gate: the pooler paused (journaled), no other session busy,
/// then versions and blast radius measured again. "" when the change may go on.
std::string Unit::drain(Journal& journal, std::optional<PoolerPause>& paused) {
  // Behind a pooler the slot comes first: clients must not stay paused while a slot is awaited.
  if (target_.pooler && change_slots_ != nullptr && !take_slot()) {
    return "stopped waiting for a change slot; nothing changed";
  }
  if (target_.pooler) {
    say("pausing " + database_ + " on the pooler");
    const std::string pooler = state::mask_dsn(target_.pooler->admin_dsn);
    paused.emplace(
        target_.pooler->admin_dsn, database_, target_.dsn, identifier(), manifest_.policy.drain.timeout, options_.stop,
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
    // Quiet: now one of the --parallel change slots. Taken at once, the database was quiet a moment
    // ago; after a wait, if someone became busy meanwhile, give the slot back and wait for quiet again.
    bool waited = false;
    if (!take_slot(&waited)) return "stopped waiting for a change slot; nothing changed";
    if (!waited || quiet.quiet_now()) break;
    slot_.reset();
  }
  // Lock held, drain done: what the plan was made from must still hold, measured again.
  if (const std::string stale = remeasure(); !stale.empty()) {
    return "plan is stale: " + stale + "; nothing changed. hint: plan again and review the new plan";
  }
  return "";
}

void Unit::apply_extensions() {
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
          if (Journal::Shape shape{}; !preflight(journal, shape)) {
            return;
          } else {
            result_.run_id = new_run_id();
            // Under the lock: no other run is live on this database, so one still "running" was interrupted.
            journal.open_run(shape, {result_.run_id, target_.name, database_, options_.plan_digest,
                                     options_.manifest_digest, options_.wave, options_.revision});
          }
          started = true;
          break;
        case StepKind::drain:
          if (const std::string why = drain(journal, paused); !why.empty()) {
            fail(why);
            change.reset();
            paused.reset();
            journal.finish(result_.run_id, state::RunStatus::failed, 0, result_.message);
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
          for (const auto& n : notices) say(planner::extension_of(s) + ": " + n);
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
  if (started) record_failure(state::RunStatus::failed);
}

std::string Unit::step_failure(const Step* step, const pqxx::sql_error& e) {
  const std::string what = step ? planner::describe(*step) : std::string("the snapshot");
  if (e.sqlstate() == "55P03" && step != nullptr) {
    std::string holders;
    try {
      for (const auto& s : state::lock_holders(*session_, planner::extension_of(*step))) {
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

/// Waits for a change slot (--parallel); false when a signal stops the wait. `waited`: whether it had to.
bool Unit::take_slot(bool* waited) {
  const bool at_once = change_slots_->try_acquire();
  if (waited != nullptr) *waited = !at_once;
  while (!at_once && !change_slots_->try_acquire_for(std::chrono::milliseconds(100))) {
    if (options_.stop != nullptr && options_.stop->load()) return false;
  }
  slot_.emplace(*change_slots_);
  return true;
}

}  // namespace pgparity::reconciler
