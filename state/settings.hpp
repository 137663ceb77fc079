#pragma once

#include <optional>
#include <string>
#include <vector>

namespace pgparity::state {

/// A pg_settings value in base units: memory in bytes ("8kB" unit, setting
/// "16384" -> 134217728), time in milliseconds ("min" unit, "5" -> 300000),
/// unitless numbers as they are. nullopt for values that are not numbers.
std::optional<double> normalize_setting(const std::string& value, const std::string& unit);

/// shared_preload_libraries as a list: split on commas, spaces trimmed, quotes removed.
std::vector<std::string> split_library_list(const std::string& value);

}  // namespace pgparity::state
