#include "reconciler/metrics.hpp"

#include <gtest/gtest.h>

#include "reconciler/apply.hpp"

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

TEST(Metrics, StepsAppliedAreCreditedToTheDatabaseOrStandbyThatRanThem) {
  using Outcome = DatabaseResult::Outcome;
  ApplyResult run;
  // The primary's settings applied; its standby's failed; one database applied (a schema and a create),
  // another failed and rolled back the update it ran.
  run.results.push_back({"staging", "", Outcome::applied, 1, "r1", "", {{"s1", "set", "setting", "work_mem", 3}}, ""});
  run.results.push_back(
      {"staging", "@replica-1", Outcome::failed, 0, "", "", {{"s2", "set", "setting", "work_mem", 2}}, ""});
  run.results.push_back(
      {"staging", "@replica-2", Outcome::applied, 1, "", "", {{"s3", "set", "setting", "work_mem", 2}}, ""});
  run.results.push_back({"staging",
                         "orders",
                         Outcome::applied,
                         2,
                         "r2",
                         "",
                         {{"s4", "schema", "schema", "geo", 1}, {"s5", "create", "extension", "postgis", 9}},
                         ""});
  run.results.push_back(
      {"staging", "users", Outcome::failed, 0, "r3", "", {{"s6", "update", "extension", "hstore", 4}}, "55P03"});
  using Key = std::tuple<std::string, std::string, std::string>;
  const std::map<Key, int> expected{{Key{"staging", "", "set"}, 1},
                                    {Key{"staging", "@replica-2", "set"}, 1},
                                    {Key{"staging", "orders", "create"}, 1}};
  EXPECT_EQ(applied_steps(run), expected);
}

}  // namespace
}  // namespace pgparity::reconciler
