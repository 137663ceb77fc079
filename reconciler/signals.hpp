#pragma once

#include <atomic>

namespace pgparity::reconciler {

/// Installs SIGINT and SIGTERM handlers that set the returned flag (once
/// installed, a second signal does not kill the process either): long waits
/// check it and give up cleanly, a running transaction finishes or rolls back,
/// and guards such as a pooler pause are released on the way out.
const std::atomic<bool>& stop_on_signals();

}  // namespace pgparity::reconciler
