#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/values.hpp"

namespace pgparity::state {

/// A row of pg_extension.
struct InstalledExtension {
  Identifier name;
  Version version;
  Identifier schema;
  bool relocatable = false;
  bool operator==(const InstalledExtension&) const = default;
};

/// A row of pg_available_extension_versions.
struct AvailableVersion {
  Version version;
  std::vector<Identifier> required;  ///< `requires` of the control file, in its order
  bool superuser = true;
  bool trusted = false;
  bool relocatable = false;
  std::optional<Identifier> schema;
  bool operator==(const AvailableVersion&) const = default;
};

/// What the server's extension folder offers for one extension.
struct AvailableExtension {
  Identifier name;
  std::optional<Version> default_version;
  std::vector<AvailableVersion> versions;  ///< sorted by version text
  const AvailableVersion* find(const Version& version) const;
  bool operator==(const AvailableExtension&) const = default;
};

/// The path PostgreSQL takes from an installed version (pg_extension_update_paths).
struct UpdatePath {
  Version from;
  Version to;
  std::vector<Version> steps;  ///< from, ..., to
  bool operator==(const UpdatePath&) const = default;
};

/// What sort of object a dependent is: the words the blast-radius query (catalog_sql.hpp) writes.
enum class ObjectKind {
  column,
  table,
  materialized_view,
  index,
  view,
  sequence,
  foreign_table,
  type,
  relation,
  extension,
  function,
  constraint,
  trigger,
  column_default,
  policy,
  rule,
  object,
  configuration_table,
  configuration_sequence,
};
/// "column", "materialized view", "configuration table", ...: the one name table.
const char* name_of(ObjectKind kind);
/// The kind a word stands for; throws std::invalid_argument for an unknown one.
ObjectKind object_kind_named(const std::string& name);

/// An object DROP EXTENSION ... CASCADE would take with it (pg_depend walk),
/// or one of the extension's own configuration tables (pg_extension.extconfig).
struct DependentObject {
  std::string description;  ///< pg_describe_object: "column h of table t", "table cron.job"
  ObjectKind kind = ObjectKind::object;
  /// Tables and materialized views: their rows (configuration tables: only the
  /// rows their extcondition keeps, as pg_dump would); nullopt when not counted
  /// or not readable by the observing role.
  std::optional<long long> rows;
  /// kind "extension": its name, read from pg_extension (never cut out of the description).
  std::string extension;
  /// Whether dropping it loses something a user made: every non-member object
  /// CASCADE removes (not other extensions, which are planned on their own),
  /// and configuration tables that hold rows (or whose rows cannot be counted).
  bool user_data() const;
  bool configuration() const {
    return kind == ObjectKind::configuration_table || kind == ObjectKind::configuration_sequence;
  }
  /// The same object with the same weight (data or not), whatever its exact row count: rows come
  /// and go between a plan and its apply, and only a change of what is lost makes a plan stale.
  bool same_as(const DependentObject& other) const {
    return description == other.description && kind == other.kind && user_data() == other.user_data();
  }
  bool operator==(const DependentObject&) const = default;
};

/// A configuration table or sequence of an extension (pg_extension.extconfig),
/// whose rows a recreate copies aside and restores.
struct ConfigTable {
  Identifier schema;
  Identifier name;
  bool sequence = false;
  std::string condition;  ///< extcondition: "" (every row) or "WHERE ..." (the rows pg_dump keeps)
  std::optional<long long> rows;
  bool operator==(const ConfigTable&) const = default;
};

/// Other client sessions on the database when it was observed.
struct Activity {
  int sessions = 0;
  int active = 0;
  int idle_in_transaction = 0;
  bool operator==(const Activity&) const = default;
};

/// A row of the run journal (<state_schema>.runs) on a managed database.
/// How a journaled run ended (the `status` column of <state_schema>.runs).
enum class RunStatus { running, succeeded, failed, verify_failed, rolled_back, interrupted };
/// "running", "succeeded", "failed", "verify-failed", "rolled-back", "interrupted": the one name table.
const char* name_of(RunStatus status);

struct RunRecord {
  std::string run_id;
  std::string target;
  std::string database;
  std::string started_at;   ///< ISO 8601, UTC
  std::string finished_at;  ///< "" while running, or when the run never finished
  std::string status;       ///< as the table holds it (name_of(RunStatus), or a newer version's word)
  std::string plan_digest;
  std::string manifest_digest;
  int steps_done = 0;
  std::string error;
  std::string pgparity_version;
  std::string revision;  ///< the manifest's revision the run applied ("main@sha1:…"), "" when unknown
  std::vector<InstalledExtension> snapshot;  ///< pg_extension as it was before the run's changes
  bool operator==(const RunRecord&) const = default;
};

/// What a database was last converged to (<state_schema>.converged, in the database itself).
struct ConvergedRecord {
  std::string revision;  ///< "" when the run's revision was unknown
  std::string manifest_digest;
  std::string run_id;
  std::string converged_at;  ///< ISO 8601, UTC
  bool operator==(const ConvergedRecord&) const = default;
};

/// A PgBouncer PAUSE a run recorded in its journal with no RESUME after it.
struct OpenPause {
  std::string run_id;
  std::string pooler;  ///< the admin DSN, password masked
  std::string alias;
  std::string paused_at;  ///< ISO 8601, UTC
  bool operator==(const OpenPause&) const = default;
};

/// Something wrong with an extension's membership or files (observed for doctor).
struct IntegrityProblem {
  std::string kind;  ///< missing-member, non-member-function, module-file-missing
  std::string extension;
  std::string object;  ///< "pg_proc 16402", "my_in(cstring)", "$libdir/hstore"
  std::string detail;
  bool operator==(const IntegrityProblem&) const = default;
};

/// Whether two blast radii list the same objects with the same weight (DependentObject::same_as).
bool same_blast_radius(const std::vector<DependentObject>& a, const std::vector<DependentObject>& b);

/// One database as its catalogs describe it.
struct DatabaseState {
  std::string name;
  std::vector<InstalledExtension> installed;  ///< sorted by name
  std::vector<std::string> schemas;           ///< every schema of the database, sorted by name
  /// Schemas another role could plant objects in: owned by a role that is neither a superuser nor
  /// one the session acts as, or with CREATE granted to such a role (or PUBLIC). Sorted.
  std::vector<std::string> unsafe_schemas;
  /// For each installed extension asked about; absent when nothing depends on it.
  std::map<std::string, std::vector<DependentObject>> blast_radius;
  /// Configuration tables of the same extensions, in extconfig order.
  std::map<std::string, std::vector<ConfigTable>> config_tables;
  Activity activity;
  std::vector<IntegrityProblem> integrity;   ///< only when asked (doctor)
  std::vector<RunRecord> runs;               ///< pgparity's journal, newest first, when asked (doctor)
  std::optional<ConvergedRecord> converged;  ///< what it was last converged to, when asked (doctor, status)
  std::vector<OpenPause> open_pauses;        ///< pooler pauses with no RESUME recorded, when asked (doctor)
  bool run_in_progress = false;              ///< a pgparity run holds the database's lock (when asked)
  bool may_create = true;  ///< the role has CREATE on it: a role that could apply, not a read-only one

