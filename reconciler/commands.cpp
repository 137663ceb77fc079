#include "reconciler/commands.hpp"

#include <CLI/CLI.hpp>

namespace pgparity::reconciler {

void register_commands(CLI::App& app, Context& context) {
  (void)app;
  (void)context;
}

}  // namespace pgparity::reconciler
