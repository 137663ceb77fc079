// pgparity doctor's reasoning: findings from observed catalogs, the journal and the manifest's plan. No I/O.
#include "planner/doctor.hpp"

#include "core/setting_list.hpp"
#include "planner/settings_sql.hpp"
#include "planner/words.hpp"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>
#include <tuple>

#include "planner/diff.hpp"
#include "planner/sql.hpp"

namespace pgparity::planner {

namespace {

/// A word for a shell: as it is when it is plain, otherwise single-quoted.
std::string shell_word(const std::string& word) {
  const bool plain = !word.empty() && std::all_of(word.begin(), word.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.' || c == '/' || c == ':';
  });
  if (plain) return word;
  std::string quoted = "'";
  for (char c : word) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

class Doctor {
 public:
  explicit Doctor(const DiagnoseInput& input) : in_(input), cluster_(input.observed->cluster) {}

  std::vector<Finding> run() {
    for (const auto& db : in_.observed->databases) {
      installed_versions(db);
      integrity(db);
      journal(db);
    }
    preload();
    pending_restart();
    if (in_.plan != nullptr) {
      blockers();
      auto_conf_drift();
    }
    if (in_.reference != nullptr) divergence();
    std::sort(findings_.begin(), findings_.end(), [](const Finding& a, const Finding& b) {
      return std::tie(a.severity, a.database, a.id, a.subject) < std::tie(b.severity, b.database, b.id, b.subject);
    });
    findings_.erase(std::unique(findings_.begin(), findings_.end()), findings_.end());
    return findings_;
  }

 private:
  Finding& add(std::string id, std::string severity, std::string database, std::string subject, std::string message) {
    Finding f;
    f.id = std::move(id);
    f.severity = std::move(severity);
    f.target = in_.target;
    f.database = std::move(database);
    f.subject = std::move(subject);
    f.message = std::move(message);
    findings_.push_back(std::move(f));
    return findings_.back();
  }

  /// Whether the manifest names `extension` (with preload: true, when `preload`).
  bool named(const std::string& extension, bool preload = false) const {
    if (in_.manifest == nullptr) return false;
    return std::any_of(
        in_.manifest->extensions.begin(), in_.manifest->extensions.end(),
        [&](const desired::Extension& e) { return e.name.str() == extension && (!preload || e.preload); });
  }

  std::string manifest_arg() const {
    return "-f " + shell_word(in_.manifest_path.empty() ? "MANIFEST" : in_.manifest_path);
  }

  std::string recover(const std::string& database, const std::string& extension, const std::string& mode) const {
    return "pgparity recover " + manifest_arg() + " --target " + shell_word(in_.target) + " --database " +
           shell_word(database) + " --extension " + shell_word(extension) + " --mode " + mode +
           "   # shows what it would do; add --yes to do it";
  }

  /// The version the manifest wants in `database`, or "" when it names no exact one.
  std::string desired_version(const std::string& database, const std::string& extension) const {
    if (in_.plan != nullptr) {
      for (const auto& s : in_.plan->steps) {
        if (s.database != database || extension_of(s) != extension) continue;
        if (const std::string to = object_of(s).to; !to.empty()) return to;
      }
    }
    return "";
  }

  static std::string row(const state::InstalledExtension& e) {
    return "pg_extension: " + e.name.str() + " " + e.version.str() + " (schema " + e.schema.str() + ")";
  }

