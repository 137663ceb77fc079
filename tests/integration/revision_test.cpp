// The manifest's revision (its git commit) recorded everywhere a run leaves a trace: the journal, the
// database itself (<state_schema>.converged), history, status, apply's JSON and reconcile's metrics.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/support/cluster.hpp"

namespace pgparity::testing {
namespace {

class Revision : public ::testing::Test {
 protected:
  /// git in the work tree, as a fixed author.
  std::string git(const std::vector<std::string>& args) {
    std::vector<std::string> all = {"-C", repo_, "-c", "user.name=pgparity", "-c", "user.email=ci@example.invalid"};
    all.insert(all.end(), args.begin(), args.end());
    std::string out;
    std::string err;
    if (run_program("/usr/bin/git", all, &out, &err) != 0) throw std::runtime_error("git failed: " + err);
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
  }
  CommandResult pgparity(const std::vector<std::string>& args) {
    return run_pgparity(args,
                        {{"PGPARITY_PROD_DSN", production_.conninfo()}, {"PGPARITY_STAGING_DSN", staging_.conninfo()}});
  }
  void SetUp() override {
    repo_ = staging_.dir() + "/repo";
    std::filesystem::create_directories(repo_);
    git({"init", "-q", "-b", "main"});
    write_pair_manifest(repo_ + "/manifest.yaml",
                        "extensions:\n  - name: hstore\n    version: \"1.8\"\npolicy:\n  drain:\n"
                        "    quiet_for: 0s\n");
    git({"add", "manifest.yaml"});
    git({"commit", "-q", "-m", "hstore 1.8"});
  }

