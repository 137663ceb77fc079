#include "desired/manifest.hpp"

#include <fnmatch.h>

#include <algorithm>

namespace pgparity::desired {

bool DatabaseSelection::matches(const std::string& pattern, const std::string& database) {
  return fnmatch(pattern.c_str(), database.c_str(), 0) == 0;
}

bool DatabaseSelection::selects(const std::string& database) const {
  const auto match = [&](const std::string& p) { return matches(p, database); };
  if (std::any_of(exclude.begin(), exclude.end(), match)) return false;
  if (all || std::any_of(patterns.begin(), patterns.end(), match)) return true;
  return std::any_of(names.begin(), names.end(), [&](const Identifier& n) { return n.str() == database; });
}

std::string VersionSpec::str() const {
  switch (kind) {
    case Kind::exact:
      return exact.str();
    case Kind::reference:
      return "reference";
    case Kind::latest:
      return "default";
  }
  return {};
}

const Target* Manifest::reference() const {
  for (const auto& [name, target] : targets) {
    if (target.role == Role::reference) return &target;
  }
  return nullptr;
}

const Replica* find_replica(const Target& target, const std::string& label) {
  const std::string prefix = "replica-";
  if (label.rfind(prefix, 0) != 0) return nullptr;
  const std::string number = label.substr(prefix.size());
  if (number.empty() || number.find_first_not_of("0123456789") != std::string::npos || number.size() > 4) {
    return nullptr;
  }
  const std::size_t index = std::stoul(number);
  return index >= 1 && index <= target.replicas.size() ? &target.replicas[index - 1] : nullptr;
}

}  // namespace pgparity::desired
