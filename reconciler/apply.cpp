#include "reconciler/apply.hpp"

#include <algorithm>
#include <cstdlib>
#include <utility>
#include <chrono>
#include <map>
#include <mutex>
#include <ostream>
#include <pqxx/pqxx>
#include <sstream>
#include <thread>

#include "core/error.hpp"
#include "planner/render.hpp"
#include "planner/sql.hpp"
#include "reconciler/journal.hpp"
#include "reconciler/logging.hpp"
#include "reconciler/pooler.hpp"
#include "state/activity.hpp"
#include "state/observe.hpp"
#include "state/settings.hpp"

namespace pgparity::reconciler {

namespace {

using Clock = std::chrono::steady_clock;
using planner::Step;
using planner::StepKind;
using Outcome = DatabaseResult::Outcome;

std::string describe(const Step& s) {
  switch (s.kind) {
    case StepKind::create:
      return "create " + s.extension + " " + s.to;
    case StepKind::update:
      return "update " + s.extension + " " + s.from + " → " + s.to;
    case StepKind::drop:
      return "drop " + s.extension + " " + s.from;
    case StepKind::recreate:
      return "recreate " + s.extension + " " + s.from + " → " + s.to;
    case StepKind::set:
      return "set " + s.setting + " = " + s.value;
    default:
      return planner::name_of(s.kind);
  }
}

std::string one_line(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  for (char& c : text) c = c == '\n' ? ' ' : c;
  return text;
}

std::string describe(const state::Session& s) {
  std::ostringstream out;
  out << "pid " << s.pid << (s.application_name.empty() ? "" : " (" + s.application_name + ")") << " " << s.state
      << " for " << static_cast<int>(s.state_seconds) << "s";
  if (!s.query.empty()) out << ": " << one_line(s.query);
  return out.str();
}

/// Collects the server's notices that pgparity's own SQL raises ("pgparity: ..."),
/// such as a configuration column a recreate could not restore.
class NoticeCollector : public pqxx::errorhandler {
 public:
  explicit NoticeCollector(pqxx::connection_base& session) : pqxx::errorhandler(session) {}
  bool operator()(const char message[]) noexcept override {
    try {
      std::string text = message;
      const auto at = text.find("pgparity: ");
      if (at == std::string::npos) return true;
      std::lock_guard lock(mutex_);
      notices_.push_back(one_line(text.substr(at + 10)));
    } catch (...) {
    }
    return true;
  }
  std::vector<std::string> take() {
    std::lock_guard lock(mutex_);
    return std::exchange(notices_, {});
  }

 private:
  std::mutex mutex_;
  std::vector<std::string> notices_;
};

/// The work for one database (or the settings of one server).
class Unit {
 public:
  Unit(const desired::Manifest& manifest, const desired::Target& target, std::string database, std::vector<Step> steps,
       const ApplyOptions& options, std::mutex& output)
      : manifest_(manifest),
        target_(target),
        database_(std::move(database)),
        steps_(std::move(steps)),
        options_(options),
        output_(output) {
    result_.target = target_.name;
    result_.database = database_;
  }

