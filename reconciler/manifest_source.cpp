#include "reconciler/manifest_source.hpp"

#include <spdlog/spdlog.h>

#include <fstream>
#include <sstream>

#include "planner/planner.hpp"
#include "reconciler/commands.hpp"
#include "reconciler/observation.hpp"
#include "reconciler/revision.hpp"

namespace pgparity::reconciler {

ManifestSource::ManifestSource(std::string path, std::string revision, const GitSourceOptions& git, Metrics& metrics)
    : path_(std::move(path)), given_revision_(std::move(revision)), metrics_(metrics) {
  if (!git.url.empty()) git_.emplace(git);
}

/// Flux's lastAttemptedRevision: the revision this tick works from (valid or not).
void ManifestSource::attempted(const std::string& revision) {
  attempted_ = revision;
  metrics_.clear("pgparity_last_attempted_revision_info");
  metrics_.set("pgparity_last_attempted_revision_info", {{"revision", revision}}, 1);
}

/// A manifest that loaded: in force from now on, at `revision`.
void ManifestSource::enforce(const desired::LoadResult& loaded, const std::string& revision, const std::string& text) {
  manifest_ = loaded.manifest;
  revision_ = revision;
  digest_ = planner::digest(text);  // of the very bytes in force, as apply records it
  for (const auto& line : follow_patroni_leaders(*manifest_)) spdlog::info("{}", line);
  metrics_.set("pgparity_manifest_valid", {}, 1);
}

/// Fetches the git source: its head's manifest when it loads, else the last good revision stays in
/// force (from this process, or the cache's record of it after a restart). Never an empty manifest.
const desired::Manifest* ManifestSource::from_git() {
  const Fetched head = git_->fetch();
  if (!head.fetched) {
    metrics_.add("pgparity_git_fetch_failures_total", {});
    restore_last_good();
    spdlog::warn("git: {}; enforcing the last good revision {}", head.error,
                 revision_.empty() ? std::string("(none yet)") : revision_);
  }
  if (!head.revision.empty()) attempted(head.revision);
  if (!head.text.empty() && head.revision != revision_) {
    const desired::LoadResult loaded = desired::load_manifest_text(head.text, head.label, load_options());
    if (loaded.ok()) {
      enforce(loaded, head.revision, head.text);
      git_->remember_good(head.revision);
      spdlog::info("git: enforcing {}", head.revision);
    } else {
      metrics_.set("pgparity_manifest_valid", {}, 0);
      metrics_.add("pgparity_manifest_errors_total", {});
      for (const auto& d : loaded.diagnostics) spdlog::error("{}", d.str());
      spdlog::warn("git: {} is not applied: its manifest is invalid; {}", head.revision,
                   revision_.empty() ? std::string("no good revision yet") : revision_ + " stays in force");
    }
  } else if (head.text.empty() && !head.error.empty()) {
    spdlog::error("git: {}; {}", head.error,
                  revision_.empty() ? std::string("no good revision yet") : revision_ + " stays in force");
  }
  restore_last_good();
  return manifest_ ? &*manifest_ : nullptr;
}

void ManifestSource::restore_last_good() {
  if (manifest_) return;
  // A restart: the revision the cache last found good, until the head is good again.
  const Fetched good = git_->last_good();
  if (good.text.empty()) return;
  const desired::LoadResult loaded = desired::load_manifest_text(good.text, good.label, load_options());
  if (loaded.ok()) enforce(loaded, good.revision, good.text);
}

/// Re-reads the manifest; an invalid one is reported and the last good one stays in force.
const desired::Manifest* ManifestSource::load() {
  if (git_) return from_git();
  // Read once: what is loaded is what its digest is taken of.
  std::ifstream in(path_);
  std::ostringstream text;
  if (in) text << in.rdbuf();
  const desired::LoadResult loaded = in ? desired::load_manifest_text(text.str(), path_, load_options())
                                        : desired::load_manifest_file(path_, load_options());
  const std::string revision = given_revision_.empty() ? manifest_revision(path_) : given_revision_;
  attempted(revision);
  if (loaded.ok()) {
    enforce(loaded, revision, text.str());
  } else {
    metrics_.set("pgparity_manifest_valid", {}, 0);
    metrics_.add("pgparity_manifest_errors_total", {});
    for (const auto& d : loaded.diagnostics) spdlog::error("{}", d.str());
    if (manifest_) spdlog::warn("the manifest is invalid; the last good one stays in force");
  }
  return manifest_ ? &*manifest_ : nullptr;
}

}  // namespace pgparity::reconciler
