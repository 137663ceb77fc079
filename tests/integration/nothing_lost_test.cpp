// Nothing lost, nothing stale: configuration tables, dependent objects, saved
// plans bound to what was reviewed, killed runs. Real throwaway clusters only.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <fstream>
#include <pqxx/pqxx>
#include <sstream>
#include <thread>

#include "tests/support/cluster.hpp"

namespace pgparity::testing {
namespace {

using namespace std::chrono_literals;

const std::string quick_drain = "  drain:\n    quiet_for: 0s\n    timeout: 5s\n";
/// pgparity's ALTER EXTENSION, while it runs (the fixture's update script sleeps pgparity_test.sleep seconds).
const std::string running_update =
    "SELECT count(*) FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND application_name = 'pgparity' "
    "AND query LIKE 'ALTER EXTENSION%' AND state = 'active'";

class NothingLost : public ::testing::Test {
 protected:
  explicit NothingLost(const std::map<std::string, std::string>& staging_settings = {}) : staging_(staging_settings) {}

  /// A manifest: production (reference), staging (managed), then `body`; written to `name`.
  std::string manifest(const std::string& body, const std::string& name = "manifest.yaml") {
    return write_pair_manifest(staging_.dir() + "/" + name, body);
  }
  std::map<std::string, std::string> env() const {
    return {{"PGPARITY_PROD_DSN", production_.conninfo()}, {"PGPARITY_STAGING_DSN", staging_.conninfo()}};
  }
  CommandResult pgparity(const std::vector<std::string>& args) { return run_pgparity(args, env()); }
  /// pgparity_test_slow 1.0 installed, its update script set to sleep 120 s; the manifest wants 1.1.
  std::string slow_update_manifest() {
    staging_.exec(
        "CREATE EXTENSION pgparity_test_slow VERSION '1.0'; ALTER DATABASE postgres SET pgparity_test.sleep = '120'");
    return manifest("extensions:\n  - name: pgparity_test_slow\n    version: \"1.1\"\npolicy:\n" + quick_drain);
  }
  /// apply in the background, returned once its ALTER EXTENSION runs (or after 20 s).
  std::unique_ptr<Process> start_slow_update(const std::string& m) {
    auto apply = start_pgparity({"apply", "-f", m, "--auto-approve"}, env());
    for (int i = 0; i < 200 && staging_.query_value(running_update) != "1"; ++i) std::this_thread::sleep_for(100ms);
    return apply;
  }
  std::string version_of(const std::string& extension) {
    return staging_.query_value("SELECT extversion FROM pg_extension WHERE extname = '" + extension + "'");
  }
  std::string config_rows() {
    return staging_.query_value(
        "SELECT string_agg(id || '=' || value, ',' ORDER BY id) FROM pgparity_test_config_rows");
  }

