// The pieces of a plan that are pure functions of their input: the step order (graph.cpp), the SQL a
// recreate keeps configuration rows with (keep_config.cpp), and the fingerprint (fingerprint.cpp).
#include <gtest/gtest.h>

#include "planner/graph.hpp"
#include "planner/keep_config.hpp"
#include "tests/unit/planner/fixtures.hpp"

namespace pgparity::planner {
namespace {

using Ids = std::vector<std::string>;

Step step(const std::string& id, Ids after = {}) {
  Step s;
  s.id = id;
  s.after = std::move(after);
  return s;
}

Ids ids(const std::vector<Step>& steps) {
  Ids out;
  for (const auto& s : steps) out.push_back(s.id);
  return out;
}

TEST(Graph, EveryStepComesAfterWhatItWaitsForAndOtherwiseKeepsItsPlace) {
  EXPECT_EQ(ids(order_steps({step("a"), step("b"), step("c")})), (Ids{"a", "b", "c"}));
  EXPECT_EQ(ids(order_steps({step("a", {"c"}), step("b"), step("c")})), (Ids{"b", "c", "a"}));
  EXPECT_EQ(ids(order_steps({step("a", {"b"}), step("b", {"c"}), step("c")})), (Ids{"c", "b", "a"}));
}

TEST(Graph, AnEdgeToAStepThatIsNotInThePlanIsDroppedNotFollowed) {
  const auto ordered = order_steps({step("a", {"blocked-requirement"}), step("b", {"a"})});
  EXPECT_EQ(ids(ordered), (Ids{"a", "b"}));
  EXPECT_TRUE(ordered[0].after.empty());
  EXPECT_EQ(ordered[1].after, Ids{"a"});
}

TEST(Graph, ACycleIsRefusedNeverOrderedArbitrarily) {
  EXPECT_THROW(order_steps({step("a", {"b"}), step("b", {"a"})}), std::logic_error);
}

TEST(KeepConfig, ARecreateCopiesKeptRowsAsideRestoresThemByNameAndDropsTheCopies) {
  const std::vector<state::ConfigTable> tables{
      {Identifier::from_catalog("cron"), Identifier::from_catalog("job"), false, "WHERE jobid > 0", 2},
      {Identifier::from_catalog("cron"), Identifier::from_catalog("jobid_seq"), true, "", std::nullopt}};
  const KeepConfigSql sql = keep_config_sql("pg_cron", tables, "pgparity", false);
  ASSERT_EQ(sql.before.size(), 3u);
  EXPECT_EQ(sql.before[0],
            "CREATE TABLE \"pgparity\".\"keep_pg_cron_1\" AS SELECT * FROM \"cron\".\"job\" WHERE jobid > 0");
  EXPECT_EQ(sql.before[2],
            "CREATE TABLE \"pgparity\".\"keep_pg_cron_2\" AS SELECT last_value, is_called FROM \"cron\".\"jobid_seq\"");
  EXPECT_EQ(sql.keeps, (Ids{"2 rows of cron.job", "the position of cron.jobid_seq"}));
  ASSERT_FALSE(sql.after.empty());
  EXPECT_NE(sql.after[0].find("RAISE EXCEPTION 'pgparity: % no longer has column %"), std::string::npos)
      << "a lost column rolls everything back unless data loss is allowed";
  EXPECT_EQ(sql.after.back(), "DROP TABLE \"pgparity\".\"keep_pg_cron_2\"");
  const KeepConfigSql lossy = keep_config_sql("pg_cron", tables, "pgparity", true);
  EXPECT_EQ(lossy.after[0].find("RAISE EXCEPTION 'pgparity: % no longer has column %"), std::string::npos);
  EXPECT_NE(lossy.after[0].find("RAISE NOTICE 'pgparity: % no longer has column %"), std::string::npos);
}

TEST(KeepConfig, NamesFromTheCatalogsAreQuotedWhereverTheyGo) {
  const std::vector<state::ConfigTable> tables{
      {Identifier::from_catalog("we\"ird"), Identifier::from_catalog("t; DROP"), false, "", 1}};
  const KeepConfigSql sql = keep_config_sql("x", tables, "state", false);
  EXPECT_EQ(sql.before[0], "CREATE TABLE \"state\".\"keep_x_1\" AS SELECT * FROM \"we\"\"ird\".\"t; DROP\"");
  EXPECT_NE(sql.before[1].find("'\"we\"\"ird\".\"t; DROP\"'::regclass"), std::string::npos) << sql.before[1];
}

TEST(Fingerprint, IsTheSameForTheSameInputAndChangesWithTheToolsVersion) {
  const auto m = testing::manifest("extensions:\n  - name: hstore\n    version: \"1.8\"\n");
  PlanInput input;
  input.manifest = &m;
  input.observed.emplace("staging", testing::Server("staging").db(testing::Db().installed("hstore", "1.4")).state());
  input.tool_version = "1.0.0";
  const std::string first = fingerprint(input);
  EXPECT_EQ(first.size(), 64u) << "SHA-256, hex";
  EXPECT_EQ(fingerprint(input), first);
  input.tool_version = "1.0.1";
  EXPECT_NE(fingerprint(input), first) << "a plan saved by another build is refused";
}

}  // namespace
}  // namespace pgparity::planner
