// pgparity plan: observe, plan, show. Never writes to a database.
#include <CLI/CLI.hpp>
#include <ostream>

#include "planner/planner.hpp"
#include "planner/render.hpp"
#include "reconciler/commands.hpp"
#include "reconciler/files.hpp"
#include "reconciler/observation.hpp"
#include "reconciler/rehearse.hpp"
#include "reconciler/revision.hpp"

namespace pgparity::reconciler {

namespace {

struct PlanOptions {
  std::string manifest;
  std::string target;
  std::string out;
  std::string format = "text";
  std::string revision;  ///< --revision: the pull request's head; else the git HEAD of the manifest's work tree
  std::string base;      ///< --base-revision: the commit the pull request is compared with
  unsigned parallel = 4;
  bool rehearse = false;
};

ExitCode run_plan(Context& context, const PlanOptions& o) {
  const std::optional<desired::Manifest> loaded = load_manifest(context, o.manifest);
  if (!loaded) return ExitCode::error;
  const desired::Manifest& manifest = *loaded;
  planner::Plan plan = plan_now(manifest, o.target, o.parallel);
  if (o.rehearse && !plan.blocked() && plan.has_changes()) rehearse(manifest, plan, o.parallel);

  if (!o.out.empty()) write_file_atomically(o.out, planner::render_json(plan));
  if (o.format == "json") {
    context.out << planner::render_json(plan);
  } else if (o.format == "markdown") {
    context.out << planner::render_markdown(plan, o.revision.empty() ? manifest_revision(o.manifest) : o.revision,
                                            o.base);
  } else if (o.format == "dot") {
    context.out << planner::render_dot(plan);
  } else {
    context.out << planner::render_text(plan, context.color);
  }
  if (plan.blocked()) return ExitCode::blocked;
  return plan.has_changes() ? ExitCode::changes : ExitCode::ok;
}

}  // namespace

void add_plan_command(CLI::App& app, Context& context) {
  auto o = std::make_shared<PlanOptions>();
  CLI::App* cmd = app.add_subcommand("plan", "Observe, plan and show the steps (writes nothing)");
  cmd->add_option("-f,--file", o->manifest, "The manifest")->required();
  cmd->add_option("--target", o->target, "Plan only this managed target");
  cmd->add_option("--out", o->out, "Also save the plan (JSON) here, for apply --plan");
  cmd->add_option("--revision", o->revision,
                  "Markdown: the head commit the comment names (default: the git HEAD of the manifest's work tree)");
  cmd->add_option("--base-revision", o->base, "Markdown: the base commit the pull request is compared with");
  cmd->add_option("--format", o->format, "text, json, markdown or dot")
      ->check(CLI::IsMember({"text", "json", "markdown", "dot"}))
      ->capture_default_str();
  cmd->add_flag("--rehearse", o->rehearse,
                "Run the plan's SQL on the managed databases in a transaction that is always rolled back, and report "
                "each step (takes the same locks as the change while it runs)");
  cmd->add_option("--parallel", o->parallel, "Databases observed at once")
      ->check(CLI::Range(1u, 64u))
      ->capture_default_str();
  cmd->callback([&context, o] { context.run = [&context, o] { return run_plan(context, *o); }; });
}

}  // namespace pgparity::reconciler
