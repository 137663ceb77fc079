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

const std::vector<std::string> settings_keys{"preload", "values", "ratios"};
const std::vector<std::string> ratio_keys{"expr", "match", "tolerance", "min", "max"};

}  // namespace

void Loader::read_settings(const YAML::Node& node, Manifest& m) {
  if (!reader_.expect_map(node, "settings")) return;
  reader_.check_keys(node, settings_keys, "settings");
  if (const YAML::Node preload = node["preload"]; preload) {
    if (auto libs = reader_.strings(preload, "settings preload")) {
      static const std::regex library_re("[A-Za-z0-9_.$/-]+");
      std::size_t index = 0;
      for (const auto& lib : *libs) {
        const YAML::Node item = preload[index++];
        if (!std::regex_match(lib, library_re)) {
          reader_.error(item, "bad library name '" + lib + "' in settings preload");
        } else if (std::find(m.settings.preload.begin(), m.settings.preload.end(), lib) != m.settings.preload.end()) {
          reader_.error(item, "library '" + lib + "' is listed twice in settings preload");
        } else {
          m.settings.preload.push_back(lib);
        }
      }
      std::sort(m.settings.preload.begin(), m.settings.preload.end());
    }
  }
  if (const YAML::Node values = node["values"]; values && reader_.expect_map(values, "settings values")) {
    reader_.check_duplicates(values, "settings values");
    for (const auto& pair : values) {
      const std::string name = pair.first.Scalar();
      auto id = identifier(pair.first, name, "settings values", Identifier::Kind::setting);
      if (name.rfind("pooler.", 0) == 0) {
        reader_.error(pair.first, "settings values: " + name +
                                      " is the pooler's, read from its admin console; pgparity never writes a "
                                      "pooler's configuration (pooler settings may appear in ratios)");
        id.reset();
      }
      std::optional<std::string> value;
      if (pair.second.IsSequence()) {
        // A list setting written as a YAML sequence: kept in postgresql.conf form, one quoted element each.
        if (auto elements = reader_.strings(pair.second, "setting '" + name + "'")) {
          value = join_setting_list(*elements);
        }
      } else {
        value = reader_.scalar_text(pair.second, "setting '" + name + "'");
      }
      if (id && value) m.settings.values[*id] = *value;
    }
  }
  if (const YAML::Node ratios = node["ratios"]; ratios && reader_.expect_sequence(ratios, "settings ratios")) {
    for (const auto& item : ratios) read_ratio(item, m);
  }
}

void Loader::read_ratio(const YAML::Node& item, Manifest& m) {
  const std::string what = "ratio";
  if (!reader_.expect_map(item, "each item of settings ratios")) return;
  reader_.check_keys(item, ratio_keys, what);
  Ratio ratio;
  bool ok = true;
  if (const YAML::Node expr = reader_.required(item, "expr", what); expr.IsDefined()) {
    if (auto text = reader_.string(expr, "ratio expr")) {
      auto parsed = RatioExpr::parse(*text);
      if (auto* error = std::get_if<RatioExpr::ParseError>(&parsed)) {
        reader_.error(expr.Mark(), "bad ratio expression: " + error->message,
                      YamlReader::content_offset(expr) + error->offset);
        ok = false;
      } else {
        ratio.expr = std::get<RatioExpr>(parsed);
        for (const auto& name : ratio.expr.settings()) {
          if (!Identifier::parse(name, Identifier::Kind::setting)) {
            reader_.error(expr, "bad setting name '" + name + "' in ratio expression");
          }
        }
      }
    } else {
      ok = false;
    }
  } else {
    ok = false;
  }
  const YAML::Node match = item["match"];
  if (match) {
    if (auto text = reader_.string(match, "ratio match")) {
      if (*text != "reference") reader_.error(match, "ratio match must be 'reference'");
      ratio.match_reference = true;
    }
  }
  if (const YAML::Node tolerance = item["tolerance"]; tolerance) {
    if (!match) reader_.error(tolerance, "ratio tolerance applies only with match: reference");
    if (auto t = reader_.number(tolerance, "ratio tolerance")) {
      if (*t < 0) reader_.error(tolerance, "ratio tolerance must not be negative");
      ratio.tolerance = *t;
    }
  }
  if (const YAML::Node min = item["min"]; min) ratio.min = reader_.number(min, "ratio min");
  if (const YAML::Node max = item["max"]; max) ratio.max = reader_.number(max, "ratio max");
  const bool bounds = item["min"] || item["max"];
  if (match && bounds) {
    reader_.error(item, "a ratio has match: reference or min/max bounds, not both");
  } else if (!match && !bounds) {
    reader_.error(item, "a ratio needs match: reference or a min and/or max bound");
  }
  if (ratio.min && ratio.max && *ratio.min > *ratio.max) {
    reader_.error(item["min"], "ratio min is greater than its max");
  }
  if (ok) m.settings.ratios.push_back(std::move(ratio));
}

}  // namespace pgparity::desired
