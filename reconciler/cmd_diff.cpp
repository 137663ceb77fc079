// pgparity diff A B: a live parity report between two targets. Reads only.
#include <CLI/CLI.hpp>
#include <ostream>

#include "planner/diff.hpp"
#include "reconciler/commands.hpp"
#include "reconciler/observation.hpp"

namespace pgparity::reconciler {

namespace {

struct DiffOptions {
  std::string manifest;
  std::vector<std::string> targets;
  std::string format = "text";
  unsigned parallel = 4;
};

ExitCode run_diff(Context& context, const DiffOptions& o) {
  const std::optional<desired::Manifest> loaded = load_manifest(context, o.manifest);
  if (!loaded) return ExitCode::error;
  const desired::Manifest& manifest = *loaded;
  const desired::Target& a = find_target(manifest, o.targets.at(0));
  const desired::Target& b = find_target(manifest, o.targets.at(1));
  const state::TargetState left = observe_target(manifest, a, o.parallel);
  const state::TargetState right = observe_target(manifest, b, o.parallel);
  const planner::ParityReport report = planner::compare_targets(left, right, manifest.settings.ratios);
  context.out << (o.format == "json" ? planner::render_parity_json(report) : planner::render_parity_text(report));
  return report.matches() ? ExitCode::ok : ExitCode::changes;
}

}  // namespace

void add_diff_command(CLI::App& app, Context& context) {
  auto o = std::make_shared<DiffOptions>();
  CLI::App* cmd = app.add_subcommand("diff", "Live parity report between two targets of a manifest (reads only)");
  cmd->add_option("-f,--file", o->manifest, "The manifest that defines the targets")->required();
  cmd->add_option("targets", o->targets, "Two target names, e.g. production staging")->required()->expected(2);
  cmd->add_option("--format", o->format, "text or json")->check(CLI::IsMember({"text", "json"}))->capture_default_str();
  cmd->add_option("--parallel", o->parallel, "Databases observed at once")
      ->check(CLI::Range(1u, 64u))
      ->capture_default_str();
  cmd->callback([&context, o] { context.run = [&context, o] { return run_diff(context, *o); }; });
}

}  // namespace pgparity::reconciler
