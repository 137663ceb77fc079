#include "state/settings.hpp"

#include <array>
#include <cctype>
#include <cstdlib>
#include <string_view>

namespace pgparity::state {

namespace {

/// The size of one `unit` in base units (bytes or milliseconds), or nullopt for an unknown unit.
std::optional<double> unit_size(const std::string& unit) {
  struct Base {
    std::string_view name;
    double size;
  };
  static constexpr std::array<Base, 11> bases{{{"B", 1},
                                               {"kB", 1024.0},
                                               {"MB", 1024.0 * 1024},
                                               {"GB", 1024.0 * 1024 * 1024},
                                               {"TB", 1024.0 * 1024 * 1024 * 1024},
                                               {"us", 0.001},
                                               {"ms", 1},
                                               {"s", 1000},
                                               {"min", 60'000},
                                               {"h", 3'600'000},
                                               {"d", 86'400'000}}};
  std::size_t digits = 0;
  while (digits < unit.size() && std::isdigit(static_cast<unsigned char>(unit[digits])) != 0) ++digits;
  const double multiplier = digits == 0 ? 1.0 : std::strtod(unit.substr(0, digits).c_str(), nullptr);
  const std::string_view base = std::string_view(unit).substr(digits);
  for (const auto& b : bases) {
    if (b.name == base) return multiplier * b.size;
  }
  return std::nullopt;
}

}  // namespace

std::optional<double> normalize_setting(const std::string& value, const std::string& unit) {
  if (value.empty()) return std::nullopt;
  char* end = nullptr;
  const double number = std::strtod(value.c_str(), &end);
  if (end != value.c_str() + value.size()) return std::nullopt;
  if (unit.empty()) return number;
  const auto size = unit_size(unit);
  if (!size) return std::nullopt;
  return number * *size;
}

std::vector<std::string> split_library_list(const std::string& value) {
  std::vector<std::string> out;
  std::string current;
  auto flush = [&] {
    std::size_t b = 0;
    std::size_t e = current.size();
    while (b < e && std::isspace(static_cast<unsigned char>(current[b])) != 0) ++b;
    while (e > b && std::isspace(static_cast<unsigned char>(current[e - 1])) != 0) --e;
    std::string item = current.substr(b, e - b);
    if (item.size() >= 2 && item.front() == '"' && item.back() == '"') item = item.substr(1, item.size() - 2);
    if (!item.empty()) out.push_back(item);
    current.clear();
  };
  for (char c : value) {
    if (c == ',') {
      flush();
    } else {
      current += c;
    }
  }
  flush();
  return out;
}

}  // namespace pgparity::state
