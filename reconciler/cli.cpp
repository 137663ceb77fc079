#include "reconciler/cli.hpp"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <ostream>

#include "core/error.hpp"
#include "reconciler/commands.hpp"
#include "reconciler/exit_code.hpp"
#include "reconciler/logging.hpp"
#include "reconciler/version.hpp"

namespace pgparity::reconciler {

int run_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err, bool color) {
  CLI::App app{"pgparity keeps PostgreSQL extension topology true to a manifest in git.", "pgparity"};
  app.set_version_flag("--version", std::string("pgparity ") + version);
  app.require_subcommand(1);
  app.fallthrough();

  std::string log_level = "info";
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error or off")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}))
      ->capture_default_str();
  std::string log_format = "text";
  app.add_option("--log-format", log_format, "text or json (one object a line)")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();

  Context context{out, err, color};
  register_commands(app, context);

  // CLI11 takes the arguments in reverse order.
  std::vector<std::string> reversed(args.rbegin(), args.rend());
  try {
    app.parse(reversed);
  } catch (const CLI::CallForHelp&) {
    out << app.help();
    return static_cast<int>(ExitCode::ok);
  } catch (const CLI::CallForAllHelp&) {
    out << app.help("", CLI::AppFormatMode::All);
    return static_cast<int>(ExitCode::ok);
  } catch (const CLI::CallForVersion& e) {
    out << e.what() << '\n';
    return static_cast<int>(ExitCode::ok);
  } catch (const CLI::ParseError& e) {
    err << "error: " << e.what() << "\nrun 'pgparity --help' for usage\n";
    return static_cast<int>(ExitCode::error);
  }

  configure_logging(err, log_level, log_format);
  try {
    const int code = static_cast<int>(context.run());
    out.flush();
    return code;
  } catch (const Error& e) {
    out.flush();
    err << e.report() << '\n';
    return static_cast<int>(ExitCode::error);
  } catch (const std::exception& e) {
    err << "error: " << e.what() << '\n';
    return static_cast<int>(ExitCode::error);
  }
}

}  // namespace pgparity::reconciler
