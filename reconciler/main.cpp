#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "reconciler/cli.hpp"

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  // Colour only on a terminal, never with NO_COLOR (https://no-color.org).
  const bool color = isatty(STDOUT_FILENO) != 0 && std::getenv("NO_COLOR") == nullptr;
  return pgparity::reconciler::run_cli(args, std::cout, std::cerr, color);
}
