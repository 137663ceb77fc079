// A Patroni cluster from Debian's packages (scripts/pgcluster patroni: etcd and two members on
// loopback), as most production PostgreSQL runs: what pgparity does on a node an HA manager owns.
#include <gtest/gtest.h>

#include <httplib.h>
#include <signal.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>
#include <thread>

#include "tests/support/cluster.hpp"

namespace pgparity::testing {
namespace {

class Patroni : public ::testing::Test {
 protected:
  /// `staging` on the leader, its replica under `replicas:`, then `body`; `patroni.url` when `declared`.
  std::string manifest(const std::string& body, bool declared = false) {
    const std::string path = ha_.dir() + "/manifest.yaml";
    std::ofstream(path) << "apiVersion: pgparity/v1\ntargets:\n  staging:\n    dsn: \"${PGPARITY_STAGING_DSN}\"\n"
                           "    role: managed\n    replicas: [\"${PGPARITY_STANDBY_DSN}\"]\n"
                        << (declared ? "    patroni:\n      url: \"http://127.0.0.1:" + rest_port(1) + "\"\n" : "")
                        << body;
    return path;
  }
  std::string rest_port(int member) const {
    std::string port = read_text(ha_.member(member) + "/rest_port");
    while (!port.empty() && (port.back() == '\n' || port.back() == ' ')) port.pop_back();
    return port;
  }
  CommandResult pgparity(const std::vector<std::string>& args) {
    return run_pgparity(args, {{"PGPARITY_STAGING_DSN", ha_.conninfo(1)}, {"PGPARITY_STANDBY_DSN", ha_.conninfo(2)}});
  }
  std::string auto_conf(int member) const { return read_text(ha_.member(member) + "/data/postgresql.auto.conf"); }
  /// GET <path> from member N's Patroni REST API, as JSON.
  nlohmann::json rest(int member, const std::string& path) const {
    httplib::Client client("http://127.0.0.1:" + rest_port(member));
    const auto res = client.Get(path);
    if (!res) throw std::runtime_error("Patroni m" + std::to_string(member) + " does not answer " + path);
    return nlohmann::json::parse(res->body);
  }
  std::string journal() const {
    return ha_.query_value(1,
                           "SELECT string_agg(CASE database WHEN '' THEN '(settings)' ELSE database END || ' ' || "
                           "status, ', ' ORDER BY started_at) FROM pgparity.runs");
  }

