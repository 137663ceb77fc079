#pragma once

namespace pgparity::reconciler {

/// Exit codes with the same meaning in every subcommand (docs/cli.md).
enum class ExitCode : int {
  ok = 0,       ///< success; for plan/diff/check: nothing differs
  error = 1,    ///< bad input, cannot connect, a step failed (and was rolled back)
  changes = 2,  ///< plan/diff/check: differences exist
  blocked = 3,  ///< differences exist that cannot be closed safely under the policy
};

}  // namespace pgparity::reconciler
