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

void DatabasePlanner::plan_recreate(const Extension& e, const state::InstalledExtension& installed,
                                    const Version& version) {
  const std::string name = e.name.str();
  const std::string change = name + " " + installed.version.str() + " → " + version.str();
  const auto& policy = manifest_.policy;
  const bool forced = input_.force_recreate.count(db_.name + "/" + name) > 0;
  const bool allowed = forced || policy.recreate == desired::RecreatePolicy::always ||
                       (policy.recreate == desired::RecreatePolicy::in_window && input_.in_maintenance_window);
  if (!allowed) {
    std::string hint = "set policy.recreate: in-window (or always) to DROP and CREATE it";
    if (policy.recreate == desired::RecreatePolicy::in_window) hint = "wait for the maintenance window";
    block(BlockerCode::no_update_path, name,
          change + ": no update path (available: " + available_list(target_.cluster.find_available(name)) + ")",
          hint + ", or choose a version reachable from " + installed.version.str());
    return;
  }
  const auto& blast = db_.dependents(name);
  // Configuration rows are copied aside and restored, so they are not lost.
  if (!check_blast(name, blast, "recreating", false)) return;
  // Back where it was (or where the manifest wants it); a fixed control-file schema wins. Placed
  // before the step is added: a CREATE SCHEMA step added meanwhile must not move it in memory.
  const auto placement = place(name, version, e.schema ? e.schema->str() : installed.schema.str());
  if (!placement) return;
  Step& s = add(StepKind::recreate, name);
  auto& recreate = s.as<ExtensionRecreate>();
  recreate.from = installed.version;
  recreate.to = version;
  recreate.schema = placement->schema;
  if (!placement->schema_step.empty()) pending_edges_.push_back({placement->schema_step, s.id});
  recreate.cascade = needs_cascade(blast);
  recreate.blast_radius = blast;
  s.reason = forced ? "recreate requested (pgparity recover)"
                    : "no update path from " + installed.version.str() + "; policy.recreate allows DROP + CREATE";
  const KeepConfigSql keep = keep_config_sql(name, db_.configuration(name), manifest_.policy.state_schema.str(),
                                             manifest_.policy.allow_data_loss);
  recreate.keeps = keep.keeps;
  s.sql = keep.before;
  s.sql.push_back("DROP EXTENSION " + quote_ident(name) + (recreate.cascade ? " CASCADE" : " RESTRICT"));
  s.sql.push_back(create_sql(name, version.str(), *placement));
  s.sql.insert(s.sql.end(), keep.after.begin(), keep.after.end());
}

bool DatabasePlanner::needs_cascade(const std::vector<state::DependentObject>& blast) {
  return std::any_of(blast.begin(), blast.end(), [](const auto& o) { return !o.configuration(); });
}

void DatabasePlanner::plan_absent(const Extension& e, const std::string& reason) {
  const std::string name = e.name.str();
  const state::InstalledExtension* installed = installed_extension(name);
  if (installed == nullptr) return;
  const auto& blast = db_.dependents(name);
  if (!check_blast(name, blast, "dropping")) return;
  Step& s = add(StepKind::drop, name);
  auto& drop = s.as<ExtensionDrop>();
  drop.from = installed->version;
  s.reason = reason;
  drop.cascade = needs_cascade(blast);
  drop.blast_radius = blast;
  s.sql.push_back("DROP EXTENSION " + quote_ident(name) + (drop.cascade ? " CASCADE" : " RESTRICT"));
}

bool DatabasePlanner::check_blast(const std::string& name, const std::vector<state::DependentObject>& blast,
                                  const std::string& verb, bool configuration_lost) {
  bool ok = true;
  std::vector<std::string> data;
  for (const auto& o : blast) {
    if (o.user_data() && (configuration_lost || !o.configuration())) {
      data.push_back(o.description +
                     (o.rows ? " (" + std::to_string(*o.rows) + (*o.rows == 1 ? " row)" : " rows)") : ""));
    }
    if (o.kind == state::ObjectKind::extension) {
      const std::string& other = o.extension;
      if (present_.contains(other) || !absent_.contains(other)) {
        block(BlockerCode::drop_takes_extension, name, verb + " " + name + " would also drop extension " + other,
              "make " + other + " absent in the manifest too, so its drop is planned first");
        ok = false;
      }
    }
  }
  if (!data.empty() && !manifest_.policy.allow_data_loss) {
    block(BlockerCode::data_loss, name, verb + " " + name + " would drop user data: " + join(data, ", "),
          "move the data off the extension first, or set policy.allow_data_loss: true; it would run DROP EXTENSION " +
              quote_ident(name) + (needs_cascade(blast) ? " CASCADE" : " RESTRICT"));
    ok = false;
  }
  return ok;
}

}  // namespace pgparity::planner
