#include "planner/export.hpp"

#include <gtest/gtest.h>

#include "desired/loader.hpp"
#include "planner/outdated.hpp"
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
  const Exported e = export_manifest(state, {"production", "${PGPARITY_PROD_DSN}", true, false});
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
  const Exported e = export_manifest(state, {"production", "host=p", true, false});
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

TEST(Export, AMirrorFollowsTheReferenceAndKeepsItsRatiosAtTheManagedTargetsSize) {
  const auto sized = [](const std::string& name, const std::string& buffers, const std::string& connections) {
    return Server(name)
        .setting("work_mem", "4096", "kB")
        .setting("shared_buffers", buffers, "8kB")
        .setting("maintenance_work_mem", "65536", "kB")
        .setting("max_connections", connections);
  };
  const auto production = sized("production", "16384", "100")  // 128MB
                              .db(Db("a").installed("hstore", "1.8").installed("pg_trgm", "1.6"))
                              .db(Db("b").installed("hstore", "1.8"))
                              .state();
  const auto staging = sized("staging", "4096", "50").db(Db("a").installed("hstore", "1.4")).state();  // 32MB
  const Exported e = mirror_manifest(production, {"production", "${PGPARITY_PROD_DSN}", true, false}, staging,
                                     {"staging", "${PGPARITY_STAGING_DSN}", true, true});
  const desired::Manifest& m = e.manifest;
  ASSERT_EQ(m.targets.size(), 2u);
  EXPECT_EQ(m.targets.at("staging").role, desired::Role::managed);
  ASSERT_EQ(m.extensions.size(), 2u) << "one entry per extension, whatever the databases";
  for (const auto& x : m.extensions) {
    EXPECT_EQ(x.version.kind, desired::VersionSpec::Kind::reference) << x.name.str();
    EXPECT_FALSE(x.schema.has_value()) << "the schema follows the reference too";
  }
  EXPECT_EQ(m.settings.values.at(Identifier::from_catalog("work_mem")), "1MB") << "4MB × 32MB / 128MB";
  EXPECT_EQ(m.settings.values.at(Identifier::from_catalog("maintenance_work_mem")), "16MB");
  EXPECT_EQ(m.settings.values.count(Identifier::from_catalog("max_connections")), 0u)
      << "not copied: a restart, and a smaller server may not start with it";
  EXPECT_NE(e.notes.header.find("max_connections differs (100 on production): not written"), std::string::npos);
  EXPECT_NE(e.notes.header.find("work_mem: 1MB = 0.03125 × 32MB (staging's shared_buffers)"), std::string::npos)
      << e.notes.header;

  // Planned against the two states it came from: the ratios hold once the values are written.
  PlanInput input;
  input.manifest = &m;
  input.observed.emplace("production", production);
  input.observed.emplace("staging", staging);
  const Plan plan = make_plan(input);
  for (const auto& b : plan.blockers) {
    if (b.code == BlockerCode::ratio_off_reference) {
      EXPECT_NE(b.message.find("max_connections"), std::string::npos) << "only the ratio that needs max_connections";
    }
  }
}

TEST(Outdated, TheNewestVersionIsTheLastInNaturalOrder) {
  const auto versions = [](std::vector<std::string> texts) {
    std::vector<state::AvailableVersion> out;
    for (const auto& t : texts) out.push_back({Version::from_catalog(t), {}, true, false, false, std::nullopt});
    return out;
  };
  EXPECT_EQ(newest_version(versions({"1.9", "1.10", "1.2"})), "1.10");
  EXPECT_EQ(newest_version(versions({"3.3.2", "unpackaged", "3.3.2next"})), "3.3.2next");
  EXPECT_EQ(newest_version(versions({"unpackaged"})), "unpackaged");
  EXPECT_EQ(newest_version(versions({"1.0", "1.01"})), "1.01");
}

}  // namespace
}  // namespace pgparity::planner
