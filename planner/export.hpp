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
  bool managed = false;  ///< written with role: managed (default: reference)
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

/// A manifest in which `managed` mirrors the observed `reference`: both
/// targets; every extension the reference has, with version: reference (absent
/// there means absent on the managed target too); the preload list; the
/// exported ratios with match: reference; and settings.values that keep the
/// reference's ratios at the managed target's own size (work_mem and
/// maintenance_work_mem scaled to its shared_buffers; max_connections as on the
/// reference when it differs, which takes a restart).
Exported mirror_manifest(const state::TargetState& reference, const ExportTarget& reference_target,
                         const state::TargetState& managed, const ExportTarget& managed_target);

}  // namespace pgparity::planner
