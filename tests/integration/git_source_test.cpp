// reconcile --git: the manifest comes from a real git repository (a bare one, served over file://), each
// tick fetches it with libgit2, and what is applied is traceable to its commit.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>

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
    if (run_program("/usr/bin/git", all, &out, &err, env_) != 0) throw std::runtime_error("git failed: " + err);
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
  }
  /// Commits `manifest` as pgparity/manifest.yaml and pushes it; the revision reconcile should name.
  std::string push(const std::string& body, const std::string& signing_key = "") {
    write_pair_manifest(work_ + "/pgparity/manifest.yaml", body);
    git({"-C", work_, "add", "pgparity/manifest.yaml"});
    if (signing_key.empty()) {
      git({"-C", work_, "commit", "-q", "-m", "manifest"});
    } else {
      git({"-C", work_, "-c", "user.signingkey=" + signing_key, "commit", "-q", "-S", "-m", "manifest, signed"});
    }
    git({"-C", work_, "push", "-q", "origin", "main"});
    return "main@sha1:" + git({"-C", work_, "rev-parse", "HEAD"});
  }
  CommandResult tick(const std::vector<std::string>& more = {}) {
    std::vector<std::string> args = {"reconcile", "--git",  "file://" + remote_,      "--ref",
                                     "main",      "--path", "pgparity/manifest.yaml", "--git-cache",
                                     cache_,      "--once", "--metrics-file",         metrics_};
    args.insert(args.end(), more.begin(), more.end());
    return run_pgparity(args,
                        {{"PGPARITY_PROD_DSN", production_.conninfo()}, {"PGPARITY_STAGING_DSN", staging_.conninfo()}});
  }

  Cluster production_;
  Cluster staging_;
  std::string remote_ = staging_.dir() + "/remote.git";
  std::string work_ = staging_.dir() + "/work";
  std::string cache_ = staging_.dir() + "/cache";
  std::string metrics_ = staging_.dir() + "/pgparity.prom";
  std::map<std::string, std::string> env_;  ///< for git (GNUPGHOME when commits are signed)
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

TEST_F(GitSource, WithVerifySignaturesAnUnsignedCommitIsRefusedAndOneSignedByATrustedKeyIsApplied) {
  staging_.exec("CREATE EXTENSION hstore VERSION '1.4'");
  // A real GnuPG key of its own, without a passphrase, and the keyring reconcile trusts.
  const std::string home = staging_.dir() + "/gnupg";
  std::filesystem::create_directories(home);
  std::filesystem::permissions(home, std::filesystem::perms::owner_all);
  env_ = {{"GNUPGHOME", home}};
  // gpg starts an agent for this home: it goes with the test.
  struct Agent {
    std::map<std::string, std::string> env;
    ~Agent() { run_program("/usr/bin/gpgconf", {"--kill", "gpg-agent"}, nullptr, nullptr, env); }
  } agent{env_};
  std::string out;
  std::string err;
  ASSERT_EQ(run_program("/usr/bin/gpg",
                        {"--batch", "--passphrase", "", "--quick-gen-key", "pgparity-ci <ci@example.invalid>",
                         "ed25519", "sign", "never"},
                        &out, &err, env_),
            0)
      << err;
  ASSERT_EQ(run_program("/usr/bin/gpg", {"--batch", "--with-colons", "--list-secret-keys"}, &out, &err, env_), 0);
  const auto fpr = out.find("\nfpr:");
  ASSERT_NE(fpr, std::string::npos) << out;
  const std::string key = out.substr(fpr + 13, 40);
  const std::string keyring = staging_.dir() + "/trusted.gpg";
  ASSERT_EQ(run_program("/usr/bin/gpg", {"--batch", "--output", keyring, "--export", key}, &out, &err, env_), 0) << err;

  const std::string unsigned_head = push(hstore_18);
  const CommandResult refused = tick({"--verify-signatures", keyring});
  EXPECT_NE(refused.err.find("commit " + unsigned_head + " is not signed; refused"), std::string::npos) << refused.err;
  EXPECT_EQ(staging_.query_value("SELECT extversion FROM pg_extension WHERE extname = 'hstore'"), "1.4")
      << "nothing applied";

  const std::string signed_head = push(hstore_18 + "# signed\n", key);
  const CommandResult applied = tick({"--verify-signatures", keyring});
  EXPECT_EQ(applied.exit_code, 0) << applied.out << applied.err;
  EXPECT_EQ(staging_.query_value("SELECT extversion FROM pg_extension WHERE extname = 'hstore'"), "1.8");
  EXPECT_EQ(staging_.query_value("SELECT revision FROM pgparity.converged WHERE database = 'postgres'"), signed_head);

  // A server that serves an older signed commit (a rollback) is refused: a head must descend from the last good.
  const std::string newer = push(hstore_18 + "# signed again\n", key);
  const CommandResult newer_tick = tick({"--verify-signatures", keyring});
  EXPECT_EQ(newer_tick.exit_code, 0) << newer_tick.out << newer_tick.err;
  git({"-C", work_, "push", "-q", "--force", "origin", signed_head.substr(signed_head.find(':') + 1) + ":main"});
  const CommandResult rollback = tick({"--verify-signatures", keyring});
  EXPECT_NE(rollback.err.find("commit " + signed_head + " does not descend from the last good revision " + newer),
            std::string::npos)
      << rollback.err;
  const std::string text = read_text(metrics_);
  EXPECT_EQ(sample(text, "pgparity_last_applied_revision_info{revision=\"" + newer + "\"}"), 1.0) << text;
  EXPECT_EQ(sample(text, "pgparity_last_attempted_revision_info{revision=\"" + signed_head + "\"}"), 1.0) << text;
}

TEST_F(GitSource, ABranchGitWouldRefuseOrASymlinkedManifestIsRefusedWithNothingApplied) {
  const CommandResult star = run_pgparity({"reconcile", "--git", "file://" + remote_, "--ref", "ma*in", "--path",
                                           "pgparity/manifest.yaml", "--git-cache", cache_, "--once"});
  EXPECT_EQ(star.exit_code, 1) << star.out << star.err;
  EXPECT_NE(star.err.find("--ref 'ma*in' is not a branch name git accepts"), std::string::npos) << star.err;

  // A cache folder another user may write to could hold a planted repository or last-good record.
  std::filesystem::create_directories(cache_);
  std::filesystem::permissions(cache_, std::filesystem::perms::all);
  const CommandResult shared = tick();
  EXPECT_EQ(shared.exit_code, 1) << shared.out << shared.err;
  EXPECT_NE(shared.err.find("the git cache " + cache_ + " may be written by other users: refused"), std::string::npos)
      << shared.err;
  std::filesystem::permissions(cache_, std::filesystem::perms::owner_all);

  // A symlink in the repository is its target's name, never a manifest to apply.
  push(hstore_18);
  std::filesystem::rename(work_ + "/pgparity/manifest.yaml", work_ + "/real.yaml");
  std::filesystem::create_symlink("../real.yaml", work_ + "/pgparity/manifest.yaml");
  git({"-C", work_, "add", "-A"});
  git({"-C", work_, "commit", "-q", "-m", "symlinked"});
  git({"-C", work_, "push", "-q", "origin", "main"});
  const CommandResult linked = tick();
  EXPECT_NE(linked.err.find("pgparity/manifest.yaml in commit main@sha1:"), std::string::npos) << linked.err;
  EXPECT_NE(linked.err.find("is not a regular file"), std::string::npos) << linked.err;
}

}  // namespace
}  // namespace pgparity::testing
