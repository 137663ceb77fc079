#pragma once

#include <string>

#include "state/observed.hpp"

namespace pgparity::planner {

/// The one place that writes ALTER SYSTEM text. `value` is in
/// postgresql.conf form; a list setting gets one literal per element
/// (`ALTER SYSTEM SET "search_path" = '$user', 'public'`), an empty list `''`.
std::string alter_system_set(const std::string& name, const std::string& value);

/// The SQL that puts a setting's postgresql.auto.conf entry back as it was
/// observed: the old entry again, or ALTER SYSTEM RESET when there was none.
/// When the file could not be read (`file_known` false), the running value.
std::string alter_system_restore(const state::Setting& setting, bool file_known);

}  // namespace pgparity::planner