  void installed_versions(const state::DatabaseState& db) {
    for (const auto& e : db.installed) {
      const std::string name = e.name.str();
      const state::AvailableExtension* available = cluster_.find_available(name);
      if (available == nullptr || available->find(e.version) == nullptr) {
        Finding& f = add("installed-version-unavailable", "error", db.name, name,
                         available == nullptr
                             ? name + " " + e.version.str() + " is installed, but the server has no control file for it"
                             : name + " " + e.version.str() +
                                   " is installed, but the server no longer has its scripts (a package upgrade removed "
                                   "them?): updates from it and dumps/restores of it will fail");
        f.evidence = {row(e), "pg_available_extension_versions for " + name + ": " + available_list(available)};
        f.remedy = available == nullptr
                       ? "reinstall the package that ships " + name + " on the server"
                       : recover(db.name, name, "recreate") + "\n(or reinstall the package that ships " + name + " " +
                             e.version.str() + ", then update)";
        continue;
      }
      // Not managed by the manifest: can it at least reach the server's default version?
      const bool managed = named(name);
      if (managed || !available->default_version || *available->default_version == e.version) continue;
      if (cluster_.find_path(name, e.version, *available->default_version) == nullptr) {
        Finding& f = add("no-update-path-to-default", "warning", db.name, name,
                         name + " " + e.version.str() + " has no update path to the server's default version " +
                             available->default_version->str());
        f.evidence = {row(e),
                      "pg_extension_update_paths('" + name + "'): nothing from " + e.version.str() + " to " +
                          available->default_version->str(),
                      "available: " + available_list(available)};
        f.remedy =
            "name " + name + " in the manifest with a reachable version, or: " + recover(db.name, name, "recreate");
      }
    }
    for (const auto& e : db.installed) {
      const std::string name = e.name.str();
      const bool needs = extensions_needing_preload().count(name) > 0 || named(name, true);
      const auto& loaded = cluster_.preload_libraries;
      if (needs && std::find(loaded.begin(), loaded.end(), name) == loaded.end()) {
        Finding& f = add("preload-not-loaded", "error", db.name, name,
                         name + " is installed but its library is not in shared_preload_libraries: it does not work");
        f.evidence = {row(e), "shared_preload_libraries = '" + join(loaded, ",") + "'"};
        std::vector<std::string> wanted = loaded;
        wanted.push_back(name);
        f.remedy =
            alter_system_set("shared_preload_libraries", join_setting_list(wanted)) +
            ";  -- then restart PostgreSQL, or set policy.manage_preload: true (and policy.restart with the target's "
            "restart.command to have pgparity restart it)";
      }
    }
  }

  void integrity(const state::DatabaseState& db) {
    for (const auto& p : db.integrity) {
      if (p.kind == "missing-member") {
        Finding& f = add("missing-member", "error", db.name, p.extension,
                         p.extension + " has a member that no longer exists: " + p.object);
        f.evidence = {"pg_depend (deptype 'e'): " + p.object + " → extension " + p.extension, p.detail};
        f.remedy = recover(db.name, p.extension, "recreate") + "\n(recreating rebuilds every member from the scripts)";
      } else if (p.kind == "non-member-function") {
        Finding& f = add("non-member-function", "warning", db.name, p.extension,
                         p.object + " " + p.detail + " of " + p.extension);
        f.evidence = {"pg_proc: " + p.object + " " + p.detail,
                      "no pg_depend row (deptype 'e') ties it to " + p.extension};
        f.remedy = "ALTER EXTENSION " + quote_ident(p.extension) + " ADD FUNCTION " + p.object +
                   ";  -- if it belongs to the extension; otherwise DROP FUNCTION " + p.object + ";";
      } else if (p.kind == "module-file-missing") {
        Finding& f = add("module-file-missing", "error", db.name, p.extension,
                         p.extension + " needs " + p.object + ", which is missing: its C functions fail when called");
        f.evidence = {"pg_proc.probin of " + p.extension + "'s member functions: " + p.object, p.detail};
        f.remedy = "reinstall the package that ships " + p.object + " on the server";
      }
    }
  }

  /// A PAUSE whose run is gone without its RESUME: every client of the alias waits.
  void pauses(const state::DatabaseState& db) {
    if (in_.locked.count(db.name) > 0) return;  // a live run: its pause is expected and will end
    for (const auto& p : db.open_pauses) {
      Finding& f = add("pooler-left-paused", "error", db.name, p.alias,
                       "the pooler alias " + p.alias + " was paused by run " + p.run_id + " at " + p.paused_at +
                           ", whose process is gone: new clients of " + p.alias + " wait until it is resumed");
      f.evidence = {
          "pgparity.pauses: run_id=" + p.run_id + " alias=" + p.alias + " pooler=" + p.pooler + " resumed_at=NULL",
          "no pgparity session holds the database's lock now"};
      f.remedy = "pgparity recover " + manifest_arg() + " --target " + shell_word(in_.target) + " --database " +
                 shell_word(db.name) + " --mode resume-pooler --yes";
    }
  }

  /// The manifest revision a run applied, as the journal's evidence names it ("" when it was not known).
  static std::string revision_of(const state::RunRecord& r) {
    return r.revision.empty() ? "" : " revision=" + r.revision;
  }

