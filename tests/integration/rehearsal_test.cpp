// plan --rehearse against real throwaway clusters: the plan's SQL runs for real and is always rolled back.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>
#include <thread>

#include "tests/support/cluster.hpp"

namespace pgparity::testing {
namespace {

class Rehearsal : public ::testing::Test {
 protected:
  std::string manifest(const std::string& body) { return write_pair_manifest(staging_.dir() + "/manifest.yaml", body); }
  CommandResult pgparity(const std::vector<std::string>& args) {
    return run_pgparity(args,
                        {{"PGPARITY_PROD_DSN", production_.conninfo()}, {"PGPARITY_STAGING_DSN", staging_.conninfo()}});
  }
  std::string catalog() {
    return staging_.query_value(
        "SELECT string_agg(extname || '=' || extversion, ',' ORDER BY extname) FROM pg_extension");
  }
  /// xact_commit of the database once every session on it has gone and its count has settled. A
  /// backend leaves pg_stat_activity before it flushes its statistics, so the count is read until it
  /// holds still; it is read from template1, so that reading it adds nothing to the count it reads.
  std::string commits() {
    const auto read = [&] {
      return staging_.query_value("SELECT xact_commit FROM pg_stat_database WHERE datname = 'postgres'", "template1");
    };
    for (int i = 0; i < 100; ++i) {
      if (staging_.query_value("SELECT count(*) FROM pg_stat_activity WHERE datname = 'postgres'", "template1") ==
          "0") {
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    std::string last = read();
    for (int still = 0; still < 3;) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      const std::string now = read();
      still = now == last ? still + 1 : 0;
      last = now;
    }
    return last;
  }
  /// What the rehearsal leaves behind beyond a plain plan: none of pgparity's journal, locks or commits.
  void expect_nothing_left(const std::string& before_catalog) {
    EXPECT_EQ(catalog(), before_catalog);
    EXPECT_EQ(staging_.query_value("SELECT count(*) FROM pg_namespace WHERE nspname = 'pgparity'"), "0")
        << "no journal";
    EXPECT_EQ(staging_.query_value("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"), "0");
  }

  Cluster production_;
  // Autovacuum's own transactions would count in xact_commit too.
  Cluster staging_{{{"autovacuum", "off"}}};
};

TEST_F(Rehearsal, AFailingUpdateScriptIsCaughtNamedAndLeavesNothingBehind) {
  staging_.exec("CREATE EXTENSION pgparity_test_fails VERSION '1.0'");
  const std::string m = manifest("extensions:\n  - name: pgparity_test_fails\n    version: \"1.1\"\n");
  const std::string before = catalog();
  // The commits a plain plan makes (its read-only observation), to compare the rehearsal with.
  const long long c0 = std::stoll(commits());
  ASSERT_EQ(pgparity({"plan", "-f", m}).exit_code, 2);
  const long long plain = std::stoll(commits()) - c0;

  const long long c1 = std::stoll(commits());
  const CommandResult r = pgparity({"plan", "-f", m, "--rehearse"});
  const long long rehearsed = std::stoll(commits()) - c1;
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_NE(r.out.find("✗ update pgparity_test_fails 1.0 → 1.1: pgparity_test_fails: update script failed on purpose "
                       "(SQLSTATE P0001)"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("rehearsal: failed:"), std::string::npos) << r.out;
  expect_nothing_left(before);
  EXPECT_EQ(staging_.query_value("SELECT to_regclass('pgparity_test_fails_partial') IS NULL"), "t");
  // The rehearsal's one extra session counts one commit when it starts (the server reads its
  // catalogs in a transaction of its own), and two for its read-only checks that the session reached
  // a primary that is not the reference's cluster, as apply checks; the rehearsal itself only rolls back.
  EXPECT_EQ(rehearsed, plain + 3) << "the rehearsal committed nothing beyond the plan's own reads";
}

TEST_F(Rehearsal, AGoodPlanIsRehearsedStepByStepRolledBackAndThenApplied) {
  staging_.exec(
      "CREATE EXTENSION hstore VERSION '1.4'; CREATE EXTENSION pg_trgm VERSION '1.3'; CREATE EXTENSION citext");
  const std::string m = manifest(
      "extensions:\n  - name: hstore\n    version: \"1.8\"\n  - name: pg_trgm\n    version: \"1.6\"\n"
      "  - name: earthdistance\n    version: \"1.1\"\n  - name: citext\n    ensure: absent\n"
      "policy:\n  drain:\n    quiet_for: 0s\n");
  const std::string before = catalog();
  const CommandResult r = pgparity({"plan", "-f", m, "--rehearse", "--format", "json"});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  const auto plan = nlohmann::json::parse(r.out);
  int rehearsed = 0;
  for (const auto& s : plan["steps"]) {
    if (!s.contains("rehearsal")) continue;
    EXPECT_EQ(s["rehearsal"]["status"], "ok") << s.dump();
    rehearsed += s["kind"] != "verify";
  }
  EXPECT_EQ(rehearsed, 5) << "hstore, pg_trgm, cube (required), earthdistance, citext";
  EXPECT_EQ(plan["rehearsal"]["rehearsed"], true);
  EXPECT_EQ(plan["rehearsal"]["fingerprint"], plan["fingerprint"]);
  EXPECT_NE(plan["rehearsal"]["databases"][0].get<std::string>().find("rehearsed on staging/postgres: ✓ 5 steps in"),
            std::string::npos)
      << plan["rehearsal"].dump();
  expect_nothing_left(before);

  const CommandResult markdown = pgparity({"plan", "-f", m, "--rehearse", "--format", "markdown"});
  EXPECT_NE(markdown.out.find("- rehearsed on staging/postgres: ✓ 5 steps in"), std::string::npos) << markdown.out;

  const CommandResult applied = pgparity({"apply", "-f", m, "--auto-approve"});
  EXPECT_EQ(applied.exit_code, 0) << applied.out << applied.err;
  EXPECT_EQ(catalog(), "cube=1.5,earthdistance=1.1,hstore=1.8,pg_trgm=1.6,plpgsql=1.0");
}

TEST_F(Rehearsal, AHealthQueryThatFailsOnlyOnTheNewVersionFailsTheRehearsal) {
  // A plan job's role: no superuser, owner of the (trusted) extension it rehearses.
  staging_.exec(
      "CREATE ROLE planner LOGIN; GRANT CREATE ON DATABASE postgres TO planner; GRANT CREATE ON SCHEMA public TO "
      "planner");
  pqxx::connection as_planner(staging_.conninfo() + " user=planner");
  pqxx::nontransaction(as_planner).exec("CREATE EXTENSION pgparity_test_health VERSION '1.0'");
  ASSERT_EQ(staging_.query_value("SELECT pgparity_test_health_check()"), "1");
  const std::string m = manifest(
      "extensions:\n  - name: pgparity_test_health\n    version: \"1.1\"\n"
      "policy:\n  health:\n    pgparity_test_health: \"SELECT pgparity_test_health_check()\"\n");
  const CommandResult r = run_pgparity(
      {"plan", "-f", m, "--rehearse"},
      {{"PGPARITY_PROD_DSN", production_.conninfo()}, {"PGPARITY_STAGING_DSN", staging_.conninfo() + " user=planner"}});
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_NE(r.out.find("health query for pgparity_test_health failed on the rehearsed versions: pgparity_test_health "
                       "1.1 is broken"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(staging_.query_value("SELECT extversion FROM pg_extension WHERE extname = 'pgparity_test_health'"), "1.0");
}

TEST_F(Rehearsal, ALockHeldByAnotherSessionTimesOutWithinTheRehearsalsLockTimeout) {
  staging_.exec(
      "CREATE EXTENSION pgparity_test_slow VERSION '1.0'; ALTER DATABASE postgres SET pgparity_test.sleep = '0'");
  pqxx::connection holder(staging_.conninfo() + " application_name=report");
  pqxx::work open(holder);
  open.exec("SELECT * FROM pgparity_test_slow_state");  // AccessShareLock until the transaction ends
  const std::string m = manifest(
      "extensions:\n  - name: pgparity_test_slow\n    version: \"1.1\"\n"
      "policy:\n  rehearse:\n    lock_timeout: 1s\n");
  const auto started = std::chrono::steady_clock::now();
  const CommandResult r = pgparity({"plan", "-f", m, "--rehearse"});
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_NE(r.out.find("(SQLSTATE 55P03)"), std::string::npos) << r.out;
  EXPECT_LT(seconds, 60.0) << "bounded by the rehearsal's lock_timeout, not the statement's";
  EXPECT_EQ(staging_.query_value("SELECT extversion FROM pg_extension WHERE extname = 'pgparity_test_slow'"), "1.0");
  EXPECT_EQ(staging_.query_value("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pgparity-rehearsal'"),
            "0")
      << "the rehearsal's session is gone";
}

TEST_F(Rehearsal, SettingsAreCheckedOutOfRangeIsReportedAndAValidWorkMemPassesSetConfig) {
  const CommandResult bad =
      pgparity({"plan", "-f", manifest("settings:\n  values:\n    work_mem: 4TB\n"), "--rehearse"});
  EXPECT_EQ(bad.exit_code, 3) << bad.out << bad.err;
  EXPECT_NE(bad.out.find("work_mem = 4TB is out of range"), std::string::npos) << bad.out;

  const CommandResult good =
      pgparity({"plan", "-f", manifest("settings:\n  values:\n    work_mem: 8MB\n    max_connections: \"150\"\n"),
                "--rehearse"});
  EXPECT_EQ(good.exit_code, 2) << good.out << good.err;
  EXPECT_NE(good.out.find("rehearsal: ok ("), std::string::npos) << good.out;
  EXPECT_NE(good.out.find("set_config in a transaction that was rolled back"), std::string::npos) << good.out;
  EXPECT_NE(good.out.find("its context does not allow set_config"), std::string::npos) << "max_connections\n"
                                                                                       << good.out;
  EXPECT_EQ(staging_.query_value("SHOW work_mem"), "4MB") << "nothing was set";
}

}  // namespace
}  // namespace pgparity::testing