  const InstalledExtension* find(const std::string& extension) const;
  bool has_schema(const std::string& schema) const;
  const std::vector<DependentObject>& dependents(const std::string& extension) const;
  const std::vector<ConfigTable>& configuration(const std::string& extension) const;
};

/// A row of pg_settings, with its value normalized by unit.
/// pg_settings.vartype; `pooler` for a pooler's own values (pooler.*), which pgparity only reads;
/// `other` for a word this build does not know.
enum class SettingType { boolean, enumeration, integer, real, string, pooler, other };
/// pg_settings.context; `other` for a word this build does not know.
enum class SettingContext { internal, postmaster, sighup, superuser_backend, backend, superuser, user, other };
/// "bool", "enum", "integer", "real", "string", "pooler": pg_settings' words, one table each way.
const char* name_of(SettingType type);
SettingType setting_type_named(const std::string& name);
/// "internal", "postmaster", "sighup", "superuser-backend", "backend", "superuser", "user".
const char* name_of(SettingContext context);
SettingContext setting_context_named(const std::string& name);

struct Setting {
  std::string name;
  std::string value;  ///< pg_settings.setting, as the server shows it
  std::string unit;   ///< "", "B", "kB", "8kB", "MB", "ms", "s", "min", ...
  SettingType type = SettingType::string;
  SettingContext context = SettingContext::user;
  std::string source;
  bool pending_restart = false;
  std::optional<double> normalized;      ///< memory in bytes, time in ms, other numbers as they are
  std::string min;                       ///< pg_settings.min_val, in `unit` ("" when none)
  std::string max;                       ///< pg_settings.max_val, in `unit`
  std::vector<std::string> enum_values;  ///< pg_settings.enumvals
  std::string boot_value;
  std::string reset_value;
  bool may_alter_system = true;  ///< has_parameter_privilege(name, 'ALTER SYSTEM')
  /// What postgresql.auto.conf holds for it (as pg_file_settings shows the
  /// value); nullopt when it has no entry or the file cannot be read.
  std::optional<std::string> auto_conf;
};

/// One member of a Patroni cluster as GET /cluster lists it.
struct PatroniMember {
  std::string name;
  std::string role;     ///< "leader", "replica", "sync_standby", "standby_leader"
  std::string state;    ///< "running", "starting", "stopped", ...
  std::string api_url;  ///< its REST API, as Patroni lists it ("http://10.0.0.5:8008/patroni")
  std::string host;
  std::string port;
  bool pending_restart = false;
  std::optional<long long> lag;  ///< bytes behind the leader, for a replica that reports it
  bool leader() const { return role == "leader" || role == "standby_leader"; }
  /// Up and serving: "running" (a replica reports "streaming" or "in archive recovery" from Patroni 3.0.4).
  bool healthy() const { return state == "running" || state == "streaming" || state == "in archive recovery"; }
};

/// What Patroni's REST API says of the cluster's configuration (GET /config) and members (GET /cluster).
struct PatroniConfig {
  bool reached = false;
  std::string error;                              ///< why not, when not reached
  std::map<std::string, std::string> parameters;  ///< postgresql.parameters, values as text
  std::string system_identifier;                  ///< GET /patroni: database_system_identifier of that member
  std::vector<PatroniMember> members;             ///< GET /cluster, in Patroni's order
  /// Patroni refused the credentials (or asked for some) on a PATCH that changes nothing: what it said.
  std::string unauthorized;
};

/// What a server as a whole shows, whatever database one connects to.
struct ClusterState {
  std::string server_version;  ///< "15.18 (Debian 15.18-0+deb12u1)"
  int server_version_num = 0;  ///< 150018
  std::map<std::string, Setting> settings;
  bool auto_conf_known = false;  ///< pg_file_settings was readable: Setting::auto_conf is exact
  /// pg_file_settings' errors ("file:line: message"): a reload would apply nothing (or not all), and after a
  /// syntax error the files are not listed in full, so auto_conf cannot be trusted either.
  std::vector<std::string> config_errors;
  bool may_reload = true;                          ///< the role may run pg_reload_conf()
  bool superuser = true;                           ///< the session's role is a superuser
  std::vector<std::string> preload_libraries;      ///< shared_preload_libraries, split and trimmed, in server order
  std::vector<std::string> connectable_databases;  ///< non-template databases that allow connections, sorted
  std::string dsn_database;                        ///< the database the DSN itself connects to
  std::string library_dir;                         ///< PKGLIBDIR, "" when the role may not read it
  /// pg_control_system().system_identifier: the same on a primary and all its
  /// physical standbys, different for every initdb; "" when it cannot be read.
  std::string system_identifier;
  bool in_recovery = false;  ///< pg_is_in_recovery(): a standby
  std::string upstream;      ///< a standby's primary as its WAL receiver sees it ("host port"), "" when unknown
  /// Signs that an HA manager such as Patroni starts this server and owns its configuration (cluster_name
  /// and max_connections on the postmaster's command line; a postgresql.base.conf); empty when none.
  std::vector<std::string> ha_evidence;
  /// Every entry of postgresql.auto.conf (the last of a name), when auto_conf_known.
  std::map<std::string, std::string> auto_conf_entries;
  /// For each library asked about: whether its file is in library_dir (nullopt: cannot tell).
  std::map<std::string, std::optional<bool>> library_files;
  /// What the installation offers (the same in every database): the extensions
  /// asked about and everything they require.
  std::map<std::string, AvailableExtension> available;
  /// The name of every extension the server offers (for "did you mean").
  std::vector<std::string> offered;
  /// Update paths from every version of an asked-about extension installed in an observed database.
  std::map<std::string, std::vector<UpdatePath>> paths;

