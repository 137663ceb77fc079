#include "planner/export.hpp"

#include <gtest/gtest.h>

#include "desired/loader.hpp"
#include "planner/planner.hpp"
#include "tests/unit/planner/fixtures.hpp"

namespace pgparity::planner {
namespace {

using namespace testing;  // NOLINT: the fixtures' builders

TEST(Export, OneEntryWhenEveryDatabaseAgreesAndOnePerGroupOtherwise) {
  const auto state = Server("production")
                         .db(Db("a").installed("hstore", "1.8").installed("pg_trgm", "1.6"))
                         .db(Db("b").installed("hstore", "1.8").installed("pg_trgm", "1.3"))
                         .db(Db("c").installed("hstore", "1.8").installed("pg_trgm", "1.3"))
                         .state();
  const Exported e = export_manifest(state, {"production", "${PGPARITY_PROD_DSN}", true});
  const auto& x = e.manifest.extensions;
  ASSERT_EQ(x.size(), 3u);
  EXPECT_EQ(x[0].name.str(), "hstore");
  EXPECT_TRUE(x[0].databases.empty());
  EXPECT_EQ(x[1].name.str(), "pg_trgm");
  EXPECT_EQ(x[1].version.exact.str(), "1.6");
  ASSERT_EQ(x[1].databases.size(), 1u);
  EXPECT_EQ(x[1].databases[0].str(), "a");
  EXPECT_EQ(x[2].version.exact.str(), "1.3");
  EXPECT_EQ(x[2].databases.size(), 2u);
}

TEST(Export, PlanningTheExportAgainstTheSameStateIsEmpty) {
  const auto state = Server("production")
                         .setting("work_mem", "4096", "kB")
                         .setting("shared_buffers", "16384", "8kB")
                         .setting("maintenance_work_mem", "65536", "kB")
                         .setting("max_connections", "100")
                         .setting("shared_preload_libraries", "pg_stat_statements", "", "string")
                         .db(Db("a").installed("hstore", "1.8"))
                         .db(Db("b").installed("hstore", "1.4"))
                         .state();
  const Exported e = export_manifest(state, {"production", "host=p", true});
  // The exported target, renamed and managed, is what staging would be planned as.
  desired::Manifest m = e.manifest;
  desired::Target managed = m.targets.at("production");
  managed.name = "staging";
  managed.role = desired::Role::managed;
  m.targets.emplace("staging", managed);
  PlanInput input;
  input.manifest = &m;
  auto staging = state;
  staging.target = "staging";
  input.observed.emplace("production", state);
  input.observed.emplace("staging", staging);
  const Plan plan = make_plan(input);
  EXPECT_FALSE(plan.has_changes());
  EXPECT_TRUE(plan.blockers.empty()) << plan.blockers[0].message;
}

}  // namespace
}  // namespace pgparity::planner