  void journal(const state::DatabaseState& db) {
    pauses(db);
    auto it = in_.runs.find(db.name);
    if (it == in_.runs.end() || it->second.empty()) return;
    const bool running_now = in_.locked.count(db.name) > 0;
    for (const auto& r : it->second) {
      if (r.status != state::name_of(state::RunStatus::running) || running_now) continue;
      Finding& f = add("unfinished-run", "error", db.name, r.run_id,
                       "run " + r.run_id + " started at " + r.started_at +
                           " and never finished (the process was killed or lost its connection); PostgreSQL rolled "
                           "its transaction back");
      f.evidence = {"pgparity.runs: run_id=" + r.run_id +
                        " status=running finished_at=NULL steps_done=" + std::to_string(r.steps_done) + revision_of(r),
                    "no pgparity session holds the database's lock now"};
      std::vector<std::string> before;
      for (const auto& e : r.snapshot) before.push_back(e.name.str() + " " + e.version.str());
      if (!before.empty()) f.evidence.push_back("its snapshot (before): " + join(before, ", "));
      f.remedy = "pgparity history --target " + shell_word(in_.target) + " --database " + shell_word(db.name) +
                 "   # compare, then converge: pgparity apply " + manifest_arg() + " --target " +
                 shell_word(in_.target);
    }
    const state::RunRecord& last = it->second.front();
    if (last.status == state::name_of(state::RunStatus::failed) ||
        last.status == state::name_of(state::RunStatus::verify_failed)) {
      Finding& f = add("failed-run", "warning", db.name, last.run_id,
                       "the last run (" + last.run_id + ") " + last.status + ": " + last.error);
      f.evidence = {"pgparity.runs: run_id=" + last.run_id + " status=" + last.status +
                    " finished_at=" + last.finished_at + revision_of(last)};
      f.remedy = "fix the cause, then: pgparity apply " + manifest_arg() + " --target " + shell_word(in_.target);
    }
  }

  void preload() {
    for (const auto& lib : cluster_.preload_libraries) {
      auto file = cluster_.library_files.find(lib);
      if (file == cluster_.library_files.end() || !file->second.has_value() || *file->second) continue;
      Finding& f =
          add("preload-library-missing", "error", "", lib,
              "shared_preload_libraries names " + lib + ", but its file is missing: the next restart will fail");
      f.evidence = {"shared_preload_libraries = '" + join(cluster_.preload_libraries, ",") + "'",
                    "no file " + lib + ".so in " + cluster_.library_dir};
      std::vector<std::string> rest;
      for (const auto& other : cluster_.preload_libraries) {
        if (other != lib) rest.push_back(other);
      }
      f.remedy = "reinstall the package that ships " + lib + ".so, or before any restart: " +
                 alter_system_set("shared_preload_libraries", join_setting_list(rest)) + ";";
    }
  }

  void pending_restart() {
    for (const auto& [name, s] : cluster_.settings) {
      if (!s.pending_restart) continue;
      Finding& f = add("pending-restart", "warning", "", name,
                       name + " was changed but takes effect only after a restart (now: " + s.value + s.unit + ")");
      f.evidence = {"pg_settings: name=" + name + " setting=" + s.value + " pending_restart=true source=" + s.source};
      // Behind Patroni, a restart from outside can start a failover: the restart goes through Patroni.
      const bool ha = !cluster_.ha_evidence.empty() || in_.observed->patroni.has_value();
      f.remedy = ha ? "restart the members through Patroni, replicas first (patronictl restart <cluster> --pending), "
                      "or let pgparity do it: policy.restart.allowed with the target's patroni.url"
                    : "restart PostgreSQL in a maintenance window (pg_ctlcluster 15 main restart, or systemctl "
                      "restart postgresql@15-main)";
    }
  }

  void auto_conf_drift() {
    for (const auto& d : in_.plan->auto_conf_drift) {
      if (d.target != in_.target) continue;
      Finding& f = add("auto-conf-shadows-patroni", "warning", "", d.setting,
                       "member " + d.member + ": postgresql.auto.conf holds " + d.setting + " = '" + d.value +
                           "', which outranks Patroni's configuration there");
      f.evidence = {"pg_file_settings on " + d.member + ": sourcefile=postgresql.auto.conf name=" + d.setting +
                    " setting=" + d.value};
      f.remedy = "on member " + d.member + ": ALTER SYSTEM RESET " + quote_ident(d.setting) +
                 "; SELECT pg_reload_conf();   # then change it through Patroni (patronictl edit-config)";
    }
  }

