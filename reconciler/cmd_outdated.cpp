// pgparity outdated: what could be upgraded, like `npm outdated` (reads only).
#include <CLI/CLI.hpp>
#include <ostream>

#include "planner/outdated.hpp"
#include "planner/planner.hpp"
#include "reconciler/commands.hpp"
#include "reconciler/observation.hpp"
#include "state/observe.hpp"

namespace pgparity::reconciler {

namespace {

struct OutdatedOptions {
  std::string manifest;
  std::string target;
  std::string format = "text";
  unsigned parallel = 4;
};

ExitCode run_outdated(Context& context, const OutdatedOptions& o) {
  const std::optional<desired::Manifest> loaded = load_manifest(context, o.manifest);
  if (!loaded) return ExitCode::error;
  const desired::Manifest& manifest = *loaded;
  if (!o.target.empty()) find_target(manifest, o.target);  // an unknown name gets a did-you-mean
  std::map<std::string, state::TargetState> observed;
  for (const auto& [name, target] : manifest.targets) {
    // The reference is always read: version: reference needs it to say what is desired.
    if (!o.target.empty() && name != o.target && target.role != desired::Role::reference) continue;
    state::ObserveRequest request = observe_request_for(target, o.parallel);
    request.extensions = planner::extensions_to_observe(manifest);
    request.every_extension = true;  // available versions and update paths of every installed extension
    observed.emplace(name, state::observe(request));
  }
  const std::string only =
      o.target.empty() || manifest.targets.at(o.target).role == desired::Role::reference ? std::string() : o.target;
  const planner::Plan plan = planner::make_plan(plan_input(manifest, observed, only));
  if (!o.target.empty()) {
    for (auto it = observed.begin(); it != observed.end();)
      it = it->first == o.target ? std::next(it) : observed.erase(it);
  }
  const auto rows = planner::outdated(observed, plan, planner::extensions_to_observe(manifest));
  context.out << (o.format == "json" ? planner::render_outdated_json(rows) : planner::render_outdated_text(rows));
  return ExitCode::ok;
}

}  // namespace

void add_outdated_command(CLI::App& app, Context& context) {
  auto o = std::make_shared<OutdatedOptions>();
  CLI::App* cmd = app.add_subcommand(
      "outdated",
      "Per database and extension: installed, desired, the server's default, the newest, and whether "
      "an update path leads there (reads only)");
  cmd->add_option("-f,--file", o->manifest, "The manifest")->required();
  cmd->add_option("--target", o->target, "Only this target (default: every target)");
  cmd->add_option("--format", o->format, "text or json")->check(CLI::IsMember({"text", "json"}))->capture_default_str();
  cmd->add_option("--parallel", o->parallel, "Databases observed at once")
      ->check(CLI::Range(1u, 64u))
      ->capture_default_str();
  cmd->callback([&context, o] { context.run = [&context, o] { return run_outdated(context, *o); }; });
}

}  // namespace pgparity::reconciler
