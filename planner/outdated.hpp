#pragma once

#include <map>
#include <string>
#include <vector>

#include "planner/plan.hpp"
#include "state/observed.hpp"

namespace pgparity::planner {

/// One installed extension of one database, against what could run there (pgparity outdated).
struct OutdatedRow {
  std::string target;
  std::string database;
  std::string extension;
  std::string installed;
  std::string desired;           ///< what the manifest makes of it here ("" when the manifest does not manage it)
  std::string server_default;    ///< the control file's default_version
  std::string latest;            ///< the newest version the server offers (natural order of the version texts)
  bool path_to_default = false;  ///< ALTER EXTENSION ... UPDATE can reach server_default (or already there)
  bool path_to_latest = false;   ///< ... can reach latest (or already there)
  bool update_available() const { return latest != installed && path_to_latest; }
};

/// Rows for every installed extension of every observed database of `observed`, sorted by target,
/// database, extension. `plan` (made from the same observation) says what the manifest wants:
/// a step's target version, "absent" for a drop, the installed version when nothing is pending,
/// "blocked" when a blocker names it. Pure.
std::vector<OutdatedRow> outdated(const std::map<std::string, state::TargetState>& observed, const Plan& plan,
                                  const std::vector<std::string>& managed_extensions);

/// The newest of `versions` in natural order ("1.10" after "1.9"); versions that do not start
/// with a digit ("unpackaged") only when nothing else is offered.
std::string newest_version(const std::vector<state::AvailableVersion>& versions);

/// A table for people, and a JSON document (docs/cli.md) for pipelines.
std::string render_outdated_text(const std::vector<OutdatedRow>& rows);
std::string render_outdated_json(const std::vector<OutdatedRow>& rows);

}  // namespace pgparity::planner
