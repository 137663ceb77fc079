#include "desired/dsn_text.hpp"

#include <cctype>

namespace pgparity::desired::dsn_text {

namespace {

bool is_uri(const std::string& dsn) { return dsn.rfind("postgresql://", 0) == 0 || dsn.rfind("postgres://", 0) == 0; }

/// Whether position `at` of a conninfo string is inside '...' (a backslash escapes inside quotes).
bool inside_quotes(const std::string& dsn, std::size_t at) {
  bool quoted = false;
  for (std::size_t k = 0; k < at; ++k) {
    if (dsn[k] == '\\' && quoted) {
      ++k;
    } else if (dsn[k] == '\'') {
      quoted = !quoted;
    }
  }
  return quoted;
}

/// Whether `at` follows `keyword=` (spaces allowed between): where a whole value stands.
bool after_equals(const std::string& dsn, std::size_t at) {
  std::size_t k = at;
  while (k > 0 && dsn[k - 1] == ' ') --k;
  return k > 0 && dsn[k - 1] == '=';
}

}  // namespace

bool whole_dsn_position(const std::string& dsn, std::size_t at) {
  if (is_uri(dsn) || inside_quotes(dsn, at) || after_equals(dsn, at)) return false;
  return at == 0 || dsn[at - 1] == ' ' || dsn[at - 1] == '\t';
}

std::string keyword_at(const std::string& dsn, std::size_t at) {
  const std::size_t eq = dsn.rfind('=', at);
  if (is_uri(dsn)) {
    const std::size_t scheme = dsn.find("://") + 3;
    const std::size_t at_sign = dsn.find('@', scheme);
    const std::size_t query = dsn.find('?');
    if (query != std::string::npos && at > query && eq != std::string::npos && eq > query) {
      const std::size_t start = dsn.find_last_of("?&", eq);
      return dsn.substr(start + 1, eq - start - 1);
    }
    if (at_sign != std::string::npos && at < at_sign) {
      const std::size_t colon = dsn.find(':', scheme);
      return colon != std::string::npos && colon < at ? "password" : "user";
    }
    return "";
  }
  if (eq == std::string::npos || whole_dsn_position(dsn, at)) return "";
  std::size_t end = eq;
  while (end > 0 && dsn[end - 1] == ' ') --end;
  std::size_t start = end;
  while (start > 0 && dsn[start - 1] != ' ' && dsn[start - 1] != '\t') --start;
  return dsn.substr(start, end - start);
}

std::string misplaced(const std::string& name, const std::string& value, const std::string& dsn, std::size_t at) {
  if (whole_dsn_position(dsn, at)) return "";  // refused, or used whole, by the caller
  const std::string keyword = keyword_at(dsn, at);
  if (keyword == "password" || keyword == "sslpassword") return "";
  std::string upper = name;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (upper.find("PASSWORD") != std::string::npos || upper.find("SECRET") != std::string::npos ||
      upper.find("TOKEN") != std::string::npos) {
    return "holds a secret and may stand only where a password goes (password=${" + name + "})";
  }
  if (value.find('=') != std::string::npos || value.find("://") != std::string::npos) {
    return "holds a DSN, which may only be the whole value (dsn: \"${" + name + "}\")";
  }
  return "";
}

std::string escaped(const std::string& value, const std::string& dsn, std::size_t at) {
  if (is_uri(dsn)) {
    // Only a user, a password or a parameter value is encoded; hosts, ports and paths stay as they are.
    const std::size_t scheme = dsn.find("://") + 3;
    const std::size_t at_sign = dsn.find('@', scheme);
    const std::size_t query = dsn.find('?');
    const bool userinfo = at_sign != std::string::npos && at >= scheme && at < at_sign;
    const bool parameter = query != std::string::npos && at > query;
    if (!userinfo && !parameter) return value;
    static const char* hex = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : value) {
      if (std::isalnum(c) != 0 || c == '-' || c == '.' || c == '_' || c == '~') {
        out += static_cast<char>(c);
      } else {
        out += '%';
        out += hex[c >> 4];
        out += hex[c & 0xf];
      }
    }
    return out;
  }
  std::string inner;
  for (char c : value) {
    if (c == '\'' || c == '\\') inner += '\\';
    inner += c;
  }
  if (inside_quotes(dsn, at)) return inner;
  if (after_equals(dsn, at)) return "'" + inner + "'";
  // Inside an unquoted value (host=db-${ENV}.internal): a space would end it, so escape it too.
  std::string bare;
  for (char c : value) {
    if (c == '\'' || c == '\\' || c == ' ') bare += '\\';
    bare += c;
  }
  return bare;
}

}  // namespace pgparity::desired::dsn_text
