// pgparity check: the health gate for pipelines. Every managed database matches the manifest, or exit 2.
#include <CLI/CLI.hpp>
#include <ctime>
#include <nlohmann/json.hpp>
#include <ostream>

#include "planner/planner.hpp"
#include "reconciler/check.hpp"
#include "reconciler/commands.hpp"
#include "reconciler/observation.hpp"

namespace pgparity::reconciler {

std::vector<Deviation> deviations_of(const planner::Plan& plan) {
  std::vector<Deviation> out;
  for (const auto& s : plan.steps) {
    const std::string where = s.target + (s.database.empty() ? "" : "/" + s.database);
    switch (s.kind) {
      case planner::StepKind::create:
        out.push_back({where, s.extension, "absent", s.to, ""});
        break;
      case planner::StepKind::update:
      case planner::StepKind::recreate:
        out.push_back({where, s.extension, s.from, s.to, ""});
        break;
      case planner::StepKind::drop:
        out.push_back({where, s.extension, s.from, "absent", ""});
        break;
      case planner::StepKind::set:
        out.push_back({where, s.setting, s.current, s.value, ""});
        break;
      default:
        break;
    }
  }
  for (const auto& b : plan.blockers) {
    out.push_back({b.target + (b.database.empty() ? "" : "/" + b.database), b.extension.empty() ? b.code : b.extension,
                   "", "", b.message});
  }
  return out;
}

namespace {

struct CheckOptions {
  std::string manifest;
  std::string format = "text";
  unsigned parallel = 4;
};

ExitCode run_check(Context& context, const CheckOptions& o) {
  const std::optional<desired::Manifest> loaded = load_manifest(context, o.manifest);
  if (!loaded) return ExitCode::error;
  planner::PlanInput input;
  input.manifest = &*loaded;
  input.observed = observe_for_plan(*loaded, "", o.parallel);
  input.in_maintenance_window = in_maintenance_window(loaded->policy, static_cast<long long>(std::time(nullptr)));
  const auto deviations = deviations_of(planner::make_plan(input));
  if (o.format == "json") {
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    for (const auto& d : deviations) {
      list.push_back({{"where", d.where},
                      {"subject", d.subject},
                      {"observed", d.observed},
                      {"desired", d.desired},
                      {"problem", d.problem}});
    }
    context.out << nlohmann::ordered_json{{"apiVersion", "pgparity/v1"},
                                          {"kind", "CheckResult"},
                                          {"converged", deviations.empty()},
                                          {"deviations", list}}
                       .dump(2)
                << "\n";
  } else if (deviations.empty()) {
    context.out << "every managed database matches the manifest\n";
  } else {
    context.out << deviations.size() << " deviation" << (deviations.size() == 1 ? "" : "s") << " from the manifest:\n";
    for (const auto& d : deviations) {
      context.out << "  " << d.where << ": " << d.subject;
      if (!d.problem.empty()) {
        context.out << ": " << d.problem << "\n";
      } else {
        context.out << " is " << d.observed << ", the manifest wants " << d.desired << "\n";
      }
    }
  }
  return deviations.empty() ? ExitCode::ok : ExitCode::changes;
}

}  // namespace

void add_check_command(CLI::App& app, Context& context) {
  auto o = std::make_shared<CheckOptions>();
  CLI::App* cmd =
      app.add_subcommand("check", "Health gate: exit 0 when every managed database matches, 2 with the deviations");
  cmd->add_option("-f,--file", o->manifest, "The manifest")->required();
  cmd->add_option("--format", o->format, "text or json")->check(CLI::IsMember({"text", "json"}))->capture_default_str();
  cmd->add_option("--parallel", o->parallel, "Databases observed at once")
      ->check(CLI::Range(1u, 64u))
      ->capture_default_str();
  cmd->callback([&context, o] { context.run = [&context, o] { return run_check(context, *o); }; });
}

}  // namespace pgparity::reconciler
