// pgparity history: the runs recorded in each database's journal, with their snapshots, newest first.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <nlohmann/json.hpp>
#include <ostream>

#include "core/error.hpp"
#include "reconciler/commands.hpp"
#include "reconciler/observation.hpp"

namespace pgparity::reconciler {

namespace {

struct HistoryOptions {
  std::string manifest;
  std::string target;
  std::string database;
  std::string format = "text";
};

nlohmann::ordered_json or_null(const std::string& text) {
  return text.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(text);
}

ExitCode run_history(Context& context, const HistoryOptions& o) {
  const std::optional<desired::Manifest> loaded = load_manifest(context, o.manifest);
  if (!loaded) return ExitCode::error;
  const desired::Manifest& manifest = *loaded;
  const desired::Target& target = find_target_or_only_managed(manifest, o.target);
  std::vector<state::RunRecord> runs;
  for (auto& [db, list] : read_journals(manifest, target, o.database)) {
    runs.insert(runs.end(), list.begin(), list.end());
  }
  std::sort(runs.begin(), runs.end(), [](const state::RunRecord& a, const state::RunRecord& b) {
    return std::tie(b.started_at, b.run_id) < std::tie(a.started_at, a.run_id);
  });

  if (o.format == "json") {
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    for (const auto& r : runs) {
      nlohmann::ordered_json snapshot = nlohmann::ordered_json::array();
      for (const auto& e : r.snapshot) {
        snapshot.push_back({{"name", e.name.str()}, {"version", e.version.str()}, {"schema", e.schema.str()}});
      }
      list.push_back({{"run_id", r.run_id},
                      {"target", r.target},
                      {"database", r.database},
                      {"started_at", r.started_at},
                      {"finished_at", or_null(r.finished_at)},
                      {"status", r.status},
                      {"steps_done", r.steps_done},
                      {"error", or_null(r.error)},
                      {"plan_digest", r.plan_digest},
                      {"manifest_digest", r.manifest_digest},
                      {"revision", or_null(r.revision)},
                      {"pgparity_version", r.pgparity_version},
                      {"snapshot", snapshot}});
    }
    context.out << nlohmann::ordered_json{{"apiVersion", "pgparity/v1"},
                                          {"kind", "History"},
                                          {"target", target.name},
                                          {"runs", list}}
                       .dump(2)
                << "\n";
    return ExitCode::ok;
  }
  if (runs.empty()) {
    context.out << "no runs recorded on " << target.name << (o.database.empty() ? "" : "/" + o.database) << "\n";
    return ExitCode::ok;
  }
  for (const auto& r : runs) {
    context.out << r.run_id << "  " << r.target << "/" << r.database << "  " << r.status << "  started " << r.started_at
                << "  " << (r.finished_at.empty() ? "never finished" : "finished " + r.finished_at) << "  "
                << r.steps_done << " step" << (r.steps_done == 1 ? "" : "s") << "\n";
    if (!r.revision.empty()) context.out << "    revision: " << r.revision << "\n";
    if (!r.error.empty()) context.out << "    error: " << r.error << "\n";
    if (!r.snapshot.empty()) {
      context.out << "    before:";
      for (const auto& e : r.snapshot) context.out << " " << e.name.str() << " " << e.version.str();
      context.out << "\n";
    }
  }
  return ExitCode::ok;
}

}  // namespace

void add_history_command(CLI::App& app, Context& context) {
  auto o = std::make_shared<HistoryOptions>();
  CLI::App* cmd = app.add_subcommand("history", "Runs from the journal and their snapshots, newest first (read-only)");
  cmd->add_option("-f,--file", o->manifest, "The manifest")->required();
  cmd->add_option("--target", o->target, "A managed target (default: the only one)");
  cmd->add_option("--database", o->database, "Only this database");
  cmd->add_option("--format", o->format, "text or json")->check(CLI::IsMember({"text", "json"}))->capture_default_str();
  cmd->callback([&context, o] { context.run = [&context, o] { return run_history(context, *o); }; });
}

}  // namespace pgparity::reconciler
