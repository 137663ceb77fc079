#include "planner/export.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <sstream>
#include <tuple>

#include "state/settings.hpp"

namespace pgparity::planner {

const char* const exported_ratios[3] = {"work_mem / shared_buffers", "maintenance_work_mem / shared_buffers",
                                        "max_connections * work_mem / shared_buffers"};

Exported export_manifest(const state::TargetState& state, const ExportTarget& target) {
  Exported out;
  desired::Manifest& m = out.manifest;

  desired::Target t;
  t.name = target.name;
  t.dsn_source = target.dsn_source;
  t.dsn = target.dsn_source;
  t.role = target.managed ? desired::Role::managed : desired::Role::reference;
  t.databases.all = target.all_databases;
  const bool several = state.databases.size() > 1 || target.all_databases;
  if (!target.all_databases &&
      (several || state.databases.empty() || state.databases.front().name != state.cluster.dsn_database)) {
    for (const auto& db : state.databases) t.databases.names.push_back(Identifier::from_catalog(db.name));
  }
  m.targets.emplace(t.name, t);

  // extension -> (version, schema) -> databases that have it so
  using Variant = std::tuple<Version, Identifier>;
  std::map<Identifier, std::map<Variant, std::vector<Identifier>>> seen;
  for (const auto& db : state.databases) {
    for (const auto& e : db.installed) seen[e.name][{e.version, e.schema}].push_back(Identifier::from_catalog(db.name));
  }
  for (const auto& [name, variants] : seen) {
    const bool everywhere = variants.size() == 1 && variants.begin()->second.size() == state.databases.size();
    for (const auto& [variant, databases] : variants) {
      desired::Extension e;
      e.name = name;
      e.version.exact = std::get<0>(variant);
      e.schema = std::get<1>(variant);
      if (!everywhere) e.databases = databases;
      m.extensions.push_back(e);
    }
  }
  std::sort(m.extensions.begin(), m.extensions.end(),
            [](const auto& a, const auto& b) { return std::tie(a.name, a.databases) < std::tie(b.name, b.databases); });

  std::set<std::string> preload(state.cluster.preload_libraries.begin(), state.cluster.preload_libraries.end());
  m.settings.preload.assign(preload.begin(), preload.end());

  for (const char* text : exported_ratios) {
    auto parsed = desired::RatioExpr::parse(text);
    desired::Ratio ratio;
    ratio.expr = std::get<desired::RatioExpr>(parsed);
    ratio.match_reference = true;
    ratio.tolerance = 0.05;
    m.settings.ratios.push_back(ratio);
    const auto value = ratio.expr.evaluate([&](const std::string& s) { return state.cluster.normalized(s); });
    out.notes.ratios[text] = value ? "on " + target.name + ": " + desired::format_number(*value) : "not computable";
  }

  std::ostringstream header;
  header << "Exported by pgparity from target '" << target.name << "' (PostgreSQL " << state.cluster.server_version
         << ", " << state.databases.size() << " database" << (state.databases.size() == 1 ? "" : "s") << ").\n"
         << "This is the baseline the managed targets must mirror: add them under targets, review, commit.";
  out.notes.header = header.str();
  return out;
}

Exported mirror_manifest(const state::TargetState& reference, const ExportTarget& reference_target,
                         const state::TargetState& managed, const ExportTarget& managed_target) {
  Exported out = export_manifest(reference, reference_target);
  desired::Manifest& m = out.manifest;

  desired::Target t;
  t.name = managed_target.name;
  t.dsn_source = managed_target.dsn_source;
  t.dsn = managed_target.dsn_source;
  t.role = desired::Role::managed;
  t.databases.all = managed_target.all_databases;
  m.targets.emplace(t.name, t);
  if (!reference_target.all_databases) {
    // Both sides name the same databases, so every one the reference has is compared.
    m.targets.at(t.name).databases = m.targets.at(reference_target.name).databases;
  }

  // One entry per extension: the reference decides its version, and its absence.
  std::vector<desired::Extension> mirrored;
  for (const auto& e : m.extensions) {
    if (!mirrored.empty() && mirrored.back().name == e.name) continue;
    desired::Extension x;
    x.name = e.name;
    x.version.kind = desired::VersionSpec::Kind::reference;
    mirrored.push_back(x);
  }
  m.extensions = std::move(mirrored);

  // The values that keep each memory ratio at the managed target's size.
  const auto ref = [&](const std::string& s) { return reference.cluster.normalized(s); };
  const auto own = [&](const std::string& s) { return managed.cluster.normalized(s); };
  std::vector<std::string> explained;
  // Floors are the settings' own minimums (64kB, 1MB), so a tiny staging still gets a valid value.
  for (const auto& [setting, floor_kb] : {std::pair<const char*, double>{"work_mem", 64.0},
                                          std::pair<const char*, double>{"maintenance_work_mem", 1024.0}}) {
    const auto value = ref(setting);
    const auto buffers = ref("shared_buffers");
    const auto managed_buffers = own("shared_buffers");
    if (!value || !buffers || !managed_buffers || *buffers <= 0) continue;
    const double ratio = *value / *buffers;
    const double kb = std::max(floor_kb, std::round(ratio * *managed_buffers / 1024.0));
    const std::string rendered = state::render_setting(kb * 1024.0, "kB");
    m.settings.values[Identifier::from_catalog(setting)] = rendered;
    explained.push_back(std::string(setting) + ": " + rendered + " = " + desired::format_number(ratio) + " × " +
                        state::render_setting(*managed_buffers, "8kB") + " (" + managed_target.name +
                        "'s shared_buffers)");
  }
  // max_connections is not copied: raising it takes a restart, a smaller server may not start with
  // production's value, and standbys need at least their primary's. When it differs, the
  // max_connections ratio blocks the plan and says which value would satisfy it.
  if (const auto connections = ref("max_connections"); connections && own("max_connections") != connections) {
    explained.push_back("max_connections differs (" + desired::format_number(*connections) + " on " +
                        reference_target.name + "): not written; set it by hand if " + managed_target.name +
                        " can take it (a restart)");
  }
  std::ostringstream header;
  header << "Exported by pgparity: " << managed_target.name << " mirrors " << reference_target.name << " (PostgreSQL "
         << reference.cluster.server_version << ").\n"
         << "Extensions follow the reference (version: reference); settings.values keep its ratios at "
         << managed_target.name << "'s size:";
  for (const auto& line : explained) header << "\n  " << line;
  out.notes.header = header.str();
  return out;
}

}  // namespace pgparity::planner
