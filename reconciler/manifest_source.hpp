#pragma once

#include <optional>
#include <string>

#include "desired/loader.hpp"
#include "reconciler/git_source.hpp"
#include "reconciler/metrics.hpp"

namespace pgparity::reconciler {

/// Where each reconcile tick takes its manifest from (docs/gitops.md): the file -f names, re-read every
/// tick, or a git branch (--git), fetched every tick. An invalid manifest, or a failed fetch, leaves
/// the last good one in force; never an empty one. Reports the manifest metrics and the revisions.
class ManifestSource {
 public:
  /// `git.url` empty: the file at `path`, at `revision` (or its work tree's HEAD when "").
  ManifestSource(std::string path, std::string revision, const GitSourceOptions& git, Metrics& metrics);

  /// The manifest in force after this tick's read; nullptr when none was ever good.
  const desired::Manifest* load();

  const std::string& revision() const { return revision_; }    ///< of the manifest in force
  const std::string& attempted() const { return attempted_; }  ///< the revision this tick worked from
  const std::string& digest() const { return digest_; }        ///< SHA-256 of the manifest in force

 private:
  const desired::Manifest* from_git();
  /// After a restart: the revision the cache last found good, when nothing is in force yet.
  void restore_last_good();
  /// Flux's lastAttemptedRevision.
  void attempted(const std::string& revision);
  /// A manifest that loaded: in force from now on, at `revision`.
  void enforce(const desired::LoadResult& loaded, const std::string& revision, const std::string& text);

  std::string path_;
  std::string given_revision_;
  std::optional<GitSource> git_;
  Metrics& metrics_;
  std::optional<desired::Manifest> manifest_;
  std::string revision_;
  std::string attempted_;
  std::string digest_;
};

}  // namespace pgparity::reconciler
