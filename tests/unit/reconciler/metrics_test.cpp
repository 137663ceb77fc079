#include "reconciler/metrics.hpp"

#include <gtest/gtest.h>

namespace pgparity::reconciler {
namespace {

TEST(Metrics, CountersAndGaugesRenderWithHelpTypeAndSortedEscapedLabels) {
  Metrics m;
  m.add("pgparity_reconcile_runs_total", {{"result", "applied"}});
  m.add("pgparity_reconcile_runs_total", {{"result", "applied"}});
  m.set("pgparity_drift", {{"target", "staging"}, {"database", "we\"ird\\db"}, {"object", "hstore"}}, 1);
  const std::string text = m.render();
  EXPECT_NE(text.find("# HELP pgparity_reconcile_runs_total Reconcile ticks by result"), std::string::npos) << text;
  EXPECT_NE(
      text.find("# TYPE pgparity_reconcile_runs_total counter\npgparity_reconcile_runs_total{result=\"applied\"} 2\n"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find("# TYPE pgparity_drift gauge\n"
                      "pgparity_drift{database=\"we\\\"ird\\\\db\",object=\"hstore\",target=\"staging\"} 1\n"),
            std::string::npos)
      << text;
}

TEST(Metrics, AHistogramHasCumulativeBucketsSumAndCount) {
  Metrics m;
  m.observe("pgparity_reconcile_duration_seconds", 0.3);
  m.observe("pgparity_reconcile_duration_seconds", 7);
  const std::string text = m.render();
  EXPECT_NE(text.find("# TYPE pgparity_reconcile_duration_seconds histogram"), std::string::npos);
  EXPECT_NE(text.find("pgparity_reconcile_duration_seconds_bucket{le=\"0.1\"} 0\n"), std::string::npos) << text;
  EXPECT_NE(text.find("pgparity_reconcile_duration_seconds_bucket{le=\"0.5\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("pgparity_reconcile_duration_seconds_bucket{le=\"10\"} 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("pgparity_reconcile_duration_seconds_bucket{le=\"+Inf\"} 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("pgparity_reconcile_duration_seconds_sum 7.3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("pgparity_reconcile_duration_seconds_count 2\n"), std::string::npos) << text;
}

TEST(Metrics, ClearingAGaugeDropsTheSeriesOfTheLastTick) {
  Metrics m;
  m.set("pgparity_drift", {{"object", "hstore"}}, 1);
  m.clear("pgparity_drift");
  m.set("pgparity_drift", {{"object", "citext"}}, 1);
  const std::string text = m.render();
  EXPECT_EQ(text.find("hstore"), std::string::npos) << text;
  EXPECT_NE(text.find("pgparity_drift{object=\"citext\"} 1"), std::string::npos) << text;
}

}  // namespace
}  // namespace pgparity::reconciler
