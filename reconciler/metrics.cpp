#include "reconciler/metrics.hpp"

#include <sstream>

#include "desired/writer.hpp"

namespace pgparity::reconciler {

const std::map<std::string, std::string>& metric_help() {
  static const std::map<std::string, std::string> help{
      {"pgparity_info", "Always 1; the version label says which pgparity runs."},
      {"pgparity_extension_info",
       "1 per managed database and manifest extension: installed, desired and latest (newest offered) versions."},
      {"pgparity_updates_available", "Manifest extensions whose newest offered version has an update path."},
      {"pgparity_kept_sessions", "Observation sessions kept open for the next tick (--keep-sessions)."},
      {"pgparity_rollout_halted", "1 when the target's rollout halted after a failed wave at the last tick."},
      {"pgparity_reconcile_runs_total", "Reconcile ticks by result: converged, applied, drift, blocked, failed."},
      {"pgparity_reconcile_duration_seconds", "Duration of a reconcile tick."},
      {"pgparity_steps_applied_total", "Plan steps applied, by kind."},
      {"pgparity_drift", "1 for each extension or setting that differed from the manifest at the last tick."},
      {"pgparity_drift_steps", "Steps needed to converge each target at the last tick."},
      {"pgparity_blocked", "Blockers per target at the last tick."},
      {"pgparity_pending_restart",
       "1 for each setting written to postgresql.auto.conf that the server runs only after a restart."},
      {"pgparity_last_success_timestamp_seconds", "When a tick last ended converged or applied, in Unix time."},
      {"pgparity_last_attempted_revision_info", "1 for the manifest revision the last tick worked from."},
      {"pgparity_last_applied_revision_info", "1 for the manifest revision of the last converged or applied tick."},
      {"pgparity_manifest_valid", "1 when the manifest read at the last tick was valid."},
      {"pgparity_webhook_requests_total", "POSTs to /hook, by result: accepted (a tick follows) or unauthorized."},
      {"pgparity_git_fetch_failures_total",
       "Fetches of the git source that failed; the last good revision stayed in force."},
      {"pgparity_manifest_errors_total", "Manifest reads that failed; the last good manifest stayed in force."},
      {"pgparity_database_failures_total", "Databases whose apply failed, by target and database."},
  };
  return help;
}

void Metrics::add(const std::string& counter, const Labels& labels, double by) {
  std::lock_guard lock(mutex_);
  counters_[counter][labels] += by;
}

void Metrics::set(const std::string& gauge, const Labels& labels, double value) {
  std::lock_guard lock(mutex_);
  gauges_[gauge][labels] = value;
}

void Metrics::clear(const std::string& gauge) {
  std::lock_guard lock(mutex_);
  gauges_[gauge].clear();
}

void Metrics::observe(const std::string& histogram, double value) {
  std::lock_guard lock(mutex_);
  Histogram& h = histograms_[histogram];
  if (h.bounds.empty()) {
    h.bounds = {0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300};
    h.counts.assign(h.bounds.size(), 0);
  }
  for (std::size_t i = 0; i < h.bounds.size(); ++i) {
    if (value <= h.bounds[i]) h.counts[i] += 1;
  }
  h.sum += value;
  h.count += 1;
}

namespace {

std::string escape(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

std::string labels_text(const Metrics::Labels& labels, const std::string& extra = "") {
  std::string out;
  for (const auto& [k, v] : labels) out += (out.empty() ? "" : ",") + k + "=\"" + escape(v) + "\"";
  if (!extra.empty()) out += (out.empty() ? "" : ",") + extra;
  return out.empty() ? "" : "{" + out + "}";
}

void header(std::ostringstream& out, const std::string& name, const char* type) {
  auto it = metric_help().find(name);
  if (it != metric_help().end()) out << "# HELP " << name << " " << it->second << "\n";
  out << "# TYPE " << name << " " << type << "\n";
}

}  // namespace

std::string Metrics::render() const {
  std::lock_guard lock(mutex_);
  std::ostringstream out;
  for (const auto& [name, series] : counters_) {
    header(out, name, "counter");
    for (const auto& [labels, value] : series)
      out << name << labels_text(labels) << " " << desired::format_number(value) << "\n";
  }
  for (const auto& [name, series] : gauges_) {
    header(out, name, "gauge");
    for (const auto& [labels, value] : series)
      out << name << labels_text(labels) << " " << desired::format_number(value) << "\n";
  }
  for (const auto& [name, h] : histograms_) {
    header(out, name, "histogram");
    for (std::size_t i = 0; i < h.bounds.size(); ++i) {
      out << name << "_bucket{le=\"" << desired::format_number(h.bounds[i]) << "\"} "
          << desired::format_number(h.counts[i]) << "\n";
    }
    out << name << "_bucket{le=\"+Inf\"} " << desired::format_number(h.count) << "\n";
    out << name << "_sum " << desired::format_number(h.sum) << "\n";
    out << name << "_count " << desired::format_number(h.count) << "\n";
  }
  return out.str();
}

}  // namespace pgparity::reconciler
