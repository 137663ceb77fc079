#include "planner/plan.hpp"

#include "core/name_table.hpp"
#include "planner/render.hpp"
#include "planner/sql.hpp"

#include <algorithm>
#include <stdexcept>
#include <type_traits>
#include <utility>

namespace pgparity::planner {

namespace {

constexpr std::pair<StepKind, const char*> step_kind_names[] = {
    {StepKind::preflight, "preflight"}, {StepKind::drain, "drain"},       {StepKind::snapshot, "snapshot"},
    {StepKind::schema, "schema"},       {StepKind::create, "create"},     {StepKind::update, "update"},
    {StepKind::drop, "drop"},           {StepKind::recreate, "recreate"}, {StepKind::set, "set"},
    {StepKind::verify, "verify"},       {StepKind::barrier, "barrier"},   {StepKind::restart, "restart"},
    {StepKind::patroni, "patroni"}};

constexpr std::pair<BlockerCode, const char*> blocker_names[] = {
    {BlockerCode::config_file_errors, "config-file-errors"},
    {BlockerCode::data_loss, "data-loss"},
    {BlockerCode::database_name_reserved, "database-name-reserved"},
    {BlockerCode::drop_takes_extension, "drop-takes-extension"},
    {BlockerCode::extension_not_available, "extension-not-available"},
    {BlockerCode::library_file_missing, "library-file-missing"},
    {BlockerCode::managed_is_reference, "managed-is-reference"},
    {BlockerCode::managed_is_standby, "managed-is-standby"},
    {BlockerCode::managed_twice, "managed-twice"},
    {BlockerCode::needs_superuser, "needs-superuser"},
    {BlockerCode::no_update_path, "no-update-path"},
    {BlockerCode::pooler_route_unverified, "pooler-route-unverified"},
    {BlockerCode::pooler_routes_to_reference, "pooler-routes-to-reference"},
    {BlockerCode::preload_missing, "preload-missing"},
    {BlockerCode::ratio_off_reference, "ratio-off-reference"},
    {BlockerCode::ratio_out_of_bounds, "ratio-out-of-bounds"},
    {BlockerCode::ratio_unknown, "ratio-unknown"},
    {BlockerCode::reference_not_observed, "reference-not-observed"},
    {BlockerCode::rehearsal_failed, "rehearsal-failed"},
    {BlockerCode::replica_library_missing, "replica-library-missing"},
    {BlockerCode::replica_no_update_path, "replica-no-update-path"},
    {BlockerCode::replica_not_standby, "replica-not-standby"},
    {BlockerCode::replica_of_other_cluster, "replica-of-other-cluster"},
    {BlockerCode::replica_unreachable, "replica-unreachable"},
    {BlockerCode::replica_version_not_available, "replica-version-not-available"},
    {BlockerCode::requires_absent, "requires-absent"},
    {BlockerCode::requires_cycle, "requires-cycle"},
    {BlockerCode::schema_differs, "schema-differs"},
    {BlockerCode::schema_fixed, "schema-fixed"},
    {BlockerCode::schema_unsafe, "schema-unsafe"},
    {BlockerCode::setting_invalid_value, "setting-invalid-value"},
    {BlockerCode::setting_on_command_line, "setting-on-command-line"},
    {BlockerCode::setting_privilege, "setting-privilege"},
    {BlockerCode::setting_secret, "setting-secret"},
    {BlockerCode::settings_owned_by_ha_manager, "settings-owned-by-ha-manager"},
    {BlockerCode::patroni_member_unknown, "patroni-member-unknown"},
    {BlockerCode::patroni_other_cluster, "patroni-other-cluster"},
    {BlockerCode::patroni_shadowed, "patroni-shadowed"},
    {BlockerCode::patroni_unauthorized, "patroni-unauthorized"},
    {BlockerCode::patroni_unreachable, "patroni-unreachable"},
    {BlockerCode::unknown_setting, "unknown-setting"},
    {BlockerCode::version_not_available, "version-not-available"},
};

constexpr std::pair<RehearsalStatus, const char*> rehearsal_names[] = {
    {RehearsalStatus::ok, "ok"}, {RehearsalStatus::failed, "failed"}, {RehearsalStatus::skipped, "skipped"}};

}  // namespace

const char* name_of(StepKind kind) { return name_in(step_kind_names, kind); }

StepKind step_kind_named(const std::string& name) {
  if (const auto kind = value_in(step_kind_names, name)) return *kind;
  throw std::invalid_argument("unknown step kind '" + name + "'");
}

const char* name_of(RehearsalStatus status) { return name_in(rehearsal_names, status); }

RehearsalStatus rehearsal_status_named(const std::string& name) {
  if (const auto status = value_in(rehearsal_names, name)) return *status;
  throw std::invalid_argument("unknown rehearsal status '" + name + "'");
}

const char* name_of(BlockerCode code) { return name_in(blocker_names, code); }

BlockerCode blocker_code_named(const std::string& name) {
  if (const auto code = value_in(blocker_names, name)) return *code;
  throw std::invalid_argument("unknown blocker code '" + name + "'");
}

Step make_step(StepKind kind) {
  Step s;
  s.kind = kind;
  switch (kind) {
    case StepKind::schema:
      s.payload = SchemaCreate{};
      break;
    case StepKind::create:
      s.payload = ExtensionCreate{};
      break;
    case StepKind::update:
      s.payload = ExtensionUpdate{};
      break;
    case StepKind::drop:
      s.payload = ExtensionDrop{};
      break;
    case StepKind::recreate:
      s.payload = ExtensionRecreate{};
      break;
    case StepKind::set:
      s.payload = SettingChange{};
      break;
    case StepKind::restart:
      s.payload = ServerRestart{};
      break;
    case StepKind::patroni:
      s.payload = PatroniPatch{};
      break;
    default:
      break;
  }
  return s;
}

bool payload_fits(StepKind kind, const StepPayload& payload) {
  return make_step(kind).payload.index() == payload.index();
}

const std::string& extension_of(const Step& s) {
  static const std::string none;
  return std::visit(
      [](const auto& p) -> const std::string& {
        if constexpr (requires { p.extension; }) {
          return p.extension;
        } else {
          return none;
        }
      },
      s.payload);
}

const std::vector<state::DependentObject>& blast_radius_of(const Step& s) {
  static const std::vector<state::DependentObject> none;
  if (const auto* d = s.get_if<ExtensionDrop>()) return d->blast_radius;
  if (const auto* r = s.get_if<ExtensionRecreate>()) return r->blast_radius;
  return none;
}

StepObject object_of(const Step& s) {
  return std::visit(
      [](const auto& p) -> StepObject {
        using T = std::decay_t<decltype(p)>;
        if constexpr (std::is_same_v<T, SchemaCreate>) {
          return {"schema", p.schema, "", ""};
        } else if constexpr (std::is_same_v<T, ExtensionCreate>) {
          return {"extension", p.extension, "", p.to.str()};
        } else if constexpr (std::is_same_v<T, ExtensionDrop>) {
          return {"extension", p.extension, p.from.str(), ""};
        } else if constexpr (std::is_same_v<T, ExtensionUpdate> || std::is_same_v<T, ExtensionRecreate>) {
          return {"extension", p.extension, p.from.str(), p.to.str()};
        } else if constexpr (std::is_same_v<T, SettingChange>) {
          return {"setting", p.setting, p.current, p.value};
        } else {
          return {};
        }
      },
      s.payload);
}

std::vector<Wave> rollout_waves(const std::string& target, int canary, const std::vector<int>& waves,
                                std::vector<std::string> databases) {
  std::sort(databases.begin(), databases.end());
  std::vector<Wave> out;
  std::size_t done = 0;
  const auto take = [&](const std::string& name, std::size_t upto) {
    upto = std::min(upto, databases.size());
    if (upto <= done) return;
    out.push_back({target, name,
                   std::vector<std::string>(databases.begin() + static_cast<std::ptrdiff_t>(done),
                                            databases.begin() + static_cast<std::ptrdiff_t>(upto))});
    done = upto;
  };
  take("canary", static_cast<std::size_t>(std::max(canary, 0)));
  for (std::size_t i = 0; i < waves.size(); ++i) {
    const std::size_t upto = (databases.size() * static_cast<std::size_t>(waves[i]) + 99) / 100;
    take("wave " + std::to_string(i + 1) + " (" + std::to_string(waves[i]) + "%)", upto);
  }
  take("wave " + std::to_string(waves.size() + 1) + " (rest)", databases.size());  // never leave one out
  return out;
}

bool is_gate(StepKind kind) {
  return kind == StepKind::preflight || kind == StepKind::drain || kind == StepKind::snapshot ||
         kind == StepKind::verify || kind == StepKind::barrier;
}

std::string describe(const Step& s) {
  const StepObject o = object_of(s);
  switch (s.kind) {
    case StepKind::schema:
      return "create schema " + o.name;
    case StepKind::create:
      return "create " + o.name + " " + o.to;
    case StepKind::update:
    case StepKind::recreate:
      return std::string(name_of(s.kind)) + " " + o.name + " " + o.from + " → " + o.to;
    case StepKind::drop:
      return "drop " + o.name + " " + o.from;
    case StepKind::set:
      return "set " + o.name + " = " + o.to + (s.replica.empty() ? "" : " on " + s.replica);
    case StepKind::restart:
      return "restart " + s.target +
             (s.as<ServerRestart>().member.empty() ? "" : " member " + s.as<ServerRestart>().member) + " (" +
             settings_text(s.as<ServerRestart>()) + ")";
    case StepKind::patroni:
      return "PATCH /config of " + s.target + "'s Patroni";
    default:
      return planner::name_of(s.kind);
  }
}

std::string path_text(const std::vector<Version>& path) {
  std::string out;
  for (const auto& v : path) out += (out.empty() ? "" : "--") + v.str();
  return out;
}

std::string command_text(const ServerRestart& restart) {
  if (!restart.member.empty()) {
    return "POST /restart {\"restart_pending\": true} to Patroni member " + restart.member +
           (restart.leader ? " (the leader)" : " (a replica)");
  }
  std::string out;
  for (const auto& arg : restart.command) out += (out.empty() ? "" : " ") + arg;
  return out;
}

std::string auto_conf_drift_text(const AutoConfDrift& d) {
  return d.target + " " + d.member + ": postgresql.auto.conf holds " + d.setting + " = '" + d.value +
         "', which outranks Patroni's configuration there (ALTER SYSTEM left it); on that member run ALTER SYSTEM "
         "RESET " +
         quote_ident(d.setting) + "; SELECT pg_reload_conf();";
}

std::string settings_text(const ServerRestart& restart) {
  std::string out;
  for (const auto& name : restart.settings) out += (out.empty() ? "" : ", ") + name;
  return out;
}

std::string rehearsal_text(const Rehearsal& r) {
  if (r.status != RehearsalStatus::failed)
    return name_of(r.status) + std::string(" (") + std::to_string(r.ms) + " ms, " + r.how + ")";
  std::string out = "failed: " + r.error + (r.sqlstate.empty() ? "" : " (SQLSTATE " + r.sqlstate + ")");
  if (!r.detail.empty()) out += "; detail: " + r.detail;
  if (!r.hint.empty()) out += "; hint: " + r.hint;
  return out + " [" + r.how + "]";
}

std::string describe(const state::DependentObject& o) {
  std::string notes;
  if (o.rows) notes = std::to_string(*o.rows) + (*o.rows == 1 ? " row" : " rows");
  if (o.user_data()) notes += (notes.empty() ? "" : ", ") + std::string("data");
  return o.description + (notes.empty() ? "" : " (" + notes + ")");
}

std::size_t Plan::change_count() const {
  return static_cast<std::size_t>(
      std::count_if(steps.begin(), steps.end(), [](const Step& s) { return !is_gate(s.kind); }));
}

}  // namespace pgparity::planner
