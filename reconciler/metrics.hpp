#pragma once

#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace pgparity::reconciler {

/// The loop's metrics, rendered in the Prometheus text format. Names follow
/// Prometheus conventions: the pgparity_ prefix, _total for counters,
/// _seconds for durations. Thread-safe: the loop writes, the HTTP server reads.
class Metrics {
 public:
  using Labels = std::map<std::string, std::string>;

  void add(const std::string& counter, const Labels& labels, double by = 1);
  void set(const std::string& gauge, const Labels& labels, double value);
  /// Removes every series of a gauge (before it is set anew for this tick).
  void clear(const std::string& gauge);
  void observe(const std::string& histogram, double value);

  /// The exposition text.
  std::string render() const;

 private:
  struct Histogram {
    std::vector<double> bounds;
    std::vector<double> counts;
    double sum = 0;
    double count = 0;
  };
  mutable std::mutex mutex_;
  std::map<std::string, std::map<Labels, double>> counters_;
  std::map<std::string, std::map<Labels, double>> gauges_;
  std::map<std::string, Histogram> histograms_;
};

/// What each metric means (the # HELP lines), by name.
const std::map<std::string, std::string>& metric_help();

}  // namespace pgparity::reconciler
