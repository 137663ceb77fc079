#include "core/setting_list.hpp"

#include <algorithm>
#include <cctype>

namespace pgparity {

std::vector<std::string> split_setting_list(const std::string& value) {
  std::vector<std::string> out;
  std::size_t i = 0;
  auto skip_spaces = [&] {
    while (i < value.size() && std::isspace(static_cast<unsigned char>(value[i])) != 0) ++i;
  };
  skip_spaces();
  if (i == value.size()) return out;
  while (true) {
    std::string element;
    skip_spaces();
    if (i < value.size() && value[i] == '"') {
      ++i;
      while (i < value.size()) {
        if (value[i] == '"') {
          if (i + 1 < value.size() && value[i + 1] == '"') {
            element += '"';
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        element += value[i++];
      }
      skip_spaces();
    } else {
      while (i < value.size() && value[i] != ',') element += value[i++];
      while (!element.empty() && std::isspace(static_cast<unsigned char>(element.back())) != 0) element.pop_back();
    }
    out.push_back(element);
    if (i < value.size() && value[i] == ',') {
      ++i;
      continue;
    }
    break;
  }
  return out;
}

std::string join_setting_list(const std::vector<std::string>& elements) {
  std::string out;
  for (const auto& e : elements) {
    const bool plain = !e.empty() && std::all_of(e.begin(), e.end(), [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    });
    std::string quoted;
    if (plain) {
      quoted = e;
    } else {
      quoted = "\"";
      for (char c : e) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
      quoted += "\"";
    }
    out += (out.empty() ? "" : ", ") + quoted;
  }
  return out;
}

}  // namespace pgparity
