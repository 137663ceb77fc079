#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace pgparity {

/// Levenshtein distance between two words (insertions, deletions, substitutions).
std::size_t edit_distance(std::string_view a, std::string_view b);

/// The candidate closest to `word` when it is a plausible misspelling
/// (distance at most a third of its length, at least 1), else "".
std::string closest_match(std::string_view word, const std::vector<std::string>& candidates);

/// " (did you mean 'x'?)" for a plausible misspelling, else "".
std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace pgparity
