// pgparity plan and diff against a real throwaway production + staging pair.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "planner/sql.hpp"
#include "tests/support/cluster.hpp"

namespace pgparity::testing {
namespace {

class Plan : public ::testing::Test {
 protected:
  void SetUp() override {
    production_.exec("CREATE EXTENSION hstore; CREATE EXTENSION pg_trgm; CREATE EXTENSION pgparity_test_versions");
    staging_.exec(
        "CREATE EXTENSION hstore VERSION '1.4'; CREATE EXTENSION pg_trgm VERSION '1.3'; "
        "CREATE EXTENSION pgparity_test_versions VERSION '1.0'");
  }

  /// Writes a manifest with production (reference) and staging (managed) and `body`; returns its path.
  std::string manifest(const std::string& body) { return write_pair_manifest(staging_.dir() + "/manifest.yaml", body); }

  CommandResult pgparity(const std::vector<std::string>& args) {
    return run_pgparity(args,
                        {{"PGPARITY_PROD_DSN", production_.conninfo()}, {"PGPARITY_STAGING_DSN", staging_.conninfo()}});
  }

  nlohmann::json plan_json(const std::string& body, int expected_exit) {
    const CommandResult r = pgparity({"plan", "-f", manifest(body), "--format", "json"});
    EXPECT_EQ(r.exit_code, expected_exit) << r.out << r.err;
    return nlohmann::json::parse(r.out);
  }

  static const nlohmann::json* step(const nlohmann::json& plan, const std::string& id) {
    for (const auto& s : plan["steps"]) {
      if (s["id"] == id) return &s;
    }
    return nullptr;
  }

