// Nesting is refused here, before yaml-cpp parses, and not by yaml-cpp's own DepthGuard: that
// guard (yaml-cpp 0.7, 2000 levels) keeps the stack safe, but says "bad file" for nested flow
// collections and "illegal block entry" for "- - - x", which tells nobody what is wrong. A
// manifest never needs more than a few levels; 64 is refused with a message that says so, at
// the line and column where it happens (tests/unit/desired/loader_invalid_test.cpp).
#include "desired/manifest_loader.hpp"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <regex>
#include <tuple>

#include "core/setting_list.hpp"
#include "core/spelling.hpp"
#include "desired/dsn_text.hpp"

namespace pgparity::desired {

bool Loader::too_deep(const std::string& text) {
  constexpr int limit = 64;
  int depth = 0;
  int line = 1;
  int column = 0;
  char quote = 0;
  char previous = 0;  // the last character that is not a space, on this line
  char last = 0;      // the last character
  bool escaped = false;
  bool comment = false;
  int dashes = 0;  // "- - - x": block sequences nested on one line
  auto refuse = [&] {
    reader_.diagnostics().push_back({reader_.file(), line, column,
                                     "nested deeper than " + std::to_string(limit) +
                                         " levels: a manifest never needs that; refused before parsing"});
    return true;
  };
  for (char c : text) {
    ++column;
    const char before = last;
    last = c;
    if (c == '\n') {
      ++line;
      column = 0;
      comment = false;
      previous = 0;
      dashes = 0;
      continue;
    }
    if (comment) continue;
    if (quote != 0) {
      if (quote == '"' && c == '\\' && !escaped) {
        escaped = true;
        continue;
      }
      if (c == quote && !escaped) quote = 0;
      escaped = false;
      continue;
    }
    const bool token_start = before == 0 || before == ' ' || before == '\t' || before == '\n';
    if (c == '-' && token_start && (previous == 0 || previous == '-') && depth == 0 && ++dashes > limit) {
      return refuse();
    }
    // A quote opens a scalar only where one can start (an apostrophe inside plain text does not).
    const bool starts =
        previous == 0 || previous == ':' || previous == '[' || previous == '{' || previous == ',' || previous == '-';
    if ((c == '"' || c == '\'') && starts) {
      quote = c;
    } else if (c == '#' && token_start) {
      comment = true;
    } else if ((c == '[' || c == '{') && ++depth > limit) {
      return refuse();
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
    if (c != ' ') previous = c;
  }
  return false;
}

}  // namespace pgparity::desired
