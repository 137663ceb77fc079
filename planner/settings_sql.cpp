#include "planner/settings_sql.hpp"

#include "core/setting_list.hpp"
#include "planner/sql.hpp"
#include "state/settings.hpp"

namespace pgparity::planner {

std::string alter_system_set(const std::string& name, const std::string& value) {
  std::string literals;
  if (state::is_list_setting(name)) {
    for (const auto& element : split_setting_list(value)) {
      literals += (literals.empty() ? "" : ", ") + quote_literal(element);
    }
    if (literals.empty()) literals = "''";
  } else {
    literals = quote_literal(value);
  }
  return "ALTER SYSTEM SET " + quote_ident(name) + " = " + literals;
}

std::string alter_system_restore(const state::Setting& setting, bool file_known) {
  // A bare number counts in the setting's own unit, so the running value is written back as the server shows it.
  if (!file_known) return alter_system_set(setting.name, setting.value);
  if (!setting.auto_conf) return "ALTER SYSTEM RESET " + quote_ident(setting.name);
  return alter_system_set(setting.name, *setting.auto_conf);
}

}  // namespace pgparity::planner
