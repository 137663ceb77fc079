// Restarts as steps of the plan (docs/apply.md, "Restarts"): a preload extension end to end on a
// plain server whose manifest names how it is restarted, against real throwaway clusters.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/support/cluster.hpp"

namespace pgparity::testing {
namespace {

class Restarts : public ::testing::Test {
 protected:
  /// One managed target, `staging`, restarted by `command` (none when empty), then `body`.
  std::string manifest(const std::string& body, const std::vector<std::string>& command) {
    const std::string path = staging_.dir() + "/manifest.yaml";
    std::ofstream out(path);
    out << "apiVersion: pgparity/v1\ntargets:\n  staging:\n    dsn: \"${PGPARITY_STAGING_DSN}\"\n    role: managed\n";
    if (!command.empty()) {
      out << "    restart:\n      command: [";
      for (std::size_t i = 0; i < command.size(); ++i) out << (i ? ", " : "") << '"' << command[i] << '"';
      out << "]\n";
    }
    out << body;
    return path;
  }
  std::vector<std::string> pgcluster_restart() const {
    return {std::string(PGPARITY_SOURCE_DIR) + "/scripts/pgcluster", "restart", staging_.dir()};
  }
  CommandResult pgparity(const std::vector<std::string>& args) {
    return run_pgparity(args, {{"PGPARITY_STAGING_DSN", staging_.conninfo()}});
  }
  std::string journal() const {
    return staging_.query_value(
        "SELECT string_agg(CASE database WHEN '' THEN '(settings)' ELSE database END || ' ' || status, ', ' "
        "ORDER BY started_at) FROM pgparity.runs");
  }

  Cluster staging_;
};

const std::string preload_body =
    "extensions:\n  - name: pg_stat_statements\n    version: default\n    preload: true\n"
    "policy:\n  manage_preload: true\n  restart:\n    allowed: true\n    timeout: 60s\n  drain:\n    quiet_for: 0s\n";

TEST_F(Restarts, APreloadExtensionConvergesInOneApplyWriteThenRestartThenCreateThenVerify) {
  const std::string m = manifest(preload_body, pgcluster_restart());
  const CommandResult planned = pgparity({"plan", "-f", m, "--format", "json"});
  ASSERT_EQ(planned.exit_code, 2) << planned.out << planned.err;
  std::vector<std::string> order;
  const auto plan = nlohmann::json::parse(planned.out);
  for (const auto& s : plan.at("steps")) {
    const std::string kind = s.at("kind");
    if (kind != "preflight" && kind != "drain" && kind != "snapshot" && kind != "verify") order.push_back(s.at("id"));
  }
  EXPECT_EQ(order, (std::vector<std::string>{"staging/set/shared_preload_libraries", "staging/restart",
                                             "staging/postgres/create/pg_stat_statements"}))
      << planned.out;
  EXPECT_TRUE(plan.at("pendingRestarts").empty()) << "nothing is written yet";

  const CommandResult rehearsed = pgparity({"plan", "-f", m, "--rehearse"});
  EXPECT_EQ(rehearsed.exit_code, 2) << "what runs after the restart is not rehearsed before it, nor failed\n"
                                    << rehearsed.out << rehearsed.err;
  EXPECT_NE(rehearsed.out.find("not rehearsed on staging/postgres: its steps run only after the restart"),
            std::string::npos)
      << rehearsed.out;

  const CommandResult applied = pgparity({"apply", "-f", m, "--auto-approve"});
  ASSERT_EQ(applied.exit_code, 0) << applied.out << applied.err;
  EXPECT_NE(applied.err.find("staging: restarting the server for shared_preload_libraries"), std::string::npos)
      << applied.err;
  EXPECT_EQ(staging_.query_value("SHOW shared_preload_libraries"), "pg_stat_statements");
  EXPECT_NE(staging_.query_value("SELECT count(*) FROM pg_stat_statements"), "") << "usable, not only created";
  EXPECT_EQ(journal(), "(settings) succeeded, @restart succeeded, postgres succeeded") << "every stage journaled";
  const CommandResult again = pgparity({"plan", "-f", m});
  EXPECT_EQ(again.exit_code, 0) << again.out << again.err;
}

TEST_F(Restarts, WithoutPermissionToRestartTheCreateWaitsAndTheRestartStaysPending) {
  std::string body = preload_body;
  body.replace(body.find("allowed: true"), 13, "allowed: false");
  const std::string m = manifest(body, pgcluster_restart());
  const CommandResult applied = pgparity({"apply", "-f", m, "--auto-approve"});
  ASSERT_EQ(applied.exit_code, 0) << applied.out << applied.err;
  EXPECT_NE(applied.out.find("is created once the server has restarted with it in shared_preload_libraries"),
            std::string::npos)
      << applied.out;
  EXPECT_EQ(staging_.query_value("SELECT count(*) FROM pg_extension WHERE extname = 'pg_stat_statements'"), "0")
      << "never created while unusable";
  const CommandResult check = pgparity({"check", "-f", m});
  EXPECT_EQ(check.exit_code, 2) << "the pending restart is a deviation\n" << check.out << check.err;
  EXPECT_NE(check.out.find("shared_preload_libraries"), std::string::npos) << check.out;
}

TEST_F(Restarts, ARestartCommandThatFailsHaltsTheRunAndNothingThatNeedsItStarts) {
  const std::string m = manifest(preload_body, {"/bin/sh", "-c", "echo no such unit >&2; exit 5"});
  const std::string started = staging_.query_value("SELECT pg_postmaster_start_time()");
  const CommandResult applied = pgparity({"apply", "-f", m, "--auto-approve"});
  EXPECT_EQ(applied.exit_code, 1) << applied.out << applied.err;
  EXPECT_NE(applied.out.find("the restart command exited 5: no such unit"), std::string::npos) << applied.out;
  EXPECT_EQ(staging_.query_value("SELECT count(*) FROM pg_extension WHERE extname = 'pg_stat_statements'"), "0");
  EXPECT_EQ(staging_.query_value("SELECT pg_postmaster_start_time()"), started);
  EXPECT_EQ(journal(), "(settings) succeeded, @restart failed");
}

TEST_F(Restarts, ARestartCommandMustBeAnAbsoluteProgramAndAPullRequestPlanNeverRunsIt) {
  const CommandResult relative = pgparity({"validate", "-f", manifest(preload_body, {"pg_ctlcluster", "restart"})});
  EXPECT_EQ(relative.exit_code, 1) << relative.out << relative.err;
  EXPECT_NE(relative.err.find("restart command must start with the program's absolute path"), std::string::npos)
      << relative.err;
  const std::string marker = staging_.dir() + "/ran";
  const std::string m = manifest(preload_body, {"/bin/touch", marker});
  const CommandResult planned = pgparity({"plan", "-f", m});
  EXPECT_EQ(planned.exit_code, 2) << planned.out << planned.err;
  EXPECT_NE(planned.out.find("$ /bin/touch " + marker), std::string::npos) << "the plan shows what would run\n"
                                                                           << planned.out;
  EXPECT_FALSE(std::ifstream(marker).good()) << "plan never runs a restart command";
}

}  // namespace
}  // namespace pgparity::testing
