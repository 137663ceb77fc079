#include "desired/yaml_reader.hpp"

#include <algorithm>
#include <map>
#include <regex>
#include <set>

#include "core/spelling.hpp"

namespace pgparity::desired {

namespace {

bool is_plain(const YAML::Node& node) { return node.Tag() == "?"; }

std::string kind_of(const YAML::Node& node) {
  if (node.IsMap()) return "a mapping";
  if (node.IsSequence()) return "a list";
  if (node.IsNull()) return "empty";
  return "a scalar";
}

}  // namespace

void YamlReader::error(const YAML::Mark& mark, const std::string& message, std::size_t column_offset) {
  if (mark.is_null()) {
    diagnostics_.push_back({file_, 0, 0, message});
    return;
  }
  diagnostics_.push_back({file_, mark.line + 1, mark.column + 1 + static_cast<int>(column_offset), message});
}

std::string YamlReader::position(const YAML::Node& node) {
  return std::to_string(node.Mark().line + 1) + ":" + std::to_string(node.Mark().column + 1);
}

bool YamlReader::expect_map(const YAML::Node& node, const std::string& what) {
  if (node.IsMap()) return true;
  error(node, what + " must be a mapping, not " + kind_of(node));
  return false;
}

bool YamlReader::expect_sequence(const YAML::Node& node, const std::string& what) {
  if (node.IsSequence()) return true;
  error(node, what + " must be a list, not " + kind_of(node));
  return false;
}

void YamlReader::check_duplicates(const YAML::Node& map, const std::string& what) {
  std::map<std::string, YAML::Node> seen;
  for (const auto& pair : map) {
    const YAML::Node& key = pair.first;
    if (!key.IsScalar()) {
      error(key, "keys in " + what + " must be plain names");
      continue;
    }
    if (auto [it, inserted] = seen.emplace(key.Scalar(), key); !inserted) {
      error(key, "duplicate key '" + key.Scalar() + "' in " + what + " (first at " + position(it->second) + ")");
    }
  }
}

void YamlReader::check_keys(const YAML::Node& map, const std::vector<std::string>& allowed, const std::string& what) {
  check_duplicates(map, what);
  std::set<std::string> reported;
  for (const auto& pair : map) {
    const YAML::Node& key = pair.first;
    if (!key.IsScalar()) continue;
    const std::string& name = key.Scalar();
    if (std::find(allowed.begin(), allowed.end(), name) == allowed.end() && reported.insert(name).second) {
      error(key, "unknown key '" + name + "' in " + what + did_you_mean(name, allowed));
    }
  }
}

YAML::Node YamlReader::required(const YAML::Node& map, const std::string& key, const std::string& what) {
  YAML::Node value = map[key];
  if (!value.IsDefined()) error(map, what + " needs '" + key + "'");
  return value;
}

std::string YamlReader::plain_type(const std::string& text) {
  static const std::regex null_re("~|null|Null|NULL|");
  static const std::regex bool_re("true|True|TRUE|false|False|FALSE|yes|Yes|YES|no|No|NO|on|On|ON|off|Off|OFF|y|Y|n|N");
  static const std::regex number_re(
      "[-+]?(0|[1-9][0-9_]*)|[-+]?0[0-7_]+|0o[0-7]+|[-+]?0x[0-9a-fA-F_]+|[-+]?0b[01_]+|"
      "[-+]?([0-9][0-9_]*)?\\.[0-9_]*([eE][-+]?[0-9]+)?|[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+|"
      "[-+]?\\.(inf|Inf|INF)|\\.(nan|NaN|NAN)");
  // YAML 1.1 sexagesimal numbers: 12:30 is 750 to such tools, while 02:00 stays a string.
  static const std::regex time_re("[-+]?[1-9][0-9_]*(:[0-5]?[0-9])+|[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+\\.[0-9_]*");
  if (std::regex_match(text, null_re)) return "null";
  if (std::regex_match(text, bool_re)) return "boolean";
  if (std::regex_match(text, number_re)) return "number";
  if (std::regex_match(text, time_re)) return "time";
  return "string";
}

std::size_t YamlReader::content_offset(const YAML::Node& node) { return is_plain(node) ? 0 : 1; }

std::optional<std::string> YamlReader::string(const YAML::Node& node, const std::string& what) {
  if (!node.IsScalar()) {
    error(node, what + " must be a string, not " + kind_of(node));
    return std::nullopt;
  }
  if (is_plain(node)) {
    const std::string type = plain_type(node.Scalar());
    if (type != "string") {
      error(node, what + " must be a string; YAML reads " + node.Scalar() + " as a " + type + ": quote it (\"" +
                      node.Scalar() + "\")");
      return std::nullopt;
    }
  }
  return node.Scalar();
}

std::optional<std::string> YamlReader::scalar_text(const YAML::Node& node, const std::string& what) {
  if (!node.IsScalar()) {
    error(node, what + " must be a string, number or boolean, not " + kind_of(node));
    return std::nullopt;
  }
  return node.Scalar();
}

std::optional<bool> YamlReader::boolean(const YAML::Node& node, const std::string& what) {
  if (node.IsScalar() && is_plain(node)) {
    if (node.Scalar() == "true") return true;
    if (node.Scalar() == "false") return false;
  }
  error(node, what + " must be true or false");
  return std::nullopt;
}

std::optional<double> YamlReader::number(const YAML::Node& node, const std::string& what) {
  if (node.IsScalar() && is_plain(node) && plain_type(node.Scalar()) == "number") {
    try {
      return std::stod(node.Scalar());
    } catch (const std::exception&) {
    }
  }
  error(node, what + " must be a number");
  return std::nullopt;
}

std::optional<std::vector<std::string>> YamlReader::strings(const YAML::Node& node, const std::string& what) {
  if (!expect_sequence(node, what)) return std::nullopt;
  std::vector<std::string> out;
  bool ok = true;
  for (const auto& item : node) {
    auto text = string(item, "each item of " + what);
    if (text) {
      out.push_back(*text);
    } else {
      ok = false;
    }
  }
  if (!ok) return std::nullopt;
  return out;
}

}  // namespace pgparity::desired
