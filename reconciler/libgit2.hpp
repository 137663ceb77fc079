#pragma once

#include <memory>

namespace pgparity::reconciler {

/// libgit2's global state, set up once for the process and shut down at its exit (its caches then go
/// as the process ends, not as leaks). Call before any other libgit2 function.
void init_libgit2();

/// A libgit2 object freed with its own free function when the owner goes.
template <typename T, void (*Free)(T*)>
using Owned = std::unique_ptr<T, decltype([](T* p) { Free(p); })>;

}  // namespace pgparity::reconciler
