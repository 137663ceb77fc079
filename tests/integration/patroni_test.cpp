// A Patroni cluster from Debian's packages (scripts/pgcluster patroni: etcd and two members on
// loopback), as most production PostgreSQL runs: what pgparity does on a node an HA manager owns.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
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

}  // namespace
}  // namespace pgparity::testing
