#include "reconciler/server_step.hpp"

#include <ostream>

#include "core/error.hpp"
#include "reconciler/journal.hpp"
#include "state/connection.hpp"

namespace pgparity::reconciler {

ServerStep::ServerStep(const desired::Manifest& manifest, const planner::Step& step, const ApplyOptions& options,
                       std::mutex& output, const std::string& scope)
    : manifest_(manifest), step_(step), options_(options), output_(output), scope_(scope) {
  result_.target = step.target;
  result_.database = "@" + scope;
}

void ServerStep::say(const std::string& line) {
  if (options_.progress == nullptr) return;
  std::lock_guard lock(output_);
  *options_.progress << step_.target << ": " << line << std::endl;
}

std::string ServerStep::journal_start() {
  try {
    auto session =
        state::connect(manifest_.targets.at(step_.target).dsn, state::Access::read_write, "pgparity " + scope_);
    Journal journal(*session, manifest_.policy.state_schema.str());
    journal.ensure();
    result_.run_id = new_run_id();
    journal.start({result_.run_id, step_.target, result_.database, options_.plan_digest, options_.manifest_digest,
                   options_.wave, options_.revision});
    journaled_ = true;
    return "";
  } catch (const std::exception& e) {
    return "the journal could not be written (" + one_line(e.what()) + ")";
  }
}

void ServerStep::journal_finish(state::RunStatus status, int steps_done, const std::string& error) {
  if (!journaled_) return;
  try {
    auto session =
        state::connect(manifest_.targets.at(step_.target).dsn, state::Access::read_write, "pgparity " + scope_);
    Journal(*session, manifest_.policy.state_schema.str()).finish(result_.run_id, status, steps_done, error);
  } catch (const std::exception& e) {
    result_.message += "; the journal could not be written (" + one_line(e.what()) + ")";
  }
}

DatabaseResult ServerStep::fail(const std::string& message, const std::string& told) {
  result_.outcome = DatabaseResult::Outcome::failed;
  result_.message = message;
  journal_finish(state::RunStatus::failed, 0, message);
  say(told + result_.message);
  return result_;
}

DatabaseResult ServerStep::pass(long long ms, const std::string& message) {
  result_.steps_done = 1;
  result_.steps.push_back({step_.id, planner::name_of(step_.kind), "", "", ms});
  result_.outcome = DatabaseResult::Outcome::applied;
  result_.message = message;
  journal_finish(state::RunStatus::succeeded, 1, "");
  return result_;
}

}  // namespace pgparity::reconciler
