// Fleets on real throwaway clusters: which databases a target selects.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "tests/support/cluster.hpp"

namespace pgparity::testing {
namespace {

std::string manifest(const Cluster& staging, const std::string& selection) {
  const std::string path = staging.dir() + "/fleet.yaml";
  std::ofstream(path) << "apiVersion: pgparity/v1\ntargets:\n  staging:\n    dsn: \"" << staging.conninfo()
                      << "\"\n    role: managed\n"
                      << selection << "extensions:\n  - name: hstore\n    version: \"1.8\"\n";
  return path;
}

/// The databases a plan touches (each gets a create step for hstore).
std::set<std::string> planned_databases(const CommandResult& plan) {
  std::set<std::string> out;
  const auto doc = nlohmann::json::parse(plan.out);
  for (const auto& step : doc["steps"]) {
    if (step["kind"] == "create") out.insert(step["database"].get<std::string>());
  }
  return out;
}

TEST(Fleet, AGlobWithAnExcludeSelectsExactlyTheMatchingConnectableDatabases) {
  Cluster staging;
  for (const char* db : {"app_1", "app_2", "app_3", "app_12", "other", "app_template", "app_closed"}) {
    staging.exec(std::string("CREATE DATABASE ") + db);
  }
  staging.exec("ALTER DATABASE app_template IS_TEMPLATE true");
  staging.exec("ALTER DATABASE app_closed ALLOW_CONNECTIONS false");
  const CommandResult plan = run_pgparity(
      {"plan", "-f", manifest(staging, "    databases: [\"app_*\"]\n    exclude: [app_3]\n"), "--format", "json"});
  ASSERT_EQ(plan.exit_code, 2) << plan.out << plan.err;
  EXPECT_EQ(planned_databases(plan), (std::set<std::string>{"app_1", "app_12", "app_2"}))
      << "no app_3 (excluded), no other (no match), no template, no datallowconn = false";
}

TEST(Fleet, APatternThatMatchesNothingIsAWarningInPlanAndAFailureInCheck) {
  Cluster staging;
  const std::string m = manifest(staging, "    databases: [\"shard_[0-9]\"]\n");
  const CommandResult plan = run_pgparity({"plan", "-f", m});
  EXPECT_EQ(plan.exit_code, 0) << plan.out << plan.err;
  EXPECT_NE(plan.out.find("databases pattern 'shard_[0-9]' matches no connectable database"), std::string::npos)
      << plan.out;
  const CommandResult check = run_pgparity({"check", "-f", m});
  EXPECT_EQ(check.exit_code, 2) << check.out << check.err;
  EXPECT_NE(check.out.find("staging: databases pattern shard_[0-9]: matches no connectable database"),
            std::string::npos)
      << check.out;
}

/// apply --auto-approve changes each database on the session that observed it: one connection per
/// database, counted by the server (pg_stat_database.sessions), not two.
TEST(Fleet, AnAutoApprovedApplyChangesEachDatabaseOnTheSessionThatObservedIt) {
  Cluster staging;
  for (const char* db : {"app_1", "app_2", "app_3"}) staging.exec(std::string("CREATE DATABASE ") + db);
  const std::string path = staging.dir() + "/fleet.yaml";
  std::ofstream(path) << "apiVersion: pgparity/v1\ntargets:\n  staging:\n    dsn: \"" << staging.conninfo()
                      << "\"\n    role: managed\n    databases: [\"app_*\"]\nextensions:\n  - name: hstore\n"
                         "    version: \"1.8\"\npolicy:\n  drain:\n    quiet_for: 0s\n";
  const std::string sessions = "SELECT sum(sessions) FROM pg_stat_database WHERE datname LIKE 'app\\_%'";
  const long before = std::stol(staging.query_value(sessions));
  const CommandResult applied = run_pgparity({"apply", "-f", path, "--auto-approve"});
  ASSERT_EQ(applied.exit_code, 0) << applied.out << applied.err;
  long after = before;
  for (int i = 0; i < 50 && after - before < 3; ++i) {  // a backend's counters reach the view when it exits
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    after = std::stol(staging.query_value(sessions));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  after = std::stol(staging.query_value(sessions));
  EXPECT_EQ(after - before, 3) << "one session per database: observed, locked, changed and verified on it\n"
                               << applied.out;
  for (const char* db : {"app_1", "app_2", "app_3"}) {
    EXPECT_EQ(staging.query_value("SELECT extversion FROM pg_extension WHERE extname = 'hstore'", db), "1.8") << db;
  }
}

/// A DSN that asks for SJIS (a client-only encoding whose characters may hold a backslash byte:
/// "ソ" is 0x83 0x5C) changes nothing: every session speaks UTF8, so a database named in Japanese is
/// observed, changed and journaled under its own name.
TEST(Fleet, ADsnAskingForAClientOnlyEncodingStillObservesChangesAndJournalsEveryDatabaseByItsName) {
  Cluster staging;
  const std::string name = "ソース";
  staging.exec("CREATE DATABASE \"" + name + "\"");
  const std::string path = staging.dir() + "/sjis.yaml";
  std::ofstream(path) << "apiVersion: pgparity/v1\ntargets:\n  staging:\n    dsn: \"" << staging.conninfo()
                      << " client_encoding=SJIS\"\n    role: managed\n    databases: [\"*\"]\n"
                         "extensions:\n  - name: hstore\n    version: \"1.8\"\npolicy:\n  drain:\n    quiet_for: 0s\n";
  const CommandResult applied = run_pgparity({"apply", "-f", path, "--auto-approve"});
  ASSERT_EQ(applied.exit_code, 0) << applied.out << applied.err;
  EXPECT_NE(applied.out.find("staging/" + name), std::string::npos) << applied.out;
  EXPECT_EQ(staging.query_value("SELECT extversion FROM pg_extension WHERE extname = 'hstore'", name), "1.8");
  EXPECT_EQ(staging.query_value("SELECT database FROM pgparity.runs", name), name);
}

TEST(Outdated, ListsWhatCouldBeUpgradedInTextAndJson) {
  Cluster staging;
  staging.exec("CREATE EXTENSION hstore VERSION '1.4'; CREATE EXTENSION pg_trgm");
  const std::string m = manifest(staging, "");  // the manifest wants hstore 1.8
  const CommandResult text = run_pgparity({"outdated", "-f", m});
  ASSERT_EQ(text.exit_code, 0) << text.out << text.err;
  EXPECT_NE(text.out.find("staging/postgres  hstore"), std::string::npos) << text.out;
  std::istringstream lines(text.out);
  std::string hstore;
  for (std::string line; std::getline(lines, line);) {
    if (line.find(" hstore ") != std::string::npos) hstore = line;
  }
  EXPECT_NE(hstore.find("1.4"), std::string::npos) << text.out;
  EXPECT_NE(hstore.find("1.8"), std::string::npos) << text.out;
  EXPECT_NE(hstore.find("yes"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("1 update available"), std::string::npos) << text.out;

  const CommandResult json = run_pgparity({"outdated", "-f", m, "--format", "json"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  const auto doc = nlohmann::json::parse(json.out);
  EXPECT_EQ(doc["kind"], "Outdated");
  EXPECT_EQ(doc["updates_available"], 1);
  bool found = false;
  for (const auto& row : doc["extensions"]) {
    if (row["extension"] != "hstore") continue;
    found = true;
    EXPECT_EQ(row["installed"], "1.4");
    EXPECT_EQ(row["desired"], "1.8");
    EXPECT_EQ(row["default"], "1.8");
    EXPECT_EQ(row["latest"], "1.8");
    EXPECT_EQ(row["path_to_latest"], true);
    EXPECT_EQ(row["update_available"], true);
  }
  EXPECT_TRUE(found) << json.out;
  EXPECT_EQ(staging.query_value("SELECT extversion FROM pg_extension WHERE extname = 'hstore'"), "1.4");
}

class Rollout : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* db : {"app_1", "app_2", "app_3", "app_4"}) {
      staging_.exec(std::string("CREATE DATABASE ") + db);
      staging_.exec("CREATE EXTENSION hstore VERSION '1.4'", db);
    }
  }
  std::string manifest(const std::string& policy) {
    const std::string path = staging_.dir() + "/rollout.yaml";
    std::ofstream(path) << "apiVersion: pgparity/v1\ntargets:\n  staging:\n    dsn: \"" << staging_.conninfo()
                        << "\"\n    role: managed\n    databases: [\"app_*\"]\n"
                        << "extensions:\n  - name: hstore\n    version: \"1.8\"\npolicy:\n  drain:\n    quiet_for: 0s\n"
                        << policy;
    return path;
  }
  std::string version_in(const std::string& db) {
    return staging_.query_value("SELECT extversion FROM pg_extension WHERE extname = 'hstore'", db);
  }
  std::string journal_of(const std::string& db) {
    return staging_.query_value("SELECT count(*) FROM pg_namespace WHERE nspname = 'pgparity'", db) == "0"
               ? "none"
               : staging_.query_value("SELECT string_agg(coalesce(wave, '-') || ' ' || status, ',') FROM pgparity.runs",
                                      db);
  }
  Cluster staging_;
};

TEST_F(Rollout, ACanaryWhoseHealthQueryFailsHaltsBeforeAnyOtherDatabaseIsTouched) {
  const std::string m = manifest(
      "  rollout:\n    canary: 1\n    waves: [\"50%\", \"100%\"]\n    soak: 0s\n"
      "  health:\n    hstore: \"SELECT CASE WHEN current_database() = 'app_1' THEN 1 / 0 ELSE 1 END\"\n");
  const CommandResult r = run_pgparity({"apply", "-f", m, "--auto-approve", "--format", "json"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  const auto doc = nlohmann::json::parse(r.out);
  EXPECT_EQ(doc["status"], "halted");
  ASSERT_EQ(doc["halted"].size(), 1u) << r.out;
  EXPECT_EQ(doc["halted"][0]["wave"], "canary");
  EXPECT_EQ(doc["halted"][0]["untouched"], nlohmann::json::array({"app_2", "app_3", "app_4"}));
  EXPECT_NE(r.err.find("rollout halted after canary"), std::string::npos) << r.err;
  for (const char* db : {"app_2", "app_3", "app_4"}) {
    EXPECT_EQ(version_in(db), "1.4") << db;
    EXPECT_EQ(journal_of(db), "none") << db << ": not even a journal";
  }
  EXPECT_EQ(journal_of("app_1"), "canary verify-failed") << "the canary's run says what happened";
}

TEST_F(Rollout, ThreeWavesConvergeEveryDatabaseInTheDocumentedOrderAndTheJournalShowsTheWaves) {
  const std::string m = manifest(
      "  rollout:\n    canary: 1\n    waves: [\"50%\", \"100%\"]\n    soak: 1s\n"
      "  health:\n    hstore: \"SELECT hstore('a', 'b') IS NOT NULL\"\n");
  const CommandResult plan = run_pgparity({"plan", "-f", m});
  EXPECT_EQ(plan.exit_code, 2) << plan.out << plan.err;
  EXPECT_NE(plan.out.find("rollout staging canary: app_1"), std::string::npos) << plan.out;
  EXPECT_NE(plan.out.find("rollout staging wave 1 (50%): app_2"), std::string::npos) << plan.out;
  EXPECT_NE(plan.out.find("rollout staging wave 2 (100%): app_3, app_4"), std::string::npos) << plan.out;
  const CommandResult r = run_pgparity({"apply", "-f", m, "--auto-approve"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  for (const char* db : {"app_1", "app_2", "app_3", "app_4"}) EXPECT_EQ(version_in(db), "1.8") << db;
  EXPECT_EQ(journal_of("app_1"), "canary succeeded");
  EXPECT_EQ(journal_of("app_2"), "wave 1 (50%) succeeded");
  EXPECT_EQ(journal_of("app_3"), "wave 2 (100%) succeeded");
  EXPECT_EQ(journal_of("app_4"), "wave 2 (100%) succeeded");
  const auto started = [&](const std::string& db) {
    return staging_.query_value("SELECT extract(epoch FROM started_at) FROM pgparity.runs", db);
  };
  EXPECT_LT(std::stod(started("app_1")) + 1.0, std::stod(started("app_2"))) << "a soak of 1 s between waves";
  EXPECT_LT(std::stod(started("app_2")) + 1.0, std::stod(started("app_3")));
}

/// --drain-parallel: the quiet windows of many databases overlap while --parallel 1 still changes one at a
/// time. Proven from the journal, not a stopwatch: every run had started (and was waiting for quiet)
/// before the first one finished.
TEST_F(Rollout, DrainsOverlapWhileParallelStillBoundsTheChanges) {
  const std::string path = staging_.dir() + "/drain.yaml";
  std::ofstream(path) << "apiVersion: pgparity/v1\ntargets:\n  staging:\n    dsn: \"" << staging_.conninfo()
                      << "\"\n    role: managed\n    databases: [\"app_*\"]\n"
                      << "extensions:\n  - name: hstore\n    version: \"1.8\"\npolicy:\n  drain:\n    quiet_for: 2s\n";
  const CommandResult r =
      run_pgparity({"apply", "-f", path, "--auto-approve", "--parallel", "1", "--drain-parallel", "4"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  double last_start = 0;
  double first_finish = 1e18;
  for (const char* db : {"app_1", "app_2", "app_3", "app_4"}) {
    EXPECT_EQ(version_in(db), "1.8") << db;
    last_start = std::max(
        last_start, std::stod(staging_.query_value("SELECT extract(epoch FROM started_at) FROM pgparity.runs", db)));
    first_finish = std::min(
        first_finish, std::stod(staging_.query_value("SELECT extract(epoch FROM finished_at) FROM pgparity.runs", db)));
  }
  EXPECT_LT(last_start, first_finish) << "all four waited for quiet together";
}

}  // namespace
}  // namespace pgparity::testing
