#include "core/diagnostic.hpp"

namespace pgparity {

std::string Diagnostic::str() const {
  if (line == 0) return file + ": " + message;
  return file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + message;
}

std::string format(const Diagnostics& diagnostics) {
  std::string out;
  for (const auto& d : diagnostics) out += d.str() + "\n";
  return out;
}

}  // namespace pgparity
