#pragma once

// Builders for observed states and manifests, so planner tests read as the situation they describe.

#include <string>
#include <vector>

#include "desired/loader.hpp"
#include "planner/planner.hpp"
#include "state/observed.hpp"
#include "state/settings.hpp"

namespace pgparity::planner::testing {

/// A database as its catalogs would describe it.
class Db {
 public:
  /// Like a fresh database: the schemas every database has.
  explicit Db(std::string name = "app") {
    state_.name = std::move(name);
    state_.schemas = {"information_schema", "pg_catalog", "pg_toast", "public"};
  }

  /// An extension installed at `version`.
  Db& installed(const std::string& name, const std::string& version, const std::string& schema = "public") {
    state_.installed.push_back(
        {Identifier::from_catalog(name), Version::from_catalog(version), Identifier::from_catalog(schema), true});
    with_schema(schema);
    std::sort(state_.installed.begin(), state_.installed.end(),
              [](const auto& a, const auto& b) { return a.name < b.name; });
    return *this;
  }
  /// A schema that exists in the database.
  Db& with_schema(const std::string& schema) {
    if (!state_.has_schema(schema)) state_.schemas.push_back(schema);
    std::sort(state_.schemas.begin(), state_.schemas.end());
    return *this;
  }
  /// The control file of every available version of `name` fixes its schema.
  /// A schema another role owns, or may CREATE in.
  Db& unsafe_schema(const std::string& schema) {
    with_schema(schema);
    state_.unsafe_schemas.push_back(schema);
    std::sort(state_.unsafe_schemas.begin(), state_.unsafe_schemas.end());
    return *this;
  }
  Db& control_schema(const std::string& name, const std::string& schema) {
    for (auto& v : available_[name].versions) v.schema = Identifier::from_catalog(schema);
    return *this;
  }
  /// The versions the server offers; the last one is the default.
  /// Every available version of `name` is trusted (CREATE on the database is enough).
  Db& trusted(const std::string& name) {
    for (auto& v : available_[name].versions) v.trusted = true;
    return *this;
  }
  Db& available(const std::string& name, const std::vector<std::string>& versions,
                const std::vector<std::string>& requires_ = {}) {
    state::AvailableExtension& e = available_[name];
    e.name = Identifier::from_catalog(name);
    for (const auto& v : versions) {
      state::AvailableVersion av;
      av.version = Version::from_catalog(v);
      for (const auto& r : requires_) av.required.push_back(Identifier::from_catalog(r));
      e.versions.push_back(av);
    }
    e.default_version = Version::from_catalog(versions.back());
    return *this;
  }
  /// pg_extension_update_paths: from the installed version to `to` through `steps`.
  Db& path(const std::string& name, const std::vector<std::string>& steps) {
    state::UpdatePath p{Version::from_catalog(steps.front()), Version::from_catalog(steps.back()), {}};
    for (const auto& s : steps) p.steps.push_back(Version::from_catalog(s));
    paths_[name].push_back(p);
    return *this;
  }
  /// An object DROP EXTENSION name CASCADE would take.
  /// `extension`: for kind "extension", its name as pg_extension has it (by default the description's
  /// last word, as an English server describes it).
  Db& depends(const std::string& name, const std::string& description, const std::string& kind,
              std::string extension = "") {
    if (kind == "extension" && extension.empty()) extension = description.substr(description.rfind(' ') + 1);
    state_.blast_radius[name].push_back({description, state::object_kind_named(kind), std::nullopt, extension});
    return *this;
  }
  /// A configuration table of `name` (pg_extension.extconfig) holding `rows` rows that extcondition keeps.
  Db& config_table(const std::string& name, const std::string& schema, const std::string& table, long long rows,
                   const std::string& condition = "") {
    state_.blast_radius[name].push_back(
        {"table " + schema + "." + table, state::ObjectKind::configuration_table, rows, ""});
    state_.config_tables[name].push_back(
        {Identifier::from_catalog(schema), Identifier::from_catalog(table), false, condition, rows});
    return *this;
  }
  state::DatabaseState state() const { return state_; }
  const std::map<std::string, state::AvailableExtension>& available() const { return available_; }
  const std::map<std::string, std::vector<state::UpdatePath>>& paths() const { return paths_; }