  Cluster production_;
  Cluster staging_;
  std::string repo_;
};

TEST_F(Revision, AnApplyRecordsTheManifestsCommitInTheJournalTheDatabaseHistoryStatusAndItsJson) {
  staging_.exec("CREATE EXTENSION hstore VERSION '1.4'");
  const std::string m = repo_ + "/manifest.yaml";
  const std::string revision = "main@sha1:" + git({"rev-parse", "HEAD"});
  ASSERT_EQ(revision.size(), std::string("main@sha1:").size() + 40);

  const CommandResult applied = pgparity({"apply", "-f", m, "--auto-approve", "--format", "json"});
  ASSERT_EQ(applied.exit_code, 0) << applied.out << applied.err;
  EXPECT_EQ(nlohmann::json::parse(applied.out)["revision"], revision) << applied.out;
  EXPECT_EQ(staging_.query_value("SELECT revision FROM pgparity.runs WHERE database = 'postgres'"), revision);
  EXPECT_EQ(staging_.query_value("SELECT revision || ' ' || (run_id = (SELECT run_id FROM pgparity.runs)) "
                                 "FROM pgparity.converged WHERE database = 'postgres'"),
            revision + " true")
      << "the database itself says which commit it was converged to, and by which run";
  EXPECT_NE(pgparity({"history", "-f", m}).out.find("revision: " + revision), std::string::npos);
  const CommandResult comment =
      pgparity({"plan", "-f", m, "--format", "markdown", "--base-revision", "main@sha1:0123456789abcdef"});
  EXPECT_NE(comment.out.find("Manifest at `" + revision + "` (base `main@sha1:0123456789abcdef`)."), std::string::npos)
      << "the pull-request comment names the head and base commits\n"
      << comment.out;

  const CommandResult status = pgparity({"status", "-f", m, "--format", "json"});
  EXPECT_EQ(status.exit_code, 0) << status.out << status.err;
  const auto doc = nlohmann::json::parse(status.out);
  EXPECT_EQ(doc["converged"], true);
  bool listed = false;
  for (const auto& d : doc["databases"]) {
    if (d["database"] != "postgres") continue;
    listed = true;
    EXPECT_EQ(d["status"], "converged") << d.dump();
    EXPECT_EQ(d["revision"], revision) << d.dump();
  }
  EXPECT_TRUE(listed) << status.out;

  // A change on top of the commit, not committed yet: the revision says so, and status sees the drift.
  staging_.exec("DROP EXTENSION hstore");
  std::ofstream(m, std::ios::app) << "# edited\n";
  const CommandResult drifted = pgparity({"status", "-f", m});
  EXPECT_EQ(drifted.exit_code, 2) << drifted.out << drifted.err;
  EXPECT_NE(drifted.out.find("staging/postgres: drifted; last converged to " + revision), std::string::npos)
      << drifted.out;
  const CommandResult again = pgparity({"apply", "-f", m, "--auto-approve", "--format", "json"});
  EXPECT_EQ(nlohmann::json::parse(again.out)["revision"], revision + "+dirty") << again.out;
  EXPECT_EQ(staging_.query_value("SELECT revision FROM pgparity.converged"), revision + "+dirty");
}

TEST_F(Revision, ReconcileReportsTheAttemptedAndAppliedRevisionAndABadRevisionFlagIsRefused) {
  const std::string m = repo_ + "/manifest.yaml";
  const std::string metrics = staging_.dir() + "/pgparity.prom";
  const CommandResult tick =
      pgparity({"reconcile", "-f", m, "--once", "--revision", "main@sha1:feedface", "--metrics-file", metrics});
  EXPECT_EQ(tick.exit_code, 0) << tick.out << tick.err;
  const std::string text = read_text(metrics);
  EXPECT_EQ(sample(text, "pgparity_last_attempted_revision_info{revision=\"main@sha1:feedface\"}"), 1.0) << text;
  EXPECT_EQ(sample(text, "pgparity_last_applied_revision_info{revision=\"main@sha1:feedface\"}"), 1.0) << text;
  EXPECT_EQ(staging_.query_value("SELECT revision FROM pgparity.converged WHERE database = 'postgres'"),
            "main@sha1:feedface");
  std::string sum;
  ASSERT_EQ(run_program("/usr/bin/sha256sum", {m}, &sum), 0);
  EXPECT_EQ(staging_.query_value("SELECT manifest_digest FROM pgparity.converged WHERE database = 'postgres'"),
            sum.substr(0, 64))
      << "sha256sum of the manifest reconcile applied";

  const CommandResult bad = pgparity({"apply", "-f", m, "--auto-approve", "--revision", "main\nsha"});
  EXPECT_EQ(bad.exit_code, 1) << bad.out << bad.err;
  EXPECT_NE(bad.err.find("bad --revision: it holds a control character"), std::string::npos) << bad.err;
}

TEST_F(Revision, HistoryAndStatusReadAJournalThatAnOlderVersionWroteWithoutRevisions) {
  // The journal as versions before revisions left it: no revision column, no converged table.
  staging_.exec(
      "CREATE SCHEMA pgparity; CREATE TABLE pgparity.runs (run_id text PRIMARY KEY, target text NOT NULL, database "
      "text NOT NULL, started_at timestamptz NOT NULL DEFAULT clock_timestamp(), finished_at timestamptz, status text "
      "NOT NULL, plan_digest text, manifest_digest text, steps_done int NOT NULL DEFAULT 0, error text, "
      "pgparity_version text, wave text); CREATE TABLE pgparity.snapshots (run_id text NOT NULL, extname name NOT "
      "NULL, extversion text NOT NULL, schema name NOT NULL, relocatable boolean NOT NULL, extconfig text[], taken_at "
      "timestamptz NOT NULL DEFAULT clock_timestamp(), PRIMARY KEY (run_id, extname)); INSERT INTO pgparity.runs "
      "(run_id, target, database, finished_at, status) VALUES ('20261101T000000Z-aaaaaa', 'staging', 'postgres', "
      "now(), 'succeeded')");
  const std::string m = repo_ + "/manifest.yaml";
  const CommandResult history = pgparity({"history", "-f", m});
  EXPECT_EQ(history.exit_code, 0) << history.out << history.err;
  EXPECT_NE(history.out.find("20261101T000000Z-aaaaaa"), std::string::npos) << history.out;
  const CommandResult status = pgparity({"status", "-f", m});
  EXPECT_NE(status.out.find("staging/postgres: drifted; never converged by pgparity"), std::string::npos)
      << status.out << status.err;

  // The next apply brings that journal up to date (the revision column, the converged table), keeps its
  // rows, closes a run an older process left 'running', and records its own run with its revision.
  staging_.exec(
      "INSERT INTO pgparity.runs (run_id, target, database, status) VALUES ('20261102T000000Z-bbbbbb', 'staging', "
      "'postgres', 'running')");
  const CommandResult applied =
      pgparity({"apply", "-f", m, "--auto-approve", "--revision", std::string("main@sha1:") + std::string(40, 'e')});
  ASSERT_EQ(applied.exit_code, 0) << applied.out << applied.err;
  EXPECT_EQ(staging_.query_value("SELECT string_agg(run_id || ' ' || status, ', ' ORDER BY run_id) FROM pgparity.runs "
                                 "WHERE run_id LIKE '202611%'"),
            "20261101T000000Z-aaaaaa succeeded, 20261102T000000Z-bbbbbb interrupted");
  EXPECT_EQ(staging_.query_value("SELECT revision FROM pgparity.converged"),
            std::string("main@sha1:") + std::string(40, 'e'));
}

}  // namespace
}  // namespace pgparity::testing
