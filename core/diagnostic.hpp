#pragma once

#include <string>
#include <vector>

namespace pgparity {

/// One problem with user input, at a place in a file: "manifest.yaml:12:5: unknown key 'verison'".
struct Diagnostic {
  std::string file;
  int line = 0;    ///< 1-based; 0 when the problem is the file as a whole
  int column = 0;  ///< 1-based
  std::string message;

  /// "file:line:col: message" (or "file: message" without a position).
  std::string str() const;
  bool operator==(const Diagnostic&) const = default;
};

/// Every problem found in one input, in the order found; users want them all at once.
using Diagnostics = std::vector<Diagnostic>;

/// One diagnostic a line.
std::string format(const Diagnostics& diagnostics);

}  // namespace pgparity
