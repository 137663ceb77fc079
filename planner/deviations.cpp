// What `pgparity check` reports: the deviations a plan closes or is blocked by. Pure.
#include "planner/deviations.hpp"

#include "planner/render.hpp"

#include <nlohmann/json.hpp>

namespace pgparity::planner {

std::vector<Deviation> deviations_of(const Plan& plan) {
  std::vector<Deviation> out;
  for (const auto& s : plan.steps) {
    const std::string where =
        s.target + (s.replica.empty() ? "" : "@" + s.replica) + (s.database.empty() ? "" : "/" + s.database);
    const StepObject o = object_of(s);
    switch (s.kind) {
      case StepKind::schema:
        out.push_back({where, "schema " + o.name, "absent", "present", ""});
        break;
      case StepKind::create:
        out.push_back({where, o.name, "absent", o.to, ""});
        break;
      case StepKind::update:
      case StepKind::recreate:
      case StepKind::set:
        out.push_back({where, o.name, o.from, o.to, ""});
        break;
      case StepKind::drop:
        out.push_back({where, o.name, o.from, "absent", ""});
        break;
      case StepKind::patroni: {  // one per setting the PATCH changes
        const auto& patch = s.as<PatroniPatch>();
        const auto values = nlohmann::json::parse(patch.body).at("postgresql").at("parameters");
        for (std::size_t i = 0; i < patch.settings.size(); ++i) {
          out.push_back({where, patch.settings[i], patch.current[i], values.value(patch.settings[i], ""), ""});
        }
        break;
      }
      default:
        break;
    }
  }
  for (const auto& [target, pattern] : plan.unmatched_patterns) {
    out.push_back(
        {target, "databases pattern " + pattern, "", "", "matches no connectable database", "unmatched-pattern"});
  }
  for (const auto& b : plan.blockers) {
    out.push_back({b.target + (b.database.empty() ? "" : "/" + b.database),
                   b.extension.empty() ? std::string(name_of(b.code)) : b.extension, "", "", b.message, "blocked"});
  }
  for (const auto& d : plan.auto_conf_drift) {
    out.push_back({d.target + "@" + d.member, d.setting, d.value, "", auto_conf_drift_text(d), "auto-conf-drift"});
  }
  for (const auto& p : plan.pending_restarts) {
    out.push_back({p.target, p.setting, p.running, p.written,
                   "written to postgresql.auto.conf; the server runs it after a restart", "pending-restart"});
  }
  return out;
}

}  // namespace pgparity::planner
