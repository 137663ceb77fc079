// Over ~500 lines, knowingly: one reader per manifest section still lives in the Loader class below.
// Issue 24 splits it into a reader per section; ${VAR} placement and escaping already live in
// dsn_text.cpp, the YAML bounds in yaml_reader.cpp.
#include "desired/loader.hpp"

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
#include "desired/yaml_reader.hpp"

namespace pgparity::desired {

std::optional<std::string> process_environment(const std::string& name) {
  const char* value = std::getenv(name.c_str());
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

namespace {

const std::vector<std::string> top_keys{"apiVersion", "suspend", "targets", "extensions", "settings", "policy"};
const std::vector<std::string> target_keys{"dsn", "role", "databases", "exclude", "pooler", "replicas"};
const std::vector<std::string> extension_keys{"name", "version", "ensure", "schema", "preload", "databases"};
const std::vector<std::string> settings_keys{"preload", "values", "ratios"};
const std::vector<std::string> ratio_keys{"expr", "match", "tolerance", "min", "max"};
const std::vector<std::string> policy_keys{"lock_timeout",    "drain",   "recreate",     "maintenance_window",
                                           "allow_data_loss", "health",  "state_schema", "manage_preload",
                                           "rehearse",        "rollout", "replica_wait"};
const std::vector<std::string> rollout_keys{"canary", "waves", "soak", "halt_on_failure"};
const std::vector<std::string> rehearse_keys{"lock_timeout", "statement_timeout"};
const std::vector<std::string> drain_keys{
    "enabled", "quiet_for", "timeout", "terminate_idle", "terminate_idle_in_transaction", "never_terminate"};
const std::vector<std::string> window_keys{"days", "start", "end", "timezone"};
const std::vector<std::string> day_names{"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

/// Reads a manifest's YAML into the model, collecting every problem.
class Loader {
 public:
  Loader(std::string file, const LoadOptions& options) : reader_(std::move(file)), options_(options) {}

  /// yaml-cpp parses nested collections recursively: a hostile manifest nested
  /// thousands of levels deep would exhaust the stack. A manifest never needs
  /// more than a few levels, so deeper nesting is refused before parsing.
  bool too_deep(const std::string& text) {
    constexpr int limit = 64;
    int depth = 0;
    int line = 1;
    int column = 0;
    char quote = 0;
    char previous = 0;  // the last character that is not a space, on this line
    char last = 0;      // the last character
    bool escaped = false;
    bool comment = false;
    int dashes = 0;  // "- - - x": block sequences nested on one line
    auto refuse = [&] {
      reader_.diagnostics().push_back({reader_.file(), line, column,
                                       "nested deeper than " + std::to_string(limit) +
                                           " levels: a manifest never needs that; refused before parsing"});
      return true;
    };
    for (char c : text) {
      ++column;
      const char before = last;
      last = c;
      if (c == '\n') {
        ++line;
        column = 0;
        comment = false;
        previous = 0;
        dashes = 0;
        continue;
      }
      if (comment) continue;
      if (quote != 0) {
        if (quote == '"' && c == '\\' && !escaped) {
          escaped = true;
          continue;
        }
        if (c == quote && !escaped) quote = 0;
        escaped = false;
        continue;
      }
      const bool token_start = before == 0 || before == ' ' || before == '\t' || before == '\n';
      if (c == '-' && token_start && (previous == 0 || previous == '-') && depth == 0 && ++dashes > limit) {
        return refuse();
      }
      // A quote opens a scalar only where one can start (an apostrophe inside plain text does not).
      const bool starts =
          previous == 0 || previous == ':' || previous == '[' || previous == '{' || previous == ',' || previous == '-';
      if ((c == '"' || c == '\'') && starts) {
        quote = c;
      } else if (c == '#' && token_start) {
        comment = true;
      } else if ((c == '[' || c == '{') && ++depth > limit) {
        return refuse();
      } else if ((c == ']' || c == '}') && depth > 0) {
        --depth;
      }
      if (c != ' ') previous = c;
    }
    return false;
  }

  LoadResult load(const std::string& text) {
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

 private:
  void read_top(const YAML::Node& root, Manifest& m) {
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

  // --- targets ---------------------------------------------------------------

  void read_targets(const YAML::Node& node, Manifest& m) {
    if (!reader_.expect_map(node, "targets")) return;
    if (node.size() == 0) reader_.error(node, "targets must name at least one target");
    int references = 0;
    std::string first_reference;
    reader_.check_duplicates(node, "targets");
    for (const auto& pair : node) {
      const std::string name = pair.first.Scalar();
      if (!Identifier::parse(name)) {
        reader_.error(pair.first, "bad target name '" + name + "': use letters, digits, '_' and '-'");
        continue;
      }
      if (m.targets.contains(name)) continue;  // a duplicate key, reported above
      Target target;
      target.name = name;
      read_target(pair.second, "target '" + name + "'", target);
      if (target.role == Role::reference) {
        if (++references == 2) {
          reader_.error(pair.first, "only one target may have role: reference (also '" + first_reference + "')");
        }
        first_reference = name;
      }
      m.targets.emplace(name, std::move(target));
    }
  }

  void read_target(const YAML::Node& node, const std::string& what, Target& t) {
    if (!reader_.expect_map(node, what)) return;
    reader_.check_keys(node, target_keys, what);
    if (const YAML::Node dsn = reader_.required(node, "dsn", what); dsn.IsDefined()) {
      if (auto text = reader_.string(dsn, what + " dsn")) {
        t.dsn_source = *text;
        t.dsn = expand(dsn, *text, what + " dsn");
      }
    }
    if (const YAML::Node role = reader_.required(node, "role", what); role.IsDefined()) {
      if (auto text = reader_.string(role, what + " role")) {
        if (*text == "reference") {
          t.role = Role::reference;
        } else if (*text == "managed") {
          t.role = Role::managed;
        } else {
          reader_.error(role, "unknown role '" + *text + "': use reference or managed" +
                                  did_you_mean(*text, {"reference", "managed"}));
        }
      }
    }
    if (node["databases"]) t.databases = read_database_selection(node["databases"], what + " databases");
    if (const YAML::Node exclude = node["exclude"]; exclude) {
      if (auto names = reader_.strings(exclude, what + " exclude")) {
        std::size_t index = 0;
        for (const auto& name : *names) {
          const YAML::Node item = exclude[index++];
          const bool ok = name.find_first_of("*?[") != std::string::npos
                              ? glob(item, name, what + " exclude")
                              : identifier(item, name, what + " exclude").has_value();
          if (ok) {
            t.databases.exclude.push_back(name);
          }
        }
        std::sort(t.databases.exclude.begin(), t.databases.exclude.end());
        if (!t.databases.listed()) {
          reader_.error(exclude, what +
                                     " exclude takes databases out of '*' or a pattern; with a list of "
                                     "names, leave the name out of databases instead");
        }
      }
    }
    if (const YAML::Node replicas = node["replicas"]; replicas) {
      if (auto dsns = reader_.strings(replicas, what + " replicas")) {
        std::size_t index = 0;
        for (const auto& text : *dsns) {
          const YAML::Node item = replicas[index++];
          Replica replica{text, expand(item, text, what + " replica")};
          if (replica.dsn == t.dsn || std::find(t.replicas.begin(), t.replicas.end(), replica) != t.replicas.end()) {
            reader_.error(item, what + " replicas: '" + text + "' is listed twice (or is the primary's DSN)");
            continue;
          }
          t.replicas.push_back(std::move(replica));
        }
      }
    }
    if (const YAML::Node pooler = node["pooler"]; pooler) {
      if (reader_.expect_map(pooler, what + " pooler")) {
        reader_.check_keys(pooler, {"admin_dsn"}, what + " pooler");
        if (const YAML::Node admin = reader_.required(pooler, "admin_dsn", what + " pooler"); admin.IsDefined()) {
          if (auto text = reader_.string(admin, what + " pooler admin_dsn")) {
            t.pooler = Pooler{*text, expand(admin, *text, what + " pooler admin_dsn")};
          }
        }
      }
    }
  }

  DatabaseSelection read_database_selection(const YAML::Node& node, const std::string& what) {
    DatabaseSelection selection;
    auto names = reader_.strings(node, what);
    if (!names) return selection;
    if (names->empty()) reader_.error(node, what + " must not be empty: leave it out for the DSN's database");
    std::size_t index = 0;
    for (const auto& name : *names) {
      const YAML::Node item = node[index++];
      if (name == "*") {
        if (names->size() > 1) reader_.error(item, "'*' in " + what + " already selects every database");
        selection.all = true;
      } else if (name.find_first_of("*?[") != std::string::npos) {
        if (glob(item, name, what)) selection.patterns.push_back(name);
      } else if (auto id = identifier(item, name, what)) {
        if (std::find(selection.names.begin(), selection.names.end(), *id) != selection.names.end()) {
          reader_.error(item, "database '" + name + "' is listed twice in " + what);
        }
        selection.names.push_back(*id);
      }
    }
    std::sort(selection.names.begin(), selection.names.end());
    selection.names.erase(std::unique(selection.names.begin(), selection.names.end()), selection.names.end());
    std::sort(selection.patterns.begin(), selection.patterns.end());
    selection.patterns.erase(std::unique(selection.patterns.begin(), selection.patterns.end()),
                             selection.patterns.end());
    return selection;
  }

  /// Whether `text` is a database glob: name characters plus `*`, `?` and closed `[...]` classes.
  /// false (and an error) for anything else; false without an error when it has no wildcard at all.
  bool glob(const YAML::Node& node, const std::string& text, const std::string& what) {
    if (text.find_first_of("*?[") == std::string::npos) return false;
    bool ok = !text.empty() && text.size() <= 63;
    int depth = 0;
    for (char c : text) {
      const bool name_char = std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '$' || c == '-';
      if (c == '[') ++depth;
      if (c == ']') --depth;
      ok = ok && depth >= 0 && depth <= 1 && (name_char || c == '*' || c == '?' || c == '[' || c == ']' || c == '!');
    }
    ok = ok && depth == 0;
    if (!ok) {
      reader_.error(node, "bad database pattern '" + text + "' in " + what +
                              ": use name characters with *, ? and [...] classes, e.g. app_* or shard_[0-9]");
    }
    return ok;
  }

  /// Expands ${NAME} from the environment ($${ writes a literal ${); unset variables are errors.
  std::string expand(const YAML::Node& node, const std::string& text, const std::string& what) {
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
        reader_.error(node.Mark(), "malformed ${...} in " + what + ": write ${NAME}, or $${ for a literal ${",
                      base + i);
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
    if (options_.check_dsn && !unset) {
      if (auto problem = options_.check_dsn(out)) reader_.error(node, "invalid " + what + ": " + *problem);
    }
    return out;
  }

  /// Whether a manifest may expand `name`. A manifest comes from a pull request, so it must not be
  /// able to send any variable of the runner (a CI token, a cloud key) to a host of its choosing:
  /// only names the runner meant for pgparity are expanded. PGPARITY_ENV_ALLOW lives in the
  /// runner's environment, which a manifest cannot set.
  bool expandable(const std::string& name) const {
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

  // --- extensions ------------------------------------------------------------

  std::optional<Identifier> identifier(const YAML::Node& node, const std::string& text, const std::string& what,
                                       Identifier::Kind kind = Identifier::Kind::object) {
    auto id = Identifier::parse(text, kind);
    if (!id) {
      reader_.error(node, "bad name '" + text + "' in " + what +
                              (kind == Identifier::Kind::object
                                   ? ": use a letter or '_' first, then letters, digits, '_', '$' or '-' (63 at most)"
                                   : ": use a letter or '_' first, then letters, digits, '_', '$' or '.'"));
    }
    return id;
  }

  void read_extensions(const YAML::Node& node, Manifest& m) {
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

  /// The first database two scopes share ("*" when either covers every database), or "".
  static std::string first_overlap(const std::vector<Identifier>& a, const std::vector<Identifier>& b) {
    if (a.empty() || b.empty()) return "*";
    for (const auto& x : a) {
      if (std::find(b.begin(), b.end(), x) != b.end()) return x.str();
    }
    return "";
  }

  bool read_extension(const YAML::Node& item, Extension& e, YAML::Node& name_node) {
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
      if (auto text = reader_.string(schema, label + " schema"))
        e.schema = identifier(schema, *text, label + " schema");
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

  // --- settings --------------------------------------------------------------

  void read_settings(const YAML::Node& node, Manifest& m) {
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

  void read_ratio(const YAML::Node& item, Manifest& m) {
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

  // --- policy ----------------------------------------------------------------

  void read_rollout(const YAML::Node& node, Policy& p) {
    reader_.check_keys(node, rollout_keys, "policy rollout");
    Rollout r;
    if (const YAML::Node canary = node["canary"]; canary) {
      const auto text = reader_.scalar_text(canary, "rollout canary");
      if (text && (text->empty() || text->size() > 6 || text->find_first_not_of("0123456789") != std::string::npos)) {
        reader_.error(canary, "rollout canary must be a number of databases, e.g. 1");
      } else if (text) {
        r.canary = std::stoi(*text);
      }
    }
    if (const YAML::Node waves = node["waves"]; waves) {
      if (auto items = reader_.strings(waves, "rollout waves")) {
        std::size_t index = 0;
        for (const auto& item : *items) {
          const YAML::Node at = waves[index++];
          const std::string digits = item.empty() || item.back() != '%' ? "" : item.substr(0, item.size() - 1);
          if (digits.empty() || digits.size() > 3 || digits.find_first_not_of("0123456789") != std::string::npos ||
              std::stoi(digits) < 1 || std::stoi(digits) > 100) {
            reader_.error(at, "bad rollout wave '" + item + "': write a percentage of the databases, e.g. \"10%\"");
            continue;
          }
          const int percent = std::stoi(digits);
          if (!r.waves.empty() && percent <= r.waves.back()) {
            reader_.error(at, "rollout waves must grow: " + item + " after " + std::to_string(r.waves.back()) + "%");
          }
          r.waves.push_back(percent);
        }
        if (!r.waves.empty() && r.waves.back() != 100) {
          reader_.error(waves, "the last rollout wave must be \"100%\", or some databases would never converge");
        }
      }
    }
    if (r.waves.empty()) r.waves.push_back(100);
    if (node["soak"]) r.soak = duration(node["soak"], "rollout soak").value_or(r.soak);
    if (node["halt_on_failure"]) {
      r.halt_on_failure = reader_.boolean(node["halt_on_failure"], "rollout halt_on_failure").value_or(true);
    }
    p.rollout = r;
  }

  std::optional<Duration> duration(const YAML::Node& node, const std::string& what) {
    auto text = reader_.string(node, what);
    if (!text) return std::nullopt;
    auto d = Duration::parse(*text);
    if (!d) reader_.error(node, "bad duration '" + *text + "' for " + what + ": use e.g. 500ms, 30s, 5m, 1h30m");
    return d;
  }

  void read_policy(const YAML::Node& node, Policy& p) {
    if (!reader_.expect_map(node, "policy")) return;
    reader_.check_keys(node, policy_keys, "policy");
    if (node["lock_timeout"])
      p.lock_timeout = duration(node["lock_timeout"], "policy lock_timeout").value_or(p.lock_timeout);
    if (node["replica_wait"])
      p.replica_wait = duration(node["replica_wait"], "policy replica_wait").value_or(p.replica_wait);
    if (const YAML::Node drain = node["drain"]; drain && reader_.expect_map(drain, "policy drain")) {
      reader_.check_keys(drain, drain_keys, "policy drain");
      if (drain["enabled"]) p.drain.enabled = reader_.boolean(drain["enabled"], "drain enabled").value_or(true);
      if (drain["quiet_for"]) {
        p.drain.quiet_for = duration(drain["quiet_for"], "drain quiet_for").value_or(p.drain.quiet_for);
      }
      if (drain["timeout"]) p.drain.timeout = duration(drain["timeout"], "drain timeout").value_or(p.drain.timeout);
      if (drain["terminate_idle"]) {
        p.drain.terminate_idle = reader_.boolean(drain["terminate_idle"], "drain terminate_idle").value_or(false);
      }
      if (drain["terminate_idle_in_transaction"]) {
        p.drain.terminate_idle_in_transaction =
            reader_.boolean(drain["terminate_idle_in_transaction"], "drain terminate_idle_in_transaction")
                .value_or(false);
      }
      if (drain["never_terminate"]) {
        if (auto names = reader_.strings(drain["never_terminate"], "drain never_terminate"))
          p.drain.never_terminate = *names;
      }
    }
    if (const YAML::Node recreate = node["recreate"]; recreate) {
      if (auto text = reader_.string(recreate, "policy recreate")) {
        if (*text == "never") {
          p.recreate = RecreatePolicy::never;
        } else if (*text == "in-window") {
          p.recreate = RecreatePolicy::in_window;
        } else if (*text == "always") {
          p.recreate = RecreatePolicy::always;
        } else {
          reader_.error(recreate, "unknown recreate '" + *text + "': use never, in-window or always" +
                                      did_you_mean(*text, {"never", "in-window", "always"}));
        }
      }
    }
    if (const YAML::Node window = node["maintenance_window"]; window) read_window(window, p);
    if (p.recreate == RecreatePolicy::in_window && !p.maintenance_window && node["recreate"]) {
      reader_.error(node["recreate"], "recreate: in-window needs a policy maintenance_window");
    }
    if (const YAML::Node rehearse = node["rehearse"]; rehearse && reader_.expect_map(rehearse, "policy rehearse")) {
      reader_.check_keys(rehearse, rehearse_keys, "policy rehearse");
      if (rehearse["lock_timeout"]) {
        p.rehearse.lock_timeout =
            duration(rehearse["lock_timeout"], "rehearse lock_timeout").value_or(p.rehearse.lock_timeout);
      }
      if (rehearse["statement_timeout"]) {
        p.rehearse.statement_timeout = duration(rehearse["statement_timeout"], "rehearse statement_timeout")
                                           .value_or(p.rehearse.statement_timeout);
      }
    }
    if (const YAML::Node rollout = node["rollout"]; rollout && reader_.expect_map(rollout, "policy rollout")) {
      read_rollout(rollout, p);
    }
    if (node["manage_preload"]) {
      p.manage_preload = reader_.boolean(node["manage_preload"], "policy manage_preload").value_or(false);
    }
    if (node["allow_data_loss"]) {
      p.allow_data_loss = reader_.boolean(node["allow_data_loss"], "policy allow_data_loss").value_or(false);
    }
    if (const YAML::Node health = node["health"]; health && reader_.expect_map(health, "policy health")) {
      reader_.check_duplicates(health, "policy health");
      for (const auto& pair : health) {
        auto id = identifier(pair.first, pair.first.Scalar(), "policy health");
        auto sql = reader_.string(pair.second, "health query for '" + pair.first.Scalar() + "'");
        if (id && sql) p.health[*id] = *sql;
      }
    }
    if (const YAML::Node schema = node["state_schema"]; schema) {
      if (auto text = reader_.string(schema, "policy state_schema")) {
        if (auto id = identifier(schema, *text, "policy state_schema")) p.state_schema = *id;
      }
    }
  }

  std::optional<int> time_of_day(const YAML::Node& node, const std::string& what) {
    auto text = reader_.string(node, what);
    if (!text) return std::nullopt;
    static const std::regex hhmm("([01][0-9]|2[0-3]):([0-5][0-9])|24:00");
    std::smatch match;
    if (!std::regex_match(*text, match, hhmm)) {
      reader_.error(node, "bad time '" + *text + "' for " + what + ": use \"HH:MM\" (24-hour)");
      return std::nullopt;
    }
    if (*text == "24:00") return 24 * 60;
    return std::stoi(match[1]) * 60 + std::stoi(match[2]);
  }

  void read_window(const YAML::Node& node, Policy& p) {
    const std::string what = "policy maintenance_window";
    if (!reader_.expect_map(node, what)) return;
    reader_.check_keys(node, window_keys, what);
    MaintenanceWindow w;
    const std::size_t errors_before = reader_.diagnostics().size();
    if (const YAML::Node days = reader_.required(node, "days", what); days.IsDefined()) {
      if (auto names = reader_.strings(days, what + " days")) {
        std::size_t index = 0;
        for (const auto& day : *names) {
          const auto it = std::find(day_names.begin(), day_names.end(), day);
          if (it == day_names.end()) {
            reader_.error(days[index], "unknown day '" + day + "': use mon, tue, wed, thu, fri, sat, sun" +
                                           did_you_mean(day, day_names));
          } else {
            w.days.push_back(static_cast<int>(it - day_names.begin()));
          }
          ++index;
        }
        std::sort(w.days.begin(), w.days.end());
        w.days.erase(std::unique(w.days.begin(), w.days.end()), w.days.end());
      }
    }
    if (const YAML::Node start = reader_.required(node, "start", what); start.IsDefined()) {
      w.start_minute = time_of_day(start, what + " start").value_or(0);
    }
    if (const YAML::Node end = reader_.required(node, "end", what); end.IsDefined()) {
      w.end_minute = time_of_day(end, what + " end").value_or(0);
    }
    if (const YAML::Node tz = node["timezone"]; tz) {
      if (auto text = reader_.string(tz, what + " timezone")) {
        static const std::regex tz_re("[A-Za-z_]+(/[A-Za-z0-9_+-]+)*");
        const bool known = *text == "UTC" || !std::filesystem::exists("/usr/share/zoneinfo") ||
                           std::filesystem::exists("/usr/share/zoneinfo/" + *text);
        if (!std::regex_match(*text, tz_re) || !known) {
          reader_.error(tz, "unknown timezone '" + *text + "': use an IANA name such as UTC or Europe/Berlin");
        } else {
          w.timezone = *text;
        }
      }
    }
    if (w.start_minute == w.end_minute && reader_.diagnostics().size() == errors_before) {
      reader_.error(node, what + " start and end are equal: the window would be empty");
    }
    p.maintenance_window = w;
  }

  // --- cross-checks ----------------------------------------------------------

  /// Rules that need the whole manifest: `reference` needs a reference target.
  void check_references(const YAML::Node& root, const Manifest& m) {
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

  YamlReader reader_;
  const LoadOptions& options_;
  Diagnostics notes_;
};

}  // namespace

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
