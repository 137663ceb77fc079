// pgparity reconcile: the loop. Each tick re-reads the manifest, observes, plans, and applies or reports.
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <fstream>
#include <functional>
#include <mutex>
#include <random>
#include <ranges>
#include <set>
#include <sstream>
#include <thread>

#include "core/error.hpp"
#include "core/name_table.hpp"
#include "planner/deviations.hpp"
#include "planner/outdated.hpp"
#include "planner/planner.hpp"
#include "reconciler/apply.hpp"
#include "reconciler/backoff.hpp"
#include "reconciler/commands.hpp"
#include "reconciler/files.hpp"

#include "planner/render.hpp"
#include "planner/status.hpp"
#include "reconciler/git_source.hpp"
#include "reconciler/logging.hpp"
#include "reconciler/manifest_source.hpp"
#include "reconciler/metrics.hpp"
#include "reconciler/metrics_server.hpp"
#include "reconciler/observation.hpp"
#include "reconciler/rehearse.hpp"
#include "reconciler/revision.hpp"
#include "reconciler/signals.hpp"
#include "reconciler/status_page.hpp"
#include "reconciler/version.hpp"
#include "state/patroni.hpp"
#include "state/session_cache.hpp"

namespace pgparity::reconciler {

namespace {

/// How a tick ended: the `result` label of pgparity_reconcile_runs_total, and reconcile --once's exit code.
enum class TickResult { converged, applied, drift, blocked, failed };

constexpr std::pair<TickResult, const char*> tick_result_names[] = {{TickResult::converged, "converged"},
                                                                    {TickResult::applied, "applied"},
                                                                    {TickResult::drift, "drift"},
                                                                    {TickResult::blocked, "blocked"},
                                                                    {TickResult::failed, "failed"}};

const char* name_of(TickResult result) { return name_in(tick_result_names, result); }

using Clock = std::chrono::steady_clock;

struct ReconcileOptions {
  std::string manifest;
  std::string interval = "5m";
  bool once = false;
  bool plan_only = false;
  bool rehearse = false;  ///< with plan_only: rehearse the plan's SQL (always rolled back) every tick
  bool suspend = false;
  std::string metrics_addr;
  std::string metrics_file;
  std::string lock_wait = "0s";
  unsigned parallel = 4;
  unsigned drain_parallel = 16;
  unsigned keep_sessions = 64;  ///< observation sessions kept between ticks (0: none); see SessionCache
  std::string revision;         ///< --revision; else the git HEAD of the manifest's work tree, read every tick
  GitSourceOptions git;         ///< --git URL --ref --path: the manifest is fetched, not read from -f
};

/// After a database fails, it waits out a growing, jittered delay before it is tried again.
struct Backoff {
  int failures = 0;
  Clock::time_point until;
};

/// "2026-12-03T19:40:00Z".
std::string iso_time(std::time_t t) {
  std::tm utc{};
  gmtime_r(&t, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

class Loop {
 public:
  Loop(const ReconcileOptions& options, Duration interval, Duration lock_wait, const std::atomic<bool>& stop)
      : options_(options), interval_(interval), lock_wait_(lock_wait), stop_(stop), sessions_(options.keep_sessions) {
    metrics_.set("pgparity_info", {{"version", version}}, 1);
  }

  Metrics& metrics() { return metrics_; }

  /// What the status page shows now.
  StatusView view() const {
    std::lock_guard lock(view_mutex_);
    return view_;
  }

  /// Healthy while a tick completed (or the loop started) less than three intervals ago: a loop
  /// stuck in a hung statement or a dead lock wait stops answering "ok" on /healthz.
  bool healthy() const {
    const auto last = Clock::time_point(Clock::duration(last_completed_.load()));
    return Clock::now() - last < std::chrono::milliseconds(3 * interval_.ms());
  }

  /// One tick and its result (the label of pgparity_reconcile_runs_total).
  TickResult tick() {
    const auto started = Clock::now();
    const TickResult result = run_tick();
    last_completed_.store(Clock::now().time_since_epoch().count());
    metrics_.add("pgparity_reconcile_runs_total", {{"result", name_of(result)}});
    metrics_.observe("pgparity_reconcile_duration_seconds",
                     std::chrono::duration<double>(Clock::now() - started).count());
    if (result == TickResult::converged || result == TickResult::applied) {
      metrics_.set("pgparity_last_success_timestamp_seconds", {}, static_cast<double>(std::time(nullptr)));
      // Flux's lastAppliedRevision: the revision the fleet was last brought to (or found at).
      metrics_.clear("pgparity_last_applied_revision_info");
      metrics_.set("pgparity_last_applied_revision_info", {{"revision", source_.revision()}}, 1);
    }
    if (!options_.metrics_file.empty()) {
      try {
        write_file_atomically(options_.metrics_file, metrics_.render());
      } catch (const Error& e) {
        spdlog::error("{}", e.what());
      }
    }
    {
      std::lock_guard lock(view_mutex_);
      const std::time_t now = std::time(nullptr);
      view_.tick_at = iso_time(now);
      view_.result = name_of(result);
      view_.attempted_revision = source_.attempted();
      if (result == TickResult::converged || result == TickResult::applied) view_.applied_revision = source_.revision();
      view_.waits_for =
          !halted_.empty() ? halted_
          : options_.once  ? "nothing: this was the one tick (--once)"
                          : "the next tick at " + iso_time(now + interval_.ms() / 1000) + " (or a signed webhook call)";
    }
    spdlog::info("tick: {}", name_of(result));
    return result;
  }

 private:
  TickResult run_tick() {
    const desired::Manifest* manifest = source_.load();
    if (manifest == nullptr) return TickResult::failed;
    planner::Plan plan;
    try {
      state::SessionCache* kept = options_.keep_sessions > 0 && !options_.once ? &sessions_ : nullptr;
      const auto started = Clock::now();
      auto observed = observe_for_plan(*manifest, "", options_.parallel, kept);
      const auto observed_at = Clock::now();
      plan = planner::make_plan(plan_input(*manifest, observed, ""));
      spdlog::debug("tick: observed in {} ms ({} kept sessions), planned in {} ms",
                    std::chrono::duration_cast<std::chrono::milliseconds>(observed_at - started).count(),
                    sessions_.size(),
                    std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - observed_at).count());
      if (kept != nullptr && (plan.has_changes() || plan.blocked())) {
        // Something to do or to report: decide on what the installations offer now, not at an earlier tick.
        sessions_.forget_offers();
        observed = observe_for_plan(*manifest, "", options_.parallel, kept);
        plan = planner::make_plan(plan_input(*manifest, observed, ""));
      }
      sessions_.end_tick();
      metrics_.set("pgparity_kept_sessions", {}, static_cast<double>(sessions_.size()));
      report_extensions(*manifest, observed, plan);
      {
        std::lock_guard lock(view_mutex_);
        view_.databases = planner::database_statuses(*manifest, plan, observed);
        view_.dot = planner::render_dot(plan);
      }
      if (options_.plan_only && options_.rehearse && !plan.blocked() && plan.has_changes()) {
        rehearse(*manifest, plan, options_.parallel);
        for (const auto& line : plan.rehearsals) spdlog::info("{}", line);
      }
    } catch (const Error& e) {
      spdlog::error("{}", e.report());
      return TickResult::failed;
    }
    report_drift(*manifest, plan);
    if (plan.blocked()) {
      for (const auto& b : plan.blockers) {
        spdlog::warn("blocked: {}{}: {}", b.target, b.database.empty() ? "" : "/" + b.database, b.message);
      }
      return TickResult::blocked;
    }
    if (!plan.has_changes()) return TickResult::converged;
    if (options_.plan_only || options_.suspend || manifest->suspend) {
      spdlog::info("drift: {} step(s) pending; {}", plan.change_count(),
                   options_.plan_only ? "--plan-only" : "suspended: changing nothing");
      // Each drifted object, so the log alone says what and where (not only the metrics).
      for (const auto& d : planner::deviations_of(plan)) {
        if (d.kind != "drift") continue;
        const LogFields fields({{"where", d.where}, {"object", d.subject}, {"from", d.observed}, {"to", d.desired}});
        spdlog::info("drift: {}: {} {} → {}", d.where, d.subject, d.observed, d.desired);
      }
      return TickResult::drift;
    }
    if (stop_.load()) {
      // A signal during observation: the tick ends here, before any lock, ALTER SYSTEM or pause.
      spdlog::info("stopped by a signal before applying; {} step(s) left for the next run", plan.change_count());
      return TickResult::drift;
    }
    return apply(*manifest, without_backed_off(plan));
  }

  /// pgparity_extension_info and pgparity_updates_available: what `pgparity outdated` says, for the
  /// managed targets' extensions the manifest names (the ones observed closely every tick).
  void report_extensions(const desired::Manifest& manifest, const std::map<std::string, state::TargetState>& observed,
                         const planner::Plan& plan) {
    std::map<std::string, state::TargetState> managed;
    for (const auto& [name, state] : observed) {
      if (manifest.targets.at(name).role == desired::Role::managed) managed.emplace(name, state);
    }
    metrics_.clear("pgparity_extension_info");
    metrics_.clear("pgparity_updates_available");
    std::map<std::string, int> available;
    for (const auto& name : managed | std::views::keys) available[name] = 0;
    for (const auto& row : planner::outdated(managed, plan, planner::extensions_to_observe(manifest))) {
      if (row.desired.empty()) continue;  // not managed by the manifest
      metrics_.set("pgparity_extension_info",
                   {{"target", row.target},
                    {"database", row.database},
                    {"extension", row.extension},
                    {"installed", row.installed},
                    {"desired", row.desired},
                    {"latest", row.latest}},
                   1);
      if (row.update_available()) ++available[row.target];
    }
    for (const auto& [target, count] : available)
      metrics_.set("pgparity_updates_available", {{"target", target}}, count);
  }

  void report_drift(const desired::Manifest& manifest, const planner::Plan& plan) {
    metrics_.clear("pgparity_drift");
    metrics_.clear("pgparity_drift_steps");
    metrics_.clear("pgparity_blocked");
    metrics_.clear("pgparity_pending_restart");
    for (const auto& [name, target] : manifest.targets) {
      if (target.role != desired::Role::managed) continue;
      metrics_.set("pgparity_drift_steps", {{"target", name}}, 0);
      metrics_.set("pgparity_blocked", {{"target", name}}, 0);
    }
    for (const auto& s : plan.steps) {
      if (planner::is_gate(s.kind)) continue;
      metrics_.set("pgparity_drift",
                   {{"target", s.target}, {"database", s.database}, {"object", planner::object_of(s).name}}, 1);
    }
    std::map<std::string, double> steps;
    std::map<std::string, double> blockers;
    for (const auto& s : plan.steps) steps[s.target] += planner::is_gate(s.kind) ? 0 : 1;
    for (const auto& b : plan.blockers) blockers[b.target] += 1;
    for (const auto& [t, n] : steps) metrics_.set("pgparity_drift_steps", {{"target", t}}, n);
    for (const auto& [t, n] : blockers) metrics_.set("pgparity_blocked", {{"target", t}}, n);
    for (const auto& p : plan.pending_restarts) {
      metrics_.set("pgparity_pending_restart", {{"target", p.target}, {"setting", p.setting}}, 1);
    }
  }

  /// The plan without the databases still waiting out a backoff.
  /// The plan without the changes of the databases and servers that are backing off (backoff.hpp).
  planner::Plan without_backed_off(planner::Plan plan) {
    const auto now = Clock::now();
    std::set<std::string> waiting;
    for (const auto& s : plan.steps) {
      const std::string key = backoff_scope(s);
      const auto it = backoff_.find(key);
      if (it != backoff_.end() && it->second.until > now) waiting.insert(key);
    }
    return without_scopes(std::move(plan), waiting);
  }

  TickResult apply(const desired::Manifest& manifest, const planner::Plan& plan) {
    LogStream progress;
    ApplyOptions options;
    options.lock_wait = lock_wait_;
    options.parallel = options_.parallel;
    options.drain_parallel = options_.drain_parallel;
    options.plan_digest = planner::digest(plan.fingerprint);
    options.revision = source_.revision();
    options.manifest_digest = source_.digest();
    options.progress = &progress;
    options.stop = &stop_;
    const ApplyResult result = apply_plan(manifest, plan, options);
    {
      std::lock_guard lock(view_mutex_);
      halted_.clear();
      for (const auto& h : result.halted)
        halted_ += (halted_.empty() ? "" : "; ") + h.target + ": rollout halted after " + h.wave + ": " + h.reason;
      std::vector<RunLine> lines;
      for (const auto& r : result.results) {
        lines.push_back({r.target, r.database, name_of(r.outcome), r.run_id, source_.revision(), r.message});
      }
      lines.insert(lines.end(), view_.runs.begin(), view_.runs.end());
      if (lines.size() > 50) lines.resize(50);
      view_.runs = std::move(lines);
    }
    bool failed = !result.halted.empty();
    for (const auto& w : plan.waves) metrics_.set("pgparity_rollout_halted", {{"target", w.target}}, 0);
    for (const auto& h : result.halted) {
      metrics_.set("pgparity_rollout_halted", {{"target", h.target}}, 1);
      spdlog::error("{}: rollout halted after {}: {}", h.target, h.wave, h.reason);
    }
    for (const auto& r : result.results) {
      const std::string key = r.target + "/" + r.database;
      if (r.outcome == DatabaseResult::Outcome::failed || r.outcome == DatabaseResult::Outcome::blocked) {
        failed = true;
        Backoff& b = backoff_[key];
        b.failures += 1;
        // interval * 2^failures, at most an hour, with ±20 % jitter so a fleet does not retry in step.
        const double base = std::min(3'600'000.0, static_cast<double>(interval_.ms()) * std::pow(2.0, b.failures - 1));
        std::uniform_real_distribution<double> jitter(0.8, 1.2);
        b.until = Clock::now() + std::chrono::milliseconds(static_cast<long long>(base * jitter(random_)));
        metrics_.add("pgparity_database_failures_total", {{"target", r.target}, {"database", r.database}});
        spdlog::error("{}{}: {} (next try in {})", r.target, r.database.empty() ? "" : "/" + r.database, r.message,
                      Duration::milliseconds(static_cast<long long>(base)).str());
      } else if (r.outcome != DatabaseResult::Outcome::skipped) {
        // Only a run that got through resets the back-off; one that did not start (a lock, a signal, what it
        // depends on failed) says nothing about whether it would succeed now.
        backoff_.erase(key);
        if (r.outcome == DatabaseResult::Outcome::applied) {
          spdlog::info("{}{}: {}", r.target, r.database.empty() ? "" : "/" + r.database, r.message);
        }
      }
    }
    for (const auto& [scope, count] : applied_steps(result)) {
      const auto& [target, database, kind] = scope;
      metrics_.add("pgparity_steps_applied_total", {{"kind", kind}, {"target", target}, {"database", database}}, count);
    }
    return failed ? TickResult::failed : TickResult::applied;
  }

  const ReconcileOptions& options_;
  Duration interval_;
  Duration lock_wait_;
  const std::atomic<bool>& stop_;
  Metrics metrics_;
  std::atomic<Clock::rep> last_completed_{Clock::now().time_since_epoch().count()};
  ManifestSource source_{options_.manifest, options_.revision, options_.git, metrics_};
  std::string halted_;  ///< the last apply's halted rollouts, for the status page
  mutable std::mutex view_mutex_;
  StatusView view_;
  std::map<std::string, Backoff> backoff_;
  std::mt19937 random_{std::random_device{}()};
  state::SessionCache sessions_;
};

ExitCode run_reconcile(Context&, const ReconcileOptions& o) {
  const auto interval = Duration::parse(o.interval);
  if (!interval || interval->ms() <= 0) throw InputError("bad --interval '" + o.interval + "': use e.g. 30s, 5m");
  const auto lock_wait = Duration::parse(o.lock_wait);
  if (!lock_wait) throw InputError("bad --lock-wait '" + o.lock_wait + "': use e.g. 30s, 5m");
  if (const std::string why = o.revision.empty() ? "" : revision_problem(o.revision); !why.empty()) {
    throw InputError("bad --revision: " + why, "", "e.g. --revision main@sha1:<40 hex digits>");
  }
  if (o.manifest.empty() == o.git.url.empty()) {
    throw InputError("reconcile needs the manifest from one place: -f FILE, or --git URL --path PATH");
  }
  ReconcileOptions with = o;
  if (!o.git.url.empty()) {
    if (o.git.path.empty()) throw InputError("--git needs --path: the manifest's path in the repository");
    if (!valid_branch_name(o.git.ref)) {
      throw InputError("--ref '" + o.git.ref + "' is not a branch name git accepts", "", "e.g. --ref main");
    }
    if (!o.revision.empty()) throw InputError("--git names each revision itself: leave --revision out");
    const auto scheme = o.git.url.find("://");
    const auto host_end = scheme == std::string::npos ? std::string::npos : o.git.url.find('/', scheme + 3);
    const auto at = scheme == std::string::npos ? std::string::npos : o.git.url.find('@', scheme + 3);
    if (at != std::string::npos && (host_end == std::string::npos || at < host_end) &&
        o.git.url.rfind("ssh://", 0) != 0) {
      throw InputError(
          "--git: a user or token in the URL would be printed and stored; give it in "
          "PGPARITY_GIT_USERNAME and PGPARITY_GIT_PASSWORD");
    }
    if (with.git.cache.empty()) with.git.cache = default_git_cache(o.git.url);
    if (with.git.cache.empty()) {
      throw InputError("--git needs --git-cache DIR: neither STATE_DIRECTORY, XDG_CACHE_HOME nor HOME is set");
    }
    if (std::string why = git_cache_problem(with.git.cache); !why.empty()) throw InputError(why);
  }
  const std::atomic<bool>& stop = stop_on_signals();
  Loop loop(with, *interval, *lock_wait, stop);
  // A webhook call asks for a tick now; calls that come before it starts are one tick (they coalesce).
  std::atomic<bool> tick_now{false};
  const char* secret = std::getenv("PGPARITY_WEBHOOK_SECRET");
  if (secret != nullptr && *secret != 0 && std::string(secret).size() < 16) {
    throw InputError(
        "PGPARITY_WEBHOOK_SECRET is shorter than 16 characters: a webhook secret that can be guessed lets "
        "anyone trigger ticks");
  }
  std::unique_ptr<MetricsServer> server;
  if (!o.metrics_addr.empty()) {
    server = std::make_unique<MetricsServer>(
        o.metrics_addr, loop.metrics(), [&loop] { return loop.healthy(); }, [&loop] { return loop.view(); },
        secret == nullptr ? "" : secret, [&tick_now] { tick_now.store(true); });
  } else if (secret != nullptr && *secret != 0) {
    spdlog::warn("PGPARITY_WEBHOOK_SECRET is set but there is no --metrics server to receive the webhook on");
  }

  if (o.once) {
    switch (loop.tick()) {
      case TickResult::converged:
      case TickResult::applied:
        return ExitCode::ok;
      case TickResult::drift:
        return ExitCode::changes;
      case TickResult::blocked:
        return ExitCode::blocked;
      case TickResult::failed:
        return ExitCode::error;
    }
    return ExitCode::error;
  }
  spdlog::info("reconciling {} every {}",
               o.git.url.empty() ? o.manifest : o.git.ref + " of " + state::mask_url(o.git.url) + ":" + o.git.path,
               interval->str());
  while (!stop.load()) {
    const auto next = Clock::now() + std::chrono::milliseconds(interval->ms());
    tick_now.store(false);
    loop.tick();
    while (!stop.load() && Clock::now() < next && !tick_now.load()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (tick_now.load()) spdlog::info("webhook: a tick now");
  }
  spdlog::info("stopped by a signal; exiting");
  return ExitCode::ok;
}

}  // namespace

void add_reconcile_command(CLI::App& app, Context& context) {
  auto o = std::make_shared<ReconcileOptions>();
  CLI::App* cmd = app.add_subcommand("reconcile", "The loop: each tick re-read the manifest, plan, apply (or report)");
  cmd->add_option("-f,--file", o->manifest, "The manifest (re-read every tick); or --git");
  cmd->add_option("--git", o->git.url,
                  "Fetch the manifest from this git repository every tick (file://, https://, git://; credentials "
                  "from PGPARITY_GIT_USERNAME/PASSWORD or PGPARITY_GIT_SSH_KEY)");
  cmd->add_option("--ref", o->git.ref, "With --git: the branch")->capture_default_str();
  cmd->add_option("--path", o->git.path, "With --git: the manifest's path in the repository");
  cmd->add_option("--verify-signatures", o->git.keyring,
                  "With --git: apply only commits signed by a key in this keyring (gpg --export > keyring.gpg)");
  cmd->add_option("--git-cache", o->git.cache,
                  "With --git: a folder of this user where fetched objects and the last good revision are kept "
                  "(default: $STATE_DIRECTORY, else ~/.cache/pgparity)");
  cmd->add_option("--interval", o->interval, "Time between ticks")->capture_default_str();
  cmd->add_option("--revision", o->revision,
                  "The manifest's revision to record (journal, the databases, metrics); default: the git HEAD of the "
                  "work tree that holds the manifest, read every tick");
  cmd->add_flag("--once", o->once, "One tick, then exit (for cron and CI)");
  cmd->add_flag("--plan-only", o->plan_only, "Report drift, never change anything");
  cmd->add_flag("--rehearse", o->rehearse,
                "With --plan-only: rehearse the plan's SQL each tick in a transaction that is always rolled back");
  cmd->add_flag("--suspend", o->suspend, "Like suspend: true in the manifest: report drift, change nothing");
  cmd->add_option("--metrics", o->metrics_addr, "Serve /metrics and /healthz on HOST:PORT");
  cmd->add_option("--metrics-file", o->metrics_file, "Write the metrics here after each tick (node_exporter textfile)");
  cmd->add_option("--lock-wait", o->lock_wait, "Wait this long for another run's lock, then skip")
      ->capture_default_str();
  cmd->add_option("--drain-parallel", o->drain_parallel,
                  "Databases that may wait for their quiet window at once (one connection each); --parallel "
                  "still bounds how many change at once")
      ->check(CLI::Range(1u, 256u))
      ->capture_default_str();
  cmd->add_option("--keep-sessions", o->keep_sessions,
                  "Observation sessions kept open between ticks, per server at most a quarter of its "
                  "max_connections (0: connect anew every tick)")
      ->check(CLI::Range(0u, 100000u))
      ->capture_default_str();
  cmd->add_option("--parallel", o->parallel, "Databases observed and changed at once")
      ->check(CLI::Range(1u, 64u))
      ->capture_default_str();
  cmd->callback([&context, o] { context.run = [&context, o] { return run_reconcile(context, *o); }; });
}

}  // namespace pgparity::reconciler
