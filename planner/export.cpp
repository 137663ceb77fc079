#include "planner/export.hpp"

#include <map>
#include <set>
#include <sstream>
#include <tuple>

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
  t.role = desired::Role::reference;
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

}  // namespace pgparity::planner
