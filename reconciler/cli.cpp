#include "reconciler/cli.hpp"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cctype>
#include <ostream>
#include <regex>
#include <utility>

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
    std::string command;
    for (const auto* sub : app.get_subcommands()) command = sub->get_name();
    err << "error: " << (command.empty() ? "" : command + ": ") << cli_message(e.what()) << "\nrun 'pgparity "
        << (command.empty() ? "" : command + " ") << "--help' for usage\n";
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

std::string cli_message(const std::string& raw) {
  static const std::vector<std::pair<std::regex, std::string>> rewrites{
      {std::regex(R"(^targets: At least 2 required but received (\d+)$)"),
       "needs two target names, e.g. production staging (got $1)"},
      {std::regex(R"(^(\S+): At least (\d+) required but received (\d+)$)"), "$1 needs at least $2 values (got $3)"},
      {std::regex(R"(^(\S+): (\d+) required (\S+) missing$)"), "$1 needs $2 values of type $3"},
      {std::regex(R"(^(\S+) is required$)"), "$1 is required"},
      {std::regex(R"(^The following arguments? (was|were) not expected: (.*)$)"), "unexpected argument: $2"},
      {std::regex(R"(^The following argument was not expected: (.*)$)"), "unexpected argument: $1"},
      {std::regex(R"(^(\S+): (.*) not in \{(.*)\}$)"), "$1: $2 is not one of $3"},
      {std::regex(R"(^A subcommand is required$)"), "name a command: plan, apply, check, diff, ..."},
  };
  std::string text = raw;
  while (!text.empty() && text.back() == '\n') text.pop_back();
  for (const auto& [pattern, replacement] : rewrites) {
    if (std::regex_match(text, pattern)) return std::regex_replace(text, pattern, replacement);
  }
  // Anything else CLI11 says, in the project's voice: lowercase, one line.
  if (!text.empty()) text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
  return text;
}

}  // namespace pgparity::reconciler
