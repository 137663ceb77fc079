#include "reconciler/git_source.hpp"

#include <git2.h>

#include "reconciler/libgit2.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <vector>

#include "planner/planner.hpp"
#include "reconciler/restart.hpp"
#include "state/patroni.hpp"

namespace pgparity::reconciler {

namespace {

/// A manifest larger than this is not read (a commit could otherwise make every tick load gigabytes).
constexpr std::size_t max_manifest_bytes = 16 * 1024 * 1024;

/// Where the cache records the last good revision of a branch.
std::string good_ref(const std::string& branch) { return "refs/pgparity/last-good/" + branch; }

std::string env(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? "" : value;
}

/// libgit2's last error, with the URL (and anything in it) masked.
std::string last_error(const std::string& url) {
  const git_error* e = git_error_last();
  std::string message = e == nullptr || e->message == nullptr ? "unknown error" : e->message;
  for (auto at = message.find(url); !url.empty() && at != std::string::npos; at = message.find(url)) {
    message.replace(at, url.size(), state::mask_url(url));
  }
  return message;
}

/// Credentials from the environment, offered once each (libgit2 asks again after a refusal).
int credentials(git_credential** out, const char*, const char* username_from_url, unsigned int allowed, void* payload) {
  int& asked = *static_cast<int*>(payload);
  if (++asked > 1) return GIT_EUSER;  // refused once: never loop
  const std::string user = env("PGPARITY_GIT_USERNAME");
  if ((allowed & GIT_CREDENTIAL_SSH_KEY) != 0 && !env("PGPARITY_GIT_SSH_KEY").empty()) {
    const std::string passphrase = env("PGPARITY_GIT_SSH_PASSPHRASE");
    return git_credential_ssh_key_new(out, username_from_url != nullptr ? username_from_url : "git", nullptr,
                                      env("PGPARITY_GIT_SSH_KEY").c_str(), passphrase.c_str());
  }
  if ((allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT) != 0 && !user.empty()) {
    return git_credential_userpass_plaintext_new(out, user.c_str(), env("PGPARITY_GIT_PASSWORD").c_str());
  }
  return GIT_PASSTHROUGH;
}

/// The manifest at `oid` (a commit) in `repo`: its revision, text and label; `error` when unreadable.
Fetched read_at(git_repository* repo, const git_oid& oid, const GitSourceOptions& options) {
  Fetched out;
  char hex[GIT_OID_HEXSZ + 1] = {};
  git_oid_tostr(hex, sizeof hex, &oid);
  out.revision = options.ref + "@sha1:" + hex;
  out.label = out.revision + ":" + options.path;
  git_commit* raw_commit = nullptr;
  if (git_commit_lookup(&raw_commit, repo, &oid) != 0) {
    out.error = "commit " + out.revision + " is not in the cache: " + last_error(options.url);
    return out;
  }
  const Owned<git_commit, git_commit_free> commit(raw_commit);
  git_tree* raw_tree = nullptr;
  if (git_commit_tree(&raw_tree, commit.get()) != 0) {
    out.error = "commit " + out.revision + " has no tree: " + last_error(options.url);
    return out;
  }
  const Owned<git_tree, git_tree_free> tree(raw_tree);
  git_tree_entry* raw_entry = nullptr;
  if (git_tree_entry_bypath(&raw_entry, tree.get(), options.path.c_str()) != 0) {
    out.error = options.path + " is not in commit " + out.revision;
    return out;
  }
  const Owned<git_tree_entry, git_tree_entry_free> entry(raw_entry);
  // A regular file only (a symlink's blob is its target's name), and of a manifest's size: the size is
  // read from the object's header before any of it is loaded.
  const git_filemode_t mode = git_tree_entry_filemode(entry.get());
  if (git_tree_entry_type(entry.get()) != GIT_OBJECT_BLOB ||
      (mode != GIT_FILEMODE_BLOB && mode != GIT_FILEMODE_BLOB_EXECUTABLE)) {
    out.error = options.path + " in commit " + out.revision + " is not a regular file";
    return out;
  }
  git_odb* raw_odb = nullptr;
  std::size_t size = 0;
  git_object_t type = GIT_OBJECT_INVALID;
  if (git_repository_odb(&raw_odb, repo) != 0) {
    out.error = "the git cache cannot be read: " + last_error(options.url);
    return out;
  }
  const Owned<git_odb, git_odb_free> odb(raw_odb);
  if (git_odb_read_header(&size, &type, odb.get(), git_tree_entry_id(entry.get())) != 0 || size > max_manifest_bytes) {
    out.error = options.path + " in commit " + out.revision + " is larger than " +
                std::to_string(max_manifest_bytes / (1024 * 1024)) + " MiB; not read";
    return out;
  }
  git_blob* raw_blob = nullptr;
  if (git_blob_lookup(&raw_blob, repo, git_tree_entry_id(entry.get())) != 0) {
    out.error = options.path + " in commit " + out.revision + " cannot be read: " + last_error(options.url);
    return out;
  }
  const Owned<git_blob, git_blob_free> blob(raw_blob);
  out.text.assign(static_cast<const char*>(git_blob_rawcontent(blob.get())),
                  static_cast<std::size_t>(git_blob_rawsize(blob.get())));
  return out;
}

/// Why commit `oid` may not be applied under `keyring`: unsigned, or not signed by a key in it (gpgv, the
/// verify-only tool of GnuPG, checks the signature over the commit as git signed it). "" when it may.
std::string signature_problem(git_repository* repo, const git_oid& oid, const std::string& keyring,
                              const std::string& revision) {
  git_buf signature = GIT_BUF_INIT;
  git_buf data = GIT_BUF_INIT;
  if (git_commit_extract_signature(&signature, &data, repo, const_cast<git_oid*>(&oid), nullptr) != 0) {
    return "commit " + revision + " is not signed; refused (--verify-signatures)";
  }
  const std::string sig_text(signature.ptr, signature.size);
  const std::string signed_text(data.ptr, data.size);
  git_buf_dispose(&signature);
  git_buf_dispose(&data);
  const char* tmp = std::getenv("TMPDIR");
  const std::string base = std::string(tmp != nullptr && *tmp != 0 ? tmp : "/tmp") + "/pgparity-verify-XXXXXX";
  std::vector<char> dir(base.begin(), base.end());
  dir.push_back('\0');
  if (mkdtemp(dir.data()) == nullptr)
    return "commit " + revision + ": cannot verify its signature (no temporary folder)";
  const std::string folder = dir.data();
  std::ofstream(folder + "/commit.sig") << sig_text;
  std::ofstream(folder + "/commit") << signed_text;
  CommandOutcome ran;
  try {
    ran = run_command({"/usr/bin/gpgv", "--status-fd", "1", "--keyring", std::filesystem::absolute(keyring).string(),
                       folder + "/commit.sig", folder + "/commit"},
                      Duration::seconds(30));
  } catch (const std::exception& e) {
    ran.exit_code = -1;
    ran.output = e.what();
  }
  std::error_code ignored;
  std::filesystem::remove_all(folder, ignored);
  // gpgv exits 0 for a good signature by a revoked or expired key too: its status lines decide. One
  // signature, valid, by a key that is neither revoked nor expired.
  const auto count = [&](const std::string& word) {
    std::size_t n = 0;
    for (auto at = ran.output.find("[GNUPG:] " + word + " "); at != std::string::npos;
         at = ran.output.find("[GNUPG:] " + word + " ", at + 1)) {
      ++n;
    }
    return n;
  };
  const bool refused =
      count("REVKEYSIG") + count("EXPKEYSIG") + count("EXPSIG") + count("BADSIG") + count("ERRSIG") > 0;
  if (ran.exit_code == 0 && !ran.timed_out && !refused && count("VALIDSIG") == 1 && count("NEWSIG") <= 1) return "";
  return "commit " + revision + " is not signed by a valid, unrevoked and unexpired key in " + keyring +
         "; refused (--verify-signatures)";
}

/// Why `dir` cannot be trusted as the cache ("" when it can): another user could plant a repository, or a
/// last-good record, in a folder they own or may write to. A missing folder is created, private (0700).
std::string unsafe_cache(const std::string& dir) {
  std::error_code ec;
  if (!std::filesystem::exists(dir, ec)) {
    std::filesystem::create_directories(std::filesystem::path(dir).parent_path(), ec);
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return "cannot create the git cache " + dir;
  }
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return "the git cache " + dir + " is not a folder";
  if (st.st_uid != ::geteuid()) return "the git cache " + dir + " belongs to another user: refused";
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    return "the git cache " + dir + " may be written by other users: refused (chmod go-w, or another --git-cache)";
  }
  return "";
}

/// The cache repository, created (bare) on first use.
Owned<git_repository, git_repository_free> open_cache(const std::string& dir, std::string& error) {
  if (error = unsafe_cache(dir); !error.empty()) return Owned<git_repository, git_repository_free>(nullptr);
  git_repository* raw = nullptr;
  if (git_repository_open_bare(&raw, dir.c_str()) != 0 && git_repository_init(&raw, dir.c_str(), 1) != 0) {
    error = "cannot open or create the git cache " + dir + ": " + last_error("");
    return Owned<git_repository, git_repository_free>(nullptr);
  }
  return Owned<git_repository, git_repository_free>(raw);
}

}  // namespace

