#include "desired/manifest_loader.hpp"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <regex>
#include <tuple>

#include "core/setting_list.hpp"
#include "core/spelling.hpp"
#include "desired/dsn_text.hpp"

namespace pgparity::desired {

namespace {

const std::vector<std::string> extension_keys{"name", "version", "ensure", "schema", "preload", "databases"};

}  // namespace

std::optional<Identifier> Loader::identifier(const YAML::Node& node, const std::string& text, const std::string& what,
                                             Identifier::Kind kind) {
  auto id = Identifier::parse(text, kind);
  if (!id) {
    reader_.error(node, "bad name '" + text + "' in " + what +
                            (kind == Identifier::Kind::object
                                 ? ": use a letter or '_' first, then letters, digits, '_', '$' or '-' (63 at most)"
                                 : ": use a letter or '_' first, then letters, digits, '_', '$' or '.'"));
  }
  return id;
}

void Loader::read_extensions(const YAML::Node& node, Manifest& m) {
  if (!reader_.expect_sequence(node, "extensions")) return;
  struct Seen {
    Extension extension;
    YAML::Node name_node;
  };
  std::vector<Seen> seen;
  for (const auto& item : node) {
    Extension e;
    YAML::Node name_node;
    if (!read_extension(item, e, name_node)) continue;
    for (const auto& s : seen) {
      if (s.extension.name != e.name) continue;
      const std::string overlap = first_overlap(s.extension.databases, e.databases);
      if (overlap.empty()) continue;
      reader_.error(name_node, "duplicate extension '" + e.name.str() + "' (first at " +
                                   YamlReader::position(s.name_node) + ")" +
                                   (overlap == "*" ? "" : " for database '" + overlap + "'") +
                                   ": give each entry its own databases");
      break;
    }
    seen.push_back({e, name_node});
  }
  for (auto& s : seen) m.extensions.push_back(std::move(s.extension));
  std::sort(m.extensions.begin(), m.extensions.end(), [](const Extension& a, const Extension& b) {
    return std::tie(a.name, a.databases) < std::tie(b.name, b.databases);
  });
}

std::string Loader::first_overlap(const std::vector<Identifier>& a, const std::vector<Identifier>& b) {
  if (a.empty() || b.empty()) return "*";
  for (const auto& x : a) {
    if (std::find(b.begin(), b.end(), x) != b.end()) return x.str();
  }
  return "";
}

bool Loader::read_extension(const YAML::Node& item, Extension& e, YAML::Node& name_node) {
  const std::string what = "extension";
  if (!reader_.expect_map(item, "each item of extensions")) return false;
  reader_.check_keys(item, extension_keys, what);
  const std::size_t errors_before = reader_.diagnostics().size();
  name_node = reader_.required(item, "name", what);
  std::string label = what;
  if (name_node.IsDefined()) {
    if (auto text = reader_.string(name_node, "extension name")) {
      if (auto id = identifier(name_node, *text, "extension name")) {
        e.name = *id;
        label = "extension '" + text.value() + "'";
      }
    }
  }
  bool ensure_known = true;  // an unknown ensure says nothing of whether a version is needed
  if (const YAML::Node ensure = item["ensure"]; ensure) {
    auto text = reader_.string(ensure, label + " ensure");
    ensure_known = text && (*text == "absent" || *text == "present");
    if (text) {
      if (*text == "absent") {
        e.absent = true;
      } else if (*text != "present") {
        reader_.error(ensure, "unknown ensure '" + *text + "' for " + label + ": use present or absent" +
                                  did_you_mean(*text, {"present", "absent"}));
      }
    }
  }
  const YAML::Node version = item["version"];
  if (e.absent) {
    if (version) reader_.error(version, label + " has ensure: absent and a version: choose one");
    if (item["preload"]) reader_.error(item["preload"], label + " has ensure: absent and preload: choose one");
    if (item["schema"]) reader_.error(item["schema"], label + " has ensure: absent and a schema: choose one");
  } else if (!version) {
    if (ensure_known)
      reader_.error(item, label + " needs a version (an exact version, reference or default) or ensure: absent");
  } else if (auto text = reader_.string(version, label + " version")) {
    if (*text == "reference") {
      e.version.kind = VersionSpec::Kind::reference;
    } else if (*text == "default") {
      e.version.kind = VersionSpec::Kind::latest;
    } else if (auto v = Version::parse(*text)) {
      e.version.exact = *v;
    } else {
      reader_.error(version, "bad version '" + *text + "' for " + label +
                                 ": use letters, digits, '.', '_', '+', '~' and single '-' (e.g. \"1.10\"), "
                                 "or reference, or default");
    }
  }
  if (const YAML::Node schema = item["schema"]; schema && !e.absent) {
    if (auto text = reader_.string(schema, label + " schema")) e.schema = identifier(schema, *text, label + " schema");
  }
  if (const YAML::Node preload = item["preload"]; preload && !e.absent) {
    e.preload = reader_.boolean(preload, label + " preload").value_or(false);
  }
  if (const YAML::Node dbs = item["databases"]; dbs) {
    if (auto names = reader_.strings(dbs, label + " databases")) {
      if (names->empty()) reader_.error(dbs, label + " databases must not be empty: leave it out for every database");
      std::size_t index = 0;
      for (const auto& n : *names) {
        if (auto id = identifier(dbs[index], n, label + " databases")) e.databases.push_back(*id);
        ++index;
      }
      std::sort(e.databases.begin(), e.databases.end());
    }
  }
  return reader_.diagnostics().size() == errors_before && !e.name.empty();
}

}  // namespace pgparity::desired
