// pgparity doctor: read-only diagnosis of a target, each finding with its evidence and remedy.
#include <CLI/CLI.hpp>
#include <ostream>

#include "planner/doctor.hpp"
#include "planner/planner.hpp"
#include "reconciler/commands.hpp"
#include "reconciler/observation.hpp"

namespace pgparity::reconciler {

namespace {

struct DoctorOptions {
  std::string manifest;
  std::string target;
  std::string format = "text";
  unsigned parallel = 4;
};

ExitCode run_doctor(Context& context, const DoctorOptions& o) {
  const std::optional<desired::Manifest> loaded = load_manifest(context, o.manifest);
  if (!loaded) return ExitCode::error;
  const desired::Manifest& manifest = *loaded;
  const desired::Target& target = find_target_or_only_managed(manifest, o.target);

  // Everything below reads only: every session is read-only at the server.
  std::map<std::string, state::TargetState> observed;
  observed.emplace(target.name, observe_target(manifest, target, o.parallel, /*diagnosis=*/true));
  const desired::Target* reference = manifest.reference();
  if (reference != nullptr && reference->name != target.name) {
    observed.emplace(reference->name, observe_target(manifest, *reference, o.parallel));
  }
  const state::TargetState& here = observed.at(target.name);

  planner::DiagnoseInput input;
  input.target = target.name;
  input.observed = &here;
  input.manifest = &manifest;
  input.manifest_path = o.manifest;
  planner::Plan plan;
  if (target.role == desired::Role::managed) {
    plan = planner::make_plan(plan_input(manifest, observed, target.name));
    input.plan = &plan;
    if (reference != nullptr) input.reference = &observed.at(reference->name);
  }
  for (const auto& db : here.databases) {
    input.runs[db.name] = db.runs;
    if (db.run_in_progress) input.locked.insert(db.name);
  }

  const std::vector<planner::Finding> findings = planner::diagnose(input);
  context.out << (o.format == "json" ? planner::render_findings_json(target.name, findings)
                                     : planner::render_findings_text(target.name, findings));
  return findings.empty() ? ExitCode::ok : ExitCode::changes;
}

}  // namespace

void add_doctor_command(CLI::App& app, Context& context) {
  auto o = std::make_shared<DoctorOptions>();
  CLI::App* cmd = app.add_subcommand(
      "doctor", "Read-only diagnosis of a target: findings with evidence and remedy; exit 0 healthy, 2 findings");
  cmd->add_option("-f,--file", o->manifest, "The manifest")->required();
  cmd->add_option("--target", o->target, "The target to examine (managed or reference; default: the only managed one)");
  cmd->add_option("--format", o->format, "text or json")->check(CLI::IsMember({"text", "json"}))->capture_default_str();
  cmd->add_option("--parallel", o->parallel, "Databases observed at once")
      ->check(CLI::Range(1u, 64u))
      ->capture_default_str();
  cmd->callback([&context, o] { context.run = [&context, o] { return run_doctor(context, *o); }; });
}

}  // namespace pgparity::reconciler
