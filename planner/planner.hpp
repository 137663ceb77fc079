#pragma once

#include <map>
#include <set>
#include <string>

#include "desired/manifest.hpp"
#include "planner/plan.hpp"
#include "state/observed.hpp"

namespace pgparity::planner {

/// Everything a plan is made from. The planner does no I/O: the same input
/// gives the same plan, byte for byte.
struct PlanInput {
  const desired::Manifest* manifest = nullptr;
  /// Observed state of every target involved (managed ones planned, plus the reference), by name.
  std::map<std::string, state::TargetState> observed;
  /// Plan only this managed target ("" = every managed target that was observed).
  std::string only_target;
  /// Whether now is inside policy.maintenance_window (the caller knows the clock).
  bool in_maintenance_window = false;
  /// "database/extension" pairs to DROP and CREATE whatever the update paths
  /// and the recreate policy say (pgparity recover --mode recreate; the caller
  /// checks the window). The blast radius is still checked against allow_data_loss.
  std::set<std::string> force_recreate;
  /// pgparity's version: part of the fingerprint, so a plan saved by another build is refused.
  std::string tool_version;
};

/// Closes the gap between the manifest and the observed state with the
/// fewest safe steps, or says what blocks it.
Plan make_plan(const PlanInput& input);

/// The extension names a plan needs observed closely (for state::ObserveRequest::extensions).
std::vector<std::string> extensions_to_observe(const desired::Manifest& manifest);
/// The extensions whose blast radius a plan needs: those to drop, and, when
/// the policy allows recreating, every extension the manifest names.
std::vector<std::string> extensions_to_measure_for_drop(const desired::Manifest& manifest);
/// The libraries a plan needs checked on disk (for state::ObserveRequest::libraries).
std::vector<std::string> libraries_to_check(const desired::Manifest& manifest);
/// The libraries settings.values lists in shared_, session_ and local_preload_libraries.
std::vector<std::string> preload_values(const desired::Manifest& manifest);

/// SHA-256 of a text, in hex: what the journal records of a plan or manifest.
std::string digest(const std::string& text);

/// SHA-256 over everything a plan is made from: pgparity's version, the
/// manifest in canonical form (DSNs as written, never expanded secrets), and
/// the observed state it depends on (versions, available versions, update
/// paths, blast radius with row counts, configuration tables, settings,
/// library files). A saved plan whose fingerprint differs from a fresh one is stale.
std::string fingerprint(const PlanInput& input);

}  // namespace pgparity::planner