 private:
  state::DatabaseState state_;
  std::map<std::string, state::AvailableExtension> available_;
  std::map<std::string, std::vector<state::UpdatePath>> paths_;
};

/// A target's cluster: settings as pg_settings shows them.
class Server {
 public:
  /// Observed as a superuser would: postgresql.auto.conf readable (and empty).
  explicit Server(std::string target) {
    state_.target = std::move(target);
    state_.cluster.auto_conf_known = true;
  }
  /// Observed by a role that is not a superuser.
  Server& not_superuser() {
    state_.cluster.superuser = false;
    return *this;
  }
  /// Observed by a role that cannot read pg_file_settings.
  Server& without_file_settings() {
    state_.cluster.auto_conf_known = false;
    return *this;
  }
  /// A database; what it says is available (and its paths) is the server's, as on a real one.
  Server& db(const Db& db) {
    state_.databases.push_back(db.state());
    for (const auto& [name, e] : db.available()) state_.cluster.available[name] = e;
    for (const auto& [name, p] : db.paths()) {
      auto& all = state_.cluster.paths[name];
      all.insert(all.end(), p.begin(), p.end());
    }
    if (state_.cluster.dsn_database.empty()) state_.cluster.dsn_database = state_.databases.back().name;
    return *this;
  }
  Server& setting(const std::string& name, const std::string& value, const std::string& unit = "",
                  const std::string& type = "integer", const std::string& context = "user") {
    state::Setting s;
    s.name = name;
    s.value = value;
    s.unit = unit;
    s.type = state::setting_type_named(type);
    s.context = state::setting_context_named(context);
    s.normalized = state::normalize_setting(value, unit);
    state_.cluster.settings[name] = s;
    if (name == "shared_preload_libraries") state_.cluster.preload_libraries = state::split_library_list(value);
    return *this;
  }
  /// What postgresql.auto.conf holds for a setting (pg_file_settings).
  /// Where the running value comes from (pg_settings.source): "command line", "configuration file", ...
  Server& source(const std::string& name, const std::string& from) {
    state_.cluster.settings[name].source = from;
    return *this;
  }
  Server& auto_conf(const std::string& name, const std::string& value) {
    state_.cluster.settings[name].auto_conf = value;
    state_.cluster.auto_conf_known = true;
    return *this;
  }
  Server& range(const std::string& name, const std::string& min, const std::string& max) {
    state_.cluster.settings[name].min = min;
    state_.cluster.settings[name].max = max;
    return *this;
  }
  /// Every extension name the server offers.
  Server& offers(std::vector<std::string> names) {
    state_.cluster.offered = std::move(names);
    return *this;
  }
  /// A setting written (ALTER SYSTEM) and waiting for a restart (pg_settings.pending_restart).
  Server& pending(const std::string& name) {
    state_.cluster.settings[name].pending_restart = true;
    return *this;
  }
  /// The role lacks ALTER SYSTEM on this parameter.
  Server& denied(const std::string& name) {
    state_.cluster.settings[name].may_alter_system = false;
    return *this;
  }
  Server& library_file(const std::string& lib, bool present) {
    state_.cluster.library_files[lib] = present;
    state_.cluster.library_dir = "/usr/lib/postgresql/15/lib";
    return *this;
  }
  Server& identity(const std::string& system_identifier) {
    state_.cluster.system_identifier = system_identifier;
    return *this;
  }
  /// A standby of this server: `standby`'s settings, versions and paths, in recovery.
  Server& replica(const Server& standby, const std::string& endpoint) {
    state::ReplicaState r;
    r.endpoint = endpoint;
    r.cluster = standby.state().cluster;
    r.cluster.in_recovery = true;
    state_.replicas.push_back(r);
    return *this;
  }
  /// The target's Patroni (patroni.url reached): its postgresql.parameters, and its members as GET /cluster
  /// lists them ("leader" or "replica", running), each with a restart pending or not.
  Server& patroni(const std::map<std::string, std::string>& parameters,
                  const std::vector<std::tuple<std::string, std::string, bool>>& members) {
    state::PatroniConfig config;
    config.reached = true;
    config.parameters = parameters;
    config.system_identifier = state_.cluster.system_identifier;
    for (const auto& [name, role, pending] : members) {
      config.members.push_back({name, role, "running", "http://" + name + ":8008/patroni", name, "5432", pending, 0});
    }
    state_.patroni = config;
    return *this;
  }
  /// A route of the target's pooler and the cluster it reaches.
  Server& pooler_route(const std::string& alias, const std::string& system_identifier) {
    if (!state_.pooler) state_.pooler = state::PoolerState{};
    state_.pooler->routes.push_back({alias, "", "", alias, "", "", system_identifier, ""});
    return *this;
  }
  state::TargetState state() const { return state_; }

 private:
  state::TargetState state_;
};

/// A manifest with targets `production` (reference) and `staging` (managed) plus `body`.
inline desired::Manifest manifest(const std::string& body) {
  const std::string text =
      "apiVersion: pgparity/v1\ntargets:\n  production:\n    dsn: \"host=p\"\n    role: reference\n"
      "  staging:\n    dsn: \"host=s\"\n    role: managed\n" +
      body;
  const desired::LoadResult r = desired::load_manifest_text(text, "test.yaml");
  if (!r.ok()) throw std::runtime_error(format(r.diagnostics));
  return *r.manifest;
}

inline Plan plan_for(const desired::Manifest& m, const Server& staging, const Server& production = Server("production"),
                     bool in_window = false) {
  PlanInput input;
  input.manifest = &m;
  input.observed.emplace("staging", staging.state());
  input.observed.emplace("production", production.state());
  input.in_maintenance_window = in_window;
  return make_plan(input);
}

/// The ids of the steps that change something, in plan order.
inline std::vector<std::string> changes(const Plan& plan) {
  std::vector<std::string> ids;
  for (const auto& s : plan.steps) {
    if (!is_gate(s.kind)) ids.push_back(s.id);
  }
  return ids;
}

inline const Step* step(const Plan& plan, const std::string& id) {
  for (const auto& s : plan.steps) {
    if (s.id == id) return &s;
  }
  return nullptr;
}

inline std::vector<std::string> blocker_codes(const Plan& plan) {
  std::vector<std::string> codes;
  for (const auto& b : plan.blockers) codes.push_back(name_of(b.code));
  return codes;
}

}  // namespace pgparity::planner::testing
