#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace pgparity::reconciler {

/// Runs the pgparity command line with `args` (without the program name);
/// results go to `out`, messages to `err`. Returns the exit code (exit_code.hpp).
/// `color`: whether `out` is a terminal that should get colour (see main.cpp).
int run_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err, bool color = false);

}  // namespace pgparity::reconciler
