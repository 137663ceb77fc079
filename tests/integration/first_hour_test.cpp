// What a new user meets in the first hour, on real throwaway clusters.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "tests/support/cluster.hpp"

namespace pgparity::testing {
namespace {

class FirstHour : public ::testing::Test {
 protected:
  CommandResult pgparity(const std::vector<std::string>& args) {
    return run_pgparity(args,
                        {{"PGPARITY_PROD_DSN", production_.conninfo()}, {"PGPARITY_STAGING_DSN", staging_.conninfo()}});
  }
  Cluster production_;
  Cluster staging_;
};

TEST_F(FirstHour, DoctorHistoryAndCheckNeedNoTargetWhenThereIsOneManagedTarget) {
  for (Cluster* c : {&production_, &staging_}) c->exec("CREATE EXTENSION hstore VERSION '1.4'");
  const std::string m =
      write_pair_manifest(staging_.dir() + "/m.yaml", "extensions:\n  - name: hstore\n    version: \"1.4\"\n");
  const CommandResult doctor = pgparity({"doctor", "-f", m});
  EXPECT_EQ(doctor.exit_code, 0) << doctor.out << doctor.err;
  const CommandResult history = pgparity({"history", "-f", m});
  EXPECT_EQ(history.exit_code, 0) << history.out << history.err;
  EXPECT_NE(history.out.find("no runs recorded on staging"), std::string::npos) << history.out;
  const CommandResult check = pgparity({"check", "-f", m, "--target", "staging"});
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
  const CommandResult wrong = pgparity({"check", "-f", m, "--target", "stagign"});
  EXPECT_EQ(wrong.exit_code, 1);
  EXPECT_NE(wrong.err.find("did you mean 'staging'"), std::string::npos) << wrong.err;
}

TEST_F(FirstHour, ExportIntoAFolderThatDoesNotExistYetMakesIt) {
  const std::string out = staging_.dir() + "/repo/pgparity/manifest.yaml";
  const CommandResult r = pgparity({"export", "--dsn", production_.conninfo(), "--name", "production", "-o", out});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(read_text(out).find("apiVersion: pgparity/v1"), std::string::npos);
}

TEST_F(FirstHour, VersionReferenceOnADatabaseTheReferenceLacksMirrorsTheAbsence) {
  for (Cluster* c : {&production_, &staging_}) c->exec("CREATE DATABASE app");
  production_.exec("CREATE EXTENSION hstore", "postgres");
  staging_.exec("CREATE EXTENSION hstore VERSION '1.4'", "postgres");
  staging_.exec("CREATE EXTENSION hstore VERSION '1.4'", "app");
  const std::string m = staging_.dir() + "/m.yaml";
  std::ofstream(m)
      << "apiVersion: pgparity/v1\ntargets:\n  production:\n    dsn: \"${PGPARITY_PROD_DSN}\"\n    role: reference\n"
         "    databases: [postgres, app]\n  staging:\n    dsn: \"${PGPARITY_STAGING_DSN}\"\n    role: managed\n"
         "    databases: [postgres, app]\n"
         "extensions:\n  - name: hstore\n    version: reference\npolicy:\n  drain:\n    quiet_for: 0s\n";
  const CommandResult plan = pgparity({"plan", "-f", m});
  EXPECT_EQ(plan.exit_code, 2) << plan.out << plan.err;
  EXPECT_EQ(plan.out.find("install it on the reference"), std::string::npos) << "never a hint to write production";
  const CommandResult r = pgparity({"apply", "-f", m, "--auto-approve"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(staging_.query_value("SELECT extversion FROM pg_extension WHERE extname = 'hstore'", "postgres"), "1.8");
  EXPECT_EQ(staging_.query_value("SELECT count(*) FROM pg_extension WHERE extname = 'hstore'", "app"), "0")
      << "production's app database has no hstore: neither has staging's";
}

/// At a real terminal (a pseudo-terminal here), answering "y" applies; what was typed is never refused
/// with a message that claims there is no terminal.
TEST_F(FirstHour, AnsweringYAtATerminalApplies) {
  staging_.exec("CREATE EXTENSION hstore VERSION '1.4'");
  production_.exec("CREATE EXTENSION hstore");
  const std::string m = write_pair_manifest(staging_.dir() + "/m.yaml",
                                            "extensions:\n  - name: hstore\n    version: \"1.8\"\n"
                                            "policy:\n  drain:\n    quiet_for: 0s\n");
  // python3's pty: pgparity's stdin and stderr are a terminal; "y" is typed once the prompt shows.
  const std::string driver = R"PY(
import os, pty, sys, time
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], [sys.argv[1], "apply", "-f", sys.argv[2]])
seen = b""
deadline = time.time() + 60
typed = False
while time.time() < deadline:
    try:
        chunk = os.read(fd, 4096)
    except OSError:
        break
    if not chunk:
        break
    seen += chunk
    if not typed and b"type yes (or y)" in seen:
        os.write(fd, b"y\n")
        typed = True
_, status = os.waitpid(pid, 0)
sys.stdout.write(seen.decode("utf-8", "replace"))
sys.exit(os.waitstatus_to_exitcode(status))
)PY";
  std::string out;
  std::string err;
  const int code =
      run_program("python3", {"-c", driver, PGPARITY_BIN, m}, &out, &err,
                  {{"PGPARITY_PROD_DSN", production_.conninfo()}, {"PGPARITY_STAGING_DSN", staging_.conninfo()}});
  EXPECT_EQ(code, 0) << out << err;
  EXPECT_NE(out.find("type yes (or y)"), std::string::npos) << out;
  EXPECT_EQ(out.find("confirm at a terminal"), std::string::npos) << out;
  EXPECT_EQ(staging_.query_value("SELECT extversion FROM pg_extension WHERE extname = 'hstore'"), "1.8") << out;
}

/// The ```sh blocks of docs/gitops.md, in order, as one script; the lines that set the DSN
/// variables to the doc's placeholder hosts are left out (the test sets them to its clusters).
std::string walk_through_script() {
  std::istringstream doc(read_text(std::string(PGPARITY_SOURCE_DIR) + "/docs/gitops.md"));
  std::string script;
  std::string line;
  bool inside = false;
  int blocks = 0;
  while (std::getline(doc, line)) {
    if (!inside && line == "```sh") {
      inside = true;
      ++blocks;
      continue;
    }
    if (inside && line == "```") {
      inside = false;
      continue;
    }
    if (inside && line.rfind("export PGPARITY_", 0) != 0) script += line + "\n";
  }
  EXPECT_GE(blocks, 3) << "docs/gitops.md lost its command blocks";
  return script;
}

/// docs/gitops.md followed literally, from an empty folder, against a production and a smaller staging:
/// every command block must succeed, and the last one is `pgparity check`.
TEST(GitOps, TheWalkThroughRunsAsWrittenAndEndsWithCheckPassing) {
  Cluster production({{"shared_buffers", "128MB"}, {"work_mem", "4MB"}, {"maintenance_work_mem", "64MB"}});
  Cluster staging({{"shared_buffers", "32MB"}, {"work_mem", "4MB"}, {"maintenance_work_mem", "64MB"}});
  for (Cluster* c : {&production, &staging}) c->exec("CREATE DATABASE app");
  production.exec("CREATE EXTENSION hstore; CREATE EXTENSION pg_trgm");
  production.exec("CREATE EXTENSION citext", "app");
  staging.exec("CREATE EXTENSION hstore VERSION '1.4'");

  const std::string folder = staging.dir() + "/walk-through";
  const std::string script = staging.dir() + "/walk-through.sh";
  ASSERT_EQ(run_program("mkdir", {"-p", folder}), 0);
  std::ofstream(script) << "set -euo pipefail\ncd " << folder << "\ngit init -q\n" << walk_through_script();
  const std::string bin = PGPARITY_BIN;
  std::string out;
  std::string err;
  const int code = run_program("bash", {script}, &out, &err,
                               {{"PATH", bin.substr(0, bin.rfind('/')) + ":" + std::getenv("PATH")},
                                {"PGPARITY_PROD_DSN", production.conninfo()},
                                {"PGPARITY_STAGING_DSN", staging.conninfo()},
                                {"GIT_AUTHOR_NAME", "t"},
                                {"GIT_AUTHOR_EMAIL", "t@example.com"},
                                {"GIT_COMMITTER_NAME", "t"},
                                {"GIT_COMMITTER_EMAIL", "t@example.com"}});
  ASSERT_EQ(code, 0) << "a command of docs/gitops.md failed\n" << out << err;
  const std::string manifest = read_text(folder + "/pgparity/manifest.yaml");
  EXPECT_NE(manifest.find("work_mem: 1MB"), std::string::npos) << "4MB × 32MB/128MB\n" << manifest;
  const std::string versions =
      "SELECT string_agg(extname || ' ' || extversion, ', ' ORDER BY extname) FROM pg_extension";
  EXPECT_EQ(staging.query_value(versions), production.query_value(versions));
  EXPECT_EQ(staging.query_value(versions, "app"), production.query_value(versions, "app"));
  EXPECT_EQ(staging.query_value("SHOW work_mem"), "1MB");
  EXPECT_EQ(staging.query_value("SHOW maintenance_work_mem"), "16MB");
}

}  // namespace
}  // namespace pgparity::testing
