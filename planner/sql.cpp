#include "planner/sql.hpp"

#include <cctype>

#include <stdexcept>

namespace pgparity::planner {

std::string quote_ident(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '\0') throw std::invalid_argument("an identifier cannot hold a NUL byte");
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string quote_literal(std::string_view text) {
  const bool backslash = text.find('\\') != std::string_view::npos;
  std::string out = backslash ? "E'" : "'";
  for (char c : text) {
    if (c == '\0') throw std::invalid_argument("a literal cannot hold a NUL byte");
    if (c == '\'' || (backslash && c == '\\')) out += c;
    out += c;
  }
  return out + "'";
}

std::string health_query(std::string_view sql) {
  while (!sql.empty() && (sql.back() == ';' || std::isspace(static_cast<unsigned char>(sql.back())) != 0)) {
    sql.remove_suffix(1);
  }
  return "SELECT * FROM (" + std::string(sql) + "\n) AS pgparity_health";
}

}  // namespace pgparity::planner
