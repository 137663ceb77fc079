#pragma once

#include <cstddef>
#include <functional>

namespace pgparity {

/// Runs body(0) … body(count - 1), at most `parallel` at a time (at least
/// one), on the calling thread and up to parallel - 1 others; returns when
/// all are done. Items are handed out in index order. The first exception a
/// body throws is rethrown after every started item has finished; items not
/// yet started then do not start.
void parallel_for(std::size_t count, unsigned parallel, const std::function<void(std::size_t)>& body);

}  // namespace pgparity
