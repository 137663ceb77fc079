#pragma once

#include <string>

namespace pgparity::reconciler {

/// Where reconcile --git takes its manifest from.
struct GitSourceOptions {
  std::string url;           ///< file://, https:// or git:// (libgit2); credentials never in it
  std::string ref = "main";  ///< a branch
  std::string path;          ///< the manifest's path inside the repository
  std::string cache;         ///< a bare repository of its own that keeps what was fetched between runs
  /// --verify-signatures: a keyring (gpg --export); a head commit not signed by one of its keys is refused.
  std::string keyring;
};

/// One fetch of a git source (docs/gitops.md, "A git source").
struct Fetched {
  bool fetched = false;  ///< the remote answered; false: `error` says why, and the rest is the cache's
  std::string error;     ///< why the fetch failed (URL credentials masked)
  std::string revision;  ///< "<ref>@sha1:<40 hex>" of the ref's head, as fetched now or last fetched
  std::string text;      ///< the manifest at that revision ("" when the path is not in its tree)
  std::string label;     ///< how messages name that file: "<revision>:<path>"
};

/// A branch of a remote repository, fetched with libgit2 into a bare cache repository. Credentials come
/// from PGPARITY_GIT_USERNAME and PGPARITY_GIT_PASSWORD (HTTPS), or PGPARITY_GIT_SSH_KEY (a private key
/// file, with PGPARITY_GIT_SSH_PASSPHRASE); they are never printed.
class GitSource {
 public:
  explicit GitSource(GitSourceOptions options);

  /// Fetches the branch; when the remote cannot be reached, what the cache last fetched (fetched = false).
  Fetched fetch() const;
  /// The manifest at the revision last found good (remember_good), or an empty `revision` when none.
  Fetched last_good() const;
  /// Records `revision` as the last good one: a fetch failure or an invalid manifest at a later
  /// revision keeps enforcing it, across runs.
  void remember_good(const std::string& revision) const;

 private:
  GitSourceOptions options_;
};

/// Whether `branch` is a branch name git accepts (refs/heads/<branch> is a valid reference name).
bool valid_branch_name(const std::string& branch);

/// The cache folder reconcile uses for `url` when --git-cache is not given, named by a digest of the URL:
/// under $STATE_DIRECTORY (systemd's StateDirectory=), else $XDG_CACHE_HOME/pgparity, else
/// ~/.cache/pgparity. Never a shared folder such as /tmp, where another user could plant a repository.
/// "" when none of them is set.
std::string default_git_cache(const std::string& url);

/// Why `dir` cannot serve as the git cache ("" when it can; a missing folder is created, mode 0700): it
/// must be a folder of this user that no other user may write to.
std::string git_cache_problem(const std::string& dir);

}  // namespace pgparity::reconciler
