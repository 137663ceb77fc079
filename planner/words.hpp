#pragma once

#include <string>
#include <vector>

#include "state/observed.hpp"

/// Small text helpers the planner's messages share.
namespace pgparity::planner {

/// The items with `separator` between them.
std::string join(const std::vector<std::string>& items, const std::string& separator);
/// The versions an installation offers, "1.0, 1.1", or "none".
std::string available_list(const state::AvailableExtension* available);

}  // namespace pgparity::planner
