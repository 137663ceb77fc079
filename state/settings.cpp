#include "state/settings.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
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

std::optional<double> normalize_written_value(const std::string& text, const std::string& unit) {
  std::size_t end = 0;
  while (end < text.size() && (std::isdigit(static_cast<unsigned char>(text[end])) != 0 || text[end] == '.' ||
                               (end == 0 && (text[end] == '-' || text[end] == '+')))) {
    ++end;
  }
  if (end == 0) return std::nullopt;
  std::size_t unit_start = end;
  while (unit_start < text.size() && text[unit_start] == ' ') ++unit_start;
  const std::string own_unit = text.substr(unit_start);
  const std::string number = text.substr(0, end);
  if (own_unit.empty()) return normalize_setting(number, unit);
  // The written unit must be of the same kind (memory or time) as the setting's.
  const auto base = normalize_setting("1", unit);
  const auto written = normalize_setting(number, own_unit);
  const bool memory = [](const std::string& u) { return u.find('B') != std::string::npos; }(unit);
  const bool own_memory = own_unit.find('B') != std::string::npos;
  if (!base || !written || unit.empty() || memory != own_memory) return std::nullopt;
  return written;
}

namespace {

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::optional<bool> boolean_meaning(const std::string& text) {
  const std::string t = lower(text);
  if (t == "on" || t == "true" || t == "yes" || t == "1" || t == "t" || t == "y") return true;
  if (t == "off" || t == "false" || t == "no" || t == "0" || t == "f" || t == "n") return false;
  return std::nullopt;
}

}  // namespace

bool same_setting_value(const std::string& written, const std::string& observed, const std::string& unit,
                        const std::string& type) {
  if (type == "integer" || type == "real") {
    const auto a = normalize_written_value(written, unit);
    const auto b = normalize_setting(observed, unit);
    if (!a || !b) return written == observed;
    const double scale = std::max({1.0, std::abs(*a), std::abs(*b)});
    return std::abs(*a - *b) <= 1e-9 * scale;
  }
  if (type == "bool") {
    const auto a = boolean_meaning(written);
    const auto b = boolean_meaning(observed);
    return a && b ? *a == *b : written == observed;
  }
  if (type == "enum") return lower(written) == lower(observed);
  return written == observed;
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
