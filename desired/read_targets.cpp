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

const std::vector<std::string> target_keys{"dsn",    "role",     "databases", "exclude",
                                           "pooler", "replicas", "restart",   "patroni"};

}  // namespace

void Loader::read_targets(const YAML::Node& node, Manifest& m) {
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

void Loader::read_target(const YAML::Node& node, const std::string& what, Target& t) {
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
  if (const YAML::Node restart = node["restart"]; restart && reader_.expect_map(restart, what + " restart")) {
    reader_.check_keys(restart, {"command"}, what + " restart");
    if (t.role == Role::reference)
      reader_.error(restart, what + " is a reference: pgparity never restarts a reference");
    if (const YAML::Node command = reader_.required(restart, "command", what + " restart"); command.IsDefined()) {
      if (auto argv = reader_.strings(command, what + " restart command")) {
        if (argv->empty() || argv->front().empty() || argv->front().front() != '/') {
          reader_.error(command,
                        what +
                            " restart command must start with the program's absolute path, e.g. "
                            "[\"/usr/bin/pg_ctlcluster\", \"15\", \"main\", \"restart\"] (it runs without a shell)");
        } else {
          t.restart_command = std::move(*argv);
        }
      }
    }
  }
  if (const YAML::Node patroni = node["patroni"]; patroni && reader_.expect_map(patroni, what + " patroni")) {
    reader_.check_keys(patroni, {"url", "username", "password"}, what + " patroni");
    if (const YAML::Node user = patroni["username"]; user) {
      if (auto text = reader_.string(user, what + " patroni username")) {
        t.patroni_username_source = *text;
        t.patroni_username = expand(user, *text, what + " patroni username", false);
      }
    }
    if (const YAML::Node password = patroni["password"]; password) {
      if (auto text = reader_.string(password, what + " patroni password")) {
        // A secret never sits in the manifest (it is in git): only a variable the runner sets.
        static const std::regex variable(R"(\$\{PGPARITY_[A-Za-z0-9_]*\})");
        if (!std::regex_match(*text, variable)) {
          reader_.error(
              password,
              what +
                  " patroni password must be a variable, e.g. \"${PGPARITY_PATRONI_PASSWORD}\" "
                  "(the manifest is in git; the runner sets the secret; never a libpq variable, whose value is a "
                  "database password)");
        } else {
          t.patroni_password_source = *text;
          t.patroni_password = expand(password, *text, what + " patroni password", false);
        }
      }
      if (!patroni["username"]) reader_.error(password, what + " patroni password needs a username");
    }
    if (const YAML::Node url = reader_.required(patroni, "url", what + " patroni"); url.IsDefined()) {
      if (auto text = reader_.string(url, what + " patroni url")) {
        t.patroni_url_source = *text;
        t.patroni_url = *text;  // no ${VAR} (and so no credentials) in a Patroni URL yet
        static const std::regex origin(R"(https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?)");
        if (text->find("${") != std::string::npos) {
          reader_.error(url, what + " patroni url: ${VAR} is not expanded here yet; write the URL itself");
        } else if (!std::regex_match(*text, origin)) {
          reader_.error(url, what +
                                 " patroni url must be scheme://host[:port] and nothing else (no user, "
                                 "password, path or query), e.g. \"http://10.0.0.5:8008\"");
        }
        if (t.patroni_url.rfind("http://", 0) != 0 && t.patroni_url.rfind("https://", 0) != 0) {
          reader_.error(url, what + " patroni url must be http:// or https://, e.g. \"http://10.0.0.5:8008\"");
        }
        if (t.role == Role::reference) reader_.error(url, what + " is a reference: its settings are only read");
      }
    }
  }
  if (!t.patroni_url.empty() && !t.restart_command.empty()) {
    reader_.error(node["restart"], what + " names both patroni and restart: Patroni restarts its own members");
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

DatabaseSelection Loader::read_database_selection(const YAML::Node& node, const std::string& what) {
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
  selection.patterns.erase(std::unique(selection.patterns.begin(), selection.patterns.end()), selection.patterns.end());
  return selection;
}

bool Loader::glob(const YAML::Node& node, const std::string& text, const std::string& what) {
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

}  // namespace pgparity::desired
