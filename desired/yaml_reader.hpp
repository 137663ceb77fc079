#pragma once

#include <yaml-cpp/yaml.h>

#include <optional>
#include <string>
#include <vector>

#include "core/diagnostic.hpp"

namespace pgparity::desired {

/// Strict reading of YAML nodes: every problem becomes a diagnostic at the
/// node's file:line:col, and reading goes on so that all problems are found in
/// one run. Scalars are read as YAML 1.1 and 1.2 tools would type them, so a
/// file that passes here also passes the JSON Schema (e.g. an unquoted `1.10`
/// is a number to other tools, hence not a version here).
class YamlReader {
 public:
  explicit YamlReader(std::string file) : file_(std::move(file)) {}

  const std::string& file() const { return file_; }
  Diagnostics& diagnostics() { return diagnostics_; }

  void error(const YAML::Mark& mark, const std::string& message, std::size_t column_offset = 0);
  void error(const YAML::Node& node, const std::string& message) { error(node.Mark(), message); }

  /// "L:C" of a node, for messages that point at an earlier place.
  static std::string position(const YAML::Node& node);

  /// True when `node` is a mapping; otherwise an error naming `what`.
  bool expect_map(const YAML::Node& node, const std::string& what);
  bool expect_sequence(const YAML::Node& node, const std::string& what);
  /// Reports keys given twice and keys that are not plain scalars.
  void check_duplicates(const YAML::Node& map, const std::string& what);
  /// Reports keys that are not in `allowed` (with a did-you-mean) and keys given twice.
  void check_keys(const YAML::Node& map, const std::vector<std::string>& allowed, const std::string& what);
  /// A value that must be present in `map`; an error at the map otherwise.
  YAML::Node required(const YAML::Node& map, const std::string& key, const std::string& what);

  /// A string scalar: quoted, or plain and not something YAML types otherwise (number, bool, null, time).
  std::optional<std::string> string(const YAML::Node& node, const std::string& what);
  /// Any scalar's text (strings, numbers, booleans), for settings values.
  std::optional<std::string> scalar_text(const YAML::Node& node, const std::string& what);
  std::optional<bool> boolean(const YAML::Node& node, const std::string& what);
  std::optional<double> number(const YAML::Node& node, const std::string& what);
  /// A sequence of strings.
  std::optional<std::vector<std::string>> strings(const YAML::Node& node, const std::string& what);

  /// The 1-based column just inside a scalar: past the opening quote of a quoted one.
  static std::size_t content_offset(const YAML::Node& node);

  /// How another YAML tool would type a plain scalar: "null", "boolean", "number", "time" or "string".
  static std::string plain_type(const std::string& text);

 private:
  std::string file_;
  Diagnostics diagnostics_;
};

}  // namespace pgparity::desired
