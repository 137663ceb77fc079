#pragma once

// The manifest loader's reader (private to desired/): one file per section. loader.cpp (the whole
// document and the cross-checks), yaml_depth.cpp (nesting refused before parsing), read_targets.cpp,
// expand.cpp (${VAR} from the environment), read_extensions.cpp, read_settings.cpp, read_policy.cpp.

#include <optional>
#include <string>
#include <vector>

#include "desired/loader.hpp"
#include "desired/yaml_reader.hpp"

namespace pgparity::desired {

/// Reads a manifest's YAML into the model, collecting every problem.
class Loader {
 public:
  Loader(std::string file, const LoadOptions& options) : reader_(std::move(file)), options_(options) {}

  /// yaml-cpp parses nested collections recursively: a hostile manifest nested
  /// thousands of levels deep would exhaust the stack. A manifest never needs
  /// more than a few levels, so deeper nesting is refused before parsing.
  bool too_deep(const std::string& text);

  LoadResult load(const std::string& text);

 private:
  void read_top(const YAML::Node& root, Manifest& m);

  // --- targets ---------------------------------------------------------------

  void read_targets(const YAML::Node& node, Manifest& m);

  void read_target(const YAML::Node& node, const std::string& what, Target& t);

  DatabaseSelection read_database_selection(const YAML::Node& node, const std::string& what);

  /// Whether `text` is a database glob: name characters plus `*`, `?` and closed `[...]` classes.
  /// false (and an error) for anything else; false without an error when it has no wildcard at all.
  bool glob(const YAML::Node& node, const std::string& text, const std::string& what);

  /// Expands ${NAME} from the environment ($${ writes a literal ${); unset variables are errors.
  std::string expand(const YAML::Node& node, const std::string& text, const std::string& what, bool dsn = true);

  /// Whether a manifest may expand `name`. A manifest comes from a pull request, so it must not be
  /// able to send any variable of the runner (a CI token, a cloud key) to a host of its choosing:
  /// only names the runner meant for pgparity are expanded. PGPARITY_ENV_ALLOW lives in the
  /// runner's environment, which a manifest cannot set.
  bool expandable(const std::string& name) const;

  // --- extensions ------------------------------------------------------------

  std::optional<Identifier> identifier(const YAML::Node& node, const std::string& text, const std::string& what,
                                       Identifier::Kind kind = Identifier::Kind::object);

  void read_extensions(const YAML::Node& node, Manifest& m);

  /// The first database two scopes share ("*" when either covers every database), or "".
  static std::string first_overlap(const std::vector<Identifier>& a, const std::vector<Identifier>& b);

  bool read_extension(const YAML::Node& item, Extension& e, YAML::Node& name_node);

  // --- settings --------------------------------------------------------------

  void read_settings(const YAML::Node& node, Manifest& m);

  void read_ratio(const YAML::Node& item, Manifest& m);

  // --- policy ----------------------------------------------------------------

  void read_rollout(const YAML::Node& node, Policy& p);

  std::optional<Duration> duration(const YAML::Node& node, const std::string& what);

  void read_policy(const YAML::Node& node, Policy& p);

  std::optional<int> time_of_day(const YAML::Node& node, const std::string& what);

  void read_window(const YAML::Node& node, Policy& p);

  // --- cross-checks ----------------------------------------------------------

  /// Rules that need the whole manifest: `reference` needs a reference target.
  void check_references(const YAML::Node& root, const Manifest& m);

  YamlReader reader_;
  const LoadOptions& options_;
  Diagnostics notes_;
};

}  // namespace pgparity::desired
