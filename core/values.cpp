#include "core/values.hpp"

#include <array>
#include <cctype>
#include <limits>

namespace pgparity {

namespace {

constexpr std::size_t max_name_bytes = 63;

bool is_alpha(char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0; }
bool is_alnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

}  // namespace

std::optional<Version> Version::parse(std::string_view text) {
  if (text.empty() || text.size() > max_name_bytes) return std::nullopt;
  if (text.front() == '-' || text.back() == '-' || text.find("--") != std::string_view::npos) return std::nullopt;
  for (char c : text) {
    if (!is_alnum(c) && c != '.' && c != '_' && c != '+' && c != '~' && c != '-') return std::nullopt;
  }
  return Version(std::string(text));
}

Version Version::from_catalog(std::string text) { return Version(std::move(text)); }

std::optional<Identifier> Identifier::parse(std::string_view text, Kind kind) {
  if (text.empty() || text.size() > max_name_bytes) return std::nullopt;
  if (!is_alpha(text.front()) && text.front() != '_') return std::nullopt;
  for (char c : text) {
    const bool ok = is_alnum(c) || c == '_' || c == '$' || (kind == Kind::object ? c == '-' : c == '.');
    if (!ok) return std::nullopt;
  }
  return Identifier(std::string(text));
}

Identifier Identifier::from_catalog(std::string text) { return Identifier(std::move(text)); }

std::optional<Duration> Duration::parse(std::string_view text) {
  struct Unit {
    std::string_view name;
    std::int64_t ms;
  };
  static constexpr std::array<Unit, 5> units{
      {{"ms", 1}, {"s", 1000}, {"m", 60'000}, {"h", 3'600'000}, {"d", 86'400'000}}};
  if (text.empty()) return std::nullopt;
  std::int64_t total = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    std::int64_t number = 0;
    const std::size_t digits_start = i;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])) != 0) {
      if (number > std::numeric_limits<std::int64_t>::max() / 10 - 10) return std::nullopt;
      number = number * 10 + (text[i++] - '0');
    }
    if (i == digits_start) return std::nullopt;
    const std::size_t unit_start = i;
    while (i < text.size() && is_alpha(text[i])) ++i;
    const std::string_view unit = text.substr(unit_start, i - unit_start);
    bool found = false;
    for (const auto& u : units) {
      if (u.name != unit) continue;
      if (number > std::numeric_limits<std::int64_t>::max() / u.ms - total) return std::nullopt;
      total += number * u.ms;
      found = true;
    }
    if (!found) return std::nullopt;
  }
  return Duration(total);
}

std::string Duration::str() const {
  struct Unit {
    const char* name;
    std::int64_t ms;
  };
  static constexpr std::array<Unit, 5> units{
      {{"d", 86'400'000}, {"h", 3'600'000}, {"m", 60'000}, {"s", 1000}, {"ms", 1}}};
  if (ms_ == 0) return "0s";
  for (const auto& u : units) {
    if (ms_ % u.ms == 0) return std::to_string(ms_ / u.ms) + u.name;
  }
  return std::to_string(ms_) + "ms";
}

}  // namespace pgparity