  Cluster production_{{{"work_mem", "4MB"}, {"shared_buffers", "128MB"}}};
  Cluster staging_{{{"work_mem", "16MB"}, {"shared_buffers", "64MB"}}};
};

TEST_F(Plan, UpdatesAStagingThatIsBehindAlongTheServersPaths) {
  const auto plan = plan_json(
      "extensions:\n  - name: hstore\n    version: reference\n  - name: pg_trgm\n    version: reference\n"
      "  - name: pgparity_test_versions\n    version: reference\n",
      2);
  const auto* hstore = step(plan, "staging/postgres/update/hstore");
  ASSERT_NE(hstore, nullptr) << plan.dump(2);
  EXPECT_EQ((*hstore)["path"], nlohmann::json({"1.4", "1.5", "1.6", "1.7", "1.8"}));
  EXPECT_EQ((*hstore)["sql"][0], "ALTER EXTENSION \"hstore\" UPDATE TO '1.8'");
  const auto* trgm = step(plan, "staging/postgres/update/pg_trgm");
  ASSERT_NE(trgm, nullptr);
  EXPECT_EQ((*trgm)["path"], nlohmann::json({"1.3", "1.4", "1.5", "1.6"}));
  const auto* fixture = step(plan, "staging/postgres/update/pgparity_test_versions");
  ASSERT_NE(fixture, nullptr);
  EXPECT_EQ((*fixture)["path"], nlohmann::json({"1.0", "1.1", "2.0"}));
  EXPECT_TRUE(plan["blockers"].empty());
  EXPECT_EQ(plan["summary"]["changes"], 3);
}

TEST_F(Plan, CreatesCubeBeforeEarthdistance) {
  const auto plan = plan_json("extensions:\n  - name: earthdistance\n    version: default\n", 2);
  std::vector<std::string> ids;
  for (const auto& s : plan["steps"]) ids.push_back(s["id"]);
  const auto cube = std::find(ids.begin(), ids.end(), "staging/postgres/create/cube");
  const auto earth = std::find(ids.begin(), ids.end(), "staging/postgres/create/earthdistance");
  ASSERT_NE(cube, ids.end()) << plan.dump(2);
  ASSERT_NE(earth, ids.end());
  EXPECT_LT(cube, earth);
  EXPECT_EQ((*step(plan, "staging/postgres/create/cube"))["reason"], "required by earthdistance");
}

TEST_F(Plan, DroppingAnExtensionWhoseTypeHoldsUserDataIsBlockedUnlessAllowed) {
  staging_.exec(
      "CREATE EXTENSION citext; CREATE TABLE customers (id int, email citext); "
      "CREATE INDEX ON customers (email)");
  const auto blocked = plan_json("extensions:\n  - name: citext\n    ensure: absent\n", 3);
  ASSERT_EQ(blocked["blockers"].size(), 1u) << blocked.dump(2);
  EXPECT_EQ(blocked["blockers"][0]["code"], "data-loss");
  EXPECT_NE(blocked["blockers"][0]["message"].get<std::string>().find("column email of table public.customers"),
            std::string::npos);
  EXPECT_EQ(step(blocked, "staging/postgres/drop/citext"), nullptr);

  const auto allowed =
      plan_json("extensions:\n  - name: citext\n    ensure: absent\npolicy:\n  allow_data_loss: true\n", 2);
  const auto* drop = step(allowed, "staging/postgres/drop/citext");
  ASSERT_NE(drop, nullptr) << allowed.dump(2);
  EXPECT_EQ((*drop)["cascade"], true);
  std::vector<std::string> objects;
  for (const auto& o : (*drop)["blastRadius"]) objects.push_back(o["object"]);
  EXPECT_EQ(objects,
            (std::vector<std::string>{"column email of table public.customers", "index public.customers_email_idx"}));
}

TEST_F(Plan, AVersionWithNoUpdatePathIsABlocker) {
  const auto plan = plan_json("extensions:\n  - name: pgparity_test_versions\n    version: \"3.0\"\n", 3);
  ASSERT_EQ(plan["blockers"].size(), 1u);
  EXPECT_EQ(plan["blockers"][0]["code"], "no-update-path");
  EXPECT_EQ(plan["blockers"][0]["message"],
            "pgparity_test_versions 1.0 → 3.0: no update path (available: 1.0, 1.1, 2.0, 3.0)");
}

TEST_F(Plan, PgStatStatementsWithoutPreloadIsABlocker) {
  const auto plan =
      plan_json("extensions:\n  - name: pg_stat_statements\n    version: default\n    preload: true\n", 3);
  ASSERT_EQ(plan["blockers"].size(), 1u) << plan.dump(2);
  EXPECT_EQ(plan["blockers"][0]["code"], "preload-missing");
  EXPECT_EQ(plan["blockers"][0]["target"], "staging");
}

TEST_F(Plan, AMissingPreloadLibraryFileIsABlocker) {
  const auto plan = plan_json("settings:\n  preload: [pgparity_no_such_library]\n", 3);
  std::vector<std::string> codes;
  for (const auto& b : plan["blockers"]) codes.push_back(b["code"]);
  EXPECT_EQ(codes, (std::vector<std::string>{"library-file-missing", "preload-missing"})) << plan.dump(2);
}

TEST_F(Plan, DifferentMemoryRatiosAreABlockerAndADifference) {
  const auto plan =
      plan_json("settings:\n  ratios:\n    - expr: \"work_mem / shared_buffers\"\n      match: reference\n", 3);
  ASSERT_EQ(plan["blockers"].size(), 1u);
  EXPECT_EQ(plan["blockers"][0]["message"],
            "work_mem / shared_buffers is 0.25 on staging, 0.03125 on production (tolerance 5 %)");

  const CommandResult diff = pgparity({"diff", "-f", manifest(""), "production", "staging"});
  EXPECT_EQ(diff.exit_code, 2) << diff.err;
  EXPECT_NE(diff.out.find("ratio  work_mem / shared_buffers  production=0.03125  staging=0.25"), std::string::npos)
      << diff.out;
  EXPECT_NE(diff.out.find("extension  postgres: hstore  production=1.8  staging=1.4"), std::string::npos) << diff.out;
}

TEST_F(Plan, DiffOfATargetWithItselfMatches) {
  const CommandResult diff = pgparity({"diff", "-f", manifest(""), "production", "production"});
  EXPECT_EQ(diff.exit_code, 0) << diff.out << diff.err;
  EXPECT_NE(diff.out.find("production and production match"), std::string::npos);
}

TEST_F(Plan, AnExportedClusterPlannedAgainstAnIdenticalOneIsEmpty) {
  // A cluster made identical to production (same settings, same extensions), database by database.
  Cluster twin;
  twin.exec("CREATE EXTENSION hstore; CREATE EXTENSION pg_trgm; CREATE EXTENSION pgparity_test_versions");
  for (Cluster* c : {&production_, &twin}) {
    c->exec("CREATE DATABASE orders");
    c->exec("CREATE EXTENSION earthdistance CASCADE; CREATE EXTENSION hstore VERSION '1.5'", "orders");
  }
  const std::string exported = production_.dir() + "/exported.yaml";
  ASSERT_EQ(run_pgparity(
                {"export", "--dsn", production_.conninfo(), "--name", "production", "--databases", "*", "-o", exported})
                .exit_code,
            0);
  // Add staging as the managed target, as a user adds staging to an exported baseline.
  std::ifstream in(exported);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  text.replace(
      text.find("targets:\n"), 9,
      "targets:\n  staging:\n    dsn: \"" + twin.conninfo() + "\"\n    role: managed\n    databases: [\"*\"]\n");
  std::ofstream(exported) << text;
  const CommandResult r = run_pgparity({"plan", "-f", exported});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(r.out, "pgparity plan: no changes\n");
}

TEST_F(Plan, AManagedTargetPointedAtTheExportedReferenceItselfIsBlocked) {
  const std::string exported = production_.dir() + "/exported.yaml";
  ASSERT_EQ(run_pgparity({"export", "--dsn", production_.conninfo(), "--name", "production", "-o", exported}).exit_code,
            0);
  std::ifstream in(exported);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  text.replace(text.find("targets:\n"), 9,
               "targets:\n  staging:\n    dsn: \"" + production_.conninfo() + "\"\n    role: managed\n");
  std::ofstream(exported) << text;
  const CommandResult r = run_pgparity({"plan", "-f", exported});
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_NE(r.out.find("reaches the same cluster as the reference production"), std::string::npos) << r.out;
}

TEST_F(Plan, SavesAPlanFileWithTheFingerprintAndWritesNothing) {
  const std::string out = staging_.dir() + "/plan.json";
  const std::string catalog = "SELECT string_agg(extname || extversion, ',' ORDER BY extname) FROM pg_extension";
  const std::string before = staging_.query_value(catalog);
  const CommandResult r = pgparity({"plan", "-f", manifest("extensions:\n  - name: hstore\n    version: reference\n"),
                                    "--out", out, "--format", "markdown"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(r.out.rfind("<!-- pgparity-plan -->\n### pgparity plan: 1 to update", 0), 0u) << r.out;
  std::ifstream in(out);
  const auto saved = nlohmann::json::parse(in);
  EXPECT_EQ(saved["kind"], "Plan");
  EXPECT_EQ(saved["fingerprint"].get<std::string>().size(), 64u) << "SHA-256 in hex";
  EXPECT_EQ(staging_.query_value(catalog), before);
}

TEST_F(Plan, QuotingSurvivesHostileNamesOnTheRealServer) {
  // Names that could never pass the manifest loader, quoted by the planner's functions and run for real.
  pqxx::connection c(staging_.conninfo());
  pqxx::work tx(c);
  for (const std::string hostile : {"x\"; DROP TABLE t; --", "it's", "a\\b", "\"\"", "Ünïcødé", "semi;colon"}) {
    tx.exec("CREATE SCHEMA " + planner::quote_ident(hostile));
    EXPECT_EQ(tx.exec1("SELECT count(*) FROM pg_namespace WHERE nspname = " + tx.quote(hostile))[0].as<int>(), 1)
        << hostile;
    EXPECT_EQ(tx.exec1("SELECT " + planner::quote_literal(hostile))[0].as<std::string>(), hostile);
  }
  tx.exec("SET standard_conforming_strings = off");
  EXPECT_EQ(tx.exec1("SELECT " + planner::quote_literal("a\\b'c"))[0].as<std::string>(), "a\\b'c");
}

}  // namespace
}  // namespace pgparity::testing
