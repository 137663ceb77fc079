#pragma once

// The planner of one database of a managed target (private to planner/). Its members live in three
// files, one job each: extensions.cpp (versions, create and update), placement.cpp (which schema an
// extension goes to), blast_radius.cpp (drop and recreate, and what they take).

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "planner/planner.hpp"

namespace pgparity::planner {

using desired::Extension;
using desired::Manifest;
using desired::VersionSpec;

/// Whether the manifest's entry `e` applies to `database` (its `databases` list, or every database).
bool applies_to(const Extension& e, const std::string& database);

/// Plans one database of one managed target.
class DatabasePlanner {
 public:
  DatabasePlanner(const PlanInput& input, const state::TargetState& target, const state::DatabaseState& db, Plan& plan)
      : input_(input), manifest_(*input.manifest), target_(target), db_(db), plan_(plan) {
    for (const auto& e : db_.installed) installed_.emplace(e.name.str(), &e);
    steps_.reserve(manifest_.extensions.size());
  }

  /// Adds this database's change steps (with their edges) to `steps`; gates come from the caller.
  void run(std::vector<Step>& steps);

 private:
  std::string prefix() const { return target_.target + "/" + db_.name; }

  void block(BlockerCode code, const std::string& extension, const std::string& message, const std::string& hint = "");

  Step& add(StepKind kind, const std::string& extension, std::string id = "");

  /// Forgets the steps from `first` on (a create whose requirement was blocked).
  void truncate(std::size_t first);

  /// The first step planned for `extension`, or nullptr.
  Step* find_step(const std::string& extension);

  const state::InstalledExtension* installed_extension(const std::string& extension) const;

  /// The version the manifest wants here, or nullopt (with a blocker) when it cannot be known.
  std::optional<Version> resolve(const Extension& e);

  /// The reference's database of the same name, else the one its DSN names; nullptr when not observed.
  const state::DatabaseState* reference_database() const;

  /// Where a CREATE EXTENSION puts the extension. Nothing relies on search_path:
  /// the control file's fixed schema (no SCHEMA clause: PostgreSQL creates that
  /// schema itself), else the manifest's schema, else the schema the reference
  /// has it in, else public. A chosen schema the database lacks gets its own
  /// CREATE SCHEMA step first. nullopt (and a blocker) when it cannot go anywhere.
  struct Placement {
    std::string schema;
    bool fixed = false;       ///< by the control file: no SCHEMA clause
    std::string schema_step;  ///< id of the CREATE SCHEMA step to run first, or ""
    std::string why;          ///< how the schema was chosen, when neither the manifest nor the default
  };
  /// A blocker when an extension script would run in a schema another role can plant objects in.
  bool safe_schema(const std::string& name, const std::string& schema);

  std::optional<Placement> place(const std::string& name, const Version& version, const std::string& wanted);

  /// The CREATE SCHEMA step for `schema` (one per database), owned by the applying role.
  std::string plan_schema(const std::string& schema);

  /// Whether `version` of `name` can be installed here; a blocker when not.
  bool available(const std::string& name, const Version& version);

  void plan_present(const Extension& e);

  void plan_recreate(const Extension& e, const state::InstalledExtension& installed, const Version& version);

  /// CASCADE only when an object outside the extension depends on it (its own
  /// configuration tables are members and go with RESTRICT too).
  static bool needs_cascade(const std::vector<state::DependentObject>& blast);

  static std::string create_sql(const std::string& name, const std::string& version, const Placement& where);

  /// Plans CREATE of `name` and, first, of everything it requires that is missing.
  /// When a requirement is blocked, nothing of it is planned and this returns false.
  bool plan_create(const std::string& name, const Version& version, const std::string& schema,
                   const std::string& required_by, std::vector<std::string> chain);

  void plan_absent(const Extension& e, const std::string& reason = "");

  /// Refuses a drop that would take user data (unless allowed) or an extension the manifest keeps.
  /// `configuration_lost`: whether the configuration tables' rows go too (a drop) or are kept (a recreate).
  bool check_blast(const std::string& name, const std::vector<state::DependentObject>& blast, const std::string& verb,
                   bool configuration_lost = true);

  /// Drops run after the drops of what requires them; creates after what they require.
  void order_drops();

  std::string step_id_of(const std::string& extension);

  const PlanInput& input_;
  const Manifest& manifest_;
  const state::TargetState& target_;
  const state::DatabaseState& db_;
  Plan& plan_;
  std::set<std::string> present_;
  std::set<std::string> absent_;
  bool mirror_absent_ = false;  ///< set by resolve(): version: reference, and the reference lacks it
  std::vector<Step> steps_;
  std::unordered_map<std::string, std::size_t> by_id_;         ///< step id -> index in steps_
  std::unordered_map<std::string, std::size_t> by_extension_;  ///< extension -> its first step's index
  std::unordered_map<std::string, const state::InstalledExtension*> installed_;
  std::vector<std::pair<std::string, std::string>> pending_edges_;  // (extension or step id, step id)
};

}  // namespace pgparity::planner
