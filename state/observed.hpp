#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/values.hpp"

namespace pgparity::state {

/// A row of pg_extension.
struct InstalledExtension {
  Identifier name;
  Version version;
  Identifier schema;
  bool relocatable = false;
  bool operator==(const InstalledExtension&) const = default;
};

/// One database as its catalogs describe it.
struct DatabaseState {
  std::string name;
  std::vector<InstalledExtension> installed;  ///< sorted by name
  const InstalledExtension* find(const std::string& extension) const;
};

/// A row of pg_settings, with its value normalized by unit.
struct Setting {
  std::string name;
  std::string value;  ///< pg_settings.setting, as the server shows it
  std::string unit;   ///< "", "B", "kB", "8kB", "MB", "ms", "s", "min", ...
  std::string context;
  std::string source;
  bool pending_restart = false;
  std::optional<double> normalized;  ///< memory in bytes, time in ms, other numbers as they are
};

/// What a server as a whole shows, whatever database one connects to.
struct ClusterState {
  std::string server_version;  ///< "15.18 (Debian 15.18-0+deb12u1)"
  int server_version_num = 0;  ///< 150018
  std::map<std::string, Setting> settings;
  std::vector<std::string> preload_libraries;      ///< shared_preload_libraries, split and trimmed, in server order
  std::vector<std::string> connectable_databases;  ///< non-template databases that allow connections, sorted
  std::string dsn_database;                        ///< the database the DSN itself connects to

  /// The normalized value of a setting, or nullopt when unknown or not numeric.
  std::optional<double> normalized(const std::string& setting) const;
};

/// Everything observed of one target.
struct TargetState {
  std::string target;
  ClusterState cluster;
  std::vector<DatabaseState> databases;  ///< the selected databases, sorted by name
};

}  // namespace pgparity::state
