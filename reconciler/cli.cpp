#include "reconciler/cli.hpp"

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <ostream>

#include "core/error.hpp"
#include "reconciler/commands.hpp"
#include "reconciler/exit_code.hpp"
#include "reconciler/version.hpp"

namespace pgparity::reconciler {

namespace {

/// Logs go to `err` (stderr for the binary), never to the results stream.
void configure_logging(std::ostream& err, const std::string& level) {
  spdlog::drop("pgparity");
  auto logger =
      std::make_shared<spdlog::logger>("pgparity", std::make_shared<spdlog::sinks::ostream_sink_mt>(err, true));
  logger->set_pattern("%^%l%$: %v");
  logger->set_level(spdlog::level::from_str(level));
  spdlog::register_logger(logger);
  spdlog::set_default_logger(logger);
}

}  // namespace

int run_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err, bool color) {
  CLI::App app{"pgparity keeps PostgreSQL extension topology true to a manifest in git.", "pgparity"};
  app.set_version_flag("--version", std::string("pgparity ") + version);
  app.require_subcommand(1);
  app.fallthrough();

  std::string log_level = "info";
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error or off")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}))
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

  configure_logging(err, log_level);
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
