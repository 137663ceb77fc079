// Trust, round two (issue 23): what a manifest from a pull request, a shared
// pooler or a signal can make pgparity do, each against real throwaway clusters.
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <pqxx/pqxx>
#include <thread>

#include "tests/support/cluster.hpp"

namespace pgparity::testing {
namespace {

/// A manifest at `dir`/manifest.yaml with one managed target, staging, then `body`.
std::string staging_manifest(const std::string& dir, const std::string& body, const std::string& staging_extra = "") {
  const std::string path = dir + "/manifest.yaml";
  std::ofstream(path) << "apiVersion: pgparity/v1\ntargets:\n  staging:\n    dsn: \"${PGPARITY_STAGING_DSN}\"\n"
                         "    role: managed\n"
                      << staging_extra << body;
  return path;
}

/// The admin console DSN of a PgBouncer on 127.0.0.1:`port`.
std::string admin(int port) {
  return "host=127.0.0.1 port=" + std::to_string(port) + " dbname=pgbouncer user=postgres";
}

/// psql through a pooler: exit 0 when `SELECT 1` answered within `seconds`.
int answers_within(int port, const std::string& alias, int seconds) {
  return run_program(
      "timeout", {std::to_string(seconds), "psql", "-XAtq",
                  "host=127.0.0.1 port=" + std::to_string(port) + " user=postgres dbname=" + alias, "-c", "SELECT 1"});
}

/// A plan job's role, `planner`: no superuser, owner of hstore 1.4 (a trusted extension) in postgres.
void with_planner(const Cluster& c) {
  c.exec(
      "CREATE ROLE planner LOGIN; GRANT CREATE ON DATABASE postgres TO planner; GRANT CREATE ON SCHEMA public TO "
      "planner");
  pqxx::connection planner(c.conninfo() + " user=planner");
  pqxx::nontransaction(planner).exec("CREATE EXTENSION hstore VERSION '1.4'");
}

TEST(Trust, APreloadListWrittenAsASettingValueIsCheckedForItsFilesOnThePrimaryAndEveryStandby) {
  Cluster primary;
  auto standby = Cluster::standby_of(primary);
  const std::map<std::string, std::string> env{{"PGPARITY_STAGING_DSN", primary.conninfo()},
                                               {"PGPARITY_STANDBY_DSN", standby->conninfo()}};
  const std::string replicas = "    replicas: [\"${PGPARITY_STANDBY_DSN}\"]\n";
  const std::string before = read_text(primary.dir() + "/data/postgresql.auto.conf");

  // A library that exists nowhere: the server would not start again.
  std::string m = staging_manifest(
      primary.dir(),
      "settings:\n  values:\n    shared_preload_libraries: \"pg_stat_statements, pgparity_no_such_library\"\n",
      replicas);
  CommandResult r = run_pgparity({"apply", "-f", m, "--auto-approve"}, env);
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_NE(r.out.find("library pgparity_no_such_library has no file"), std::string::npos) << r.out;
  EXPECT_EQ(read_text(primary.dir() + "/data/postgresql.auto.conf"), before) << "nothing was written";

  // A library that the primary has and one standby lacks: a failover target would not start.
  std::filesystem::rename(standby->library_dir() + "/pg_stat_statements.so", standby->dir() + "/kept.so");
  m = staging_manifest(primary.dir(), "settings:\n  values:\n    shared_preload_libraries: pg_stat_statements\n",
                       replicas);
  r = run_pgparity({"plan", "-f", m}, env);
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_NE(r.out.find("standby"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("library pg_stat_statements has no file"), std::string::npos) << r.out;
  r = run_pgparity({"apply", "-f", m, "--auto-approve"}, env);
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_EQ(read_text(primary.dir() + "/data/postgresql.auto.conf"), before) << "nothing was written";

  // With the file back, the same list is written (and waits for a restart).
  std::filesystem::rename(standby->dir() + "/kept.so", standby->library_dir() + "/pg_stat_statements.so");
  r = run_pgparity({"apply", "-f", m, "--auto-approve"}, env);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(read_text(primary.dir() + "/data/postgresql.auto.conf").find("pg_stat_statements"), std::string::npos);
}

TEST(Trust, AfterASignalNoDatabaseThatHasNotStartedIsLockedPausedOrHasItsSessionsEnded) {
  Cluster staging;
  std::vector<std::string> names;
  for (int i = 1; i <= 10; ++i) {
    const std::string db = (i < 10 ? "d0" : "d") + std::to_string(i);
    staging.exec("CREATE DATABASE " + db);
    staging.exec("CREATE EXTENSION hstore VERSION '1.4'", db);
    names.push_back(db);
  }
  // Open transactions in d05-d10: the policy allows ending them, but only for a change that runs.
  std::vector<std::unique_ptr<pqxx::connection>> open;
  for (int i = 4; i < 10; ++i) {
    open.push_back(std::make_unique<pqxx::connection>(staging.conninfo(names[i])));
    pqxx::nontransaction(*open.back()).exec("BEGIN; SELECT 1");
  }
  const std::string m =
      staging_manifest(staging.dir(),
                       "extensions:\n  - name: hstore\n    version: \"1.8\"\npolicy:\n  drain:\n    quiet_for: 1s\n"
                       "    terminate_idle_in_transaction: true\n",
                       "    databases: [\"d*\"]\n");
  auto apply = start_pgparity({"apply", "-f", m, "--auto-approve", "--parallel", "1", "--drain-parallel", "1"},
                              {{"PGPARITY_STAGING_DSN", staging.conninfo()}});
  std::this_thread::sleep_for(std::chrono::seconds(2));
  apply->signal(SIGINT);
  const auto code = apply->wait(30'000);
  ASSERT_TRUE(code.has_value()) << "apply ended after the signal\n" << apply->out() << apply->err();
  EXPECT_NE(*code, 0) << apply->out();
  for (std::size_t i = 0; i < open.size(); ++i) {
    // The transaction is still open on the same backend: nobody ended it.
    EXPECT_NO_THROW(pqxx::nontransaction(*open[i]).exec("SELECT 1")) << names[i + 4] << "\n" << apply->out();
    EXPECT_EQ(staging.query_value("SELECT extversion FROM pg_extension WHERE extname = 'hstore'", names[i + 4]), "1.4");
    EXPECT_EQ(staging.query_value("SELECT count(*) FROM pg_namespace WHERE nspname = 'pgparity'", names[i + 4]), "0")
        << names[i + 4] << ": no journal row was written";
  }
  EXPECT_NE(apply->out().find("stopped by a signal before it started"), std::string::npos) << apply->out();
}

TEST(Trust, AHealthQueryFromAPullRequestRunsNoProgramUnderPlanRehearse) {
  Cluster staging;
  const std::string marker = staging.dir() + "/program-ran";
  with_planner(staging);
  const std::string m =
      staging_manifest(staging.dir(),
                       "extensions:\n  - name: hstore\n    version: \"1.8\"\npolicy:\n  health:\n    hstore: \"COPY "
                       "(SELECT 1) TO PROGRAM 'touch " +
                           marker + "'\"\n");
  // As a superuser (the role a careless CI gives its plan job): the manifest's SQL is not run at all.
  CommandResult r = run_pgparity({"plan", "-f", m, "--rehearse"}, {{"PGPARITY_STAGING_DSN", staging.conninfo()}});
  EXPECT_FALSE(std::filesystem::exists(marker)) << r.out << r.err;
  EXPECT_NE(r.out.find("health queries not run: the role postgres is a superuser"), std::string::npos) << r.out;
  // As a role without those rights: a health query must be a query, so COPY is a syntax error, never run.
  r = run_pgparity({"plan", "-f", m, "--rehearse"}, {{"PGPARITY_STAGING_DSN", staging.conninfo() + " user=planner"}});
  EXPECT_FALSE(std::filesystem::exists(marker)) << r.out << r.err;
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_NE(r.out.find("health query for hstore failed on the rehearsed versions: syntax error"), std::string::npos)
      << r.out;
  EXPECT_EQ(staging.query_value("SELECT extversion FROM pg_extension WHERE extname = 'hstore'"), "1.4");
  // A health query that is a COMMIT would commit the rehearsed update: it is an error, never run.
  const std::string commit = staging_manifest(
      staging.dir(), "extensions:\n  - name: hstore\n    version: \"1.8\"\npolicy:\n  health:\n    hstore: COMMIT\n");
  r = run_pgparity({"plan", "-f", commit, "--rehearse"},
                   {{"PGPARITY_STAGING_DSN", staging.conninfo() + " user=planner"}});
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_EQ(staging.query_value("SELECT extversion FROM pg_extension WHERE extname = 'hstore'"), "1.4") << r.out;
}

TEST(Trust, ServerErrorTextInAPullRequestCommentCarriesNoPasswordHash) {
  Cluster staging;
  with_planner(staging);
  staging.exec("CREATE ROLE app LOGIN PASSWORD 'app-password'");
  const std::string hash = staging.query_value("SELECT rolpassword FROM pg_authid WHERE rolname = 'app'");
  ASSERT_EQ(hash.rfind("SCRAM-SHA-256$", 0), 0u) << hash;
  // A failing step whose error quotes a hash: the rehearsal runs the step, the server's error comes back.
  staging.exec("CREATE ROLE \"" + hash + "\" NOLOGIN");
  const std::string m =
      staging_manifest(staging.dir(),
                       "extensions:\n  - name: hstore\n    version: \"1.8\"\npolicy:\n  health:\n    hstore: \"SELECT "
                       "(SELECT rolname FROM pg_roles WHERE rolname LIKE 'SCRAM%')::int\"\n");
  const CommandResult r = run_pgparity({"plan", "-f", m, "--rehearse", "--format", "markdown"},
                                       {{"PGPARITY_STAGING_DSN", staging.conninfo() + " user=planner"}});
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_NE(r.out.find("invalid input syntax for type integer"), std::string::npos) << r.out;
  EXPECT_EQ((r.out + r.err).find(hash.substr(14, 20)), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("password hash"), std::string::npos) << r.out;
}

TEST(Trust, APauseThatPgBouncerNeverAnswersIsAbandonedWithinTheDrainTimeoutAndThePoolerIsResumed) {
  Cluster staging;
  staging.exec("CREATE EXTENSION hstore VERSION '1.4'");
  const int bouncer = staging.start_bouncer("session");
  // A client holds its server connection: in session pooling, PAUSE waits for it to leave.
  Process sleeper("psql", {"-XAtq", "host=127.0.0.1 port=" + std::to_string(bouncer) + " user=postgres dbname=postgres",
                           "-c", "SELECT pg_sleep(600)"});
  for (int i = 0; i < 100 && staging.query_value("SELECT count(*) FROM pg_stat_activity WHERE query LIKE "
                                                 "'SELECT pg_sleep(600)%'") != "1";
       ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  const std::string m = staging_manifest(
      staging.dir(), "extensions:\n  - name: hstore\n    version: \"1.8\"\npolicy:\n  drain:\n    timeout: 5s\n",
      "    pooler:\n      admin_dsn: \"" + admin(bouncer) + "\"\n");
  const auto started = std::chrono::steady_clock::now();
  const CommandResult r =
      run_pgparity({"apply", "-f", m, "--auto-approve"}, {{"PGPARITY_STAGING_DSN", staging.conninfo()}});
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_LT(seconds, 5 + 20.0) << "bounded by drain.timeout, not by PgBouncer\n" << r.out << r.err;
  EXPECT_NE((r.out + r.err).find("did not pause postgres within 5s; it was resumed"), std::string::npos)
      << r.out << r.err;
  EXPECT_EQ(answers_within(bouncer, "postgres", 10), 0) << "the pooler serves new clients again";
  EXPECT_EQ(staging.query_value("SELECT count(*) FROM pgparity.runs WHERE status = 'running'"), "0");
  EXPECT_EQ(staging.query_value("SELECT count(*) FROM pgparity.pauses WHERE resumed_at IS NULL"), "0");
  EXPECT_EQ(staging.query_value("SELECT extversion FROM pg_extension WHERE extname = 'hstore'"), "1.4");
}

TEST(Trust, OnlyAnAliasProvenToRouteToTheTargetsClusterAndDatabaseIsPaused) {
  Cluster production;
  Cluster staging;
  for (Cluster* c : {&production, &staging}) {
    c->exec("CREATE DATABASE orders");
    c->exec("CREATE EXTENSION hstore VERSION '1.4'", "orders");
  }
  // One pooler: `orders` goes to production, `orders_stg` to staging's orders.
  const int bouncer = staging.start_bouncer(
      "transaction", {"--route", "orders=" + production.dir(), "--route", "orders_stg=" + staging.dir() + ":orders"});
  const std::string m = staging_manifest(
      staging.dir(), "extensions:\n  - name: hstore\n    version: \"1.8\"\npolicy:\n  drain:\n    quiet_for: 4s\n",
      "    databases: [orders]\n    pooler:\n      admin_dsn: \"" + admin(bouncer) + "\"\n");
  // The DSN names staging by address, as the pooler's routes do not: nothing matches by host and port.
  auto apply = start_pgparity({"apply", "-f", m, "--auto-approve"},
                              {{"PGPARITY_STAGING_DSN", "host=127.0.0.1 port=" + std::to_string(staging.port()) +
                                                            " user=postgres dbname=orders"}});
  bool paused = false;
  for (int i = 0; i < 200 && !paused; ++i) {
    try {
      paused = staging.query_value("SELECT count(*) FROM pgparity.pauses WHERE resumed_at IS NULL", "orders") == "1";
    } catch (const std::exception&) {
    }
    if (!paused) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(paused) << apply->out() << apply->err();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_EQ(answers_within(bouncer, "orders", 3), 0) << "production's alias keeps serving";
  EXPECT_NE(answers_within(bouncer, "orders_stg", 2), 0) << "staging's alias is the one paused";
  const auto code = apply->wait(60'000);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 0) << apply->out() << apply->err();
  EXPECT_EQ(staging.query_value("SELECT string_agg(alias, ',') FROM pgparity.pauses", "orders"), "orders_stg");
  EXPECT_EQ(production.query_value("SELECT extversion FROM pg_extension WHERE extname = 'hstore'", "orders"), "1.4");
  EXPECT_EQ(staging.query_value("SELECT extversion FROM pg_extension WHERE extname = 'hstore'", "orders"), "1.8");
}

TEST(Trust, NoPasswordReachesAHostThePullRequestChoseAndPinnedHostsAreRefusedBeforeConnecting) {
  Cluster staging;
  const std::string port_file = staging.dir() + "/fake.port";
  const std::string capture = staging.dir() + "/fake.capture";
  Process fake("python3", {std::string(PGPARITY_SOURCE_DIR) + "/tests/support/fake_endpoint.py", port_file, capture});
  for (int i = 0; i < 100 && read_text(port_file).empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  const int port = std::stoi(read_text(port_file));
  // The pull request adds a pooler of its own; the runner's variable holds staging's password.
  const std::string m = staging_manifest(staging.dir(), "", "    pooler:\n      admin_dsn: \"" + admin(port) + "\"\n");
  const std::map<std::string, std::string> env{
      {"PGPARITY_STAGING_DSN", staging.conninfo() + " password=staging-secret"}};
  CommandResult r = run_pgparity({"plan", "-f", m}, env);
  EXPECT_NE(read_text(capture).find("connect user=postgres database=postgres"), std::string::npos)
      << "the alias was followed\n"
      << read_text(capture) << r.out << r.err;
  EXPECT_EQ(read_text(capture).find("staging-secret"), std::string::npos) << read_text(capture);
  EXPECT_EQ((r.out + r.err).find("staging-secret"), std::string::npos) << r.out << r.err;

  // With the runner's pin, a manifest that reaches elsewhere is refused before anything connects.
  std::filesystem::remove(capture);
  auto pinned = env;
  pinned["PGPARITY_ALLOWED_HOSTS"] = staging.dir();
  r = run_pgparity({"plan", "-f", m}, pinned);
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("it reaches a host (host= or hostaddr=) that PGPARITY_ALLOWED_HOSTS does not list"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("manifest.yaml:"), std::string::npos) << r.err;
  EXPECT_EQ(read_text(capture), "") << "nothing connected to it";
  pinned["PGPARITY_ALLOWED_HOSTS"] = "127.0.0.*, *.0.0.1, " + staging.dir();  // patterns only as *.domain
  r = run_pgparity({"plan", "-f", m}, pinned);
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_EQ(read_text(capture), "") << "nothing connected to it";
  pinned["PGPARITY_ALLOWED_HOSTS"] = staging.dir() + ", 127.0.0.1";
  r = run_pgparity({"plan", "-f", m}, pinned);
  EXPECT_NE(read_text(capture), "") << r.out << r.err;
}

TEST(Trust, ADatabaseOwnerIsToldAtPlanTimeThatAnUntrustedExtensionNeedsASuperuser) {
  Cluster staging;
  staging.exec("CREATE ROLE owner LOGIN");
  staging.exec("CREATE DATABASE app OWNER owner");
  const std::string m = staging_manifest(staging.dir(),
                                         "extensions:\n  - name: pg_stat_statements\n    version: default\n"
                                         "  - name: hstore\n    version: default\n",
                                         "    databases: [app]\n");
  const std::map<std::string, std::string> env{{"PGPARITY_STAGING_DSN", staging.conninfo() + " user=owner"}};
  CommandResult r = run_pgparity({"plan", "-f", m}, env);
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_NE(r.out.find("pg_stat_statements"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("can be created only by a superuser"), std::string::npos) << r.out;
  r = run_pgparity({"apply", "-f", m, "--auto-approve"}, env);
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_EQ(staging.query_value("SELECT count(*) FROM pg_extension WHERE extname <> 'plpgsql'", "app"), "0");
}

/// A primary with databases app_1 … app_4 (citext 1.4 in each) and a standby that has replayed them.
struct RolloutWithStandby {
  RolloutWithStandby() {
    for (int i = 1; i <= 4; ++i) {
      primary.exec("CREATE DATABASE app_" + std::to_string(i));
      primary.exec("CREATE EXTENSION citext VERSION '1.4'", "app_" + std::to_string(i));
    }
    standby = Cluster::standby_of(primary);
    const std::string lsn = primary.query_value("SELECT pg_current_wal_lsn()");
    for (int i = 0; i < 100; ++i) {
      if (standby->query_value("SELECT pg_last_wal_replay_lsn() >= '" + lsn + "'::pg_lsn") == "t") break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  std::string manifest() const {
    return staging_manifest(primary.dir(),
                            "extensions:\n  - name: citext\n    version: \"1.6\"\npolicy:\n  replica_wait: 3s\n"
                            "  drain:\n    quiet_for: 0s\n  rollout:\n    canary: 1\n    waves: [\"100%\"]\n"
                            "    soak: 0s\n",
                            "    databases: [\"app_*\"]\n    replicas: [\"${PGPARITY_STANDBY_DSN}\"]\n");
  }
  std::map<std::string, std::string> env() const {
    return {{"PGPARITY_STAGING_DSN", primary.conninfo()}, {"PGPARITY_STANDBY_DSN", standby->conninfo()}};
  }
  std::string versions() const {
    std::string out;
    for (int i = 1; i <= 4; ++i) {
      out += primary.query_value("SELECT extversion FROM pg_extension WHERE extname = 'citext'",
                                 "app_" + std::to_string(i)) +
             (i < 4 ? "," : "");
    }
    return out;
  }
  Cluster primary;
  std::unique_ptr<Cluster> standby;
};

TEST(Trust, AStandbyWithoutTheExtensionsModuleBlocksThePlanBeforeAnyWave) {
  RolloutWithStandby fleet;
  std::filesystem::rename(fleet.standby->library_dir() + "/citext.so", fleet.standby->dir() + "/kept.so");
  const CommandResult r = run_pgparity({"apply", "-f", fleet.manifest(), "--auto-approve"}, fleet.env());
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_NE(r.out.find("has no citext module"), std::string::npos) << r.out;
  EXPECT_EQ(fleet.versions(), "1.4,1.4,1.4,1.4");
}

TEST(Trust, EachWaveWaitsForItsStandbysAndAStandbyThatDoesNotReplayHaltsTheRollout) {
  RolloutWithStandby fleet;
  fleet.standby->exec("SELECT pg_wal_replay_pause()");
  const CommandResult r = run_pgparity({"apply", "-f", fleet.manifest(), "--auto-approve"}, fleet.env());
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE((r.out + r.err).find("rollout halted after canary"), std::string::npos) << r.out << r.err;
  EXPECT_NE((r.out + r.err).find("did not replay"), std::string::npos) << r.out << r.err;
  EXPECT_EQ(fleet.versions(), "1.6,1.4,1.4,1.4") << "only the canary changed";
  fleet.standby->exec("SELECT pg_wal_replay_resume()");
}

TEST(Trust, ACommitWhoseOutcomeTheConnectionHidIsResolvedFromTheRunsSnapshot) {
  Cluster staging;
  staging.exec("CREATE EXTENSION hstore VERSION '1.4'");
  const std::string m = staging_manifest(
      staging.dir(), "extensions:\n  - name: hstore\n    version: \"1.8\"\npolicy:\n  drain:\n    quiet_for: 0s\n");
  const auto through_relay = [&](const std::string& mode, const std::string& log) {
    const std::string port_file = staging.dir() + "/relay-" + mode + ".port";
    Process relay("python3", {std::string(PGPARITY_SOURCE_DIR) + "/tests/support/commit_cutter.py", mode,
                              std::to_string(staging.port()), port_file, log});
    for (int i = 0; i < 100 && read_text(port_file).empty(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return run_pgparity({"apply", "-f", m, "--auto-approve"},
                        {{"PGPARITY_STAGING_DSN", "host=127.0.0.1 port=" + read_text(port_file) +
                                                      " user=postgres dbname=postgres sslmode=disable "
                                                      "gssencmode=disable"}});
  };
  const std::string status = "SELECT string_agg(status, ',' ORDER BY started_at) FROM pgparity.runs";

  // The COMMIT never reached the server: it rolled back, and the run says so.
  const std::string before_log = staging.dir() + "/before.log";
  CommandResult r = through_relay("before", before_log);
  EXPECT_NE(read_text(before_log).find("dropped the client's COMMIT"), std::string::npos) << r.out << r.err;
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("PostgreSQL rolled the change back; nothing changed"), std::string::npos) << r.out;
  EXPECT_EQ(staging.query_value("SELECT extversion FROM pg_extension WHERE extname = 'hstore'"), "1.4");
  EXPECT_EQ(staging.query_value(status), "rolled-back");

  // The COMMIT was done and its answer lost: the snapshot proves it committed, and it is verified.
  const std::string after_log = staging.dir() + "/after.log";
  r = through_relay("after", after_log);
  EXPECT_NE(read_text(after_log).find("dropped the server's answer to COMMIT"), std::string::npos) << r.out << r.err;
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE((r.out + r.err).find("the run's snapshot is there, so the change committed"), std::string::npos)
      << r.out << r.err;
  EXPECT_EQ(staging.query_value("SELECT extversion FROM pg_extension WHERE extname = 'hstore'"), "1.8");
  EXPECT_EQ(staging.query_value(status), "rolled-back,succeeded");
}

TEST(Trust, NoExtensionIsCreatedInASchemaAnotherRoleOwnsOrMayCreateIn) {
  Cluster staging;
  staging.exec(
      "CREATE ROLE mallory; CREATE SCHEMA shared AUTHORIZATION mallory; CREATE SCHEMA open_to_all;"
      "GRANT CREATE ON SCHEMA open_to_all TO PUBLIC; CREATE SCHEMA ours");
  for (const std::string schema : {"shared", "open_to_all"}) {
    const std::string m = staging_manifest(
        staging.dir(), "extensions:\n  - name: hstore\n    version: \"1.8\"\n    schema: " + schema + "\n");
    const CommandResult r =
        run_pgparity({"apply", "-f", m, "--auto-approve"}, {{"PGPARITY_STAGING_DSN", staging.conninfo()}});
    EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
    EXPECT_NE(r.out.find("schema " + schema + " is owned by, or open to CREATE for"), std::string::npos) << r.out;
    EXPECT_EQ(staging.query_value("SELECT count(*) FROM pg_extension WHERE extname = 'hstore'"), "0");
  }
  const std::string m = staging_manifest(staging.dir(),
                                         "extensions:\n  - name: hstore\n    version: \"1.8\"\n    schema: ours\n"
                                         "policy:\n  drain:\n    quiet_for: 0s\n");
  const CommandResult r =
      run_pgparity({"apply", "-f", m, "--auto-approve"}, {{"PGPARITY_STAGING_DSN", staging.conninfo()}});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
}

}  // namespace
}  // namespace pgparity::testing
