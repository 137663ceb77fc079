#pragma once

#include <map>
#include <string>

#include "desired/manifest.hpp"
#include "state/observed.hpp"

namespace pgparity::reconciler {

/// Observes what a plan of `manifest` needs: the reference target (if any)
/// and the managed targets (only `only_target` when given), every session
/// read-only. Throws InputError for an unknown or reference `only_target`.
std::map<std::string, state::TargetState> observe_for_plan(const desired::Manifest& manifest,
                                                           const std::string& only_target, unsigned parallel);

/// Observes one target of the manifest, read-only.
state::TargetState observe_target(const desired::Manifest& manifest, const desired::Target& target, unsigned parallel);

/// The target named `name`, or InputError with a did-you-mean.
const desired::Target& find_target(const desired::Manifest& manifest, const std::string& name);

/// Whether `now` (seconds since the epoch) is inside the policy's maintenance window.
bool in_maintenance_window(const desired::Policy& policy, long long now);

}  // namespace pgparity::reconciler
