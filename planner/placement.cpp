#include "planner/database_planner.hpp"

#include <cmath>

#include "core/setting_list.hpp"
#include "core/spelling.hpp"
#include "desired/writer.hpp"
#include "planner/keep_config.hpp"
#include "planner/render.hpp"
#include "planner/settings_sql.hpp"
#include "planner/sql.hpp"
#include "planner/words.hpp"
#include "state/settings.hpp"

namespace pgparity::planner {

bool DatabasePlanner::safe_schema(const std::string& name, const std::string& schema) {
  const auto& unsafe = db_.unsafe_schemas;
  if (!std::binary_search(unsafe.begin(), unsafe.end(), schema)) return true;
  if (!db_.may_create) {
    // Judged against the role that observed: a read-only planning role (a pull request's) is not the role
    // that applies, so this is said, not blocked; the applying role's own plan blocks it.
    plan_.warnings.push_back(prefix() + ": schema " + schema +
                             " is owned by, or open to CREATE for, a role the "
                             "planning role is not; the applying role's plan checks it again");
    return true;
  }
  block(BlockerCode::schema_unsafe, name,
        "schema " + schema +
            " is owned by, or open to CREATE for, a role that is neither a superuser nor the "
            "applying role: objects planted there could run inside " +
            name + "'s script (the CVE-2023-39417 class)",
        "use a schema the applying role owns (schema: in the manifest), or REVOKE CREATE ON SCHEMA " +
            quote_ident(schema) + " FROM the other roles and make the applying role its owner");
  return false;
}

std::optional<DatabasePlanner::Placement> DatabasePlanner::place(const std::string& name, const Version& version,
                                                                 const std::string& wanted) {
  Placement p;
  const auto* available = target_.cluster.find_available(name);
  const auto* control = available == nullptr ? nullptr : available->find(version);
  if (control != nullptr && control->schema) {
    p.schema = control->schema->str();
    p.fixed = true;
    p.why = "schema " + p.schema + " fixed by its control file";
    if (!wanted.empty() && wanted != p.schema) {
      block(BlockerCode::schema_fixed, name,
            name + " can only be installed in schema " + p.schema + " (its control file says so), the manifest wants " +
                wanted,
            "remove schema: from " + name + "'s manifest entry");
      return std::nullopt;
    }
    if (!safe_schema(name, p.schema)) return std::nullopt;
    return p;
  }
  const state::DatabaseState* ref_db = reference_database();
  const state::InstalledExtension* on_reference = ref_db == nullptr ? nullptr : ref_db->find(name);
  if (!wanted.empty()) {
    p.schema = wanted;  // the manifest's own choice needs no explanation
  } else if (on_reference != nullptr) {
    p.schema = on_reference->schema.str();
    p.why = "schema " + p.schema + " as on the reference";
  } else {
    p.schema = "public";
  }
  if (!db_.has_schema(p.schema)) {
    p.schema_step = plan_schema(p.schema);
  } else if (!safe_schema(name, p.schema)) {
    return std::nullopt;
  }
  return p;
}

std::string DatabasePlanner::plan_schema(const std::string& schema) {
  const std::string id = prefix() + "/" + name_of(StepKind::schema) + "/" + schema;
  if (by_id_.contains(id)) return id;
  Step& s = add(StepKind::schema, "", id);
  s.as<SchemaCreate>().schema = schema;
  s.reason = "the database has no schema " + schema;
  s.sql.push_back("CREATE SCHEMA " + quote_ident(schema));
  return id;
}

}  // namespace pgparity::planner