GitSource::GitSource(GitSourceOptions options) : options_(std::move(options)) { init_libgit2(); }

Fetched GitSource::fetch() const {
  Fetched out;
  auto repo = open_cache(options_.cache, out.error);
  if (!repo) return out;
  const std::string tracking = "refs/remotes/origin/" + options_.ref;
  git_remote* raw_remote = nullptr;
  if (git_remote_create_anonymous(&raw_remote, repo.get(), options_.url.c_str()) == 0) {
    const Owned<git_remote, git_remote_free> remote(raw_remote);
    int asked = 0;
    git_fetch_options fetch_options = GIT_FETCH_OPTIONS_INIT;
    fetch_options.callbacks.credentials = credentials;
    fetch_options.callbacks.payload = &asked;
    fetch_options.follow_redirects = GIT_REMOTE_REDIRECT_NONE;  // credentials never follow a redirect elsewhere
    const std::string spec = "+refs/heads/" + options_.ref + ":" + tracking;
    char* specs[] = {const_cast<char*>(spec.c_str())};
    const git_strarray refspecs = {specs, 1};
    if (git_remote_fetch(remote.get(), &refspecs, &fetch_options, "pgparity fetch") == 0) {
      out.fetched = true;
    } else {
      out.error = "fetching " + options_.ref + " from " + state::mask_url(options_.url) +
                  " failed: " + last_error(options_.url);
    }
  } else {
    out.error = "the git URL " + state::mask_url(options_.url) + " cannot be used: " + last_error(options_.url);
  }
  git_oid oid;
  if (git_reference_name_to_id(&oid, repo.get(), tracking.c_str()) != 0) {
    if (out.error.empty()) out.error = "the remote has no branch " + options_.ref;
    return out;
  }
  const std::string fetch_error = out.error;
  const bool fetched = out.fetched;
  // Checked before anything of the commit is read: an untrusted head's manifest is never loaded.
  std::string unverified;
  if (!options_.keyring.empty()) {
    char hex[GIT_OID_HEXSZ + 1] = {};
    git_oid_tostr(hex, sizeof hex, &oid);
    unverified = signature_problem(repo.get(), oid, options_.keyring, options_.ref + "@sha1:" + hex);
    // A server that cannot forge a signature could still serve an older signed commit: a head must
    // descend from the last good revision (git_graph_descendant_of), as a fast-forward would.
    git_oid good;
    if (unverified.empty() && git_reference_name_to_id(&good, repo.get(), good_ref(options_.ref).c_str()) == 0 &&
        git_oid_cmp(&good, &oid) != 0 && git_graph_descendant_of(repo.get(), &oid, &good) != 1) {
      char good_hex[GIT_OID_HEXSZ + 1] = {};
      git_oid_tostr(good_hex, sizeof good_hex, &good);
      unverified = "commit " + options_.ref + "@sha1:" + hex + " does not descend from the last good revision " +
                   options_.ref + "@sha1:" + good_hex +
                   " (an older commit served, or history rewritten); refused (--verify-signatures)";
    }
  }
  if (unverified.empty()) {
    out = read_at(repo.get(), oid, options_);
  } else {
    out = Fetched{};
    char hex[GIT_OID_HEXSZ + 1] = {};
    git_oid_tostr(hex, sizeof hex, &oid);
    out.revision = options_.ref + "@sha1:" + hex;
    out.label = out.revision + ":" + options_.path;
    out.error = unverified;
  }
  out.fetched = fetched;
  if (!fetch_error.empty()) out.error = fetch_error + (out.error.empty() ? "" : "; " + out.error);
  return out;
}

