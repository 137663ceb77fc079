#pragma once

#include <string>

namespace pgparity::reconciler {

/// Writes `text` to `path` atomically (a temporary file beside it, then
/// rename), so a reader never sees half a file. Throws InputError on failure.
void write_file_atomically(const std::string& path, const std::string& text);

}  // namespace pgparity::reconciler
