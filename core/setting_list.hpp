#pragma once

#include <string>
#include <vector>

// The syntax of list-valued server settings (search_path, shared_preload_libraries, ...),
// shared by the manifest loader, the observed model and the planner.

namespace pgparity {

/// A list setting's value as the server shows it or postgresql.conf writes
/// it ('"$user", public') split into its elements: commas separate, spaces
/// around elements go, double quotes keep commas and spaces in an element
/// ("" is a quote inside).
std::vector<std::string> split_setting_list(const std::string& value);

/// The list back in postgresql.conf form: elements joined by ", ", quoted
/// when they hold anything but lowercase letters, digits and _ (as the
/// server shows them).
std::string join_setting_list(const std::vector<std::string>& elements);

}  // namespace pgparity
