// reconcile --git: the manifest comes from a real git repository (a bare one, served over file://), each
// tick fetches it with libgit2, and what is applied is traceable to its commit.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "tests/support/cluster.hpp"

namespace pgparity::testing {
namespace {

class GitSource : public ::testing::Test {
 protected:
  void SetUp() override {
    git({"init", "-q", "--bare", "-b", "main", remote_});
    git({"clone", "-q", remote_, work_});
    std::filesystem::create_directories(work_ + "/pgparity");
  }
  std::string git(const std::vector<std::string>& args) {
    std::vector<std::string> all = {"-c", "user.name=pgparity", "-c", "user.email=ci@example.invalid"};
    all.insert(all.end(), args.begin(), args.end());
    std::string out;
    std::string err;
    if (run_program("/usr/bin/git", all, &out, &err) != 0) throw std::runtime_error("git failed: " + err);
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
  }
  /// Commits `manifest` as pgparity/manifest.yaml and pushes it; the revision reconcile should name.
  std::string push(const std::string& body) {
    write_pair_manifest(work_ + "/pgparity/manifest.yaml", body);
    git({"-C", work_, "add", "pgparity/manifest.yaml"});
    git({"-C", work_, "commit", "-q", "-m", "manifest"});
    git({"-C", work_, "push", "-q", "origin", "main"});
    return "main@sha1:" + git({"-C", work_, "rev-parse", "HEAD"});
  }
  CommandResult tick() {
    return run_pgparity({"reconcile", "--git", "file://" + remote_, "--ref", "main", "--path", "pgparity/manifest.yaml",
                         "--git-cache", cache_, "--once", "--metrics-file", metrics_},
                        {{"PGPARITY_PROD_DSN", production_.conninfo()}, {"PGPARITY_STAGING_DSN", staging_.conninfo()}});
  }

  Cluster production_;
  Cluster staging_;
  std::string remote_ = staging_.dir() + "/remote.git";
  std::string work_ = staging_.dir() + "/work";
  std::string cache_ = staging_.dir() + "/cache";
  std::string metrics_ = staging_.dir() + "/pgparity.prom";
};

const std::string hstore_18 =
    "extensions:\n  - name: hstore\n    version: \"1.8\"\npolicy:\n  drain:\n    quiet_for: 0s\n";

TEST_F(GitSource, APushedCommitIsAppliedAndNamedWhileABrokenOneOrAnUnreachableRepositoryKeepsTheLastGood) {
  staging_.exec("CREATE EXTENSION hstore VERSION '1.4'");
  const std::string good = push(hstore_18);
  const CommandResult first = tick();
  ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
  EXPECT_EQ(staging_.query_value("SELECT extversion FROM pg_extension WHERE extname = 'hstore'"), "1.8");
  EXPECT_EQ(staging_.query_value("SELECT revision FROM pgparity.runs WHERE database = 'postgres'"), good);
  EXPECT_EQ(staging_.query_value("SELECT revision FROM pgparity.converged WHERE database = 'postgres'"), good);
  std::string text = read_text(metrics_);
  EXPECT_EQ(sample(text, "pgparity_last_applied_revision_info{revision=\"" + good + "\"}"), 1.0) << text;

  // A commit whose manifest does not load: named with its commit and position, never applied.
  const std::string broken = push("extensions:\n  - name: hstore\n    versoin: \"1.7\"\n");
  const CommandResult second = tick();
  EXPECT_EQ(second.exit_code, 0) << "the last good revision, converged\n" << second.out << second.err;
  EXPECT_NE(second.err.find(broken + ":pgparity/manifest.yaml:11:"), std::string::npos) << second.err;
  EXPECT_NE(second.err.find(broken + " is not applied: its manifest is invalid"), std::string::npos) << second.err;
  text = read_text(metrics_);
  EXPECT_EQ(sample(text, "pgparity_last_attempted_revision_info{revision=\"" + broken + "\"}"), 1.0) << text;
  EXPECT_EQ(sample(text, "pgparity_last_applied_revision_info{revision=\"" + good + "\"}"), 1.0) << text;
  EXPECT_EQ(staging_.query_value("SELECT extversion FROM pg_extension WHERE extname = 'hstore'"), "1.8");

  // The repository gone: the tick says so and keeps enforcing the last good revision.
  std::filesystem::rename(remote_, remote_ + ".gone");
  staging_.exec("ALTER EXTENSION hstore UPDATE TO '1.8'");                        // nothing to do: still converged
  staging_.exec("DROP EXTENSION hstore; CREATE EXTENSION hstore VERSION '1.4'");  // drift the good revision closes
  const CommandResult third = tick();
  EXPECT_EQ(third.exit_code, 0) << third.out << third.err;
  EXPECT_NE(third.err.find("git: fetching main from file://" + remote_ + " failed"), std::string::npos) << third.err;
  EXPECT_EQ(staging_.query_value("SELECT extversion FROM pg_extension WHERE extname = 'hstore'"), "1.8")
      << "the last good revision was enforced from the cache";
  EXPECT_EQ(staging_.query_value("SELECT revision FROM pgparity.converged WHERE database = 'postgres'"), good);
}

}  // namespace
}  // namespace pgparity::testing
