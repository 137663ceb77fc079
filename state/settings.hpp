#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/setting_list.hpp"
#include "state/observed.hpp"

namespace pgparity::state {

/// A pg_settings value in base units: memory in bytes ("8kB" unit, setting
/// "16384" -> 134217728), time in milliseconds ("min" unit, "5" -> 300000),
/// unitless numbers as they are. nullopt for values that are not numbers.
std::optional<double> normalize_setting(const std::string& value, const std::string& unit);

/// A value as one would write it in postgresql.conf ("4MB", "30s", "100",
/// "on"), normalized like normalize_setting for a setting whose pg_settings
/// unit is `unit`: a bare number counts in that unit, a number with its own
/// unit is converted. nullopt when it is not a number.
std::optional<double> normalize_written_value(const std::string& text, const std::string& unit);

/// Whether two values of a setting of pg_settings type `type` (bool, enum,
/// integer, real, string) mean the same: numbers by normalized value,
/// booleans by meaning (on = true = yes = 1), enums case-insensitively.
bool same_setting_value(const std::string& written, const std::string& observed, const std::string& unit,
                        SettingType type);

/// shared_preload_libraries as a list: split on commas, spaces trimmed, quotes removed.
std::vector<std::string> split_library_list(const std::string& value);

/// Whether PostgreSQL 15 reads this setting as a list (GUC_LIST_INPUT): it
/// takes one literal per element, and `ALTER SYSTEM SET x = 'a, b'` would
/// store ONE element named "a, b". Proven against the server by a test.
bool is_list_setting(const std::string& name);
/// Whether what a session shows for a setting may differ from the server's value: fixed when the
/// session started (backend contexts), or overridden for it (ALTER ROLE/DATABASE … SET, the DSN's
/// options). The server's value is then what its files hold.
bool session_bound(const Setting& setting);
/// Whether a setting holds a connection string or a command (primary_conninfo, archive_command,
/// ssl_passphrase_command, …): its value can carry a password or run a program, so it is never shown.
bool is_secret_setting(const std::string& name);

/// A normalized value (bytes, milliseconds) in the largest unit of its kind
/// that holds it exactly: 134217728 with unit "8kB" → "128MB", 300000 with
/// "ms" → "5min". Unitless settings: the number as it is.
std::string render_setting(double normalized, const std::string& unit);

/// What a server shows for a setting, for people: in human units ("128MB",
/// not "16384" blocks of 8kB); lists and text as they are.
std::string display_value(const std::string& value, const std::string& unit);

}  // namespace pgparity::state
