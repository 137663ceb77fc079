#pragma once

#include <string>
#include <vector>

#include "desired/manifest.hpp"
#include "state/observed.hpp"

namespace pgparity::planner {

/// One way two targets differ.
struct ParityDifference {
  std::string category;  ///< database, extension, preload, library-file, ratio
  std::string database;  ///< "" when cluster-wide
  std::string subject;   ///< extension, library or ratio expression
  std::string left;      ///< what the first target has ("" = nothing)
  std::string right;     ///< what the second target has
  bool operator==(const ParityDifference&) const = default;
};

struct ParityReport {
  std::string left;
  std::string right;
  std::vector<ParityDifference> differences;  ///< sorted: category, database, subject
  std::vector<std::string> ratios_compared;
  bool matches() const { return differences.empty(); }
};

/// Compares two observed targets: extensions and versions per database
/// (matched by name, or the only database of each), preload lists, missing
/// library files, and `ratios` (the manifest's, or the memory/connection
/// ratios export writes when `ratios` is empty) within their tolerance.
ParityReport compare_targets(const state::TargetState& left, const state::TargetState& right,
                             const std::vector<desired::Ratio>& ratios);

std::string render_parity_text(const ParityReport& report);
std::string render_parity_json(const ParityReport& report);

}  // namespace pgparity::planner
