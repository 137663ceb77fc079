// pgparity reconcile: the loop. Each tick re-reads the manifest, observes, plans, and applies or reports.
#include <httplib.h>
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

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
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
#include "reconciler/metrics.hpp"
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
    if (!options.git.url.empty()) git_.emplace(options.git);
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
      metrics_.set("pgparity_last_applied_revision_info", {{"revision", revision_}}, 1);
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
      view_.attempted_revision = attempted_;
      if (result == TickResult::converged || result == TickResult::applied) view_.applied_revision = revision_;
      view_.waits_for =
          !halted_.empty() ? halted_
          : options_.once  ? "nothing: this was the one tick (--once)"
                          : "the next tick at " + iso_time(now + interval_.ms() / 1000) + " (or a signed webhook call)";
    }
    spdlog::info("tick: {}", name_of(result));
    return result;
  }

 private:
  /// Flux's lastAttemptedRevision: the revision this tick works from (valid or not).
  void attempted(const std::string& revision) {
    attempted_ = revision;
    metrics_.clear("pgparity_last_attempted_revision_info");
    metrics_.set("pgparity_last_attempted_revision_info", {{"revision", revision}}, 1);
  }

  /// A manifest that loaded: in force from now on, at `revision`.
  void enforce(const desired::LoadResult& loaded, const std::string& revision, const std::string& text) {
    manifest_ = loaded.manifest;
    revision_ = revision;
    manifest_digest_ = planner::digest(text);  // of the very bytes in force, as apply records it
    for (const auto& line : follow_patroni_leaders(*manifest_)) spdlog::info("{}", line);
    metrics_.set("pgparity_manifest_valid", {}, 1);
  }

  /// Fetches the git source: its head's manifest when it loads, else the last good revision stays in
  /// force (from this process, or the cache's record of it after a restart). Never an empty manifest.
  const desired::Manifest* manifest_from_git() {
    const Fetched head = git_->fetch();
    if (!head.fetched) {
      metrics_.add("pgparity_git_fetch_failures_total", {});
      spdlog::warn("git: {}; enforcing the last good revision {}", head.error,
                   revision_.empty() ? std::string("(none yet)") : revision_);
    }
    if (!head.revision.empty()) attempted(head.revision);
    if (!head.text.empty() && head.revision != revision_) {
      const desired::LoadResult loaded = desired::load_manifest_text(head.text, head.label, load_options());
      if (loaded.ok()) {
        enforce(loaded, head.revision, head.text);
        git_->remember_good(head.revision);
        spdlog::info("git: enforcing {}", head.revision);
      } else {
        metrics_.set("pgparity_manifest_valid", {}, 0);
        metrics_.add("pgparity_manifest_errors_total", {});
        for (const auto& d : loaded.diagnostics) spdlog::error("{}", d.str());
        spdlog::warn("git: {} is not applied: its manifest is invalid; {}", head.revision,
                     revision_.empty() ? std::string("no good revision yet") : revision_ + " stays in force");
      }
    } else if (head.text.empty() && !head.error.empty()) {
      spdlog::error("git: {}; {}", head.error,
                    revision_.empty() ? std::string("no good revision yet") : revision_ + " stays in force");
    }
    if (!manifest_) {
      // A restart: the revision the cache last found good, until the head is good again.
      const Fetched good = git_->last_good();
      if (!good.text.empty()) {
        const desired::LoadResult loaded = desired::load_manifest_text(good.text, good.label, load_options());
        if (loaded.ok()) enforce(loaded, good.revision, good.text);
      }
    }
    return manifest_ ? &*manifest_ : nullptr;
  }

  /// Re-reads the manifest; an invalid one is reported and the last good one stays in force.
  const desired::Manifest* manifest() {
    if (git_) return manifest_from_git();
    // Read once: what is loaded is what its digest is taken of.
    std::ifstream in(options_.manifest);
    std::ostringstream text;
    if (in) text << in.rdbuf();
    const desired::LoadResult loaded = in ? desired::load_manifest_text(text.str(), options_.manifest, load_options())
                                          : desired::load_manifest_file(options_.manifest, load_options());
    const std::string revision = options_.revision.empty() ? manifest_revision(options_.manifest) : options_.revision;
    attempted(revision);
    if (loaded.ok()) {
      enforce(loaded, revision, text.str());
    } else {
      metrics_.set("pgparity_manifest_valid", {}, 0);
      metrics_.add("pgparity_manifest_errors_total", {});
      for (const auto& d : loaded.diagnostics) spdlog::error("{}", d.str());
      if (manifest_) spdlog::warn("the manifest is invalid; the last good one stays in force");
    }
    return manifest_ ? &*manifest_ : nullptr;
  }

  TickResult run_tick() {
    const desired::Manifest* manifest = this->manifest();
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
    options.revision = revision_;
    options.manifest_digest = manifest_digest_;
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
        lines.push_back({r.target, r.database, name_of(r.outcome), r.run_id, revision_, r.message});
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
  std::optional<desired::Manifest> manifest_;
  std::optional<GitSource> git_;
  std::string revision_;         ///< the manifest's revision at this tick ("" when unknown)
  std::string attempted_;        ///< the revision this tick worked from
  std::string manifest_digest_;  ///< SHA-256 of the manifest in force
  std::string halted_;           ///< the last apply's halted rollouts, for the status page
  mutable std::mutex view_mutex_;
  StatusView view_;
  std::map<std::string, Backoff> backoff_;
  std::mt19937 random_{std::random_device{}()};
  state::SessionCache sessions_;
};

