#include "reconciler/revision.hpp"

#include <git2.h>

#include "reconciler/libgit2.hpp"

#include <cstdlib>
#include <filesystem>
#include <memory>

namespace pgparity::reconciler {

void init_libgit2() {
  static const int initialized = [] {
    const int n = git_libgit2_init();
    std::atexit([] { git_libgit2_shutdown(); });
    return n;
  }();
  (void)initialized;
}

std::string manifest_revision(const std::string& manifest_path) {
  init_libgit2();
  std::error_code error;
  const std::filesystem::path file = std::filesystem::canonical(manifest_path, error);
  if (error) return "";
  git_repository* raw_repo = nullptr;
  if (git_repository_open_ext(&raw_repo, file.parent_path().c_str(), 0, nullptr) != 0) return "";
  const Owned<git_repository, git_repository_free> repo(raw_repo);
  const char* workdir = git_repository_workdir(repo.get());
  if (workdir == nullptr) return "";  // a bare repository holds no work tree file
  git_reference* raw_head = nullptr;
  if (git_repository_head(&raw_head, repo.get()) != 0) return "";  // no commit yet
  const Owned<git_reference, git_reference_free> head(raw_head);
  const git_oid* oid = git_reference_target(head.get());
  if (oid == nullptr) return "";
  char hex[GIT_OID_HEXSZ + 1] = {};
  git_oid_tostr(hex, sizeof hex, oid);
  const std::string branch =
      git_repository_head_detached(repo.get()) == 1 ? "HEAD" : git_reference_shorthand(head.get());
  std::string revision = branch + "@sha1:" + hex;
  const std::string relative =
      std::filesystem::relative(file, std::filesystem::canonical(workdir, error)).generic_string();
  unsigned int flags = 0;
  if (error || git_status_file(&flags, repo.get(), relative.c_str()) != 0 || flags != GIT_STATUS_CURRENT) {
    revision += "+dirty";
  }
  return revision;
}

std::string revision_problem(const std::string& revision) {
  if (revision.empty()) return "it is empty";
  if (revision.size() > 200) return "it is longer than 200 characters";
  for (unsigned char c : revision) {
    if (c < 0x20 || c == 0x7f) return "it holds a control character";
  }
  return "";
}

}  // namespace pgparity::reconciler
