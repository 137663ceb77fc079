#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "desired/manifest.hpp"
#include "planner/plan.hpp"
#include "state/observed.hpp"

namespace pgparity::planner {

/// One thing doctor found: what, where, the rows or files that show it, and the exact command that fixes it.
struct Finding {
  std::string id;        ///< stable, documented in docs/doctor.md
  std::string severity;  ///< error (something will fail or has failed) or warning
  std::string target;
  std::string database;  ///< "" when cluster-wide
  std::string subject;   ///< the extension, library, setting or run it is about
  std::string message;
  std::vector<std::string> evidence;
  std::string remedy;
  bool operator==(const Finding&) const = default;
};

/// What a diagnosis is made from. Like the planner, diagnosis does no I/O.
struct DiagnoseInput {
  std::string target;
  const state::TargetState* observed = nullptr;   ///< observed with every_extension, preload_files and integrity
  const desired::Manifest* manifest = nullptr;    ///< optional
  std::string manifest_path;                      ///< for the remedies' command lines
  const Plan* plan = nullptr;                     ///< the manifest's plan for this target, when there is a manifest
  const state::TargetState* reference = nullptr;  ///< the manifest's reference target, observed
  std::map<std::string, std::vector<state::RunRecord>> runs;  ///< the journal of each database, newest first
  std::set<std::string> locked;  ///< databases where a pgparity run holds the lock right now
};

/// Every finding, sorted by severity (errors first), database, id and subject.
std::vector<Finding> diagnose(const DiagnoseInput& input);

/// Extensions that do nothing (or refuse to work) unless their library is in
/// shared_preload_libraries, whether or not a manifest says so.
const std::set<std::string>& extensions_needing_preload();

std::string render_findings_text(const std::string& target, const std::vector<Finding>& findings);
std::string render_findings_json(const std::string& target, const std::vector<Finding>& findings);

}  // namespace pgparity::planner
