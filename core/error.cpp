#include "core/error.hpp"

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

}  // namespace pgparity
