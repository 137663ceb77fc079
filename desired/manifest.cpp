#include "desired/manifest.hpp"

namespace pgparity::desired {

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

}  // namespace pgparity::desired
