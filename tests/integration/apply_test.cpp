// pgparity apply against real throwaway clusters: nothing here mocks PostgreSQL.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <fstream>
#include <future>
#include <pqxx/pqxx>
#include <sstream>
#include <thread>

#include "tests/support/cluster.hpp"

namespace pgparity::testing {
namespace {

using namespace std::chrono_literals;

class Apply : public ::testing::Test {
 protected:
  /// Writes a manifest: production (reference), staging (managed), then `body`; returns its path.
  std::string manifest(const std::string& body, const std::string& staging_extra = "") {
    return write_pair_manifest(staging_.dir() + "/manifest.yaml", body, staging_extra);
  }

  CommandResult pgparity(const std::vector<std::string>& args) {
    return run_pgparity(args,
                        {{"PGPARITY_PROD_DSN", production_.conninfo()}, {"PGPARITY_STAGING_DSN", staging_.conninfo()}});
  }

  CommandResult apply(const std::string& manifest_path, std::vector<std::string> extra = {}) {
    std::vector<std::string> args{"apply", "-f", manifest_path, "--auto-approve"};
    args.insert(args.end(), extra.begin(), extra.end());
    return pgparity(args);
  }

  std::string version_of(const std::string& extension, const std::string& db = "postgres") {
    return staging_.query_value("SELECT extversion FROM pg_extension WHERE extname = '" + extension + "'", db);
  }

  int runs(const std::string& status = "") {
    if (staging_.query_value("SELECT to_regclass('pgparity.runs')::text").empty()) return 0;
    return std::stoi(staging_.query_value("SELECT count(*) FROM pgparity.runs" +
                                          (status.empty() ? "" : " WHERE status = '" + status + "'")));
  }

