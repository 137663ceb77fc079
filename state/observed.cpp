#include "state/observed.hpp"

#include <algorithm>
#include <stdexcept>
#include <utility>

#include "core/name_table.hpp"

namespace pgparity::state {

const InstalledExtension* DatabaseState::find(const std::string& extension) const {
  for (const auto& e : installed) {
    if (e.name.str() == extension) return &e;
  }
  return nullptr;
}

bool DatabaseState::has_schema(const std::string& schema) const {
  return std::find(schemas.begin(), schemas.end(), schema) != schemas.end();
}

const AvailableVersion* AvailableExtension::find(const Version& version) const {
  for (const auto& v : versions) {
    if (v.version == version) return &v;
  }
  return nullptr;
}

bool same_blast_radius(const std::vector<DependentObject>& a, const std::vector<DependentObject>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (!a[i].same_as(b[i])) return false;
  }
  return true;
}

namespace {
constexpr std::pair<ObjectKind, const char*> object_kind_names[] = {
    {ObjectKind::column, "column"},
    {ObjectKind::table, "table"},
    {ObjectKind::materialized_view, "materialized view"},
    {ObjectKind::index, "index"},
    {ObjectKind::view, "view"},
    {ObjectKind::sequence, "sequence"},
    {ObjectKind::foreign_table, "foreign table"},
    {ObjectKind::type, "type"},
    {ObjectKind::relation, "relation"},
    {ObjectKind::extension, "extension"},
    {ObjectKind::function, "function"},
    {ObjectKind::constraint, "constraint"},
    {ObjectKind::trigger, "trigger"},
    {ObjectKind::column_default, "column default"},
    {ObjectKind::policy, "policy"},
    {ObjectKind::rule, "rule"},
    {ObjectKind::object, "object"},
    {ObjectKind::configuration_table, "configuration table"},
    {ObjectKind::configuration_sequence, "configuration sequence"},
};
}  // namespace

const char* name_of(ObjectKind kind) { return name_in(object_kind_names, kind); }

ObjectKind object_kind_named(const std::string& name) {
  if (const auto kind = value_in(object_kind_names, name)) return *kind;
  throw std::invalid_argument("unknown object kind \"" + name + "\"");
}

bool DependentObject::user_data() const {
  if (kind == ObjectKind::extension || kind == ObjectKind::configuration_sequence) return false;
  if (kind == ObjectKind::configuration_table) return !rows || *rows > 0;
  return true;
}

const AvailableExtension* ClusterState::find_available(const std::string& extension) const {
  auto it = available.find(extension);
  return it == available.end() ? nullptr : &it->second;
}

const UpdatePath* ClusterState::find_path(const std::string& extension, const Version& from, const Version& to) const {
  auto it = paths.find(extension);
  if (it == paths.end()) return nullptr;
  for (const auto& p : it->second) {
    if (p.from == from && p.to == to) return &p;
  }
  return nullptr;
}

const std::vector<DependentObject>& DatabaseState::dependents(const std::string& extension) const {
  static const std::vector<DependentObject> none;
  auto it = blast_radius.find(extension);
  return it == blast_radius.end() ? none : it->second;
}

const std::vector<ConfigTable>& DatabaseState::configuration(const std::string& extension) const {
  static const std::vector<ConfigTable> none;
  auto it = config_tables.find(extension);
  return it == config_tables.end() ? none : it->second;
}

std::optional<double> ClusterState::normalized(const std::string& setting) const {
  auto it = settings.find(setting);
  if (it == settings.end()) return std::nullopt;
  return it->second.normalized;
}

namespace {

constexpr std::pair<RunStatus, const char*> run_status_names[] = {
    {RunStatus::running, "running"},         {RunStatus::succeeded, "succeeded"},
    {RunStatus::failed, "failed"},           {RunStatus::verify_failed, "verify-failed"},
    {RunStatus::rolled_back, "rolled-back"}, {RunStatus::interrupted, "interrupted"}};

constexpr std::pair<SettingType, const char*> type_names[] = {
    {SettingType::boolean, "bool"}, {SettingType::enumeration, "enum"}, {SettingType::integer, "integer"},
    {SettingType::real, "real"},    {SettingType::string, "string"},    {SettingType::pooler, "pooler"}};

constexpr std::pair<SettingContext, const char*> context_names[] = {
    {SettingContext::internal, "internal"}, {SettingContext::postmaster, "postmaster"},
    {SettingContext::sighup, "sighup"},     {SettingContext::superuser_backend, "superuser-backend"},
    {SettingContext::backend, "backend"},   {SettingContext::superuser, "superuser"},
    {SettingContext::user, "user"}};

}  // namespace

const char* name_of(RunStatus status) { return name_in(run_status_names, status); }

const char* name_of(SettingType type) { return name_in(type_names, type, "other"); }

SettingType setting_type_named(const std::string& name) {
  return value_in(type_names, name).value_or(SettingType::other);
}

const char* name_of(SettingContext context) { return name_in(context_names, context, "other"); }

SettingContext setting_context_named(const std::string& name) {
  return value_in(context_names, name).value_or(SettingContext::other);
}

}  // namespace pgparity::state
