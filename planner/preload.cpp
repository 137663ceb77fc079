#include "planner/cluster_planner.hpp"

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

bool is_library_list(const std::string& name) {
  return name == "shared_preload_libraries" || name == "session_preload_libraries" || name == "local_preload_libraries";
}

bool ClusterPlanner::libraries_present(const std::vector<std::string>& libraries) {
  bool ok = true;
  for (const auto& lib : libraries) {
    auto file = target_.cluster.library_files.find(lib);
    if (file == target_.cluster.library_files.end() || (file->second.has_value() && *file->second)) continue;
    if (!file->second.has_value()) {
      plan_.warnings.push_back(target_.target + ": whether library " + lib +
                               " has its file cannot be told (the role needs superuser or pg_read_server_files)");
      continue;
    }
    ok = false;
    block(BlockerCode::library_file_missing,
          "library " + lib + " has no file in " + target_.cluster.library_dir +
              " (the server would not start again with it in shared_preload_libraries)",
          "install the package that ships " + lib + " on the server, or take it out of the list");
  }
  return ok;
}

std::vector<std::string> ClusterPlanner::required_preload() const {
  std::vector<std::string> required(manifest_.settings.preload.begin(), manifest_.settings.preload.end());
  for (const auto& e : manifest_.extensions) {
    if (e.preload && !e.absent && std::find(required.begin(), required.end(), e.name.str()) == required.end()) {
      required.push_back(e.name.str());
    }
  }
  return required;
}

void ClusterPlanner::check_preload(std::vector<Step>& steps) {
  const auto& loaded = target_.cluster.preload_libraries;
  std::vector<std::string> missing;
  const std::vector<std::string> required = required_preload();
  const bool files_missing = !libraries_present(required);
  for (const auto& lib : required) {
    if (std::find(loaded.begin(), loaded.end(), lib) == loaded.end()) missing.push_back(lib);
  }
  if (missing.empty()) return;
  auto setting = target_.cluster.settings.find("shared_preload_libraries");
  if (manifest_.policy.manage_preload && setting != target_.cluster.settings.end()) {
    if (files_missing) return;  // never write a list the server could not start with
    // Nothing is removed or reordered: what is loaded (or already written and waiting for a restart)
    // stays first, the missing ones follow in the manifest's order.
    std::vector<std::string> wanted =
        setting->second.auto_conf ? split_setting_list(*setting->second.auto_conf) : loaded;
    // Under a declared Patroni, what its configuration holds (a library a DBA staged there) is the base.
    if (!patroni_url().empty() && target_.patroni) {
      if (const auto p = target_.patroni->parameters.find("shared_preload_libraries");
          p != target_.patroni->parameters.end()) {
        wanted = split_setting_list(p->second);
      }
    }
    for (const auto& lib : loaded) {
      if (std::find(wanted.begin(), wanted.end(), lib) == wanted.end()) wanted.push_back(lib);
    }
    missing.erase(std::remove_if(missing.begin(), missing.end(),
                                 [&](const std::string& lib) {
                                   return std::find(wanted.begin(), wanted.end(), lib) != wanted.end();
                                 }),
                  missing.end());
    wanted.insert(wanted.end(), missing.begin(), missing.end());
    plan_setting(setting->second, join_setting_list(wanted), steps,
                 "policy.manage_preload: adds " + join(missing, ", "));
    return;
  }
  // Patroni rewrites postgresql.conf: on its nodes the list lives in its configuration.
  const bool ha = !patroni_url().empty() || !target_.cluster.ha_evidence.empty();
  for (const auto& lib : missing) {
    block(BlockerCode::preload_missing,
          lib + " must be in shared_preload_libraries (it is: " +
              (loaded.empty() ? std::string("empty") : join(loaded, ", ")) + ")",
          ha ? "set policy.manage_preload: true (with the target's patroni.url declared) to have pgparity write it "
               "through Patroni, or add it with patronictl edit-config and restart the members (patronictl "
               "restart --pending); postgresql.conf is Patroni's and is rewritten"
             : "set policy.manage_preload: true to have pgparity write it (a restart is then needed), or add it to "
               "shared_preload_libraries in postgresql.conf and restart the server");
  }
}

std::vector<std::string> libraries_to_check(const desired::Manifest& manifest) {
  std::set<std::string> names(manifest.settings.preload.begin(), manifest.settings.preload.end());
  for (const auto& e : manifest.extensions) {
    if (e.preload && !e.absent) names.insert(e.name.str());
  }
  // Every way of writing the list the server loads at start is checked the same way.
  for (const auto& lib : preload_values(manifest)) names.insert(lib);
  // An extension's own module (a library named like it), so a standby that lacks it is found.
  for (const auto& e : manifest.extensions) {
    if (!e.absent) names.insert(e.name.str());
  }
  return {names.begin(), names.end()};
}

std::vector<std::string> preload_values(const desired::Manifest& manifest) {
  std::vector<std::string> out;
  for (const auto& [id, value] : manifest.settings.values) {
    if (is_library_list(id.str())) {
      for (auto& lib : split_setting_list(value)) out.push_back(std::move(lib));
    }
  }
  return out;
}

}  // namespace pgparity::planner
