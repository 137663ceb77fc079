#include "state/observed.hpp"

namespace pgparity::state {

const InstalledExtension* DatabaseState::find(const std::string& extension) const {
  for (const auto& e : installed) {
    if (e.name.str() == extension) return &e;
  }
  return nullptr;
}

std::optional<double> ClusterState::normalized(const std::string& setting) const {
  auto it = settings.find(setting);
  if (it == settings.end()) return std::nullopt;
  return it->second.normalized;
}

}  // namespace pgparity::state
