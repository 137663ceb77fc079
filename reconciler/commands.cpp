#include "reconciler/commands.hpp"

#include <fstream>
#include <ostream>
#include <sstream>

#include <CLI/CLI.hpp>

#include "reconciler/observation.hpp"
#include "state/connection.hpp"

namespace pgparity::reconciler {

void add_validate_command(CLI::App& app, Context& context);
void add_export_command(CLI::App& app, Context& context);
void add_plan_command(CLI::App& app, Context& context);
void add_diff_command(CLI::App& app, Context& context);
void add_apply_command(CLI::App& app, Context& context);
void add_check_command(CLI::App& app, Context& context);
void add_reconcile_command(CLI::App& app, Context& context);
void add_doctor_command(CLI::App& app, Context& context);
void add_recover_command(CLI::App& app, Context& context);
void add_history_command(CLI::App& app, Context& context);
void add_outdated_command(CLI::App& app, Context& context);
void add_status_command(CLI::App& app, Context& context);

desired::LoadOptions load_options() {
  desired::LoadOptions options;
  options.check_dsn = state::dsn_problem;
  return options;
}

std::optional<desired::Manifest> load_manifest(Context& context, const std::string& path, std::string* text) {
  std::ifstream in(path);
  desired::LoadResult loaded;
  if (!in) {
    loaded = desired::load_manifest_file(path, load_options());  // says why it cannot be read
  } else {
    std::ostringstream read;
    read << in.rdbuf();
    loaded = desired::load_manifest_text(read.str(), path, load_options());
    if (text != nullptr) *text = read.str();  // the very bytes that were loaded, for their digest
  }
  if (!loaded.ok()) {
    context.err << format(loaded.diagnostics);
    return std::nullopt;
  }
  for (const auto& line : follow_patroni_leaders(*loaded.manifest)) context.err << line << "\n";
  return std::move(loaded.manifest);
}

void register_commands(CLI::App& app, Context& context) {
  add_validate_command(app, context);
  add_export_command(app, context);
  add_plan_command(app, context);
  add_diff_command(app, context);
  add_apply_command(app, context);
  add_check_command(app, context);
  add_reconcile_command(app, context);
  add_doctor_command(app, context);
  add_recover_command(app, context);
  add_history_command(app, context);
  add_outdated_command(app, context);
  add_status_command(app, context);
}

}  // namespace pgparity::reconciler
