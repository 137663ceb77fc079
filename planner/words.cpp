#include "planner/words.hpp"

namespace pgparity::planner {

std::string join(const std::vector<std::string>& items, const std::string& separator) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : separator) + item;
  return out;
}

std::string available_list(const state::AvailableExtension* available) {
  if (available == nullptr || available->versions.empty()) return "none";
  std::vector<std::string> versions;
  for (const auto& v : available->versions) versions.push_back(v.version.str());
  return join(versions, ", ");
}

}  // namespace pgparity::planner
