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

std::string Loader::expand(const YAML::Node& node, const std::string& text, const std::string& what, bool dsn) {
  std::string out;
  bool unset = false;
  const std::size_t base = YamlReader::content_offset(node);
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text.compare(i, 3, "$${") == 0) {
      out += "${";
      i += 2;
      continue;
    }
    if (text.compare(i, 2, "${") != 0) {
      out += text[i];
      continue;
    }
    const std::size_t close = text.find('}', i);
    const std::string name = close == std::string::npos ? "" : text.substr(i + 2, close - i - 2);
    static const std::regex name_re("[A-Za-z_][A-Za-z0-9_]*");
    if (close == std::string::npos || !std::regex_match(name, name_re)) {
      reader_.error(node.Mark(), "malformed ${...} in " + what + ": write ${NAME}, or $${ for a literal ${", base + i);
      return {};
    }
    if (!expandable(name)) {
      reader_.error(node.Mark(),
                    "environment variable " + name + " may not be expanded (in " + what +
                        "): only PGPARITY_* names, libpq's PG* variables and names listed in " +
                        "PGPARITY_ENV_ALLOW can be; rename it PGPARITY_" + name + ", or have the runner allow it",
                    base + i);
      return {};
    }
    const auto value = options_.environment(name);
    if (!value) {
      if (options_.offline) {
        const YAML::Mark mark = node.Mark();
        notes_.push_back(
            {reader_.file(), mark.line + 1, static_cast<int>(static_cast<std::size_t>(mark.column) + 1 + base + i),
             "environment variable " + name + " is not set (used in " + what + "); commands that connect need it"});
        unset = true;
        i = close;
        continue;
      }
      reader_.error(node.Mark(), "environment variable " + name + " is not set (used in " + what + ")", base + i);
      return {};
    }
    // The whole DSN from one variable is used as it is; a value inside a DSN is escaped for where it stands.
    if (i == 0 && close + 1 == text.size()) {
      out += *value;
    } else if (!dsn) {
      out += *value;  // not a DSN: nothing of libpq's syntax to keep
    } else if (const std::string why = dsn_text::misplaced(name, *value, text, i); !why.empty()) {
      reader_.error(node.Mark(), "${" + name + "} " + why + " (in " + what + ")", base + i);
      return {};
    } else if (dsn_text::whole_dsn_position(text, i)) {
      // libpq takes the last host=, and a URI takes ?host=: text beside a whole-DSN variable could send its
      // password elsewhere or change how it is sent. Such a variable is the whole DSN, or nothing.
      reader_.error(node.Mark(),
                    "${" + name + "} stands where a whole DSN goes, so nothing may be written beside it (in " + what +
                        "): put every keyword in the variable itself, or use variables for single values "
                        "(host=${PGPARITY_HOST} password=${PGPARITY_PASSWORD})",
                    base + i);
      return {};
    } else {
      out += dsn_text::escaped(*value, text, i);
    }
    i = close;
  }
  if (dsn && options_.check_dsn && !unset) {
    if (auto problem = options_.check_dsn(out)) reader_.error(node, "invalid " + what + ": " + *problem);
  }
  return out;
}

bool Loader::expandable(const std::string& name) const {
  // The runner's own secrets are never a manifest's: a DSN could carry them to any host.
  if (name.rfind("PGPARITY_GIT_", 0) == 0 || name == "PGPARITY_WEBHOOK_SECRET") return false;
  if (name.rfind("PGPARITY_", 0) == 0 && name != "PGPARITY_ENV_ALLOW") return true;
  static const std::vector<std::string> libpq{
      "PGHOST",        "PGHOSTADDR",           "PGPORT",           "PGDATABASE",    "PGUSER",
      "PGPASSWORD",    "PGPASSFILE",           "PGSERVICE",        "PGSSLMODE",     "PGSSLCERT",
      "PGSSLKEY",      "PGSSLROOTCERT",        "PGAPPNAME",        "PGSSLPASSWORD", "PGOPTIONS",
      "PGSERVICEFILE", "PGTARGETSESSIONATTRS", "PGCONNECT_TIMEOUT"};
  if (std::find(libpq.begin(), libpq.end(), name) != libpq.end()) return true;
  const auto allowed = options_.environment("PGPARITY_ENV_ALLOW");
  if (!allowed) return false;
  std::string item;
  for (char c : *allowed + ",") {
    if (c == ',' || c == ' ') {
      if (item == name) return true;
      item.clear();
    } else {
      item += c;
    }
  }
  return false;
}

}  // namespace pgparity::desired
