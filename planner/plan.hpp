#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "core/values.hpp"
#include "state/observed.hpp"

namespace pgparity::planner {

/// The version of the plan document (JSON field "formatVersion").
inline constexpr int plan_format_version = 1;

/// `schema` is a CREATE SCHEMA that a create needs first (planned, shown, run in the same transaction).
/// `barrier` ends a part of the run (a rollout wave, or a target's database changes): the target's
/// standbys replay and verify what came before it, then the wave's soak and health checks; what
/// depends on it starts only when it passed (docs/apply.md, "The plan is the program").
/// `restart` restarts a server so that restart-only settings take effect (policy.restart.allowed and
/// the target's restart.command); what needs them (a preload library's CREATE) waits for it.
enum class StepKind {
  preflight,
  drain,
  snapshot,
  schema,
  create,
  update,
  drop,
  recreate,
  set,
  verify,
  barrier,
  restart,
  patroni  ///< the settings of a target whose manifest names its Patroni: one PATCH /config
};

/// "create", "update", ...
const char* name_of(StepKind kind);
/// The kind a name stands for; throws std::invalid_argument for an unknown one.
StepKind step_kind_named(const std::string& name);
/// True for the gates around changes (pre-flight, drain, snapshot, verify) and barriers.
bool is_gate(StepKind kind);

enum class RehearsalStatus { ok, failed, skipped };
/// "ok", "failed", "skipped"
const char* name_of(RehearsalStatus status);
/// Throws std::invalid_argument for an unknown name.
RehearsalStatus rehearsal_status_named(const std::string& name);

/// How a step fared when its SQL was run in a transaction that was rolled back (plan --rehearse).
struct Rehearsal {
  RehearsalStatus status = RehearsalStatus::ok;
  long long ms = 0;
  std::string how;    ///< what was run: "in a rolled-back transaction", "set_config in a rolled-back transaction", ...
  std::string error;  ///< the server's message, SQLSTATE, detail and hint when it failed
  std::string sqlstate;
  std::string detail;
  std::string hint;
  bool operator==(const Rehearsal&) const = default;
};

/// schema: a CREATE SCHEMA that a create needs first.
struct SchemaCreate {
  std::string schema;
  bool operator==(const SchemaCreate&) const = default;
};

/// create: CREATE EXTENSION at `to`.
struct ExtensionCreate {
  std::string extension;
  Version to;
  std::string schema;  ///< where the extension goes
  bool operator==(const ExtensionCreate&) const = default;
};

/// update: ALTER EXTENSION ... UPDATE from the installed version to `to`.
struct ExtensionUpdate {
  std::string extension;
  Version from;
  Version to;
  std::vector<Version> path;  ///< every version PostgreSQL passes through, from..to
  bool operator==(const ExtensionUpdate&) const = default;
};

/// drop: DROP EXTENSION, with what CASCADE takes with it.
struct ExtensionDrop {
  std::string extension;
  Version from;
  bool cascade = false;
  std::vector<state::DependentObject> blast_radius;
  bool operator==(const ExtensionDrop&) const = default;
};

/// recreate: drop and create again (a schema move or a version with no update path).
struct ExtensionRecreate {
  std::string extension;
  Version from;
  Version to;
  std::string schema;
  bool cascade = false;
  std::vector<state::DependentObject> blast_radius;
  std::vector<std::string> keeps;  ///< configuration rows copied aside and restored
  bool operator==(const ExtensionRecreate&) const = default;
};

/// set: ALTER SYSTEM SET of one setting (on the server, or on a standby).
struct SettingChange {
  std::string setting;
  std::string value;              ///< the new value
  std::string current;            ///< the value now
  bool restart_required = false;  ///< a postmaster setting, effective only after a restart
  /// what puts postgresql.auto.conf back as it was (the old entry, or RESET
  /// when there was none): run when a write, the reload or the check fails.
  std::vector<std::string> undo_sql;
  bool operator==(const SettingChange&) const = default;
};

/// restart: the target's restart command (a plain server) or one Patroni member's POST /restart, and the
/// restart-only settings it makes take effect.
struct ServerRestart {
  std::vector<std::string> command;   ///< argv, run without a shell; empty for a Patroni member
  std::vector<std::string> settings;  ///< sorted by name
  std::string member;                 ///< the Patroni member restarted; "" for a plain server
  bool leader = false;                ///< the member led the cluster when the plan was made
  bool operator==(const ServerRestart&) const = default;
};

/// patroni: one PATCH /config to the target's Patroni, and what it changes.
struct PatroniPatch {
  std::string url;                        ///< as the manifest writes it (${VAR} unexpanded)
  std::string body;                       ///< the exact JSON sent: {"postgresql":{"parameters":{...}}}
  std::vector<std::string> settings;      ///< sorted by name
  std::vector<std::string> current;       ///< what each runs now, in the same order
  std::vector<std::string> restart_only;  ///< of `settings`, those the members run only after a restart
  bool operator==(const PatroniPatch&) const = default;
};

/// What a step of a kind carries beside its SQL: nothing for gates and barriers.
using StepPayload = std::variant<std::monostate, SchemaCreate, ExtensionCreate, ExtensionUpdate, ExtensionDrop,
                                 ExtensionRecreate, SettingChange, ServerRestart, PatroniPatch>;

/// One node of the plan's graph, with the exact SQL it runs.
struct Step {
  std::string id;  ///< stable and unique: "staging/orders/update/hstore"
  StepKind kind = StepKind::preflight;
  std::string target;
  std::string database;  ///< "" for a cluster-wide step (settings)
  std::string replica;   ///< "replica-N": a setting on the target's N-th standby (manifest order); "" else
  StepPayload payload;   ///< the kind's own fields (payload_fits(kind, payload) holds)
  std::optional<Rehearsal> rehearsal;  ///< with plan --rehearse
  std::string reason;                  ///< why the step exists, when not obvious
  std::vector<std::string> sql;        ///< exactly what runs, in order
  std::vector<std::string> after;      ///< ids of steps that must finish first
  std::string wave;                    ///< policy.rollout: the wave of a database's steps, or the one a barrier ends

