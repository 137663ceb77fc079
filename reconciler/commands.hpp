#pragma once

#include <functional>
#include <iosfwd>
#include <optional>
#include <string>

#include "desired/loader.hpp"
#include "reconciler/apply.hpp"
#include "reconciler/exit_code.hpp"

namespace CLI {
class App;
}

namespace pgparity::reconciler {

/// What a subcommand needs from the command line it runs in.
struct Context {
  std::ostream& out;   ///< results (plans, reports, manifests)
  std::ostream& err;   ///< messages for people
  bool color = false;  ///< `out` is a terminal and NO_COLOR is unset
  /// Set by the subcommand CLI11 parsed; returns the exit code.
  std::function<ExitCode()> run = [] { return ExitCode::ok; };
};

/// How the CLI loads manifests: the process environment for ${VAR}, libpq's DSN parser.
desired::LoadOptions load_options();

/// The manifest at `path`, or nullopt after writing every problem (file:line:col) to `context.err`.
/// `text`, when given, receives the bytes that were loaded (one read: the journal's digest is of
/// exactly what was applied).
std::optional<desired::Manifest> load_manifest(Context& context, const std::string& path, std::string* text = nullptr);

/// Applies `plan` as apply does (progress to stderr, or to the log in JSON
/// mode; a signal stops the waiting), prints the summary (`format` json: the
/// summary to stderr and render_apply_json to stdout); the exit code.
ExitCode apply_and_report(Context& context, const desired::Manifest& manifest, const planner::Plan& plan,
                          ApplyOptions options, const std::string& format = "text");

/// Adds every subcommand to `app`; the one parsed sets `context.run`.
void register_commands(CLI::App& app, Context& context);

}  // namespace pgparity::reconciler