/// Whether `signature` is GitHub's X-Hub-Signature-256 of `body` under `secret`: "sha256=" and the
/// HMAC-SHA256 in hex (OpenSSL), compared in constant time.
bool signed_by(const std::string& secret, const std::string& body, const std::string& signature) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
           reinterpret_cast<const unsigned char*>(body.data()), body.size(), mac, &length) == nullptr) {
    return false;
  }
  static const char* digits = "0123456789abcdef";
  std::string expected = "sha256=";
  for (unsigned int i = 0; i < length; ++i) {
    expected += digits[mac[i] >> 4];
    expected += digits[mac[i] & 0xf];
  }
  return signature.size() == expected.size() && CRYPTO_memcmp(signature.data(), expected.data(), expected.size()) == 0;
}

/// Serves /metrics and /healthz on host:port until destroyed; with a webhook secret also POST /hook,
/// which asks for a tick now.
class MetricsServer {
 public:
  MetricsServer(const std::string& address, Metrics& metrics, std::function<bool()> healthy,
                std::function<StatusView()> view, const std::string& hook_secret = "",
                std::function<void()> hook = {}) {
    const auto colon = address.rfind(':');
    if (colon == std::string::npos)
      throw InputError("bad --metrics '" + address + "': use HOST:PORT, e.g. 127.0.0.1:9187");
    host_ = address.substr(0, colon);
    const std::string port = address.substr(colon + 1);
    if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
        std::stoi(port) > 65535) {
      throw InputError("bad --metrics '" + address + "': the port must be a number up to 65535");
    }
    port_ = std::stoi(port);
    server_.Get("/metrics", [&metrics](const httplib::Request&, httplib::Response& res) {
      res.set_content(metrics.render(), "text/plain; version=0.0.4");
    });
    server_.Get("/healthz", [healthy](const httplib::Request&, httplib::Response& res) {
      if (healthy()) {
        res.set_content("ok\n", "text/plain");
      } else {
        res.status = 503;
        res.set_content("unhealthy: no tick completed in the last three intervals\n", "text/plain");
      }
    });
    // The status page: read-only, and these three paths are all it serves.
    server_.Get("/", [view](const httplib::Request&, httplib::Response& res) {
      res.set_header("Content-Security-Policy", "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'");
      res.set_content(status_html(view()), "text/html; charset=utf-8");
    });
    server_.Get("/status.json", [view](const httplib::Request&, httplib::Response& res) {
      res.set_content(status_json(view()), "application/json");
    });
    server_.Get("/plan.svg", [view](const httplib::Request&, httplib::Response& res) {
      res.set_header("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'");
      res.set_content(dot_to_svg(view().dot), "image/svg+xml");
    });
    server_.set_payload_max_length(1024 * 1024);  // a delivery is a few kB: nothing larger is read
    if (!hook_secret.empty()) {
      // A push to the repository: GitHub (and Gitea, GitLab's compatible mode) signs the body with the
      // shared secret. A wrong or missing signature runs nothing.
      server_.Post("/hook", [hook_secret, hook, &metrics](const httplib::Request& req, httplib::Response& res) {
        if (!signed_by(hook_secret, req.body, req.get_header_value("X-Hub-Signature-256"))) {
          metrics.add("pgparity_webhook_requests_total", {{"result", "unauthorized"}});
          res.status = 401;
          res.set_content("bad or missing X-Hub-Signature-256\n", "text/plain");
          return;
        }
        metrics.add("pgparity_webhook_requests_total", {{"result", "accepted"}});
        hook();
        res.status = 202;
        res.set_content("a tick is on its way\n", "text/plain");
      });
    }
    if (!server_.bind_to_port(host_.c_str(), port_)) throw InputError("cannot listen on " + address);
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~MetricsServer() {
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

 private:
  httplib::Server server_;
  std::string host_;
  int port_ = 0;
  std::thread thread_;
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
                  "With --git: where fetched objects and the last good revision are kept (default: under $TMPDIR)");
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
