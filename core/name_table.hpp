#pragma once

#include <cstddef>
#include <optional>
#include <string_view>
#include <utility>

namespace pgparity {

// An enum's one name table, read both ways, so a name and its value are written in one place:
//   constexpr std::pair<Color, const char*> color_names[] = {{Color::red, "red"}, {Color::blue, "blue"}};

/// The name `value` has in `table`, or `otherwise` when the table lacks it.
template <typename E, std::size_t N>
constexpr const char* name_in(const std::pair<E, const char*> (&table)[N], E value, const char* otherwise = "?") {
  for (const auto& [v, name] : table) {
    if (v == value) return name;
  }
  return otherwise;
}

/// The value `name` stands for in `table`, or nullopt.
template <typename E, std::size_t N>
constexpr std::optional<E> value_in(const std::pair<E, const char*> (&table)[N], std::string_view name) {
  for (const auto& [v, n] : table) {
    if (name == n) return v;
  }
  return std::nullopt;
}

}  // namespace pgparity
