#pragma once

#include <functional>
#include <optional>
#include <string>

#include "core/diagnostic.hpp"
#include "desired/manifest.hpp"

namespace pgparity::desired {

/// Reads a variable for ${NAME} expansion; nullopt when it is unset.
using Environment = std::function<std::optional<std::string>(const std::string& name)>;
/// The process environment.
std::optional<std::string> process_environment(const std::string& name);

/// Checks a DSN's syntax; returns the problem, or nullopt when it is fine.
/// The loader stays free of libpq: the caller passes libpq's parser in.
using DsnCheck = std::function<std::optional<std::string>(const std::string& dsn)>;

struct LoadOptions {
  Environment environment = process_environment;
  DsnCheck check_dsn;  ///< optional
  /// validate: nothing will connect, so an unset ${VAR} is a note, not an
  /// error (a pull request from a fork has no secrets).
  bool offline = false;
};

/// A manifest, or every problem that kept it from loading.
struct LoadResult {
  std::optional<Manifest> manifest;
  Diagnostics diagnostics;
  Diagnostics notes;  ///< worth saying, not errors (offline: variables that are not set)
  bool ok() const { return manifest.has_value(); }
};

/// Loads and checks a manifest file. Nothing is connected or executed.
LoadResult load_manifest_file(const std::string& path, const LoadOptions& options = {});
/// Loads manifest text; `file` names it in diagnostics.
LoadResult load_manifest_text(const std::string& text, const std::string& file, const LoadOptions& options = {});

}  // namespace pgparity::desired
