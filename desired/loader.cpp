#include "desired/manifest_loader.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <tuple>

#include "core/setting_list.hpp"
#include "core/spelling.hpp"
#include "desired/dsn_text.hpp"

namespace pgparity::desired {

std::optional<std::string> process_environment(const std::string& name) {
  const char* value = std::getenv(name.c_str());
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

namespace {

const std::vector<std::string> top_keys{"apiVersion", "suspend", "targets", "extensions", "settings", "policy"};

}  // namespace

LoadResult Loader::load(const std::string& text) {
  if (too_deep(text)) return {std::nullopt, reader_.diagnostics(), {}};
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    reader_.error(e.mark, "invalid YAML: " + e.msg);
    return {std::nullopt, reader_.diagnostics(), {}};
  }
  if (!root.IsDefined() || root.IsNull()) {
    reader_.diagnostics().push_back({reader_.file(), 0, 0, "the manifest is empty"});
    return {std::nullopt, reader_.diagnostics(), {}};
  }
  if (!reader_.expect_map(root, "the manifest")) return {std::nullopt, reader_.diagnostics(), {}};
  Manifest manifest;
  try {
    read_top(root, manifest);
  } catch (const YAML::Exception& e) {
    // A shape the checks above did not foresee (found by tests/unit/desired/mutation_test.cpp): an
    // error with its position, never an exception out of the loader.
    reader_.error(e.mark, "unexpected YAML structure: " + e.msg);
  }
  if (!reader_.diagnostics().empty()) return {std::nullopt, reader_.diagnostics(), notes_};
  return {std::move(manifest), {}, notes_};
}

void Loader::read_top(const YAML::Node& root, Manifest& m) {
  reader_.check_keys(root, top_keys, "the manifest");
  const YAML::Node api = reader_.required(root, "apiVersion", "the manifest");
  if (api.IsDefined()) {
    if (auto v = reader_.string(api, "apiVersion"); v && *v != api_version) {
      reader_.error(api, "unsupported apiVersion '" + *v + "': this build reads " + api_version);
    }
  }
  if (root["suspend"]) m.suspend = reader_.boolean(root["suspend"], "suspend").value_or(false);
  const YAML::Node targets = reader_.required(root, "targets", "the manifest");
  if (targets.IsDefined()) read_targets(targets, m);
  if (root["extensions"]) read_extensions(root["extensions"], m);
  if (root["settings"]) read_settings(root["settings"], m);
  if (root["policy"]) read_policy(root["policy"], m.policy);
  check_references(root, m);
}

void Loader::check_references(const YAML::Node& root, const Manifest& m) {
  if (m.reference() != nullptr) return;
  if (const YAML::Node exts = root["extensions"]; exts && exts.IsSequence()) {
    for (const auto& item : exts) {
      if (!item.IsMap()) continue;
      const YAML::Node v = item["version"];
      if (v && v.IsScalar() && v.Scalar() == "reference") {
        reader_.error(v, "version: reference needs a target with role: reference");
      }
    }
  }
  if (const YAML::Node settings = root["settings"]; settings && settings.IsMap()) {
    if (const YAML::Node ratios = settings["ratios"]; ratios && ratios.IsSequence()) {
      for (const auto& item : ratios) {
        if (item.IsMap() && item["match"]) {
          reader_.error(item["match"], "match: reference needs a target with role: reference");
        }
      }
    }
  }
}

LoadResult load_manifest_text(const std::string& text, const std::string& file, const LoadOptions& options) {
  LoadResult result = Loader(file, options).load(text);
  // In the order of the file, as a person reads it top to bottom (problems found on one spot keep their order).
  const auto by_position = [](const Diagnostic& a, const Diagnostic& b) {
    return std::tie(a.line, a.column) < std::tie(b.line, b.column);
  };
  std::stable_sort(result.diagnostics.begin(), result.diagnostics.end(), by_position);
  std::stable_sort(result.notes.begin(), result.notes.end(), by_position);
  return result;
}

LoadResult load_manifest_file(const std::string& path, const LoadOptions& options) {
  std::ifstream in(path);
  if (!in) return {std::nullopt, {{path, 0, 0, "cannot read the manifest: " + std::string(std::strerror(errno))}}, {}};
  std::ostringstream text;
  text << in.rdbuf();
  return load_manifest_text(text.str(), path, options);
}

}  // namespace pgparity::desired
