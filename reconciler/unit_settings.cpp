#include "reconciler/unit.hpp"

#include "core/error.hpp"
#include "reconciler/run_lock.hpp"
#include "reconciler/settings_writer.hpp"
#include "state/activity.hpp"
#include "state/connection.hpp"
#include "state/observe.hpp"

namespace pgparity::reconciler {

using planner::Step;
using Outcome = DatabaseResult::Outcome;

/// Settings runs are journaled in the DSN's database like extension runs,
/// with each setting's value before and after.
void Unit::apply_settings() {
  if (const std::string why = state::foreign_state_schema(*session_, manifest_.policy.state_schema.str());
      !why.empty()) {
    result_.outcome = Outcome::blocked;
    result_.message = "pre-flight: " + why + "; nothing changed";
    return;
  }
  Journal journal(*session_, manifest_.policy.state_schema.str());
  journal.ensure();
  result_.run_id = new_run_id();
  journal.start({result_.run_id, target_.name, "", options_.plan_digest, options_.manifest_digest, options_.wave,
                 options_.revision});
  const std::string problem = write_settings(*session_, steps_, [&](const Step& s, long long ms) {
    const auto& set = s.as<planner::SettingChange>();
    journal.record_setting(result_.run_id, set.setting, set.current, set.value,
                           set.undo_sql.empty() ? "" : set.undo_sql.front());
    say_step(s, ms, set.restart_required ? " (takes effect after a restart)" : "");
  });
  if (!problem.empty()) {
    fail(problem);
    journal.finish(result_.run_id, state::RunStatus::failed, 0, result_.message);
    return;
  }
  journal.finish(result_.run_id, state::RunStatus::succeeded, static_cast<int>(changes().size()), "");
  result_.steps_done = static_cast<int>(changes().size());
  result_.outcome = Outcome::applied;
  result_.message =
      std::to_string(result_.steps_done) + " setting" + (result_.steps_done == 1 ? "" : "s") + " written and reloaded";
}

/// Settings on a standby: ALTER SYSTEM is not replicated, and works on a hot standby. No journal
/// (a standby cannot be written) and no run lock; postgresql.auto.conf is put back on failure as on
/// a primary.
void Unit::apply_replica_settings() {
  const desired::Replica* replica = desired::find_replica(target_, database_.substr(1));
  if (replica == nullptr) {
    fail("the plan names standby " + database_.substr(1) + ", which the manifest's target " + target_.name +
         " does not list");
    return;
  }
  try {
    // The primary's run lock (the one its own settings run takes) serialises standby writes too.
    auto primary = state::connect(target_.dsn, state::Access::read_write, "pgparity", std::nullopt);
    RunLock lock(*primary);
    if (lock.acquire(options_.lock_wait, options_.stop, [](int) {}) >= 0) {
      result_.outcome = Outcome::skipped;
      result_.message = "another pgparity run holds the target's lock; nothing changed on the standby";
      return;
    }
    auto session = state::connect(replica->dsn, state::Access::read_write, "pgparity", std::nullopt);
    if (!state::in_recovery(*session)) {
      result_.outcome = Outcome::blocked;
      result_.message = "standby " + state::mask_dsn(replica->dsn) + " is no longer in recovery; nothing changed";
      return;
    }
    // Checked on the sessions that write, not only at observation: the DSN may lead elsewhere now.
    const std::string identity = state::system_identifier(*session);
    if (identity != state::system_identifier(*primary) || identity == options_.reference_identifier) {
      result_.outcome = Outcome::blocked;
      result_.message = "standby " + state::mask_dsn(replica->dsn) + " (system_identifier " + identity +
                        ") is not a standby of " + target_.name + "'s primary; nothing changed";
      return;
    }
    const std::string problem = write_settings(*session, steps_, [&](const Step& s, long long ms) {
      say_step(s, ms, s.as<planner::SettingChange>().restart_required ? " (takes effect after a restart)" : "");
    });
    if (!problem.empty()) {
      fail("standby " + state::mask_dsn(replica->dsn) + ": " + problem);
      return;
    }
    result_.steps_done = static_cast<int>(changes().size());
    result_.outcome = Outcome::applied;
    result_.message = std::to_string(result_.steps_done) + " setting" + (result_.steps_done == 1 ? "" : "s") +
                      " written and reloaded on standby " + state::mask_dsn(replica->dsn);
  } catch (const std::exception& e) {
    fail("standby " + state::mask_dsn(replica->dsn) + ": " + one_line(e.what()));
  }
}

}  // namespace pgparity::reconciler