  void blockers() {
    for (const auto& b : in_.plan->blockers) {
      if (b.target != in_.target || already_reported(b)) continue;
      Finding& f = add(name_of(b.code), "error", b.database, b.extension, b.message);
      f.evidence = {"pgparity plan " + manifest_arg() + " --target " + shell_word(in_.target) + ": blocked (" +
                    name_of(b.code) + ")"};
      if (b.code == BlockerCode::no_update_path && !b.extension.empty()) {
        f.remedy = recover(b.database, b.extension, "recreate") + "\n(or " + b.hint + ")";
      } else {
        f.remedy = b.hint;
      }
    }
  }

  /// A plan's missing-library blocker for a preload library: preload() already reported it, with more evidence.
  bool already_reported(const Blocker& b) const {
    if (b.code != BlockerCode::library_file_missing) return false;
    return std::any_of(findings_.begin(), findings_.end(), [&](const Finding& f) {
      return f.id == "preload-library-missing" && b.message.rfind("library " + f.subject + " ", 0) == 0;
    });
  }

  void divergence() {
    const std::vector<desired::Ratio> ratios =
        in_.manifest != nullptr ? in_.manifest->settings.ratios : std::vector<desired::Ratio>{};
    const ParityReport report = compare_targets(*in_.reference, *in_.observed, ratios);
    for (const auto& d : report.differences) {
      Finding& f =
          add("reference-divergence", "warning", d.database, d.subject,
              d.category + " " + d.subject + ": " + report.left + " has " + (d.left.empty() ? "nothing" : d.left) +
                  ", " + report.right + " has " + (d.right.empty() ? "nothing" : d.right));
      f.evidence = {"pgparity diff " + manifest_arg() + " " + shell_word(report.left) + " " + shell_word(report.right)};
      f.remedy = "pgparity plan " + manifest_arg() + " --target " + shell_word(in_.target) +
                 "   # then apply it, or change the manifest if the difference is intended";
    }
  }

  const DiagnoseInput& in_;
  const state::ClusterState& cluster_;
  std::vector<Finding> findings_;
};

}  // namespace

const std::set<std::string>& extensions_needing_preload() {
  static const std::set<std::string> names{"pg_stat_statements", "pg_cron",          "timescaledb",  "pgaudit",
                                           "pg_stat_kcache",     "pg_wait_sampling", "pg_qualstats", "pg_squeeze",
                                           "pg_partman_bgw"};
  return names;
}

std::vector<Finding> diagnose(const DiagnoseInput& input) { return Doctor(input).run(); }

std::string render_findings_text(const std::string& target, const std::vector<Finding>& findings) {
  if (findings.empty()) return "pgparity doctor " + target + ": healthy, nothing found\n";
  int errors = 0;
  for (const auto& f : findings) errors += f.severity == "error" ? 1 : 0;
  const int warnings = static_cast<int>(findings.size()) - errors;
  std::string out = "pgparity doctor " + target + ": " + std::to_string(findings.size()) + " finding" +
                    (findings.size() == 1 ? "" : "s") + " (" + std::to_string(errors) + " error" +
                    (errors == 1 ? "" : "s") + ", " + std::to_string(warnings) + " warning" +
                    (warnings == 1 ? "" : "s") + ")\n";
  for (const auto& f : findings) {
    out += "\n" + std::string(f.severity == "error" ? "✗ " : "! ") + f.id + "  " + f.target +
           (f.database.empty() ? "" : "/" + f.database) + (f.subject.empty() ? "" : "  " + f.subject) + "\n";
    out += "  " + f.message + "\n  evidence:\n";
    for (const auto& e : f.evidence) out += "    " + e + "\n";
    out += "  remedy:\n";
    std::size_t start = 0;
    while (start <= f.remedy.size()) {
      const std::size_t end = f.remedy.find('\n', start);
      out += "    " + f.remedy.substr(start, end == std::string::npos ? std::string::npos : end - start) + "\n";
      if (end == std::string::npos) break;
      start = end + 1;
    }
  }
  return out;
}

std::string render_findings_json(const std::string& target, const std::vector<Finding>& findings) {
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const auto& f : findings) {
    list.push_back({{"id", f.id},
                    {"severity", f.severity},
                    {"target", f.target},
                    {"database", f.database},
                    {"subject", f.subject},
                    {"message", f.message},
                    {"evidence", f.evidence},
                    {"remedy", f.remedy}});
  }
  return nlohmann::ordered_json{{"apiVersion", "pgparity/v1"},
                                {"kind", "DoctorReport"},
                                {"target", target},
                                {"healthy", findings.empty()},
                                {"findings", list}}
             .dump(2) +
         "\n";
}

}  // namespace pgparity::planner