Fetched GitSource::last_good() const {
  Fetched out;
  auto repo = open_cache(options_.cache, out.error);
  if (!repo) return out;
  git_oid oid;
  if (git_reference_name_to_id(&oid, repo.get(), good_ref(options_.ref).c_str()) != 0) return out;
  out = read_at(repo.get(), oid, options_);
  if (!options_.keyring.empty()) {
    if (std::string why = signature_problem(repo.get(), oid, options_.keyring, out.revision); !why.empty()) {
      out.text.clear();
      out.error = std::move(why);
    }
  }
  return out;
}

void GitSource::remember_good(const std::string& revision) const {
  std::string error;
  auto repo = open_cache(options_.cache, error);
  const auto at = revision.rfind("@sha1:");
  git_oid oid;
  if (!repo || at == std::string::npos || git_oid_fromstr(&oid, revision.substr(at + 6).c_str()) != 0) return;
  git_reference* raw = nullptr;
  if (git_reference_create(&raw, repo.get(), good_ref(options_.ref).c_str(), &oid, 1, "pgparity: last good revision") ==
      0) {
    git_reference_free(raw);
  }
}

bool valid_branch_name(const std::string& branch) {
  init_libgit2();
  int valid = 0;
  const std::string name = "refs/heads/" + branch;
  return !branch.empty() && branch.find_first_of("*?[") == std::string::npos &&
         git_reference_name_is_valid(&valid, name.c_str()) == 0 && valid == 1;
}

std::string default_git_cache(const std::string& url) {
  const std::string name = "git-" + planner::digest(url).substr(0, 16);
  // systemd's StateDirectory= (private to the unit's user), else the user's own cache folder.
  if (const std::string state = env("STATE_DIRECTORY"); !state.empty() && state.find(':') == std::string::npos) {
    return state + "/" + name;
  }
  if (const std::string cache = env("XDG_CACHE_HOME"); !cache.empty() && cache.front() == '/') {
    return cache + "/pgparity/" + name;
  }
  if (const std::string home = env("HOME"); !home.empty() && home.front() == '/') {
    return home + "/.cache/pgparity/" + name;
  }
  return "";
}

std::string git_cache_problem(const std::string& dir) { return unsafe_cache(dir); }

}  // namespace pgparity::reconciler