  const AvailableExtension* find_available(const std::string& extension) const;
  /// The path PostgreSQL takes from `from` to `to`, or nullptr when there is none.
  const UpdatePath* find_path(const std::string& extension, const Version& from, const Version& to) const;

  /// The normalized value of a setting, or nullopt when unknown or not numeric.
  std::optional<double> normalized(const std::string& setting) const;
};

/// Everything observed of one target.
/// A standby of a target as it shows itself: its own settings, control files,
/// update scripts and library files (a standby has its own installation).
struct ReplicaState {
  std::string endpoint;    ///< the DSN with any password masked: how messages name the standby
  std::string error;       ///< why it could not be observed; "" when it was
  ClusterState cluster;    ///< in_recovery, system_identifier, settings, library files, available versions, paths
  std::string replay_lsn;  ///< pg_last_wal_replay_lsn(); "" when not in recovery
  std::optional<double> replay_lag_seconds;  ///< now() - pg_last_xact_replay_timestamp()
  std::string member;  ///< the Patroni member it is (GET /cluster, by port), when the target declares Patroni
};

/// One route of a PgBouncer ([databases], SHOW DATABASES), and where it leads.
struct PoolerRoute {
  std::string alias;
  std::string host;
  std::string port;
  std::string database;           ///< the server database it opens
  std::string pool_mode;          ///< "" when the pooler's own pool_mode applies
  std::string pool_size;          ///< as SHOW DATABASES prints it
  std::string system_identifier;  ///< of the cluster a session through the alias reaches ("" when unknown)
  std::string error;              ///< why the alias could not be followed ("" when it was)
};

/// A target's PgBouncer, read on its admin console: SHOW CONFIG, SHOW DATABASES, SHOW POOLS.
struct PoolerState {
  std::string endpoint;                       ///< the admin DSN, password masked
  std::string error;                          ///< why it could not be observed; "" when it was
  std::map<std::string, std::string> config;  ///< SHOW CONFIG: key → value
  std::vector<PoolerRoute> routes;            ///< by alias; with the target's own databases when `*` routes them
  std::vector<std::map<std::string, std::string>> pools;  ///< SHOW POOLS rows
};

struct TargetState {
  std::string target;
  std::string endpoint;  ///< the DSN with any password masked, for messages
  ClusterState cluster;
  std::vector<DatabaseState> databases;  ///< the selected databases, sorted by name
  std::vector<ReplicaState> replicas;    ///< in the manifest's order
  std::optional<PoolerState> pooler;     ///< when the target names pooler.admin_dsn
  std::optional<PatroniConfig> patroni;  ///< when the target names patroni.url
};

}  // namespace pgparity::state
