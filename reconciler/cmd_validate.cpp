// pgparity validate -f FILE: load and check a manifest, offline.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <ostream>

#include "reconciler/commands.hpp"

namespace pgparity::reconciler {

namespace {

nlohmann::json diagnostics_json(const Diagnostics& diagnostics) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& d : diagnostics) {
    out.push_back({{"file", d.file}, {"line", d.line}, {"column", d.column}, {"message", d.message}});
  }
  return out;
}

}  // namespace

void add_validate_command(CLI::App& app, Context& context) {
  struct Options {
    std::string file;
    std::string format = "text";
  };
  auto options = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand("validate", "Load and check a manifest offline: nothing is connected");
  cmd->add_option("-f,--file", options->file, "The manifest")->required();
  cmd->add_option("--format", options->format, "text or json")->check(CLI::IsMember({"text", "json"}));
  cmd->callback([&context, options] {
    context.run = [&context, options] {
      desired::LoadOptions offline = load_options();
      offline.offline = true;  // nothing connects: unset ${VAR} are notes
      const desired::LoadResult result = desired::load_manifest_file(options->file, offline);
      if (options->format == "json") {
        nlohmann::json out{{"apiVersion", "pgparity/v1"},
                           {"kind", "ValidationResult"},
                           {"file", options->file},
                           {"valid", result.ok()},
                           {"diagnostics", diagnostics_json(result.diagnostics)},
                           {"notes", diagnostics_json(result.notes)}};
        context.out << out.dump(2) << '\n';
      } else if (result.ok()) {
        for (const auto& n : result.notes) context.err << "note: " << n.str() << "\n";
        const desired::Manifest& m = *result.manifest;
        context.out << options->file << ": valid (" << m.targets.size() << " target"
                    << (m.targets.size() == 1 ? "" : "s") << ", " << m.extensions.size() << " extension entr"
                    << (m.extensions.size() == 1 ? "y" : "ies") << ")\n";
      } else {
        context.err << format(result.diagnostics);
        context.err << result.diagnostics.size() << " problem" << (result.diagnostics.size() == 1 ? "" : "s")
                    << " found; nothing was connected or run\n";
      }
      return result.ok() ? ExitCode::ok : ExitCode::error;
    };
  });
}

}  // namespace pgparity::reconciler
