// pgparity status: which revision every managed database was last converged to (read from the databases
// themselves, <state_schema>.converged), and whether it is converged now. Read-only.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <nlohmann/json.hpp>
#include <ostream>

#include "planner/planner.hpp"
#include "planner/status.hpp"
#include "reconciler/commands.hpp"
#include "reconciler/observation.hpp"

namespace pgparity::reconciler {

namespace {

struct StatusOptions {
  std::string manifest;
  std::string format = "text";
  std::string target;
  unsigned parallel = 4;
};

ExitCode run_status(Context& context, const StatusOptions& o) {
  const std::optional<desired::Manifest> loaded = load_manifest(context, o.manifest);
  if (!loaded) return ExitCode::error;
  const desired::Manifest& manifest = *loaded;
  if (!o.target.empty()) find_target(manifest, o.target);  // an unknown name is an input error with a did-you-mean
  std::map<std::string, state::TargetState> observed;
  for (const auto& [name, target] : manifest.targets) {
    const bool managed = target.role == desired::Role::managed;
    if (managed && !o.target.empty() && o.target != name) continue;
    // A managed database's journal says what it was converged to; a reference is only read for the plan.
    observed.emplace(name, observe_target(manifest, target, o.parallel, managed));
  }
  const planner::Plan plan = planner::make_plan(plan_input(manifest, observed, o.target));
  const std::vector<planner::DatabaseStatus> rows = planner::database_statuses(manifest, plan, observed);
  const bool all_converged =
      std::all_of(rows.begin(), rows.end(), [](const planner::DatabaseStatus& r) { return r.status == "converged"; });
  if (o.format == "json") {
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    for (const auto& r : rows) {
      nlohmann::ordered_json item{{"target", r.target}, {"database", r.database}, {"status", r.status}};
      item["revision"] = r.converged && !r.converged->revision.empty() ? nlohmann::ordered_json(r.converged->revision)
                                                                       : nlohmann::ordered_json();
      item["manifestDigest"] = r.converged ? nlohmann::ordered_json(r.converged->manifest_digest) : nullptr;
      item["runId"] = r.converged ? nlohmann::ordered_json(r.converged->run_id) : nullptr;
      item["convergedAt"] = r.converged ? nlohmann::ordered_json(r.converged->converged_at) : nullptr;
      item["blockers"] = r.blockers;
      list.push_back(std::move(item));
    }
    context.out << nlohmann::ordered_json{{"apiVersion", "pgparity/v1"},
                                          {"kind", "Status"},
                                          {"converged", all_converged},
                                          {"databases", list}}
                       .dump(2)
                << "\n";
  } else {
    for (const auto& r : rows) {
      context.out << r.target << (r.database.empty() ? " (server)" : "/" + r.database) << ": " << r.status;
      if (r.converged) {
        context.out << "; last converged to "
                    << (r.converged->revision.empty() ? "(no revision)" : r.converged->revision) << " at "
                    << r.converged->converged_at << " by run " << r.converged->run_id;
      } else if (!r.database.empty()) {
        context.out << "; never converged by pgparity";
      }
      context.out << "\n";
      for (const auto& b : r.blockers) context.out << "    blocked: " << b << "\n";
    }
  }
  return all_converged ? ExitCode::ok : ExitCode::changes;
}

}  // namespace

void add_status_command(CLI::App& app, Context& context) {
  auto o = std::make_shared<StatusOptions>();
  CLI::App* cmd = app.add_subcommand(
      "status", "Which revision every managed database was last converged to, and whether it is converged now");
  cmd->add_option("-f,--file", o->manifest, "The manifest")->required();
  cmd->add_option("--target", o->target, "Only this managed target");
  cmd->add_option("--format", o->format, "text or json")->check(CLI::IsMember({"text", "json"}))->capture_default_str();
  cmd->add_option("--parallel", o->parallel, "Databases observed at once")
      ->check(CLI::Range(1u, 64u))
      ->capture_default_str();
  cmd->callback([&context, o] { context.run = [&context, o] { return run_status(context, *o); }; });
}

}  // namespace pgparity::reconciler
