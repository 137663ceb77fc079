// Standbys as part of a target, against a real primary and a real physical
// standby (pg_basebackup -R) with its own private installation.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "tests/support/cluster.hpp"

namespace pgparity::testing {
namespace {

class Replicas : public ::testing::Test {
 protected:
  Replicas() : standby_(Cluster::standby_of(primary_)) {}

  /// A manifest whose managed target `staging` has the standby in replicas, then `body`.
  std::string manifest(const std::string& body) {
    const std::string path = primary_.dir() + "/manifest.yaml";
    std::ofstream(path) << "apiVersion: pgparity/v1\ntargets:\n  staging:\n    dsn: \"${PGPARITY_STAGING_DSN}\"\n"
                           "    role: managed\n    replicas: [\"${PGPARITY_STANDBY_DSN}\"]\n"
                        << body;
    return path;
  }
  CommandResult pgparity(const std::vector<std::string>& args) {
    return run_pgparity(
        args, {{"PGPARITY_STAGING_DSN", primary_.conninfo()}, {"PGPARITY_STANDBY_DSN", standby_->conninfo()}});
  }
  /// Waits until the standby has replayed everything the primary wrote so far.
  void caught_up() {
    const std::string lsn = primary_.query_value("SELECT pg_current_wal_lsn()");
    for (int i = 0; i < 100; ++i) {
      if (standby_->query_value("SELECT pg_last_wal_replay_lsn() >= '" + lsn + "'::pg_lsn") == "t") return;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    FAIL() << "the standby did not catch up";
  }
  /// How messages name the standby: its DSN as mask_dsn writes it ends with its port.
  std::string port_of_standby() const { return "port='" + std::to_string(standby_->port()) + "'"; }

  Cluster primary_;
  std::unique_ptr<Cluster> standby_;
};

const std::string quick = "policy:\n  replica_wait: 3s\n  drain:\n    quiet_for: 0s\n";

TEST_F(Replicas, AStandbyMissingTheNewScriptsBlocksThePlanAndOnceTheyAreThereApplyVerifiesOnTheStandby) {
  primary_.exec("CREATE EXTENSION hstore VERSION '1.4'");
  const std::string script = "/hstore--1.7--1.8.sql";
  std::filesystem::rename(standby_->extension_dir() + script, primary_.dir() + "/kept.sql");
  const std::string m = manifest("extensions:\n  - name: hstore\n    version: \"1.8\"\n" + quick);

  CommandResult r = pgparity({"plan", "-f", m});
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_NE(r.out.find("hstore 1.8 is not available on standby"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(port_of_standby()), std::string::npos) << "the standby is named\n" << r.out;
  r = pgparity({"apply", "-f", m, "--auto-approve"});
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_EQ(primary_.query_value("SELECT extversion FROM pg_extension WHERE extname = 'hstore'"), "1.4");

  std::filesystem::rename(primary_.dir() + "/kept.sql", standby_->extension_dir() + script);
  r = pgparity({"apply", "-f", m, "--auto-approve"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.err.find("replayed past"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(port_of_standby() + " replayed past"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("versions verified in 1 database"), std::string::npos) << r.err;
  // Verified before apply returned: no waiting here.
  EXPECT_EQ(standby_->query_value("SELECT extversion FROM pg_extension WHERE extname = 'hstore'"), "1.8");
}

TEST_F(Replicas, ASettingChangedByHandOnThePrimaryOnlyIsDriftOnTheStandbyAndApplyWritesItThere) {
  primary_.exec("ALTER SYSTEM SET work_mem = '8MB'");
  primary_.exec("SELECT pg_reload_conf()");
  const std::string m = manifest("settings:\n  values:\n    work_mem: 8MB\n" + quick);
  ASSERT_EQ(primary_.query_value("SHOW work_mem"), "8MB");
  ASSERT_EQ(standby_->query_value("SHOW work_mem"), "4MB") << "ALTER SYSTEM is not replicated";

  CommandResult r = pgparity({"check", "-f", m});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.out.find("staging@replica-1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("work_mem"), std::string::npos) << r.out;

  r = pgparity({"apply", "-f", m, "--auto-approve"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  // ALTER SYSTEM on a hot standby: written to its own postgresql.auto.conf and reloaded there.
  EXPECT_EQ(standby_->query_value("SHOW work_mem"), "8MB");
  EXPECT_EQ(primary_.query_value("SHOW work_mem"), "8MB");
  EXPECT_NE(read_text(standby_->dir() + "/data/postgresql.auto.conf").find("work_mem = '8MB'"), std::string::npos);
  r = pgparity({"check", "-f", m});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
}

TEST_F(Replicas, AStandbysSettingsAreRehearsedOnTheStandbyNotOnItsPrimary) {
  primary_.exec("ALTER SYSTEM SET work_mem = '8MB'");
  primary_.exec("SELECT pg_reload_conf()");
  for (Cluster* c : {&primary_, standby_.get()}) {
    c->set("log_statement", "all");
    c->reload();
  }
  const std::string m = manifest("settings:\n  values:\n    work_mem: 8MB\n" + quick);
  const CommandResult r = pgparity({"plan", "-f", m, "--rehearse"});
  ASSERT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.out.find("rehearsed on staging@replica-1: ✓ 1 step"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("set_config in a transaction that was rolled back on standby replica-1"), std::string::npos)
      << r.out;
  const std::string rehearsed = "set_config('work_mem', '8MB', true)";
  EXPECT_NE(read_text(standby_->dir() + "/server.log").find(rehearsed), std::string::npos)
      << "the standby's own session ran it";
  EXPECT_EQ(read_text(primary_.dir() + "/server.log").find(rehearsed), std::string::npos)
      << "never on the primary, whose value it says nothing about";
  EXPECT_EQ(standby_->query_value("SHOW work_mem"), "4MB") << "rolled back";
}

TEST_F(Replicas, MetricsCreditEachStepToTheDatabaseOrStandbyThatRanIt) {
  primary_.exec("CREATE EXTENSION hstore VERSION '1.4'");
  caught_up();
  const std::string metrics_file = primary_.dir() + "/pgparity.prom";
  const std::string m = manifest(
      "extensions:\n  - name: hstore\n    version: \"1.8\"\nsettings:\n  values:\n    work_mem: 8MB\n" + quick);
  standby_->exec("ALTER SYSTEM SET work_mem = '6MB'");  // the standby differs from its primary
  standby_->reload();
  const CommandResult r = pgparity({"reconcile", "-f", m, "--once", "--metrics-file", metrics_file});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const std::string metrics = read_text(metrics_file);
  const auto applied = [&](const std::string& database, const std::string& kind) {
    return sample(metrics, "pgparity_steps_applied_total{database=\"" + database + "\",kind=\"" + kind +
                               "\",target=\"staging\"}");
  };
  EXPECT_EQ(applied("postgres", "update"), 1.0) << metrics;
  EXPECT_EQ(applied("@replica-1", "set"), 1.0) << "the standby's own setting, credited to it\n" << metrics;
  EXPECT_EQ(applied("postgres", "set"), std::nullopt) << "a setting is no database's step\n" << metrics;
  EXPECT_EQ(applied("@replica-1", "update"), std::nullopt) << "a standby replays updates; it does not run them";
  double sets = 0;  // over every label set of kind "set"
  std::istringstream lines(metrics);
  for (std::string l; std::getline(lines, l);) {
    if (l.rfind("pgparity_steps_applied_total{", 0) == 0 && l.find("kind=\"set\"") != std::string::npos) {
      sets += std::stod(l.substr(l.rfind(' ') + 1));
    }
  }
  EXPECT_EQ(sets, 2.0) << "one set on the primary, one on the standby\n" << metrics;
  EXPECT_EQ(standby_->query_value("SHOW work_mem"), "8MB");
}

TEST_F(Replicas, AStandbyThatDoesNotReplayInTimeFailsTheRunAfterReplicaWaitAndIsNamed) {
  primary_.exec("CREATE EXTENSION hstore VERSION '1.4'");
  caught_up();
  standby_->exec("SELECT pg_wal_replay_pause()");
  const std::string m = manifest("extensions:\n  - name: hstore\n    version: \"1.8\"\n" + quick);
  const auto started = std::chrono::steady_clock::now();
  const CommandResult r = pgparity({"apply", "-f", m, "--auto-approve"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_GE(std::chrono::steady_clock::now() - started, std::chrono::seconds(3)) << "it waited replica_wait";
  EXPECT_NE(r.err.find("did not replay past"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(port_of_standby()), std::string::npos) << r.err;
  EXPECT_EQ(primary_.query_value("SELECT extversion FROM pg_extension WHERE extname = 'hstore'"), "1.8");
  standby_->exec("SELECT pg_wal_replay_resume()");
}

TEST_F(Replicas, AStandbyStoppedDuringApplyIsReportedAfterReplicaWaitAndTheRunFails) {
  primary_.exec("CREATE EXTENSION hstore VERSION '1.4'");
  const std::string m = manifest(
      "extensions:\n  - name: hstore\n    version: \"1.8\"\npolicy:\n  replica_wait: 3s\n  drain:\n    quiet_for: "
      "3s\n");
  auto apply =
      start_pgparity({"apply", "-f", m, "--auto-approve", "--format", "json"},
                     {{"PGPARITY_STAGING_DSN", primary_.conninfo()}, {"PGPARITY_STANDBY_DSN", standby_->conninfo()}});
  for (int i = 0; i < 200 && apply->err().find("waiting out quiet_for") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_NE(apply->err().find("waiting out quiet_for"), std::string::npos) << apply->err();
  standby_->stop();  // planned and observed while it ran; gone before the change commits
  EXPECT_EQ(apply->wait(60'000), 1) << apply->out() << apply->err();
  const std::string out = apply->out();
  EXPECT_NE(out.find("\"status\": \"failed\""), std::string::npos) << out;
  EXPECT_NE(out.find("did not replay past"), std::string::npos) << out;
  EXPECT_NE(out.find(port_of_standby()), std::string::npos) << out;
  EXPECT_NE(out.find("@replica-1"), std::string::npos) << out;
  EXPECT_EQ(primary_.query_value("SELECT extversion FROM pg_extension WHERE extname = 'hstore'"), "1.8")
      << "the primary's change stays committed";
  // Where the standby was left is journaled on its primary, for doctor and history.
  EXPECT_EQ(primary_.query_value("SELECT status || ' ' || (error LIKE '%did not replay past%') FROM pgparity.runs "
                                 "WHERE database = '@replica-1'"),
            "failed true");
  standby_->start();
}

TEST_F(Replicas, AnUnreachableStandbyBlocksThePlanAndItsPasswordIsNeverPrinted) {
  const std::string m = manifest("extensions:\n  - name: hstore\n    version: \"1.8\"\n");
  const CommandResult r = run_pgparity(
      {"plan", "-f", m},
      {{"PGPARITY_STAGING_DSN", primary_.conninfo()},
       {"PGPARITY_STANDBY_DSN", "host=127.0.0.1 port=1 user=postgres password=s3cr3t-standby connect_timeout=2"}});
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_NE(r.out.find("cannot be observed"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("password=******** "), std::string::npos) << "the standby is named, masked\n" << r.out;
  EXPECT_EQ((r.out + r.err).find("s3cr3t-standby"), std::string::npos) << r.out << r.err;
}

TEST_F(Replicas, AReplicaThatIsNotAStandbyOfThePrimaryBlocksThePlan) {
  Cluster stranger;
  const std::string m = manifest("extensions:\n  - name: hstore\n    version: \"1.8\"\n");
  const CommandResult r = run_pgparity({"plan", "-f", m}, {{"PGPARITY_STAGING_DSN", primary_.conninfo()},
                                                           {"PGPARITY_STANDBY_DSN", stranger.conninfo()}});
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_NE(r.out.find("it is a primary, not a standby of staging"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace pgparity::testing
