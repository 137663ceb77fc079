#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace pgparity::reconciler {

/// Runs the pgparity command line with `args` (without the program name);
/// results go to `out`, messages to `err`. Returns the exit code (exit_code.hpp).
/// `color`: whether `out` is a terminal that should get colour (see main.cpp).
int run_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err, bool color = false);

/// A CLI11 parse error in pgparity's voice: "targets: At least 2 required but received 1"
/// becomes "needs two target names, e.g. production staging (got 1)".
std::string cli_message(const std::string& raw);

}  // namespace pgparity::reconciler
