// pgparity check: the health gate for pipelines. Every managed database matches the manifest, or exit 2.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <ostream>

#include "planner/deviations.hpp"
#include "reconciler/commands.hpp"
#include "reconciler/observation.hpp"

namespace pgparity::reconciler {

namespace {

struct CheckOptions {
  std::string manifest;
  std::string format = "text";
  std::string target;
  unsigned parallel = 4;
};

ExitCode run_check(Context& context, const CheckOptions& o) {
  const std::optional<desired::Manifest> loaded = load_manifest(context, o.manifest);
  if (!loaded) return ExitCode::error;
  if (!o.target.empty()) find_target(*loaded, o.target);  // an unknown name is an input error with a did-you-mean
  const auto deviations = planner::deviations_of(plan_now(*loaded, o.target, o.parallel));
  if (o.format == "json") {
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    for (const auto& d : deviations) {
      const auto slash = d.where.find('/');
      list.push_back({{"where", d.where},
                      {"target", d.where.substr(0, slash)},
                      {"database", slash == std::string::npos ? "" : d.where.substr(slash + 1)},
                      {"subject", d.subject},
                      {"observed", d.observed},
                      {"desired", d.desired},
                      {"problem", d.problem},
                      {"kind", d.kind}});
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
      if (d.kind == "pending-restart") {
        context.out << " = " << d.desired << " is written, the server runs " << d.observed
                    << " until it is restarted (pending restart)\n";
      } else if (!d.problem.empty()) {
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
  cmd->add_option("--target", o->target, "Check only this managed target");
  cmd->add_option("--format", o->format, "text or json")->check(CLI::IsMember({"text", "json"}))->capture_default_str();
  cmd->add_option("--parallel", o->parallel, "Databases observed at once")
      ->check(CLI::Range(1u, 64u))
      ->capture_default_str();
  cmd->callback([&context, o] { context.run = [&context, o] { return run_check(context, *o); }; });
}

}  // namespace pgparity::reconciler