  Cluster production_;
  Cluster staging_;
};

const std::string quick_drain = "policy:\n  drain:\n    quiet_for: 0s\n    timeout: 5s\n";

TEST_F(Apply, ConvergesInOneRunAndASecondRunWritesNothing) {
  production_.exec("CREATE EXTENSION hstore; CREATE EXTENSION pg_trgm; CREATE EXTENSION earthdistance CASCADE");
  staging_.exec(
      "CREATE EXTENSION hstore VERSION '1.4'; CREATE EXTENSION pg_trgm VERSION '1.3'; CREATE EXTENSION citext");
  const std::string m = manifest(
      "extensions:\n  - name: hstore\n    version: reference\n  - name: pg_trgm\n    version: reference\n"
      "  - name: earthdistance\n    version: reference\n  - name: citext\n    ensure: absent\n" +
      quick_drain);

  const CommandResult first = apply(m);
  ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
  EXPECT_NE(first.out.find("✓ staging/postgres: 5 steps applied and verified"), std::string::npos) << first.out;
  EXPECT_EQ(version_of("hstore"), "1.8");
  EXPECT_EQ(version_of("pg_trgm"), "1.6");
  EXPECT_EQ(version_of("cube"), "1.5");
  EXPECT_EQ(version_of("earthdistance"), "1.1");
  EXPECT_EQ(version_of("citext"), "");
  EXPECT_EQ(runs("succeeded"), 1);
  EXPECT_EQ(staging_.query_value("SELECT string_agg(extname || '=' || extversion, ',' ORDER BY extname) "
                                 "FROM pgparity.snapshots"),
            "citext=1.6,hstore=1.4,pg_trgm=1.3,plpgsql=1.0")
      << "the snapshot holds the catalog as it was before";

  const CommandResult second = apply(m);
  EXPECT_EQ(second.exit_code, 0) << second.out << second.err;
  EXPECT_NE(second.out.find("nothing to apply"), std::string::npos);
  EXPECT_EQ(runs(), 1) << "a converged apply writes no journal row";

  const CommandResult plan = pgparity({"plan", "-f", m});
  EXPECT_EQ(plan.exit_code, 0) << plan.out;
}

TEST_F(Apply, TheJournalHoldsTheDigestOfTheManifestItAppliedEvenWhenTheFileChangesMeanwhile) {
  staging_.exec("CREATE EXTENSION hstore VERSION '1.4'");
  const std::string m =
      manifest("extensions:\n  - name: hstore\n    version: \"1.8\"\npolicy:\n  drain:\n    quiet_for: 2s\n");
  const std::string applied_text = read_text(m);
  auto apply = start_pgparity({"apply", "-f", m, "--auto-approve"}, {{"PGPARITY_PROD_DSN", production_.conninfo()},
                                                                     {"PGPARITY_STAGING_DSN", staging_.conninfo()}});
  for (int i = 0; i < 200 && apply->err().find("waiting out quiet_for") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_NE(apply->err().find("waiting out quiet_for"), std::string::npos) << apply->err();
  std::ofstream(m) << applied_text << "# a later commit, pulled while the run waits\n";  // loaded already
  ASSERT_EQ(apply->wait(60'000), 0) << apply->out() << apply->err();
  const std::string journal =
      staging_.query_value("SELECT string_agg(DISTINCT manifest_digest, ',') FROM pgparity.runs");
  const auto sha256 = [this](const std::string& text) {
    pqxx::connection c(staging_.conninfo());
    pqxx::nontransaction tx(c);
    return tx.exec_params1("SELECT encode(sha256(convert_to($1, 'UTF8')), 'hex')", text)[0].as<std::string>();
  };
  EXPECT_EQ(journal, sha256(applied_text)) << "the digest of the bytes that were loaded and applied";
  EXPECT_NE(journal, sha256(read_text(m)));
}

TEST_F(Apply, FormatJsonIsOneDocumentWithRunIdsStepDurationsAndTheSqlstateOfAFailure) {
  staging_.exec("CREATE EXTENSION hstore VERSION '1.4'");
  staging_.exec("CREATE DATABASE broken");
  staging_.exec("CREATE EXTENSION pgparity_test_fails VERSION '1.0'", "broken");
  const std::string m = manifest(
      "extensions:\n  - name: hstore\n    version: \"1.8\"\n    databases: [postgres]\n"
      "  - name: pgparity_test_fails\n    version: \"1.1\"\n    databases: [broken]\n"
      "policy:\n  drain:\n    quiet_for: 0s\n",
      "    databases: [postgres, broken]\n");
  const CommandResult r = apply(m, {"--format", "json"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  const auto doc = nlohmann::json::parse(r.out);  // stdout holds the document and nothing else
  EXPECT_EQ(doc["kind"], "ApplyResult");
  EXPECT_EQ(doc["status"], "failed");
  ASSERT_EQ(doc["databases"].size(), 2u) << doc.dump(2);
  const auto& broken = doc["databases"][0];
  EXPECT_EQ(broken["database"], "broken");
  EXPECT_EQ(broken["status"], "failed");
  EXPECT_EQ(broken["error"]["sqlstate"], "P0001") << "RAISE EXCEPTION in the update script";
  EXPECT_FALSE(broken["run_id"].get<std::string>().empty());
  const auto& ok = doc["databases"][1];
  EXPECT_EQ(ok["database"], "postgres");
  EXPECT_EQ(ok["status"], "applied");
  EXPECT_EQ(ok["steps_done"], 1);
  ASSERT_EQ(ok["steps"].size(), 1u);
  EXPECT_EQ(ok["steps"][0]["id"], "staging/postgres/update/hstore");
  EXPECT_EQ(ok["steps"][0]["step"], "update");
  EXPECT_EQ(ok["steps"][0]["extension"], "hstore") << "the field names of reconcile's JSON log events";
  EXPECT_TRUE(ok["steps"][0]["duration_ms"].is_number());
  EXPECT_EQ(ok["run_id"], staging_.query_value("SELECT run_id FROM pgparity.runs WHERE database = 'postgres'"));
  EXPECT_NE(r.err.find("apply: 1 changed, 1 failed"), std::string::npos) << "people read the summary on stderr";
}

TEST_F(Apply, KeepsEveryRowOfTablesThatUseTheExtensionsTypes) {
  staging_.exec(
      "CREATE EXTENSION hstore VERSION '1.4'; CREATE EXTENSION citext VERSION '1.4'; "
      "CREATE TABLE customers (id int PRIMARY KEY, tags hstore, email citext); "
      "INSERT INTO customers SELECT g, hstore('n', g::text), 'User' || g || '@Example.com' "
      "FROM generate_series(1, 5000) g");
  const std::string checksum =
      "SELECT count(*) || ':' || md5(string_agg(id || tags::text || email::text, ',' ORDER BY id)) FROM customers";
  const std::string before = staging_.query_value(checksum);
  const CommandResult r = apply(manifest(
      "extensions:\n  - name: hstore\n    version: \"1.8\"\n  - name: citext\n    version: \"1.6\"\n" + quick_drain));
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(version_of("hstore"), "1.8");
  EXPECT_EQ(version_of("citext"), "1.6");
  EXPECT_EQ(staging_.query_value(checksum), before);
  EXPECT_EQ(before.substr(0, 5), "5000:");
}

TEST_F(Apply, RollsBackEverythingWhenALockTimesOutAndNamesTheBlocker) {
  staging_.exec(
      "CREATE EXTENSION hstore VERSION '1.4'; CREATE EXTENSION pgparity_test_slow VERSION '1.0'; "
      "ALTER DATABASE postgres SET pgparity_test.sleep = '0'");
  const std::string m = manifest(
      "extensions:\n  - name: hstore\n    version: \"1.8\"\n  - name: pgparity_test_slow\n    version: \"1.1\"\n"
      "policy:\n  lock_timeout: 1s\n  drain:\n    enabled: false\n");
  pqxx::connection holder(staging_.conninfo());
  pqxx::work hold(holder);
  hold.exec("SELECT * FROM pgparity_test_slow_state");  // AccessShareLock on a member table, until rollback
  const int holder_pid = holder.backendpid();

  const CommandResult blocked = apply(m);
  EXPECT_EQ(blocked.exit_code, 1) << blocked.out << blocked.err;
  EXPECT_NE(blocked.out.find("update pgparity_test_slow 1.0 → 1.1: lock timeout after 1s; blocked by pid " +
                             std::to_string(holder_pid)),
            std::string::npos)
      << blocked.out;
  EXPECT_NE(blocked.out.find("everything in this database was rolled back"), std::string::npos);
  EXPECT_EQ(version_of("hstore"), "1.4") << "hstore was updated in the same transaction, so it rolled back too";
  EXPECT_EQ(version_of("pgparity_test_slow"), "1.0");
  EXPECT_EQ(staging_.query_value("SELECT count(*) FROM pgparity.snapshots"), "0");
  EXPECT_EQ(runs("failed"), 1);

  hold.abort();
  const CommandResult retry = apply(m);
  EXPECT_EQ(retry.exit_code, 0) << retry.out << retry.err;
  EXPECT_EQ(version_of("hstore"), "1.8");
  EXPECT_EQ(version_of("pgparity_test_slow"), "1.1");
}

TEST_F(Apply, AKilledUpgradeLeavesTheCatalogAsItWasAndTheNextRunConverges) {
  staging_.exec(
      "CREATE EXTENSION pgparity_test_slow VERSION '1.0'; "
      "ALTER DATABASE postgres SET pgparity_test.sleep = '30'");
  const std::string m = manifest("extensions:\n  - name: pgparity_test_slow\n    version: \"1.1\"\n" + quick_drain);
  auto running = std::async(std::launch::async, [&] { return apply(m); });
  std::string pid;
  for (int i = 0; i < 200 && pid.empty(); ++i) {
    std::this_thread::sleep_for(100ms);
    pid = staging_.query_value(
        "SELECT pid FROM pg_stat_activity WHERE application_name = 'pgparity' "
        "AND query LIKE 'ALTER EXTENSION%' AND state = 'active'");
  }
  ASSERT_FALSE(pid.empty()) << "the update never started";
  staging_.exec("SELECT pg_terminate_backend(" + pid + ")");
  const CommandResult killed = running.get();
  EXPECT_EQ(killed.exit_code, 1) << killed.out << killed.err;
  EXPECT_NE(killed.out.find("the connection was lost during update pgparity_test_slow"), std::string::npos)
      << killed.out << killed.err;
  EXPECT_EQ(version_of("pgparity_test_slow"), "1.0");
  EXPECT_EQ(staging_.query_value("SELECT count(*) FROM pgparity.snapshots"), "0");

  staging_.exec("ALTER DATABASE postgres SET pgparity_test.sleep = '0'");
  const CommandResult again = apply(m);
  EXPECT_EQ(again.exit_code, 0) << again.out << again.err;
  EXPECT_EQ(version_of("pgparity_test_slow"), "1.1");
}

TEST_F(Apply, WaitsForAnOpenTransactionShowsProgressAndGivesUpChangingNothing) {
  staging_.exec("CREATE EXTENSION hstore VERSION '1.4'");
  pqxx::connection other(staging_.conninfo() + " application_name=report-job");
  pqxx::work open(other);
  open.exec("SELECT 1");
  const CommandResult r = apply(manifest(
      "extensions:\n  - name: hstore\n    version: \"1.8\"\npolicy:\n  drain:\n    quiet_for: 1s\n    timeout: 3s\n"));
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("draining ("), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("(report-job) idle in transaction"), std::string::npos) << r.err;
  EXPECT_NE(r.out.find("drain timed out after 3s waiting for quiet: still busy; pid " +
                       std::to_string(other.backendpid()) + " (report-job)"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("hint: look at pid " + std::to_string(other.backendpid()) +
                       " in pg_stat_activity; set policy.drain.terminate_idle"),
            std::string::npos)
      << "the timeout names the remedy\n"
      << r.out;
  std::size_t lines = 0;
  for (std::size_t at = r.err.find("draining ("); at != std::string::npos; at = r.err.find("draining (", at + 1))
    ++lines;
  EXPECT_EQ(lines, 1u) << "progress is told when it changes (and every 10 s), not every 250 ms\n" << r.err;
  EXPECT_EQ(version_of("hstore"), "1.4");
}

TEST_F(Apply, TerminateIdleInTransactionEndsAForgottenTransactionAndGoesOn) {
  staging_.exec("CREATE EXTENSION hstore VERSION '1.4'");
  pqxx::connection other(staging_.conninfo() + " application_name=forgotten-psql");
  pqxx::work open(other);
  open.exec("SELECT 1");
  const CommandResult r = apply(
      manifest("extensions:\n  - name: hstore\n    version: \"1.8\"\n"
               "policy:\n  drain:\n    quiet_for: 1s\n    timeout: 20s\n    terminate_idle_in_transaction: true\n"));
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.err.find("terminated sessions (policy.drain.terminate_idle*): pid " + std::to_string(other.backendpid())),
            std::string::npos)
      << r.err;
  EXPECT_EQ(version_of("hstore"), "1.8");
  EXPECT_ANY_THROW(open.exec("SELECT 1"));
}

TEST_F(Apply, OfTwoRunsStartedAtOnceExactlyOneChangesTheDatabase) {
  staging_.exec(
      "CREATE EXTENSION pgparity_test_slow VERSION '1.0'; "
      "ALTER DATABASE postgres SET pgparity_test.sleep = '3'");
  const std::string m = manifest("extensions:\n  - name: pgparity_test_slow\n    version: \"1.1\"\n" + quick_drain);
  auto a = std::async(std::launch::async, [&] { return apply(m); });
  auto b = std::async(std::launch::async, [&] { return apply(m); });
  const CommandResult ra = a.get();
  const CommandResult rb = b.get();
  const int succeeded = (ra.exit_code == 0) + (rb.exit_code == 0);
  EXPECT_EQ(succeeded, 1) << ra.out << ra.err << "\n---\n" << rb.out << rb.err;
  const std::string loser = ra.exit_code == 0 ? rb.out : ra.out;
  EXPECT_NE(loser.find("another pgparity run holds the lock"), std::string::npos) << loser;
  EXPECT_EQ(runs("succeeded"), 1);
  EXPECT_EQ(runs(), 1);
  EXPECT_EQ(version_of("pgparity_test_slow"), "1.1");
}

TEST_F(Apply, ARunThatWaitsForTheLockFindsTheWorkDoneAndChangesNothing) {
  staging_.exec(
      "CREATE EXTENSION pgparity_test_slow VERSION '1.0'; "
      "ALTER DATABASE postgres SET pgparity_test.sleep = '2'");
  const std::string m = manifest("extensions:\n  - name: pgparity_test_slow\n    version: \"1.1\"\n" + quick_drain);
  auto first = std::async(std::launch::async, [&] { return apply(m); });
  std::this_thread::sleep_for(700ms);
  const CommandResult second = apply(m, {"--lock-wait", "30s"});
  EXPECT_EQ(first.get().exit_code, 0);
  EXPECT_EQ(second.exit_code, 0) << second.out << second.err;
  EXPECT_EQ(runs(), 1);
}

TEST_F(Apply, NeverWritesAReferenceTarget) {
  production_.exec("CREATE EXTENSION hstore VERSION '1.4'");
  const std::string path = production_.dir() + "/only-reference.yaml";
  std::ofstream(path) << "apiVersion: pgparity/v1\ntargets:\n  production:\n    dsn: \"" << production_.conninfo()
                      << "\"\n    role: reference\nextensions:\n  - name: hstore\n    version: \"1.8\"\n";
  const CommandResult r = run_pgparity({"apply", "-f", path, "--auto-approve"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("reference targets are never written"), std::string::npos) << r.out;
  EXPECT_EQ(production_.query_value("SELECT extversion FROM pg_extension WHERE extname = 'hstore'"), "1.4");
  EXPECT_EQ(production_.query_value("SELECT to_regnamespace('pgparity')::text"), "");

  const CommandResult named = pgparity({"apply", "-f", manifest(""), "--target", "production", "--auto-approve"});
  EXPECT_EQ(named.exit_code, 1);
  EXPECT_NE(named.err.find("target 'production' is a reference"), std::string::npos) << named.err;
}

TEST_F(Apply, RefusesWithoutConfirmationWhenThereIsNoTerminal) {
  staging_.exec("CREATE EXTENSION hstore VERSION '1.4'");
  const CommandResult r = pgparity({"apply", "-f", manifest("extensions:\n  - name: hstore\n    version: \"1.8\"\n")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("there is no terminal to confirm at (pipelines: pass --auto-approve); nothing was changed"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(version_of("hstore"), "1.4");
}

TEST_F(Apply, RefusesASavedPlanWhenTheDatabaseChangedSince) {
  staging_.exec("CREATE EXTENSION hstore VERSION '1.4'");
  const std::string m = manifest("extensions:\n  - name: hstore\n    version: \"1.8\"\n" + quick_drain);
  const std::string saved = staging_.dir() + "/plan.json";
  ASSERT_EQ(pgparity({"plan", "-f", m, "--out", saved}).exit_code, 2);
  staging_.exec("ALTER EXTENSION hstore UPDATE TO '1.6'");
  const CommandResult stale = pgparity({"apply", "-f", m, "--plan", saved, "--auto-approve"});
  EXPECT_EQ(stale.exit_code, 1);
  EXPECT_NE(stale.err.find("is stale or was edited"), std::string::npos) << stale.err;
  EXPECT_NE(stale.err.find("planned 1.4 → 1.8, now 1.6 → 1.8"), std::string::npos) << stale.err;
  EXPECT_NE(stale.err.find("staging/postgres/update/hstore"), std::string::npos) << stale.err;
  EXPECT_EQ(version_of("hstore"), "1.6");

  ASSERT_EQ(pgparity({"plan", "-f", m, "--out", saved}).exit_code, 2);
  const CommandResult fresh = pgparity({"apply", "-f", m, "--plan", saved, "--auto-approve"});
  EXPECT_EQ(fresh.exit_code, 0) << fresh.out << fresh.err;
  EXPECT_EQ(version_of("hstore"), "1.8");
}

TEST_F(Apply, SetsServerSettingsAndReloads) {
  const CommandResult r = apply(manifest("settings:\n  values:\n    work_mem: \"3MB\"\n    lock_timeout: \"7s\"\n"));
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(staging_.query_value("SHOW work_mem"), "3MB");
  EXPECT_EQ(staging_.query_value("SHOW lock_timeout"), "7s");
  EXPECT_EQ(apply(manifest("settings:\n  values:\n    work_mem: \"3MB\"\n")).exit_code, 0);
}

TEST_F(Apply, FailsVerificationWhenAHealthQueryFails) {
  staging_.exec("CREATE EXTENSION hstore VERSION '1.4'");
  const CommandResult r = apply(manifest("extensions:\n  - name: hstore\n    version: \"1.8\"\n" + quick_drain +
                                         "  health:\n    hstore: \"SELECT no_such_function()\"\n"));
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find("verification failed; health query for hstore failed"), std::string::npos) << r.out;
  EXPECT_EQ(runs("verify-failed"), 1);
}

TEST_F(Apply, PausesAndResumesPgBouncerAndItsClientSurvives) {
  staging_.exec("CREATE EXTENSION hstore VERSION '1.4'; CREATE TABLE ticks (n int)");
  const int port = staging_.start_bouncer("transaction");
  const std::string admin = "host=127.0.0.1 port=" + std::to_string(port) + " dbname=pgbouncer user=postgres";
  pqxx::connection client("host=127.0.0.1 port=" + std::to_string(port) + " dbname=postgres user=postgres");
  {
    pqxx::nontransaction tx(client);
    tx.exec("INSERT INTO ticks VALUES (1)");
  }
  const CommandResult r = apply(manifest("extensions:\n  - name: hstore\n    version: \"1.8\"\n" + quick_drain,
                                         "    pooler:\n      admin_dsn: \"" + admin + "\"\n"));
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.err.find("pausing postgres on the pooler"), std::string::npos) << r.err;
  EXPECT_EQ(version_of("hstore"), "1.8");
  {
    pqxx::nontransaction tx(client);  // the same client session, through the pooler, after the apply
    tx.exec("INSERT INTO ticks VALUES (2)");
    EXPECT_EQ(tx.exec1("SELECT count(*) FROM ticks")[0].as<int>(), 2);
  }
  // The admin console says the database is not paused any more (psql: libpqxx refuses the console's version).
  std::string csv;
  ASSERT_EQ(run_program("psql", {admin, "--csv", "-c", "SHOW DATABASES"}, &csv), 0);
  std::istringstream lines(csv);
  std::string header;
  std::getline(lines, header);
  const auto column = [&](const std::string& line, const std::string& name) {
    std::vector<std::string> names, values;
    std::istringstream h(header), v(line);
    for (std::string x; std::getline(h, x, ',');) names.push_back(x);
    for (std::string x; std::getline(v, x, ',');) values.push_back(x);
    const auto it = std::find(names.begin(), names.end(), name);
    return it == names.end() ? std::string("?") : values.at(static_cast<std::size_t>(it - names.begin()));
  };
  bool found = false;
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("postgres,", 0) != 0) continue;
    found = true;
    EXPECT_EQ(column(line, "paused"), "0") << csv;
  }
  EXPECT_TRUE(found) << csv;
}

}  // namespace
}  // namespace pgparity::testing

namespace pgparity::testing {
namespace {

/// apply at a real pseudo-terminal (util-linux's script), answering `answer`.
CommandResult apply_at_a_terminal(const std::string& manifest_path, const std::string& answer,
                                  const std::map<std::string, std::string>& env) {
  CommandResult r{};
  const std::string command = "printf '" + answer + "\\n' | script -qec '" + std::string(PGPARITY_BIN) + " apply -f " +
                              manifest_path + "' /dev/null";
  r.exit_code = run_program("bash", {"-c", command}, &r.out, &r.err, env);
  return r;
}

TEST_F(Apply, AtATerminalYAndYesGoOnAndAnythingElseIsSaidBack) {
  staging_.exec("CREATE EXTENSION hstore VERSION '1.4'");
  const std::string m = manifest("extensions:\n  - name: hstore\n    version: \"1.8\"\n" + quick_drain);
  const std::map<std::string, std::string> env{{"PGPARITY_PROD_DSN", production_.conninfo()},
                                               {"PGPARITY_STAGING_DSN", staging_.conninfo()}};
  const CommandResult no = apply_at_a_terminal(m, "nope", env);
  EXPECT_NE(no.out.find("not applied: the answer was 'nope', not yes or y; nothing was changed"), std::string::npos)
      << no.out << no.err;
  EXPECT_EQ(version_of("hstore"), "1.4");
  const CommandResult y = apply_at_a_terminal(m, "y", env);
  EXPECT_NE(y.out.find("type yes (or y) to go on"), std::string::npos) << y.out << y.err;
  EXPECT_NE(y.out.find("applied and verified"), std::string::npos) << y.out << y.err;
  EXPECT_EQ(version_of("hstore"), "1.8");
}

}  // namespace
}  // namespace pgparity::testing
