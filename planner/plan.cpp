#include "planner/plan.hpp"

#include "core/name_table.hpp"
#include "planner/render.hpp"

#include <algorithm>
#include <stdexcept>
#include <utility>

namespace pgparity::planner {

namespace {

constexpr std::pair<StepKind, const char*> step_kind_names[] = {
    {StepKind::preflight, "preflight"}, {StepKind::drain, "drain"},       {StepKind::snapshot, "snapshot"},
    {StepKind::schema, "schema"},       {StepKind::create, "create"},     {StepKind::update, "update"},
    {StepKind::drop, "drop"},           {StepKind::recreate, "recreate"}, {StepKind::set, "set"},
    {StepKind::verify, "verify"},       {StepKind::barrier, "barrier"}};

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

StepObject object_of(const Step& s) {
  switch (s.kind) {
    case StepKind::schema:
      return {"schema", s.schema, "", ""};
    case StepKind::create:
    case StepKind::update:
    case StepKind::drop:
    case StepKind::recreate:
      return {"extension", s.extension, s.from, s.to};
    case StepKind::set:
      return {"setting", s.setting, s.current, s.value};
    default:
      return {};
  }
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
  switch (s.kind) {
    case StepKind::schema:
      return "create schema " + s.schema;
    case StepKind::create:
      return "create " + s.extension + " " + s.to;
    case StepKind::update:
      return "update " + s.extension + " " + s.from + " → " + s.to;
    case StepKind::drop:
      return "drop " + s.extension + " " + s.from;
    case StepKind::recreate:
      return "recreate " + s.extension + " " + s.from + " → " + s.to;
    case StepKind::set:
      return "set " + s.setting + " = " + s.value + (s.replica.empty() ? "" : " on " + s.replica);
    default:
      return planner::name_of(s.kind);
  }
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