  /// The payload of its kind; std::bad_variant_access when the step is of another kind.
  template <typename T>
  T& as() {
    return std::get<T>(payload);
  }
  template <typename T>
  const T& as() const {
    return std::get<T>(payload);
  }
  /// The payload when it is a T, nullptr otherwise.
  template <typename T>
  const T* get_if() const {
    return std::get_if<T>(&payload);
  }

  bool operator==(const Step&) const = default;
};

/// A step of `kind` with the empty payload that kind carries.
Step make_step(StepKind kind);
/// Whether `payload` is what a step of `kind` carries.
bool payload_fits(StepKind kind, const StepPayload& payload);
/// The extension a create, update, drop or recreate changes; "" for other kinds.
const std::string& extension_of(const Step& s);
/// What a drop or recreate takes with it; empty for other kinds.
const std::vector<state::DependentObject>& blast_radius_of(const Step& s);

/// What a step changes, read from its kind (never guessed from which fields are empty).
struct StepObject {
  const char* key = "";  ///< "extension", "setting" or "schema"; "" for gates and barriers
  std::string name;      ///< the extension, setting or schema
  std::string from;      ///< the installed version, or the setting's value now ("" when none)
  std::string to;        ///< the version after the step, or the setting's new value
};
StepObject object_of(const Step& s);

/// What blocks a plan: stable codes, written in the plan's JSON and in docs/planning.md by name.
enum class BlockerCode {
  config_file_errors,
  data_loss,
  database_name_reserved,
  drop_takes_extension,
  extension_not_available,
  library_file_missing,
  managed_is_reference,
  managed_is_standby,
  managed_twice,
  needs_superuser,
  no_update_path,
  pooler_route_unverified,
  pooler_routes_to_reference,
  preload_missing,
  ratio_off_reference,
  ratio_out_of_bounds,
  ratio_unknown,
  reference_not_observed,
  rehearsal_failed,
  replica_library_missing,
  replica_no_update_path,
  replica_not_standby,
  replica_of_other_cluster,
  replica_unreachable,
  replica_version_not_available,
  requires_absent,
  requires_cycle,
  schema_differs,
  schema_fixed,
  schema_unsafe,
  setting_invalid_value,
  setting_on_command_line,
  setting_privilege,
  setting_secret,
  settings_owned_by_ha_manager,
  patroni_member_unknown,
  patroni_other_cluster,
  patroni_shadowed,
  patroni_unauthorized,
  patroni_unreachable,
  unknown_setting,
  version_not_available,
};

/// "no-update-path", ...: the one name table (plan.cpp) for both directions.
const char* name_of(BlockerCode code);
/// The code a name stands for; throws std::invalid_argument for an unknown one.
BlockerCode blocker_code_named(const std::string& name);

/// A difference that cannot be closed safely under the policy; nothing is applied while one exists.
struct Blocker {
  BlockerCode code = BlockerCode::no_update_path;
  std::string target;
  std::string database;
  std::string extension;
  std::string message;
  std::string hint;
  bool operator==(const Blocker&) const = default;
};

/// A setting already written to postgresql.auto.conf that the server runs
/// only after a restart: no step (pgparity never restarts a server), but told.
struct PendingRestart {
  std::string target;
  std::string setting;
  std::string running;  ///< what the server runs now, in human units
  std::string written;  ///< what postgresql.auto.conf holds
  bool operator==(const PendingRestart&) const = default;
};

/// A value ALTER SYSTEM left in postgresql.auto.conf on a member of a target whose settings are
/// Patroni's: it outranks Patroni's configuration there. Drift, never a step: the remedy is
/// ALTER SYSTEM RESET on that member.
struct AutoConfDrift {
  std::string target;
  std::string member;  ///< the Patroni member ("m2"), else "primary" or "replica-N"
  std::string setting;
  std::string value;  ///< as the file holds it
  bool operator==(const AutoConfDrift&) const = default;
};

/// One step of a progressive rollout (policy.rollout): the databases changed together.
struct Wave {
  std::string target;
  std::string name;                    ///< "canary", "wave 1 (10%)", ...
  std::vector<std::string> databases;  ///< sorted by name
  bool operator==(const Wave&) const = default;
};

/// The waves of `target` for the databases that have changes: `canary` databases first, then
/// each wave up to its cumulative share (rounded up) of them; by database name, so the same
/// input always gives the same waves. Empty waves are left out.
std::vector<Wave> rollout_waves(const std::string& target, int canary, const std::vector<int>& waves,
                                std::vector<std::string> databases);

/// What pgparity would do: steps in a valid order, and what stops it.
struct Plan {
  std::string fingerprint;  ///< of the observed state the plan was made from
  std::vector<Step> steps;  ///< topologically sorted; stable for the same input
  std::vector<Blocker> blockers;
  std::vector<std::string> warnings;  ///< worth knowing, not blocking (restart required, ...)
  std::vector<PendingRestart> pending_restarts;
  std::vector<AutoConfDrift> auto_conf_drift;
  std::vector<Wave> waves;  ///< policy.rollout: the order databases are changed in, per target
  /// (target, pattern): a `databases` glob that matched no connectable database (a warning in plan,
  /// a deviation in check).
  std::vector<std::pair<std::string, std::string>> unmatched_patterns;
  /// plan --rehearse: a line per database ("rehearsed on staging/orders: ✓ 3 steps in 1.2 s, rolled back").
  std::vector<std::string> rehearsals;
  bool rehearsed = false;  ///< the plan's SQL was rehearsed against the state of `fingerprint`

  /// Steps that change something (not gates).
  std::size_t change_count() const;
  bool has_changes() const { return change_count() > 0; }
  bool blocked() const { return !blockers.empty(); }
  bool operator==(const Plan&) const = default;
};

}  // namespace pgparity::planner
