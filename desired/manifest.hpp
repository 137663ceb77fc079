#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/values.hpp"
#include "desired/ratio_expr.hpp"

namespace pgparity::desired {

/// The only manifest format this build reads and writes.
inline constexpr const char* api_version = "pgparity/v1";

enum class Role {
  reference,  ///< observed only; every session READ ONLY at the server
  managed,    ///< pgparity may change it
};

/// Which databases of a target are managed.
struct DatabaseSelection {
  bool all = false;                   ///< "*": every connectable, non-template database
  std::vector<Identifier> names;      ///< explicit names (sorted); empty and !all: the DSN's database
  std::vector<std::string> patterns;  ///< globs (`app_*`, `db?`, `shard_[0-9]`), sorted
  std::vector<std::string> exclude;   ///< names or globs taken out of whatever the rest selects
  /// Whether the selection is decided against the server's list of databases ("*" or a glob).
  bool listed() const { return all || !patterns.empty(); }
  /// Whether `database` (connectable, not a template) is selected.
  bool selects(const std::string& database) const;
  /// Shell-style glob matching (fnmatch): `*`, `?`, `[0-9]`, `[!x]`; a name without them matches itself.
  static bool matches(const std::string& pattern, const std::string& database);
  bool operator==(const DatabaseSelection&) const = default;
};

/// A PgBouncer in front of a target, paused around changes.
struct Pooler {
  std::string admin_dsn_source;  ///< as written, ${VAR} unexpanded (what export writes back)
  std::string admin_dsn;         ///< expanded
  bool operator==(const Pooler&) const = default;
};

/// A standby of a target, named by its DSN.
struct Replica {
  std::string dsn_source;  ///< as written, ${VAR} unexpanded
  std::string dsn;         ///< expanded
  bool operator==(const Replica&) const = default;
};

struct Target {
  std::string name;
  std::string dsn_source;  ///< as written, ${VAR} unexpanded
  std::string dsn;         ///< expanded from the environment
  Role role = Role::managed;
  DatabaseSelection databases;
  std::optional<Pooler> pooler;
  /// Physical standbys of the target's primary, observed read-only; settings steps run on them too.
  std::vector<Replica> replicas;
  /// restart.command: how the primary's server is restarted (an argv, no shell; the program an absolute
  /// path), run by a plan's restart step when policy.restart.allowed. Empty: pgparity cannot restart it.
  std::vector<std::string> restart_command;
  /// patroni.url: the REST API of a Patroni member of the target's cluster ("http://host:8008"), as
  /// written and expanded. Set: the target's settings go through Patroni (GET/PATCH /config), never
  /// ALTER SYSTEM.
  std::string patroni_url_source;
  std::string patroni_url;
  /// patroni.username / patroni.password: the REST API's basic-auth credentials for what changes
  /// something (PATCH /config, POST /restart), as written (${VAR}) and expanded; empty: none.
  std::string patroni_username_source;
  std::string patroni_username;
  std::string patroni_password_source;
  std::string patroni_password;
  bool operator==(const Target&) const = default;
};

/// The standby a plan's "replica-N" label names (N from 1, in manifest order), or nullptr.
const Replica* find_replica(const Target& target, const std::string& label);

/// What version an extension must have.
struct VersionSpec {
  enum class Kind {
    exact,      ///< `version: "1.10"`
    reference,  ///< whatever the reference target runs (parity mode)
    latest,     ///< `version: default`: the control file's default_version
  };
  Kind kind = Kind::exact;
  Version exact;  ///< set when kind == exact
  bool operator==(const VersionSpec&) const = default;
  /// "1.10", "reference" or "default", as the manifest writes it.
  std::string str() const;
};

struct Extension {
  Identifier name;
  bool absent = false;                ///< `ensure: absent`
  VersionSpec version;                ///< meaningful when !absent
  std::optional<Identifier> schema;   ///< where to create it; server's choice when unset
  bool preload = false;               ///< its library (named as the extension) must be in shared_preload_libraries
  std::vector<Identifier> databases;  ///< narrows the targets' databases (sorted); empty: all of them
  bool operator==(const Extension&) const = default;
};

struct Ratio {
  RatioExpr expr;
  bool match_reference = false;  ///< must equal the reference target's ratio ...
  double tolerance = 0.05;       ///< ... within this relative difference
  std::optional<double> min;     ///< absolute bounds (inclusive)
  std::optional<double> max;
  bool operator==(const Ratio&) const = default;
};

struct Settings {
  std::vector<std::string> preload;          ///< libraries that must be in shared_preload_libraries (sorted)
  std::map<Identifier, std::string> values;  ///< exact values for managed targets
  std::vector<Ratio> ratios;
  bool operator==(const Settings&) const = default;
};

enum class RecreatePolicy { never, in_window, always };

struct MaintenanceWindow {
  std::vector<int> days;  ///< 0 = sunday ... 6 = saturday, sorted
  int start_minute = 0;   ///< minutes after midnight, local to `timezone`
  int end_minute = 0;     ///< may be smaller than start: the window spans midnight
  std::string timezone = "UTC";
  bool operator==(const MaintenanceWindow&) const = default;
};

struct Drain {
  bool enabled = true;  ///< false: no waiting for quiet; lock_timeout alone protects the change
  Duration quiet_for = Duration::seconds(30);
  Duration timeout = Duration::minutes(10);
  bool terminate_idle = false;                 ///< terminate sessions that are `idle`
  bool terminate_idle_in_transaction = false;  ///< also terminate `idle in transaction` ones (their work is lost)
  /// Sessions with these application_name values are never terminated (replication
  /// connections and pgparity's own sessions never are, whatever this says).
  std::vector<std::string> never_terminate{"pg_dump", "pg_basebackup"};
  bool operator==(const Drain&) const = default;
};

/// Timeouts of a rehearsal (plan --rehearse): short enough for a pull-request check.
struct Rehearse {
  Duration lock_timeout = Duration::seconds(5);
  Duration statement_timeout = Duration::minutes(2);
  bool operator==(const Rehearse&) const = default;
};

/// Progressive rollout across a target's databases: the canaries first, then each wave; a
/// failure, or a health query failing after a wave's soak, halts the waves not yet started.
struct Rollout {
  int canary = 0;          ///< databases changed first, on their own
  std::vector<int> waves;  ///< cumulative percentages of the databases to change, ascending, the last 100
  Duration soak;           ///< wait after each wave before its health queries run again
  bool halt_on_failure = true;
  bool operator==(const Rollout&) const = default;
};

/// policy.restart: whether a plan may restart a server to make a restart-only setting take effect.
struct RestartPolicy {
  bool allowed = false;
  Duration timeout = Duration::minutes(5);  ///< for the command, and for the server to answer again
  bool operator==(const RestartPolicy&) const = default;
};

struct Policy {
  Duration lock_timeout = Duration::seconds(30);
  /// After a change, how long each standby may take to replay past its commit before verification fails.
  Duration replica_wait = Duration::seconds(60);
  Drain drain;
  RecreatePolicy recreate = RecreatePolicy::never;
  std::optional<MaintenanceWindow> maintenance_window;
  bool allow_data_loss = false;
  /// Write shared_preload_libraries (settings.preload and preload: true, element-wise, restart
  /// required) instead of only reporting what is missing.
  bool manage_preload = false;
  RestartPolicy restart;
  Rehearse rehearse;
  std::optional<Rollout> rollout;
  std::map<Identifier, std::string> health;                  ///< extension -> SQL that must succeed after a change
  Identifier state_schema = *Identifier::parse("pgparity");  ///< where snapshots and the run journal live
  bool operator==(const Policy&) const = default;
};

/// The desired state: what every managed database must look like.
struct Manifest {
  bool suspend = false;  ///< report drift, change nothing
  std::map<std::string, Target> targets;
  std::vector<Extension> extensions;  ///< sorted by name, then first database
  Settings settings;
  Policy policy;
  bool operator==(const Manifest&) const = default;

  /// The reference target, if the manifest has one.
  const Target* reference() const;
};

}  // namespace pgparity::desired
