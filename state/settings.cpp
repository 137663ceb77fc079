#include "state/settings.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstdio>
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
                        SettingType type) {
  if (type == SettingType::integer || type == SettingType::real) {
    const auto a = normalize_written_value(written, unit);
    const auto b = normalize_setting(observed, unit);
    if (!a || !b) return written == observed;
    const double scale = std::max({1.0, std::abs(*a), std::abs(*b)});
    return std::abs(*a - *b) <= 1e-9 * scale;
  }
  if (type == SettingType::boolean) {
    const auto a = boolean_meaning(written);
    const auto b = boolean_meaning(observed);
    return a && b ? *a == *b : written == observed;
  }
  if (type == SettingType::enumeration) return lower(written) == lower(observed);
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

bool session_bound(const Setting& s) {
  // A value from the command line or the environment outranks the files: the file is not the server's word then.
  if (s.source == "command line" || s.source == "environment variable") return false;
  return s.context == SettingContext::backend || s.context == SettingContext::superuser_backend || s.source == "user" ||
         s.source == "database" || s.source == "database user" || s.source == "client" || s.source == "session";
}

bool is_secret_setting(const std::string& name) {
  std::string l = name;
  for (char& c : l) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const auto ends_with = [&](std::string_view tail) {
    return l.size() >= tail.size() && l.compare(l.size() - tail.size(), tail.size(), tail) == 0;
  };
  // PostgreSQL 15: primary_conninfo; archive_, restore_, archive_cleanup_, recovery_end_ and
  // ssl_passphrase_command; and any extension's setting named the same way.
  return ends_with("conninfo") || ends_with("_command") || l.find("password") != std::string::npos;
}

bool is_list_setting(const std::string& name) {
  // guc.c of PostgreSQL 15: every setting with GUC_LIST_INPUT (tests/integration/settings_test.cpp proves the
  // list on the server; restrict_nonsystem_relation_kind came with 15.8).
  static const std::array<std::string_view, 12> lists{
      "DateStyle",        "listen_addresses",          "local_preload_libraries",  "log_destination",
      "search_path",      "session_preload_libraries", "shared_preload_libraries", "synchronous_standby_names",
      "temp_tablespaces", "unix_socket_directories",   "wal_consistency_checking", "restrict_nonsystem_relation_kind"};
  const std::string wanted = [&] {
    std::string l = name;
    for (char& c : l) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return l;
  }();
  for (const auto& l : lists) {
    std::string candidate(l);
    for (char& c : candidate) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (candidate == wanted) return true;
  }
  return false;
}

std::string render_setting(double normalized, const std::string& unit) {
  auto number = [](double v) {
    char text[64];
    std::snprintf(text, sizeof text, "%.15g", v);
    return std::string(text);
  };
  if (unit.empty()) return number(normalized);
  const bool memory = unit.find('B') != std::string::npos;
  struct Step {
    const char* name;
    double size;
  };
  static constexpr std::array<Step, 5> memory_units{{{"TB", 1024.0 * 1024 * 1024 * 1024},
                                                     {"GB", 1024.0 * 1024 * 1024},
                                                     {"MB", 1024.0 * 1024},
                                                     {"kB", 1024.0},
                                                     {"B", 1}}};
  static constexpr std::array<Step, 5> time_units{
      {{"d", 86'400'000}, {"h", 3'600'000}, {"min", 60'000}, {"s", 1000}, {"ms", 1}}};
  const auto& units = memory ? memory_units : time_units;
  if (normalized == 0) return std::string("0") + units.back().name;
  for (const auto& u : units) {
    const double count = normalized / u.size;
    if (std::abs(count) >= 1 && std::abs(count - std::round(count)) < 1e-9) return number(std::round(count)) + u.name;
  }
  return number(normalized) + units.back().name;
}

std::string display_value(const std::string& value, const std::string& unit) {
  if (unit.empty()) return value;
  const auto normalized = normalize_setting(value, unit);
  // -1 means "use the default" or "off" for many settings: keep it as the server says it.
  if (!normalized || value == "-1") return value;
  return render_setting(*normalized, unit);
}

}  // namespace pgparity::state
