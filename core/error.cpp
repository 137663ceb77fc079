#include "core/error.hpp"

#include <regex>

namespace pgparity {

std::string Where::str() const {
  std::string out = target;
  if (!database.empty()) out += (out.empty() ? "" : "/") + database;
  if (!extension.empty()) out += (out.empty() ? "" : ": ") + extension;
  if (!step.empty()) out += (out.empty() ? "" : ": ") + step;
  return out;
}

namespace {
std::string compose(const std::string& message, const Where& where) {
  const std::string prefix = where.str();
  return prefix.empty() ? message : prefix + ": " + message;
}
}  // namespace

Error::Error(const std::string& message, std::string detail, std::string hint, Where where)
    : std::runtime_error(compose(message, where)),
      message_(message),
      detail_(std::move(detail)),
      hint_(std::move(hint)),
      where_(std::move(where)) {}

std::string Error::report() const {
  std::string out = "error: " + std::string(what());
  if (!detail_.empty()) out += "\ndetail: " + detail_;
  if (!hint_.empty()) out += "\nhint: " + hint_;
  return out;
}

std::string one_line(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  for (char& c : text) c = c == '\n' ? ' ' : c;
  return text;
}

std::string server_text(std::string text) {
  text = one_line(std::move(text));
  if (text.size() > 4096) text.resize(4096);  // std::regex recurses per character: bound it first
  // pg_authid's password hashes, wherever an error message quotes a value: never shown.
  static const std::regex hash(R"((SCRAM-SHA-256\$[^\s"',)]*)|(md5[0-9a-f]{32}))", std::regex::icase);
  text = std::regex_replace(text, hash, "<password hash>");
  constexpr std::size_t bound = 300;
  if (text.size() > bound) {
    std::size_t cut = bound;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;  // whole UTF-8 characters
    text = text.substr(0, cut) + "…";
  }
  return text;
}

}  // namespace pgparity