  PatroniCluster ha_;
};

TEST_F(Patroni, AnUndeclaredPatroniNodeRefusesALTERSYSTEMWithABlockerThatSaysWhereTheSettingBelongs) {
  ASSERT_EQ(ha_.query_value(1, "SELECT pg_is_in_recovery()"), "f");
  ASSERT_EQ(ha_.query_value(2, "SELECT status FROM pg_stat_wal_receiver"), "streaming");
  const std::string before_leader = auto_conf(1);
  const std::string before_replica = auto_conf(2);
  const std::string m = manifest("settings:\n  values:\n    work_mem: 8MB\n    max_connections: \"150\"\n");

  const CommandResult planned = pgparity({"plan", "-f", m, "--format", "json"});
  EXPECT_EQ(planned.exit_code, 3) << planned.out << planned.err;
  EXPECT_NE(planned.out.find("\"code\": \"settings-owned-by-ha-manager\""), std::string::npos) << planned.out;
  EXPECT_NE(planned.out.find("\"code\": \"setting-on-command-line\""), std::string::npos)
      << "max_connections comes from Patroni's command line\n"
      << planned.out;
  const CommandResult text = pgparity({"plan", "-f", m});
  EXPECT_NE(text.out.find("an HA manager (Patroni) runs this server: cluster_name"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("postgresql.base.conf (Patroni's layout)"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("patronictl edit-config"), std::string::npos) << text.out;

  const CommandResult applied = pgparity({"apply", "-f", m, "--auto-approve"});
  EXPECT_EQ(applied.exit_code, 3) << applied.out << applied.err;
  EXPECT_EQ(auto_conf(1), before_leader) << "nothing written on the leader";
  EXPECT_EQ(auto_conf(2), before_replica) << "nothing written on the replica";
  EXPECT_EQ(ha_.query_value(1, "SHOW work_mem"), "4MB");

  // Extensions are not the manager's: they are planned as on any server.
  const CommandResult extensions =
      pgparity({"plan", "-f", manifest("extensions:\n  - name: hstore\n    version: default\n")});
  EXPECT_EQ(extensions.exit_code, 2) << extensions.out << extensions.err;
  EXPECT_NE(extensions.out.find("+ create  hstore"), std::string::npos) << extensions.out;
}

TEST_F(Patroni, ADeclaredPatroniTakesTheSettingsInOnePATCHAndEveryMemberRunsThemWithAutoConfUntouched) {
  const std::string before_leader = auto_conf(1);
  const std::string before_replica = auto_conf(2);
  const std::string m = manifest("settings:\n  values:\n    work_mem: 8MB\n", true);

  const CommandResult planned = pgparity({"plan", "-f", m});
  ASSERT_EQ(planned.exit_code, 2) << planned.out << planned.err;
  EXPECT_NE(planned.out.find("PATCH http://127.0.0.1:" + rest_port(1) +
                             "/config {\"postgresql\":{\"parameters\":{\"work_mem\":\"8MB\"}}}"),
            std::string::npos)
      << "the exact JSON\n"
      << planned.out;
  EXPECT_EQ(planned.out.find("ALTER SYSTEM SET"), std::string::npos) << planned.out;
  const CommandResult checked = pgparity({"check", "-f", m});
  EXPECT_EQ(checked.exit_code, 2) << checked.out << checked.err;
  EXPECT_NE(checked.out.find("work_mem"), std::string::npos) << "check names what Patroni would change\n"
                                                             << checked.out;

  const CommandResult applied = pgparity({"apply", "-f", m, "--auto-approve"});
  ASSERT_EQ(applied.exit_code, 0) << applied.out << applied.err;
  EXPECT_EQ(ha_.query_value(1, "SHOW work_mem"), "8MB");
  std::string replica;
  for (int i = 0; i < 50 && (replica = ha_.query_value(2, "SHOW work_mem")) != "8MB"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  EXPECT_EQ(replica, "8MB") << "Patroni applies its configuration on every member";
  EXPECT_EQ(auto_conf(1), before_leader);
  EXPECT_EQ(auto_conf(2), before_replica);
  EXPECT_EQ(ha_.query_value(1, "SELECT status FROM pgparity.runs WHERE database = '@patroni'"), "succeeded");

  const CommandResult again = pgparity({"plan", "-f", m});
  EXPECT_EQ(again.exit_code, 0) << "converged: Patroni's /config and the members agree\n" << again.out << again.err;
}

TEST_F(Patroni, AnUnreachablePatroniBlocksThePlanWithNothingWritten) {
  const std::string m = ha_.dir() + "/unreachable.yaml";
  std::ofstream(m) << "apiVersion: pgparity/v1\ntargets:\n  staging:\n    dsn: \"${PGPARITY_STAGING_DSN}\"\n"
                      "    role: managed\n    patroni:\n      url: \"http://127.0.0.1:1\"\n"
                      "settings:\n  values:\n    work_mem: 8MB\n";
  const CommandResult planned = pgparity({"plan", "-f", m});
  EXPECT_EQ(planned.exit_code, 3) << planned.out << planned.err;
  EXPECT_NE(planned.out.find("Patroni at http://127.0.0.1:1 does not answer"), std::string::npos) << planned.out;
}

TEST_F(Patroni, APatroniURLOfAnotherClusterOrAValueInAutoConfBlocksThePlanAndNothingIsSent) {
  const std::string m = manifest("settings:\n  values:\n    work_mem: 8MB\n", true);
  // The DSN leads to a plain server, the URL to this Patroni: a PATCH would change the wrong cluster.
  Cluster plain;
  const CommandResult elsewhere = run_pgparity(
      {"plan", "-f", m}, {{"PGPARITY_STAGING_DSN", plain.conninfo()}, {"PGPARITY_STANDBY_DSN", ha_.conninfo(2)}});
  EXPECT_EQ(elsewhere.exit_code, 3) << elsewhere.out << elsewhere.err;
  EXPECT_NE(elsewhere.out.find("patroni.url reaches a member of cluster"), std::string::npos) << elsewhere.out;

  // ALTER SYSTEM left behind on the leader outranks Patroni: said, with the remedy, never "converged".
  pqxx::connection leader(ha_.conninfo(1));
  pqxx::nontransaction tx(leader);
  tx.exec("ALTER SYSTEM SET work_mem = '6MB'");
  tx.exec("SELECT pg_reload_conf()");
  const CommandResult shadowed = pgparity({"plan", "-f", m});
  EXPECT_EQ(shadowed.exit_code, 3) << shadowed.out << shadowed.err;
  EXPECT_NE(shadowed.out.find("in postgresql.auto.conf"), std::string::npos) << shadowed.out;
  EXPECT_NE(shadowed.out.find("ALTER SYSTEM RESET \"work_mem\""), std::string::npos) << shadowed.out;
  tx.exec("ALTER SYSTEM RESET work_mem");
  tx.exec("SELECT pg_reload_conf()");
  // A runner that pins the hosts a manifest may reach pins Patroni's too: nothing is asked of it.
  const CommandResult pinned =
      run_pgparity({"plan", "-f", m}, {{"PGPARITY_STAGING_DSN", ha_.conninfo(1)},
                                       {"PGPARITY_STANDBY_DSN", ha_.conninfo(2)},
                                       {"PGPARITY_ALLOWED_HOSTS", ha_.member(1) + "," + ha_.member(2)}});
  EXPECT_EQ(pinned.exit_code, 3) << pinned.out << pinned.err;
  EXPECT_NE(pinned.out.find("was not asked: its host is not in PGPARITY_ALLOWED_HOSTS"), std::string::npos)
      << pinned.out;
}

TEST_F(Patroni, MaxConnectionsThroughPatroniIsPatchedThenEachMemberRestartedReplicaFirstAndEverythingAgrees) {
  const std::string before_leader = auto_conf(1);
  const std::string before_replica = auto_conf(2);
  const std::string m = manifest(
      "settings:\n  values:\n    work_mem: 8MB\n    max_connections: \"150\"\n"
      "policy:\n  restart:\n    allowed: true\n    timeout: 90s\n",
      true);
  const CommandResult planned = pgparity({"plan", "-f", m});
  ASSERT_EQ(planned.exit_code, 2) << planned.out << planned.err;
  EXPECT_NE(planned.out.find("PATCH http://127.0.0.1:" + rest_port(1) + "/config"), std::string::npos) << planned.out;
  const auto replica_first = planned.out.find("restart member m2 (a replica)");
  const auto leader_next = planned.out.find("restart member m1 (the leader)");
  EXPECT_NE(replica_first, std::string::npos) << planned.out;
  EXPECT_NE(leader_next, std::string::npos) << planned.out;
  EXPECT_LT(replica_first, leader_next) << "the replica first\n" << planned.out;

  const CommandResult applied = pgparity({"apply", "-f", m, "--auto-approve"});
  ASSERT_EQ(applied.exit_code, 0) << applied.out << applied.err;
  EXPECT_LT(applied.out.find("member m2 restarted"), applied.out.find("member m1 restarted")) << applied.out;
  for (int member : {1, 2}) {
    EXPECT_EQ(ha_.query_value(member, "SHOW max_connections"), "150") << "m" << member;
    EXPECT_EQ(ha_.query_value(member, "SHOW work_mem"), "8MB") << "m" << member;
    EXPECT_EQ(ha_.query_value(member, "SELECT count(*) FROM pg_settings WHERE pending_restart"), "0") << "m" << member;
  }
  const auto config = rest(1, "/config");
  EXPECT_EQ(config["postgresql"]["parameters"]["max_connections"].dump(), "\"150\"") << config.dump();
  EXPECT_EQ(config["postgresql"]["parameters"]["work_mem"], "8MB") << config.dump();
  for (const auto& member : rest(1, "/cluster")["members"]) {
    EXPECT_FALSE(member.value("pending_restart", false)) << member.dump();
    EXPECT_EQ(member["state"], "running") << member.dump();
  }
  EXPECT_EQ(auto_conf(1), before_leader);
  EXPECT_EQ(auto_conf(2), before_replica);
  EXPECT_EQ(journal(), "@patroni succeeded, @restart/m2 succeeded, @restart/m1 succeeded");

  const CommandResult again = pgparity({"plan", "-f", m});
  EXPECT_EQ(again.exit_code, 0) << "converged\n" << again.out << again.err;
}

TEST_F(Patroni, APreloadExtensionGoesInWithOneApplyWriteRestartReplicaRestartLeaderCreateVerify) {
  const std::string m = manifest(
      "extensions:\n  - name: pg_stat_statements\n    version: default\n    preload: true\n"
      "policy:\n  manage_preload: true\n  drain:\n    quiet_for: 0s\n  restart:\n    allowed: true\n"
      "    timeout: 90s\n",
      true);
  const CommandResult applied = pgparity({"apply", "-f", m, "--auto-approve"});
  ASSERT_EQ(applied.exit_code, 0) << applied.out << applied.err;
  for (int member : {1, 2}) {
    EXPECT_EQ(ha_.query_value(member, "SHOW shared_preload_libraries"), "pg_stat_statements") << "m" << member;
    std::string works;
    for (int i = 0; i < 50 && (works = ha_.query_value(member, "SELECT count(*) >= 0 FROM pg_stat_statements")) != "t";
         ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the standby replays the CREATE
    }
    EXPECT_EQ(works, "t") << "pg_stat_statements is usable on m" << member;
  }
  EXPECT_EQ(journal(), "@patroni succeeded, @restart/m2 succeeded, @restart/m1 succeeded, postgres succeeded");
  EXPECT_EQ(pgparity({"plan", "-f", m}).exit_code, 0);
}

TEST_F(Patroni, AMemberWhosePatroniStoppedHaltsTheRolloutAndTheLeaderIsNotRestarted) {
  const std::string m = manifest(
      "settings:\n  values:\n    max_connections: \"150\"\npolicy:\n  restart:\n    allowed: true\n"
      "    timeout: 30s\n",
      true);
  const std::string leader_started = ha_.query_value(1, "SELECT pg_postmaster_start_time()");
  // m2's Patroni stops answering (still listed in etcd until its TTL runs out).
  const pid_t replica_patroni = std::stoi(read_text(ha_.member(2) + "/patroni.pid"));
  ASSERT_EQ(kill(replica_patroni, SIGSTOP), 0);
  const CommandResult applied = pgparity({"apply", "-f", m, "--auto-approve"});
  kill(replica_patroni, SIGCONT);
  EXPECT_EQ(applied.exit_code, 1) << applied.out << applied.err;
  EXPECT_NE(
      applied.out.find("✗ staging/@restart/m2: its Patroni at http://127.0.0.1:" + rest_port(2) + " does not answer"),
      std::string::npos)
      << applied.out;
  EXPECT_NE(applied.err.find("restart of member m2 failed"), std::string::npos) << applied.err;
  EXPECT_EQ(ha_.query_value(1, "SELECT pg_postmaster_start_time()"), leader_started) << "the leader was not restarted";
  EXPECT_EQ(journal(), "@patroni succeeded, @restart/m2 failed");
}

TEST_F(Patroni, AValueLeftInAutoConfOnAReplicaIsDriftThatCheckAndDoctorNameWithTheMember) {
  const std::string m = manifest("settings:\n  values:\n    work_mem: 4MB\n", true);
  ASSERT_EQ(pgparity({"check", "-f", m}).exit_code, 0) << "converged to begin with";
  {
    pqxx::connection replica(ha_.conninfo(2));
    pqxx::nontransaction tx(replica);
    tx.exec("ALTER SYSTEM SET maintenance_work_mem = '96MB'");  // by hand, on m2 only
  }
  const CommandResult checked = pgparity({"check", "-f", m});
  EXPECT_EQ(checked.exit_code, 2) << checked.out << checked.err;
  EXPECT_NE(checked.out.find("staging@m2: maintenance_work_mem: staging m2: postgresql.auto.conf holds "
                             "maintenance_work_mem = '96MB'"),
            std::string::npos)
      << checked.out;
  EXPECT_NE(checked.out.find("ALTER SYSTEM RESET \"maintenance_work_mem\""), std::string::npos) << checked.out;
  const CommandResult doctor = pgparity({"doctor", "-f", m, "--target", "staging"});
  EXPECT_NE(doctor.out.find("member m2: postgresql.auto.conf holds maintenance_work_mem = '96MB'"), std::string::npos)
      << doctor.out << doctor.err;
  EXPECT_NE(pgparity({"plan", "-f", m}).out.find("drift: staging m2:"), std::string::npos);
}

TEST_F(Patroni, AfterASwitchoverTheDeclaredTargetFollowsTheNewLeaderAndThePlanIsEmpty) {
  const std::string m = manifest("settings:\n  values:\n    work_mem: 8MB\n", true);
  ASSERT_EQ(pgparity({"apply", "-f", m, "--auto-approve"}).exit_code, 0);
  httplib::Client client("http://127.0.0.1:" + rest_port(1));
  const auto switched = client.Post("/switchover", R"({"leader": "m1", "candidate": "m2"})", "application/json");
  ASSERT_TRUE(switched && switched->status == 200) << (switched ? switched->body : "no answer");
  bool settled = false;
  for (int i = 0; i < 100 && !settled; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    try {
      settled = ha_.query_value(2, "SELECT pg_is_in_recovery()") == "f" &&
                ha_.query_value(1, "SELECT status FROM pg_stat_wal_receiver") == "streaming";
    } catch (const std::exception&) {
      // m1 restarts as a replica
    }
  }
  ASSERT_TRUE(settled) << "m2 leads and m1 streams from it";
  // The manifest still names m1 as the target and m2 as its standby.
  const CommandResult planned = pgparity({"plan", "-f", m});
  EXPECT_EQ(planned.exit_code, 0) << planned.out << planned.err;
  EXPECT_NE(planned.err.find("Patroni's leader is member m2"), std::string::npos) << planned.err;
  EXPECT_EQ(pgparity({"check", "-f", m}).exit_code, 0);
  // A change now goes to the new leader, and the journal is written there.
  const std::string changed = manifest("settings:\n  values:\n    work_mem: 12MB\n", true);
  const CommandResult applied = pgparity({"apply", "-f", changed, "--auto-approve"});
  EXPECT_EQ(applied.exit_code, 0) << applied.out << applied.err;
  EXPECT_EQ(ha_.query_value(2, "SHOW work_mem"), "12MB");
}

TEST_F(Patroni, AMultiHostReadWriteDsnFindsTheLeaderForAManagedTargetAndForAReference) {
  const auto port = [&](int n) {
    std::string p = read_text(ha_.member(n) + "/port");
    while (!p.empty() && (p.back() == '\n' || p.back() == ' ')) p.pop_back();
    return p;
  };
  // The replica first: libpq must pass it by for the leader, for a managed session and a read-only one.
  const std::string multi = "host=" + ha_.member(2) + "," + ha_.member(1) + " port=" + port(2) + "," + port(1) +
                            " user=postgres target_session_attrs=read-write";
  const std::string m = manifest("settings:\n  values:\n    work_mem: 8MB\n", true);
  const CommandResult applied =
      run_pgparity({"apply", "-f", m, "--auto-approve"},
                   {{"PGPARITY_STAGING_DSN", multi}, {"PGPARITY_STANDBY_DSN", ha_.conninfo(2)}});
  EXPECT_EQ(applied.exit_code, 0) << applied.out << applied.err;
  EXPECT_EQ(ha_.query_value(1, "SHOW work_mem"), "8MB");

  Cluster staging;
  const std::string pair =
      write_pair_manifest(ha_.dir() + "/pair.yaml", "extensions:\n  - name: hstore\n    version: default\n");
  ha_.query_value(1, "CREATE EXTENSION IF NOT EXISTS hstore");
  const CommandResult planned =
      run_pgparity({"plan", "-f", pair}, {{"PGPARITY_PROD_DSN", multi}, {"PGPARITY_STAGING_DSN", staging.conninfo()}});
  EXPECT_EQ(planned.exit_code, 2) << planned.out << planned.err;
  EXPECT_NE(planned.out.find("+ create  hstore"), std::string::npos) << planned.out;
}

/// A Patroni whose REST API asks for credentials (restapi.authentication) on what changes something.
TEST(PatroniCredentials, WrongCredentialsBlockThePlanWithNothingSentAndTheRightOnesApplyWithoutBeingPrinted) {
  PatroniCluster ha(2, "pgparity:s3cr3t-rest");
  const std::string rest = read_text(ha.member(1) + "/rest_port");
  const std::string m = ha.dir() + "/manifest.yaml";
  std::ofstream(m) << "apiVersion: pgparity/v1\ntargets:\n  staging:\n    dsn: \"${PGPARITY_STAGING_DSN}\"\n"
                      "    role: managed\n    patroni:\n      url: \"http://127.0.0.1:"
                   << rest.substr(0, rest.find_first_of(" \n"))
                   << "\"\n      username: pgparity\n      password: \"${PGPARITY_PATRONI_PASSWORD}\"\n"
                      "settings:\n  values:\n    work_mem: 8MB\n";
  const auto with = [&](const std::string& password) {
    return std::map<std::string, std::string>{{"PGPARITY_STAGING_DSN", ha.conninfo(1)},
                                              {"PGPARITY_PATRONI_PASSWORD", password}};
  };
  const CommandResult wrong = run_pgparity({"apply", "-f", m, "--auto-approve"}, with("not-it"));
  EXPECT_EQ(wrong.exit_code, 3) << wrong.out << wrong.err;
  EXPECT_NE(wrong.out.find("Patroni answered a PATCH with 401: not authenticated: it would refuse the change"),
            std::string::npos)
      << wrong.out;
  EXPECT_EQ(ha.query_value(1, "SHOW work_mem"), "4MB") << "nothing sent";

  const CommandResult right = run_pgparity({"apply", "-f", m, "--auto-approve"}, with("s3cr3t-rest"));
  EXPECT_EQ(right.exit_code, 0) << right.out << right.err;
  EXPECT_EQ(ha.query_value(1, "SHOW work_mem"), "8MB");
  for (const auto* output : {&wrong.out, &wrong.err, &right.out, &right.err}) {
    EXPECT_EQ(output->find("s3cr3t-rest"), std::string::npos) << *output;
  }
}

}  // namespace
}  // namespace pgparity::testing