  DatabaseResult run() {
    try {
      session_ = state::connect(target_.dsn, state::Access::read_write, "pgparity",
                                database_.empty() ? std::nullopt : std::optional<std::string>(database_));
      {
        // If pgparity dies (SIGKILL, OOM, a lost node), the server notices within a second and
        // cancels the running statement: the lock is freed and the rollback happens at once.
        pqxx::nontransaction tx(*session_);
        tx.exec("SET client_connection_check_interval = '1s'");
      }
      if (!take_lock()) return result_;
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
  std::string where() const { return target_.name + (database_.empty() ? "" : "/" + database_); }

  void say(const std::string& line, std::vector<std::pair<std::string, std::string>> fields = {}) {
    if (options_.progress == nullptr) return;
    fields.insert(fields.begin(), {{"target", target_.name}, {"database", database_}});
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
    say(describe(s) + note, std::move(fields));
  }

  void fail(const std::string& message) {
    result_.outcome = Outcome::failed;
    result_.message = message;
  }

  bool stopping() const { return options_.stop != nullptr && options_.stop->load(); }

  /// One writer per database: the advisory lock, waited for up to --lock-wait.
  bool take_lock() {
    const auto deadline = Clock::now() + std::chrono::milliseconds(options_.lock_wait.ms());
    bool told = false;
    while (!state::try_run_lock(*session_)) {
      const int holder = state::run_lock_holder(*session_);
      if (Clock::now() >= deadline || stopping()) {
        result_.outcome = Outcome::skipped;
        result_.message = "another pgparity run holds the lock" +
                          (holder ? " (pid " + std::to_string(holder) + ")" : std::string()) +
                          "; nothing changed. hint: --lock-wait 5m waits for it";
        return false;
      }
      if (!told) say("waiting for the lock held by another pgparity run (pid " + std::to_string(holder) + ")");
      told = true;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    return true;
  }

  /// What a step expects to find, checked again under the lock: another run may have been first.
  /// Returns "" when every step still applies, "converged" when all are already done, else what changed.
  std::string recheck(const state::DatabaseState& now) const {
    std::size_t done = 0;
    std::string changed;
    for (const auto& s : steps_) {
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
    return done == steps_.size() ? "converged" : "";
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
      if (blast == s.blast_radius) continue;
      std::string seen;
      for (const auto& o : blast) seen += (seen.empty() ? "" : ", ") + planner::describe(o);
      return "the blast radius of " + s.extension + " changed; it now takes " + (seen.empty() ? "nothing" : seen);
    }
    return "";
  }

  /// Pre-flight: everything that would make a step fail for lack of rights.
  std::vector<std::string> preflight() {
    std::vector<std::string> problems;
    for (const auto& s : steps_) {
      if (s.kind == StepKind::create || s.kind == StepKind::recreate || s.kind == StepKind::update) {
        const std::string why = state::cannot_install(*session_, s.extension, s.to);
        if (!why.empty()) problems.push_back(why);
      }
    }
    return problems;
  }

  /// Whether the drain policy lets pgparity end this session: only the states
  /// it names, never pgparity's own sessions or an application on the allow-list.
  bool may_terminate(const state::Session& s) const {
    const auto& policy = manifest_.policy.drain;
    const bool idle = s.state == "idle";
    const bool in_transaction = s.state.rfind("idle in transaction", 0) == 0;
    if (!(idle && policy.terminate_idle) && !(in_transaction && policy.terminate_idle_in_transaction)) return false;
    if (s.application_name.rfind("pgparity", 0) == 0) return false;
    const auto& spared = policy.never_terminate;
    return std::find(spared.begin(), spared.end(), s.application_name) == spared.end();
  }

  /// Waits until no other session is active or idle in a transaction for quiet_for.
  bool drain() {
    const auto& policy = manifest_.policy.drain;
    if (!policy.enabled) return true;
    const auto start = Clock::now();
    const auto deadline = start + std::chrono::milliseconds(policy.timeout.ms());
    const auto quiet_for = std::chrono::milliseconds(policy.quiet_for.ms());
    auto quiet_since = Clock::now();
    auto last_told = start - std::chrono::hours(1);
    bool was_busy = false;
    while (true) {
      if (policy.terminate_idle || policy.terminate_idle_in_transaction) {
        std::vector<state::Session> chosen;
        for (const auto& s : state::busy_sessions(*session_, true)) {
          if (may_terminate(s)) chosen.push_back(s);
        }
        if (!chosen.empty()) {
          const auto ended = state::terminate(*session_, chosen);
          std::string pids;
          for (int p : ended) pids += (pids.empty() ? "" : ", ") + std::to_string(p);
          if (!ended.empty()) say("terminated sessions (policy.drain.terminate_idle*): pid " + pids);
        }
      }
      const auto busy = state::busy_sessions(*session_);
      const auto now = Clock::now();
      if (!busy.empty()) {
        quiet_since = now;
        was_busy = true;
      }
      if (busy.empty() && now - quiet_since >= quiet_for) {
        if (was_busy) say("quiet; going on");
        return true;
      }
      if (now >= deadline || stopping()) {
        std::string who;
        for (const auto& s : busy) who += "; " + describe(s);
        fail(std::string(stopping() ? "stopped" : "drain timed out after " + policy.timeout.str()) +
             " waiting for quiet" + (who.empty() ? "" : ": still busy" + who) + "; nothing changed");
        return false;
      }
      if (now - last_told >= std::chrono::seconds(2)) {
        last_told = now;
        const auto waited = std::chrono::duration_cast<std::chrono::seconds>(now - start).count();
        if (busy.empty()) {
          say("quiet, waiting out quiet_for " + policy.quiet_for.str() + " (" + std::to_string(waited) + "s so far)");
        } else {
          for (const auto& s : busy) say("draining (" + std::to_string(waited) + "s): " + describe(s));
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(std::min<long long>(250, policy.quiet_for.ms() + 1)));
    }
  }

  void apply_extensions() {
    const state::DatabaseState before = state::observe_database(*session_);
    const std::string changed = recheck(before);
    if (changed == "converged") {
      result_.outcome = Outcome::unchanged;
      result_.message = "already as planned (another run was first); nothing changed";
      return;
    }
    if (!changed.empty()) {
      fail("changed since it was planned: " + changed + "; nothing changed. hint: plan again");
      return;
    }
    if (const auto problems = preflight(); !problems.empty()) {
      result_.outcome = Outcome::blocked;
      for (const auto& p : problems) result_.message += (result_.message.empty() ? "" : "; ") + p;
      result_.message = "pre-flight: " + result_.message + "; nothing changed";
      return;
    }

    Journal journal(*session_, manifest_.policy.state_schema.str());
    journal.ensure();
    journal.close_interrupted();  // under the lock: no other run is live on this database
    result_.run_id = new_run_id();
    journal.start(result_.run_id, target_.name, database_, options_.plan_digest, options_.manifest_digest);

    std::optional<PoolerPause> paused;
    std::string error;
    if (target_.pooler) {
      say("pausing " + database_ + " on the pooler");
      paused.emplace(target_.pooler->admin_dsn, database_, manifest_.policy.drain.timeout);
    }
    if (!drain()) {
      journal.finish(result_.run_id, "failed", 0, result_.message);
      return;
    }
    // Lock held, drain done: what the plan was made from must still hold, measured again.
    if (const std::string stale = remeasure(); !stale.empty()) {
      fail("plan is stale: " + stale + "; nothing changed. hint: plan again and review the new plan");
      journal.finish(result_.run_id, "failed", 0, result_.message);
      return;
    }

    say("applying " + std::to_string(steps_.size()) + " step" + (steps_.size() == 1 ? "" : "s") +
        " in one transaction");
    const Step* current = nullptr;
    bool in_doubt = false;
    NoticeCollector notices(*session_);
    try {
      pqxx::work tx(*session_);
      tx.exec("SET LOCAL lock_timeout = " +
              planner::quote_literal(std::to_string(manifest_.policy.lock_timeout.ms()) + "ms"));
      tx.exec(journal.snapshot_sql(result_.run_id));
      int done = 0;
      for (const auto& s : steps_) {
        current = &s;
        const auto started = Clock::now();
        pqxx::subtransaction savepoint(tx, "step");
        for (const auto& sql : s.sql) savepoint.exec(sql);
        savepoint.commit();
        tx.exec(journal.progress_sql(result_.run_id, ++done));
        const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count();
        say_step(s, ms, " (" + std::to_string(ms) + " ms)");
        for (const auto& n : notices.take()) say(s.extension + ": " + n);
      }
      current = nullptr;
      test_hook_before_commit();
      tx.commit();
      result_.steps_done = done;
    } catch (const pqxx::sql_error& e) {
      error = step_failure(current, e);
    } catch (const pqxx::broken_connection& e) {
      error = "the connection was lost during " + (current ? describe(*current) : std::string("the change")) +
              "; PostgreSQL rolled the whole transaction back";
    } catch (const pqxx::in_doubt_error&) {
      in_doubt = true;
    }
    paused.reset();  // RESUME as soon as the change is over
    if (in_doubt) {
      resolve_in_doubt();
      return;
    }
    if (!error.empty()) {
      fail(error);
      record_failure("failed");
      return;
    }
    verify(journal);
  }

  /// The connection was lost during COMMIT: the snapshot rows, written in the
  /// same transaction, say on a new session whether it committed.
  void resolve_in_doubt() {
    try {
      session_ = state::connect(target_.dsn, state::Access::read_write, "pgparity", database_);
      Journal journal(*session_, manifest_.policy.state_schema.str());
      if (journal.has_snapshot(result_.run_id)) {
        say("the connection was lost while committing; the run's snapshot is there, so the change committed");
        result_.steps_done = static_cast<int>(steps_.size());
        verify(journal);
        return;
      }
      fail("the connection was lost while committing; the run's snapshot is not there, so PostgreSQL rolled the "
           "change back; nothing changed");
      journal.finish(result_.run_id, "rolled-back", 0, result_.message);
    } catch (const std::exception& e) {
      fail("the connection was lost while committing, and the outcome cannot be read (" + one_line(e.what()) +
           "); run pgparity doctor");
    }
  }

  /// PGPARITY_TEST_HOOK=terminate-before-commit: the integration tests' way to
  /// lose the connection at the moment of COMMIT (documented in docs/development.md).
  void test_hook_before_commit() {
    const char* hook = std::getenv("PGPARITY_TEST_HOOK");
    if (hook == nullptr || std::string(hook) != "terminate-before-commit") return;
    auto other = state::connect(target_.dsn, state::Access::read_write, "pgparity-test-hook", database_);
    pqxx::nontransaction tx(*other);
    tx.exec_params("SELECT pg_catalog.pg_terminate_backend($1, 5000)", session_->backendpid());
  }

  std::string step_failure(const Step* step, const pqxx::sql_error& e) {
    const std::string what = step ? describe(*step) : std::string("the snapshot");
    if (e.sqlstate() == "55P03" && step != nullptr) {
      std::string holders;
      try {
        for (const auto& s : state::lock_holders(*session_, step->extension)) holders += "; blocked by " + describe(s);
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
      if (!session_->is_open()) {
        session_ = state::connect(target_.dsn, state::Access::read_write, "pgparity", database_);
      }
      Journal(*session_, manifest_.policy.state_schema.str()).finish(result_.run_id, status, 0, result_.message);
    } catch (const std::exception&) {
      // The run stays 'running' in the journal: doctor reports it as unfinished, the next run closes it.
    }
  }

  void verify(Journal& journal) {
    const state::DatabaseState after = state::observe_database(*session_);
    std::string problems;
    for (const auto& s : steps_) {
      const state::InstalledExtension* e = after.find(s.extension);
      const std::string installed = e == nullptr ? "" : e->version.str();
      const std::string expected = s.kind == StepKind::drop ? "" : s.to;
      if (installed != expected) {
        problems += "; " + s.extension + " is " + (installed.empty() ? "absent" : installed) + ", expected " +
                    (expected.empty() ? "absent" : expected);
      }
    }
    for (const auto& [extension, sql] : manifest_.policy.health) {
      if (after.find(extension.str()) == nullptr) continue;
      try {
        pqxx::read_transaction tx(*session_);
        tx.exec(sql);
      } catch (const std::exception& e) {
        problems += "; health query for " + extension.str() + " failed: " + one_line(e.what());
      }
    }
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

  /// ALTER SYSTEM cannot run in a transaction: each setting is its own step,
  /// then one reload; on a failure the ones already written are put back.
  void apply_settings() {
    std::vector<const Step*> written;
    try {
      for (const auto& s : steps_) {
        const auto started = Clock::now();
        pqxx::nontransaction tx(*session_);
        tx.exec(s.sql.front());
        written.push_back(&s);
        const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count();
        say_step(s, ms, s.restart_required ? " (takes effect after a restart)" : "");
      }
      pqxx::nontransaction tx(*session_);
      tx.exec("SELECT pg_catalog.pg_reload_conf()");
    } catch (const std::exception& e) {
      for (const Step* s : written) {
        try {
          pqxx::nontransaction tx(*session_);
          tx.exec("ALTER SYSTEM SET " + planner::quote_ident(s->setting) + " = " + planner::quote_literal(s->current));
        } catch (const std::exception&) {
        }
      }
      fail("setting failed: " + one_line(e.what()) + "; settings already written were put back");
      return;
    }
    result_.steps_done = static_cast<int>(steps_.size());
    // Reload is asynchronous: give the server a moment, then check what it shows.
    std::string problems;
    for (int attempt = 0; attempt < 20; ++attempt) {
      problems.clear();
      const state::ClusterState cluster = state::observe_cluster(*session_);
      for (const auto& s : steps_) {
        if (s.restart_required) continue;
        auto it = cluster.settings.find(s.setting);
        if (it == cluster.settings.end() ||
            !state::same_setting_value(s.value, it->second.value, it->second.unit, it->second.type)) {
          problems += "; " + s.setting + " shows " + (it == cluster.settings.end() ? "nothing" : it->second.value);
        }
      }
      if (problems.empty()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (!problems.empty()) {
      fail("verification failed" + problems);
      return;
    }
    result_.outcome = Outcome::applied;
    result_.message = std::to_string(result_.steps_done) + " setting" + (result_.steps_done == 1 ? "" : "s") +
                      " written and reloaded";
  }

  const desired::Manifest& manifest_;
  const desired::Target& target_;
  std::string database_;
  std::vector<Step> steps_;
  const ApplyOptions& options_;
  std::mutex& output_;
  std::unique_ptr<pqxx::connection> session_;
  DatabaseResult result_;
};

}  // namespace

bool ApplyResult::failed() const {
  return std::any_of(results.begin(), results.end(), [](const auto& r) { return r.outcome == Outcome::failed; });
}

bool ApplyResult::skipped() const {
  return std::any_of(results.begin(), results.end(), [](const auto& r) { return r.outcome == Outcome::skipped; });
}

bool ApplyResult::blocked() const {
  return std::any_of(results.begin(), results.end(), [](const auto& r) { return r.outcome == Outcome::blocked; });
}

ApplyResult apply_plan(const desired::Manifest& manifest, const planner::Plan& plan, const ApplyOptions& options) {
  // Group the change steps by (target, database), keeping the plan's order within each.
  std::map<std::pair<std::string, std::string>, std::vector<Step>> groups;
  for (const auto& s : plan.steps) {
    if (planner::is_gate(s.kind)) continue;
    const auto target = manifest.targets.find(s.target);
    if (target == manifest.targets.end() || target->second.role != desired::Role::managed) {
      throw InputError("the plan has a step for '" + s.target + "', which is not a managed target of the manifest");
    }
    groups[{s.target, s.database}].push_back(s);
  }
  std::vector<std::pair<std::string, std::string>> keys;
  for (const auto& [key, steps] : groups) keys.push_back(key);

  ApplyResult result;
  result.results.resize(keys.size());
  std::mutex output;
  auto run = [&](std::size_t i) {
    const auto& [target, database] = keys[i];
    result.results[i] = Unit(manifest, manifest.targets.at(target), database, groups[keys[i]], options, output).run();
  };
  // Server settings first (a database's change may rely on them), then the databases in parallel.
  std::vector<std::size_t> databases;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (keys[i].second.empty()) {
      run(i);
    } else {
      databases.push_back(i);
    }
  }
  std::atomic<std::size_t> next{0};
  auto worker = [&] {
    for (std::size_t k = next++; k < databases.size(); k = next++) run(databases[k]);
  };
  const auto threads = static_cast<unsigned>(std::min<std::size_t>(std::max(1u, options.parallel), databases.size()));
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads; ++t) pool.emplace_back(worker);
  if (threads > 0) worker();
  for (auto& t : pool) t.join();
  return result;
}

std::string summarize(const ApplyResult& result) {
  std::ostringstream out;
  int applied = 0;
  int failed = 0;
  for (const auto& r : result.results) {
    applied += r.outcome == Outcome::applied;
    failed += r.outcome == Outcome::failed || r.outcome == Outcome::blocked;
  }
  out << "apply: " << applied << " changed, " << failed << " failed, "
      << result.results.size() - static_cast<std::size_t>(applied + failed) << " unchanged or skipped\n";
  for (const auto& r : result.results) {
    const char* mark = r.outcome == Outcome::applied   ? "✓"
                       : r.outcome == Outcome::failed  ? "✗"
                       : r.outcome == Outcome::blocked ? "✗"
                       : r.outcome == Outcome::skipped ? "-"
                                                       : "=";
    out << "  " << mark << " " << r.target << (r.database.empty() ? " (server settings)" : "/" + r.database) << ": "
        << r.message << "\n";
  }
  return out.str();
}

}  // namespace pgparity::reconciler
