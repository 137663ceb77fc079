#pragma once

#include <string>

#include "desired/manifest.hpp"
#include "desired/writer.hpp"
#include "state/observed.hpp"

namespace pgparity::planner {

/// How the exported target is written.
struct ExportTarget {
  std::string name;        ///< its key under targets
  std::string dsn_source;  ///< the DSN as the manifest should carry it (${VAR} or no password)
  bool all_databases = false;
};

/// A manifest from a live cluster, and the comments that go with it.
struct Exported {
  desired::Manifest manifest;
  desired::WriteNotes notes;
};

/// The ratios an export records: memory and connection topology that staging must mirror.
extern const char* const exported_ratios[3];

/// The baseline manifest of an observed target: the target as a reference;
/// every installed extension with its exact version and schema (one entry when
/// all databases agree, otherwise one entry per group of databases that
/// agree); the preload list; and the exported ratios with match: reference.
/// Deterministic: the same state gives the same manifest.
Exported export_manifest(const state::TargetState& state, const ExportTarget& target);

}  // namespace pgparity::planner
