#pragma once

// The plan document's one codec (docs/cli.md, "plan -o"): nlohmann-json's to_json/from_json for
// every type of a plan, so what render_json writes, parse_plan reads back equal, field for field.

#include <nlohmann/json.hpp>

#include "planner/plan.hpp"

namespace pgparity {
void to_json(nlohmann::ordered_json& j, const Version& v);
/// Throws std::invalid_argument for text that is not a version (Version::parse).
void from_json(const nlohmann::ordered_json& j, Version& v);
}  // namespace pgparity

namespace pgparity::state {
void to_json(nlohmann::ordered_json& j, const DependentObject& o);
void from_json(const nlohmann::ordered_json& j, DependentObject& o);
}  // namespace pgparity::state

namespace pgparity::planner {

void to_json(nlohmann::ordered_json& j, StepKind kind);
void from_json(const nlohmann::ordered_json& j, StepKind& kind);
void to_json(nlohmann::ordered_json& j, const Rehearsal& r);
void from_json(const nlohmann::ordered_json& j, Rehearsal& r);
void to_json(nlohmann::ordered_json& j, const Step& s);
void from_json(const nlohmann::ordered_json& j, Step& s);
void to_json(nlohmann::ordered_json& j, const Blocker& b);
void from_json(const nlohmann::ordered_json& j, Blocker& b);
void to_json(nlohmann::ordered_json& j, const PendingRestart& p);
void from_json(const nlohmann::ordered_json& j, PendingRestart& p);
void to_json(nlohmann::ordered_json& j, const Wave& w);
void from_json(const nlohmann::ordered_json& j, Wave& w);
/// The whole document: apiVersion, kind, formatVersion, fingerprint, summary (derived, not read
/// back), blockers, steps, warnings, waves, pendingRestarts, unmatchedPatterns, rehearsal.
void to_json(nlohmann::ordered_json& j, const Plan& plan);
void from_json(const nlohmann::ordered_json& j, Plan& plan);

}  // namespace pgparity::planner