  Cluster production_;
  Cluster staging_;
};

TEST_F(NothingLost, AUserViewOverAnExtensionFunctionIsInTheBlastRadiusAndBlocksTheDrop) {
  staging_.exec("CREATE EXTENSION hstore; CREATE VIEW pairs AS SELECT hstore('a', 'b') AS h");
  const CommandResult r = pgparity({"plan", "-f", manifest("extensions:\n  - name: hstore\n    ensure: absent\n")});
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_NE(r.out.find("view public.pairs"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("DROP EXTENSION \"hstore\" CASCADE"), std::string::npos) << "the blocker shows what would run\n"
                                                                                << r.out;
}

TEST_F(NothingLost, ARecreateKeepsTheConfigurationRowsItsConditionSelects) {
  staging_.exec(
      "CREATE EXTENSION pgparity_test_config VERSION '1.0';"
      "INSERT INTO pgparity_test_config_rows VALUES (1, 'one', 'x'), (2, 'two', NULL)");
  const std::string m = manifest(
      "extensions:\n  - name: pgparity_test_config\n    version: \"2.0\"\npolicy:\n  recreate: always\n" + quick_drain);
  const CommandResult plan = pgparity({"plan", "-f", m});
  EXPECT_EQ(plan.exit_code, 2) << plan.out << plan.err;
  EXPECT_NE(plan.out.find("keeps: 2 rows of public.pgparity_test_config_rows"), std::string::npos) << plan.out;

  // 2.0 has no column legacy, and row 1 holds a value there: without allow_data_loss, nothing changes.
  const CommandResult refused = pgparity({"apply", "-f", m, "--auto-approve"});
  EXPECT_EQ(refused.exit_code, 1) << refused.out << refused.err;
  EXPECT_NE(refused.out.find("no longer has column legacy; its 1 value(s) would be lost"), std::string::npos)
      << refused.out;
  EXPECT_EQ(version_of("pgparity_test_config"), "1.0");

  const std::string allowed = manifest(
      "extensions:\n  - name: pgparity_test_config\n    version: \"2.0\"\npolicy:\n  recreate: always\n"
      "  allow_data_loss: true\n" +
      quick_drain);
  const CommandResult r = pgparity({"apply", "-f", allowed, "--auto-approve"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(version_of("pgparity_test_config"), "2.0");
  EXPECT_EQ(config_rows(), "0=built in,1=one,2=two") << "the new version's own row and the two kept ones";
  EXPECT_NE(r.err.find("no longer has column legacy"), std::string::npos) << "a lost column is reported\n" << r.err;
  EXPECT_EQ(
      staging_.query_value("SELECT count(*) FROM pg_tables WHERE schemaname = 'pgparity' AND tablename LIKE 'keep%'"),
      "0")
      << "the copies are gone";
}

TEST_F(NothingLost, ARecreateNeverDropsWhatUsersAddedToAConfigurationTableAndKeepsItsPrivileges) {
  staging_.exec(
      "CREATE EXTENSION pgparity_test_config VERSION '1.0';"
      "INSERT INTO pgparity_test_config_rows VALUES (1, 'one', NULL);"
      "ALTER TABLE pgparity_test_config_rows ADD COLUMN note text;"
      "UPDATE pgparity_test_config_rows SET note = 'mine' WHERE id = 1;"
      "CREATE INDEX user_index ON pgparity_test_config_rows (value);"
      "CREATE FUNCTION user_trigger() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$;"
      "CREATE TRIGGER user_trigger BEFORE INSERT ON pgparity_test_config_rows FOR EACH ROW EXECUTE FUNCTION "
      "user_trigger();"
      "CREATE ROLE reader; GRANT SELECT ON pgparity_test_config_rows TO reader");
  const std::string acl =
      staging_.query_value("SELECT relacl::text FROM pg_class WHERE relname = 'pgparity_test_config_rows'");
  const std::string body =
      "extensions:\n  - name: pgparity_test_config\n    version: \"2.0\"\npolicy:\n  recreate: always\n" + quick_drain;
  CommandResult r = pgparity({"apply", "-f", manifest(body), "--auto-approve"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("no longer has column note; its 1 value(s) would be lost"), std::string::npos) << r.out;
  EXPECT_EQ(version_of("pgparity_test_config"), "1.0");
  EXPECT_EQ(staging_.query_value("SELECT note FROM pgparity_test_config_rows WHERE id = 1"), "mine");

  // Without the column's values, the index and the trigger still hold it back.
  staging_.exec("ALTER TABLE pgparity_test_config_rows DROP COLUMN note");
  r = pgparity({"apply", "-f", manifest(body), "--auto-approve"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("has no index public.user_index, trigger user_trigger"), std::string::npos) << r.out;
  EXPECT_EQ(version_of("pgparity_test_config"), "1.0");
  EXPECT_EQ(staging_.query_value("SELECT count(*) FROM pg_trigger WHERE tgname = 'user_trigger'"), "1");

  // Allowed to lose them: the recreate runs, and the table's privileges are put back as they were.
  r = pgparity({"apply", "-f", manifest(body + "  allow_data_loss: true\n"), "--auto-approve"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(version_of("pgparity_test_config"), "2.0");
  EXPECT_EQ(config_rows(), "0=built in,1=one");
  EXPECT_EQ(staging_.query_value("SELECT relacl::text FROM pg_class WHERE relname = 'pgparity_test_config_rows'"), acl);
  EXPECT_EQ(staging_.query_value("SELECT has_table_privilege('reader', 'pgparity_test_config_rows', 'SELECT')"), "t");
}

TEST_F(NothingLost, ARecreateSetsASerialSequenceOutsideExtconfigPastTheRowsItKept) {
  staging_.exec(
      "CREATE EXTENSION pgparity_test_serial VERSION '1.0';"
      "INSERT INTO pgparity_test_serial_rows (value) VALUES ('one'), ('two'), ('three')");
  const std::string m = manifest(
      "extensions:\n  - name: pgparity_test_serial\n    version: \"2.0\"\npolicy:\n  recreate: always\n" + quick_drain);
  const CommandResult r = pgparity({"apply", "-f", m, "--auto-approve"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(version_of("pgparity_test_serial"), "2.0");
  // The next row gets a new key, not 1 again (which would collide with a kept row).
  staging_.exec("INSERT INTO pgparity_test_serial_rows (value) VALUES ('four')");
  EXPECT_EQ(
      staging_.query_value("SELECT string_agg(id || '=' || value, ',' ORDER BY id) FROM pgparity_test_serial_rows"),
      "1=one,2=two,3=three,4=four");
}

TEST_F(NothingLost, RowsThatCannotBeRestoredRollTheWholeRecreateBack) {
  staging_.exec(
      "CREATE EXTENSION pgparity_test_config VERSION '1.0';"
      "INSERT INTO pgparity_test_config_rows VALUES (1, 'one', 'x')");
  const std::string m = manifest(
      "extensions:\n  - name: pgparity_test_config\n    version: \"3.0\"\npolicy:\n  recreate: always\n" + quick_drain);
  const CommandResult r = pgparity({"apply", "-f", m, "--auto-approve"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("rolled back"), std::string::npos) << r.out;
  EXPECT_EQ(version_of("pgparity_test_config"), "1.0");
  EXPECT_EQ(config_rows(), "0=built in,1=one");
}

TEST_F(NothingLost, AnObjectCreatedAfterThePlanWasSavedMakesApplyRefuseItAsStale) {
  staging_.exec("CREATE EXTENSION hstore");
  const std::string m =
      manifest("extensions:\n  - name: hstore\n    ensure: absent\npolicy:\n  allow_data_loss: true\n" + quick_drain);
  const std::string saved = staging_.dir() + "/plan.json";
  ASSERT_EQ(pgparity({"plan", "-f", m, "--out", saved}).exit_code, 2);
  staging_.exec("CREATE TABLE kv (id int, h hstore); INSERT INTO kv VALUES (1, 'a=>b')");

  const CommandResult r = pgparity({"apply", "-f", m, "--plan", saved, "--auto-approve"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("stale"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("column h of table public.kv"), std::string::npos) << "names the new dependent\n" << r.err;
  EXPECT_EQ(version_of("hstore"), "1.8");
  EXPECT_EQ(staging_.query_value("SELECT count(*) FROM kv"), "1");
}

TEST_F(NothingLost, ASavedPlanWhoseSqlWasEditedIsRefusedAndTheTableKeepsEveryRow) {
  staging_.exec("CREATE EXTENSION citext; CREATE TABLE kv (k int); INSERT INTO kv SELECT generate_series(1, 5)");
  const std::string m = manifest("extensions:\n  - name: citext\n    ensure: absent\npolicy:\n" + quick_drain);
  const std::string saved = staging_.dir() + "/plan.json";
  ASSERT_EQ(pgparity({"plan", "-f", m, "--out", saved}).exit_code, 2);
  std::stringstream text;
  text << std::ifstream(saved).rdbuf();
  std::string json = text.str();
  const std::string drop = "\"DROP EXTENSION \\\"citext\\\" RESTRICT\"";
  const auto at = json.find(drop);
  ASSERT_NE(at, std::string::npos) << json;
  json.insert(at + drop.size(), ", \"DROP TABLE kv\"");
  std::ofstream(saved) << json;

  const CommandResult r = pgparity({"apply", "-f", m, "--plan", saved, "--auto-approve"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("its SQL differs: the file says DROP TABLE kv"), std::string::npos) << r.err;
  EXPECT_EQ(staging_.query_value("SELECT count(*) FROM kv"), "5");
  EXPECT_EQ(version_of("citext"), "1.6");
}

TEST_F(NothingLost, ASavedPlanAppliedWithAnotherManifestIsRefused) {
  staging_.exec("CREATE EXTENSION citext");
  const std::string m = manifest("extensions:\n  - name: citext\n    ensure: absent\npolicy:\n" + quick_drain);
  const std::string other = manifest(
      "extensions:\n  - name: citext\n    ensure: absent\npolicy:\n  lock_timeout: 7s\n" + quick_drain, "other.yaml");
  const std::string saved = staging_.dir() + "/plan.json";
  ASSERT_EQ(pgparity({"plan", "-f", m, "--out", saved}).exit_code, 2);
  const CommandResult r = pgparity({"apply", "-f", other, "--plan", saved, "--auto-approve"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("another manifest"), std::string::npos) << r.err;
  EXPECT_EQ(version_of("citext"), "1.6");
  const CommandResult same = pgparity({"apply", "-f", m, "--plan", saved, "--auto-approve"});
  EXPECT_EQ(same.exit_code, 0) << same.out << same.err;
  EXPECT_EQ(version_of("citext"), "");
}

TEST_F(NothingLost, AnObjectCreatedWhileApplyWaitsForQuietMakesThePlanStaleAndNothingChanges) {
  staging_.exec("CREATE EXTENSION hstore");
  const std::string m = manifest(
      "extensions:\n  - name: hstore\n    ensure: absent\npolicy:\n  allow_data_loss: true\n"
      "  drain:\n    quiet_for: 4s\n    timeout: 60s\n");
  auto apply = start_pgparity({"apply", "-f", m, "--auto-approve"}, env());
  for (int i = 0; i < 150 && apply->err().find("waiting out quiet_for") == std::string::npos; ++i) {
    std::this_thread::sleep_for(100ms);
  }
  ASSERT_NE(apply->err().find("waiting out quiet_for"), std::string::npos) << apply->err();
  staging_.exec("CREATE TABLE kv (h hstore); INSERT INTO kv VALUES ('a=>b')");
  ASSERT_EQ(apply->wait(60000), 1) << apply->out() << apply->err();
  EXPECT_NE(apply->out().find("plan is stale"), std::string::npos) << apply->out();
  EXPECT_NE(apply->out().find("column h of table public.kv"), std::string::npos) << apply->out();
  EXPECT_EQ(version_of("hstore"), "1.8");
  EXPECT_EQ(staging_.query_value("SELECT count(*) FROM kv"), "1");
}

/// The change session holds the run lock: when its backend goes while the run waits for quiet, the run
/// stops with nothing changed and its journal row failed, instead of carrying on without the lock.
TEST_F(NothingLost, ARunWhoseSessionIsEndedWhileItWaitsForQuietStopsWithNothingChanged) {
  staging_.exec("CREATE EXTENSION hstore VERSION '1.4'");
  const std::string m = manifest(
      "extensions:\n  - name: hstore\n    version: \"1.8\"\npolicy:\n  drain:\n    quiet_for: 4s\n    timeout: 60s\n");
  auto apply = start_pgparity({"apply", "-f", m, "--auto-approve"}, env());
  for (int i = 0; i < 150 && apply->err().find("waiting out quiet_for") == std::string::npos; ++i) {
    std::this_thread::sleep_for(100ms);
  }
  ASSERT_NE(apply->err().find("waiting out quiet_for"), std::string::npos) << apply->err();
  ASSERT_EQ(staging_.query_value("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                 "WHERE application_name = 'pgparity' AND pid <> pg_backend_pid()"),
            "1");
  ASSERT_EQ(apply->wait(60000), 1) << apply->out() << apply->err();
  EXPECT_EQ(version_of("hstore"), "1.4") << apply->out() << apply->err();
  EXPECT_EQ(staging_.query_value("SELECT string_agg(status, ',') FROM pgparity.runs"), "failed") << apply->out();
}

TEST_F(NothingLost, AConnectionLostDuringCommitIsResolvedFromTheSnapshotSoTheJournalMatchesTheCatalog) {
  staging_.exec("CREATE EXTENSION hstore VERSION '1.4'");
  const std::string m = manifest("extensions:\n  - name: hstore\n    version: \"1.8\"\npolicy:\n" + quick_drain);
  auto hooked = env();
  hooked["PGPARITY_TEST_HOOK"] = "terminate-before-commit";
  const CommandResult r = run_pgparity({"apply", "-f", m, "--auto-approve"}, hooked);
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("lost while committing"), std::string::npos) << r.out;
  EXPECT_EQ(version_of("hstore"), "1.4");
  EXPECT_EQ(staging_.query_value("SELECT string_agg(status, ',') FROM pgparity.runs"), "rolled-back")
      << "the journal says what the catalog shows, never a guess";

  const CommandResult again = pgparity({"apply", "-f", m, "--auto-approve"});
  EXPECT_EQ(again.exit_code, 0) << again.out << again.err;
  EXPECT_EQ(version_of("hstore"), "1.8");
  EXPECT_EQ(staging_.query_value("SELECT string_agg(status, ',' ORDER BY started_at) FROM pgparity.runs"),
            "rolled-back,succeeded");
}

TEST_F(NothingLost, AKilledRunFreesItsDatabaseWithinSecondsAndTheNextApplyConverges) {
  const std::string m = slow_update_manifest();
  auto apply = start_slow_update(m);
  ASSERT_EQ(staging_.query_value(running_update), "1") << apply->err();
  apply->signal(SIGKILL);
  apply->wait(5000);
  const auto killed = std::chrono::steady_clock::now();
  for (int i = 0; i < 600 && staging_.query_value(running_update) != "0"; ++i) std::this_thread::sleep_for(50ms);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - killed).count();
  EXPECT_EQ(staging_.query_value(running_update), "0");
  EXPECT_LT(seconds, 20.0) << "the server cancelled the script instead of sleeping out its 120 s";
  std::cerr << "backend gone " << seconds << " s after SIGKILL\n";
  EXPECT_EQ(version_of("pgparity_test_slow"), "1.0");

  staging_.exec("ALTER DATABASE postgres SET pgparity_test.sleep = '0'");
  const CommandResult r = pgparity({"apply", "-f", m, "--auto-approve"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(version_of("pgparity_test_slow"), "1.1");
  EXPECT_EQ(staging_.query_value("SELECT string_agg(status, ',' ORDER BY started_at) FROM pgparity.runs"),
            "interrupted,succeeded");
}

TEST_F(NothingLost, SigtermCancelsARunningScriptAtOnceAndTheTransactionRollsBack) {
  auto apply = start_slow_update(slow_update_manifest());
  ASSERT_EQ(staging_.query_value(running_update), "1") << apply->err();
  const auto signalled = std::chrono::steady_clock::now();
  apply->signal(SIGTERM);
  const auto code = apply->wait(30000);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - signalled).count();
  ASSERT_TRUE(code.has_value()) << "still running 30 s after SIGTERM: the script was not cancelled";
  EXPECT_EQ(*code, 1) << apply->out() << apply->err();
  EXPECT_LT(seconds, 20.0) << "the script's 120 s sleep was cancelled, not waited out";
  std::cerr << "apply ended " << seconds << " s after SIGTERM\n";
  EXPECT_NE(apply->out().find("stopped by a signal"), std::string::npos) << apply->out();
  EXPECT_EQ(version_of("pgparity_test_slow"), "1.0");
  EXPECT_EQ(staging_.query_value("SELECT string_agg(status, ',') FROM pgparity.runs"), "failed")
      << "the run is closed with what happened";
  staging_.exec("ALTER DATABASE postgres SET pgparity_test.sleep = '0'");
}

TEST_F(NothingLost, TerminateIdleEndsOnlyIdleSessionsAndSparesTransactionsReplicationAndPgDump) {
  staging_.exec("CREATE EXTENSION hstore VERSION '1.4'");
  pqxx::connection idle(staging_.conninfo() + " application_name=report");
  pqxx::connection in_transaction(staging_.conninfo() + " application_name=batch");
  pqxx::work open(in_transaction);
  open.exec("SELECT 1");
  pqxx::connection dump(staging_.conninfo() + " application_name=pg_dump");
  pqxx::connection replication(staging_.conninfo() + " replication=database application_name=standby");
  auto alive = [&](int pid) {
    return staging_.query_value("SELECT count(*) FROM pg_stat_activity WHERE pid = " + std::to_string(pid)) == "1";
  };
  ASSERT_TRUE(alive(replication.backendpid()));
  ASSERT_EQ(staging_.query_value("SELECT backend_type FROM pg_stat_activity WHERE pid = " +
                                 std::to_string(replication.backendpid())),
            "walsender");

  const std::string m = manifest(
      "extensions:\n  - name: hstore\n    version: \"1.8\"\npolicy:\n"
      "  drain:\n    quiet_for: 0s\n    timeout: 3s\n    terminate_idle: true\n");
  const CommandResult r = pgparity({"apply", "-f", m, "--auto-approve"});
  EXPECT_EQ(r.exit_code, 1) << "the transaction left open keeps it from being quiet\n" << r.out << r.err;
  EXPECT_NE(r.err.find("terminated sessions (policy.drain.terminate_idle*): pid " + std::to_string(idle.backendpid())),
            std::string::npos)
      << r.err;
  EXPECT_FALSE(alive(idle.backendpid()));
  EXPECT_TRUE(alive(in_transaction.backendpid())) << "idle in transaction needs terminate_idle_in_transaction";
  EXPECT_TRUE(alive(dump.backendpid())) << "pg_dump is on the never_terminate list";
  EXPECT_TRUE(alive(replication.backendpid())) << "replication connections are never terminated";
  EXPECT_EQ(version_of("hstore"), "1.4");
}

/// Whether a query through the pooler gets an answer within 3 s: a paused
/// alias holds it (the admin console hides a paused '*' alias that has no
/// pool from SHOW DATABASES, so what clients see is the test).
bool answers_through(int port) {
  return run_program("timeout",
                     {"3", "psql", "host=127.0.0.1 port=" + std::to_string(port) + " dbname=postgres user=postgres",
                      "-Atc", "SELECT 1"}) == 0;
}

TEST_F(NothingLost, APoolerLeftPausedByAKilledRunIsReportedByDoctorAndResumedByRecover) {
  staging_.exec("CREATE EXTENSION hstore VERSION '1.4'");
  const int port = staging_.start_bouncer("transaction");
  const std::string admin = "host=127.0.0.1 port=" + std::to_string(port) + " dbname=pgbouncer user=postgres";
  {
    pqxx::connection client("host=127.0.0.1 port=" + std::to_string(port) + " dbname=postgres user=postgres");
    pqxx::nontransaction tx(client);
    tx.exec("SELECT 1");  // the alias exists on the pooler
  }
  const std::string m = staging_.dir() + "/pooled.yaml";
  std::ofstream(m)
      << "apiVersion: pgparity/v1\ntargets:\n  staging:\n    dsn: \"${PGPARITY_STAGING_DSN}\"\n    role: managed\n"
         "    pooler:\n      admin_dsn: \""
      << admin
      << "\"\nextensions:\n  - name: hstore\n    version: \"1.8\"\n"
         "policy:\n  drain:\n    quiet_for: 120s\n    timeout: 300s\n";
  auto apply = start_pgparity({"apply", "-f", m, "--auto-approve"}, env());
  for (int i = 0; i < 200 && apply->err().find("waiting out quiet_for") == std::string::npos; ++i) {
    std::this_thread::sleep_for(100ms);
  }
  ASSERT_NE(apply->err().find("waiting out quiet_for"), std::string::npos) << apply->err();
  EXPECT_FALSE(answers_through(port)) << "paused while apply waits for quiet";
  apply->signal(SIGKILL);
  apply->wait(5000);
  EXPECT_FALSE(answers_through(port)) << "nothing resumed it: the process is gone";

  const CommandResult doctor = pgparity({"doctor", "-f", m, "--target", "staging"});
  EXPECT_EQ(doctor.exit_code, 2) << doctor.out << doctor.err;
  EXPECT_NE(doctor.out.find("pooler-left-paused"), std::string::npos) << doctor.out;
  const std::string remedy =
      "pgparity recover -f " + m + " --target staging --database postgres --mode resume-pooler --yes";
  EXPECT_NE(doctor.out.find(remedy), std::string::npos) << doctor.out;

  const CommandResult shown =
      pgparity({"recover", "-f", m, "--target", "staging", "--database", "postgres", "--mode", "resume-pooler"});
  EXPECT_EQ(shown.exit_code, 2) << shown.out << shown.err;
  EXPECT_NE(shown.out.find("RESUME \"postgres\""), std::string::npos) << shown.out;
  EXPECT_FALSE(answers_through(port)) << "without --yes nothing is done";

  const CommandResult resumed = pgparity(
      {"recover", "-f", m, "--target", "staging", "--database", "postgres", "--mode", "resume-pooler", "--yes"});
  EXPECT_EQ(resumed.exit_code, 0) << resumed.out << resumed.err;
  EXPECT_TRUE(answers_through(port)) << "a query gets through the pooler again";
  const CommandResult healthy = pgparity({"doctor", "-f", m, "--target", "staging"});
  EXPECT_EQ(healthy.out.find("pooler-left-paused"), std::string::npos) << healthy.out;
}

/// pg_cron keeps its jobs in cron.job, a configuration table: it needs preloading.
class PgCron : public NothingLost {
 protected:
  PgCron() : NothingLost({{"shared_preload_libraries", "pg_cron"}, {"cron.database_name", "postgres"}}) {}
};

TEST_F(PgCron, DroppingPgCronWithScheduledJobsIsBlockedAndNamesCronJobWithItsRows) {
  staging_.exec(
      "CREATE EXTENSION pg_cron; SELECT cron.schedule('a', '0 1 * * *', 'SELECT 1');"
      "SELECT cron.schedule('b', '0 2 * * *', 'SELECT 2')");
  const CommandResult blocked =
      pgparity({"plan", "-f", manifest("extensions:\n  - name: pg_cron\n    ensure: absent\npolicy:\n" + quick_drain)});
  EXPECT_EQ(blocked.exit_code, 3) << blocked.out << blocked.err;
  EXPECT_NE(blocked.out.find("table cron.job (2 rows)"), std::string::npos) << blocked.out;

  const std::string allowed =
      manifest("extensions:\n  - name: pg_cron\n    ensure: absent\npolicy:\n  allow_data_loss: true\n" + quick_drain);
  const CommandResult r = pgparity({"apply", "-f", allowed, "--auto-approve"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(version_of("pg_cron"), "");
}

}  // namespace
}  // namespace pgparity::testing
