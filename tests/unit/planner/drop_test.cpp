// Drops and recreates: what a drop would take, when it is data loss, and how a
// recreate keeps what users put in an extension's configuration tables.
#include <gtest/gtest.h>

#include "planner/planner.hpp"
#include "tests/unit/planner/fixtures.hpp"

namespace pgparity::planner {
namespace {

using namespace testing;  // NOLINT: the fixtures' builders

using Ids = std::vector<std::string>;

TEST(Planner, DropsWhatRequiresAnExtensionBeforeTheExtension) {
  const auto m =
      manifest("extensions:\n  - name: cube\n    ensure: absent\n  - name: earthdistance\n    ensure: absent\n");
  const Plan plan = plan_for(m, Server("staging").db(Db().installed("cube", "1.5")
                                                         .installed("earthdistance", "1.1")
                                                         .available("cube", {"1.5"})
                                                         .available("earthdistance", {"1.1"}, {"cube"})
                                                         .depends("cube", "extension earthdistance", "extension")));
  EXPECT_EQ(changes(plan), (Ids{"staging/app/drop/earthdistance", "staging/app/drop/cube"}));
  EXPECT_EQ(step(plan, "staging/app/drop/earthdistance")->sql, Ids{"DROP EXTENSION \"earthdistance\" RESTRICT"});
  EXPECT_TRUE(plan.blockers.empty());
}

TEST(Planner, AnExtensionADropWouldTakeIsKnownByItsCatalogNameNotByItsDescription) {
  // A server with lc_messages = de describes it as "Erweiterung earthdistance".
  const auto m =
      manifest("extensions:\n  - name: cube\n    ensure: absent\n  - name: earthdistance\n    version: \"1.1\"\n");
  const Plan plan = plan_for(
      m, Server("staging").db(Db().installed("cube", "1.5")
                                  .installed("earthdistance", "1.1")
                                  .available("earthdistance", {"1.1"}, {"cube"})
                                  .depends("cube", "Erweiterung earthdistance", "extension", "earthdistance")));
  ASSERT_EQ(blocker_codes(plan), Ids{"drop-takes-extension"});
  EXPECT_EQ(plan.blockers[0].message, "dropping cube would also drop extension earthdistance");
}

TEST(Planner, ADropListsItsBlastRadiusAndUsesCascadeOnlyWhenSomethingDependsOnIt) {
  const auto m = manifest("extensions:\n  - name: citext\n    ensure: absent\npolicy:\n  allow_data_loss: true\n");
  const Plan plan = plan_for(m, Server("staging").db(Db().installed("citext", "1.6")
                                                         .depends("citext", "column c of table t", "column")
                                                         .depends("citext", "view v", "view")));
  const Step* s = step(plan, "staging/app/drop/citext");
  ASSERT_NE(s, nullptr);
  EXPECT_TRUE(s->as<ExtensionDrop>().cascade);
  EXPECT_EQ(s->sql, Ids{"DROP EXTENSION \"citext\" CASCADE"});
  ASSERT_EQ(blast_radius_of(*s).size(), 2u);
  EXPECT_TRUE(blast_radius_of(*s)[0].user_data());
  EXPECT_TRUE(blast_radius_of(*s)[1].user_data()) << "a user's view is lost with the drop too";
}

TEST(Planner, AViewOverAnExtensionFunctionBlocksItsDropUnlessDataLossIsAllowed) {
  const auto m = manifest("extensions:\n  - name: citext\n    ensure: absent\n");
  const Plan plan =
      plan_for(m, Server("staging").db(Db().installed("citext", "1.6").depends("citext", "view v", "view")));
  EXPECT_EQ(blocker_codes(plan), Ids{"data-loss"});
  EXPECT_NE(plan.blockers[0].message.find("view v"), std::string::npos) << plan.blockers[0].message;
  EXPECT_NE(plan.blockers[0].hint.find("DROP EXTENSION \"citext\" CASCADE"), std::string::npos)
      << "the hint shows what would run: " << plan.blockers[0].hint;
}

TEST(Planner, DroppingAnExtensionWhoseConfigurationTableHoldsRowsIsDataLoss) {
  const auto m = manifest("extensions:\n  - name: pg_cron\n    ensure: absent\n");
  const Db db = Db().installed("pg_cron", "1.4").config_table("pg_cron", "cron", "job", 2);
  const Plan blocked = plan_for(m, Server("staging").db(db));
  EXPECT_EQ(blocker_codes(blocked), Ids{"data-loss"});
  EXPECT_NE(blocked.blockers[0].message.find("table cron.job (2 rows)"), std::string::npos)
      << blocked.blockers[0].message;

  const auto allowed =
      manifest("extensions:\n  - name: pg_cron\n    ensure: absent\npolicy:\n  allow_data_loss: true\n");
  const Plan plan = plan_for(allowed, Server("staging").db(db));
  const Step* s = step(plan, "staging/app/drop/pg_cron");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->sql, Ids{"DROP EXTENSION \"pg_cron\" RESTRICT"}) << "its own configuration tables need no CASCADE";
  ASSERT_EQ(blast_radius_of(*s).size(), 1u);
  EXPECT_EQ(blast_radius_of(*s)[0].rows, 2);
}

TEST(Planner, AnEmptyConfigurationTableIsNotDataLoss) {
  const auto m = manifest("extensions:\n  - name: pg_cron\n    ensure: absent\n");
  const Plan plan =
      plan_for(m, Server("staging").db(Db().installed("pg_cron", "1.4").config_table("pg_cron", "cron", "job", 0)));
  EXPECT_TRUE(plan.blockers.empty());
  EXPECT_NE(step(plan, "staging/app/drop/pg_cron"), nullptr);
}

/// Found by review: the recreate step was filled in after the CREATE SCHEMA step had been added
/// behind it, through a reference the reallocation had left dangling (ASan: heap-use-after-free).
TEST(Planner, ARecreateIntoASchemaTheDatabaseLacksCreatesTheSchemaFirstAndKeepsItsSql) {
  const auto m =
      manifest("extensions:\n  - name: hypo\n    version: \"2.0\"\n    schema: tools\npolicy:\n  recreate: always\n");
  const Plan plan =
      plan_for(m, Server("staging").db(Db().installed("hypo", "1.0", "public").available("hypo", {"1.0", "2.0"})));
  const Step* s = step(plan, "staging/app/recreate/hypo");
  ASSERT_NE(s, nullptr) << ::testing::PrintToString(plan.blockers.size());
  EXPECT_EQ(s->sql,
            (Ids{"DROP EXTENSION \"hypo\" RESTRICT", "CREATE EXTENSION \"hypo\" SCHEMA \"tools\" VERSION '2.0'"}));
  EXPECT_EQ(s->as<ExtensionRecreate>().schema, "tools");
  EXPECT_NE(std::find(s->after.begin(), s->after.end(), "staging/app/schema/tools"), s->after.end());
}

TEST(Planner, ARecreateKeepsTheConfigurationRowsInTheSameTransaction) {
  const auto m = manifest("extensions:\n  - name: hypo\n    version: \"2.0\"\npolicy:\n  recreate: always\n");
  const Db db = Db().installed("hypo", "1.0")
                    .available("hypo", {"1.0", "2.0"})
                    .config_table("hypo", "public", "hypo_conf", 3, "WHERE NOT builtin");
  const Plan plan = plan_for(m, Server("staging").db(db));
  EXPECT_TRUE(plan.blockers.empty()) << "rows that are kept are not lost";
  const Step* s = step(plan, "staging/app/recreate/hypo");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->as<ExtensionRecreate>().keeps, Ids{"3 rows of public.hypo_conf"});
  ASSERT_EQ(s->sql.size(), 7u);
  EXPECT_EQ(s->sql[0],
            "CREATE TABLE \"pgparity\".\"keep_hypo_1\" AS SELECT * FROM \"public\".\"hypo_conf\" WHERE NOT builtin");
  // What users added to the table (indexes, triggers, policies, constraints, defaults, privileges).
  EXPECT_EQ(s->sql[1].rfind("CREATE TABLE \"pgparity\".\"keep_hypo_1_objects\" AS SELECT 'index'", 0), 0u) << s->sql[1];
  EXPECT_EQ(s->sql[2], "DROP EXTENSION \"hypo\" RESTRICT");
  EXPECT_EQ(s->sql[3], "CREATE EXTENSION \"hypo\" SCHEMA \"public\" VERSION '2.0'");
  EXPECT_EQ(s->sql[4].rfind("DO $pgparity$", 0), 0u) << s->sql[4];
  EXPECT_NE(s->sql[4].find("'\"public\".\"hypo_conf\"'::regclass"), std::string::npos) << s->sql[4];
  EXPECT_NE(s->sql[4].find("RAISE EXCEPTION 'pgparity: the new % has no %"), std::string::npos)
      << "without allow_data_loss, what users added holds the recreate back\n"
      << s->sql[4];
  EXPECT_EQ(s->sql[5], "DROP TABLE \"pgparity\".\"keep_hypo_1_objects\"");
  EXPECT_EQ(s->sql[6], "DROP TABLE \"pgparity\".\"keep_hypo_1\"");
}

}  // namespace
}  // namespace pgparity::planner
