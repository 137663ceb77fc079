#include "reconciler/barrier.hpp"

#include <chrono>
#include <map>
#include <thread>

#include "core/error.hpp"
#include "reconciler/replica_wait.hpp"
#include "reconciler/verifier.hpp"
#include "state/connection.hpp"

namespace pgparity::reconciler {

namespace {

using Outcome = DatabaseResult::Outcome;

bool succeeded(const DatabaseResult* r) {
  return r != nullptr && (r->outcome == Outcome::applied || r->outcome == Outcome::unchanged);
}

/// After a wave's soak: a database of the wave observed again on a fresh read-only session and its
/// health queries run; "" when all hold, else "; " and the problems.
std::string health_after_soak(const desired::Manifest& manifest, const desired::Target& target,
                              const std::string& database, const std::vector<planner::Step>& steps) {
  try {
    auto session = state::connect(target.dsn, state::Access::read_only, "pgparity", database);
    return verify_database(*session, steps, manifest.policy.health);
  } catch (const std::exception& e) {
    return "; " + one_line(e.what());
  }
}

}  // namespace

BarrierOutcome pass_barrier(const desired::Manifest& manifest, const planner::Step& barrier,
                            const std::vector<BarrierMember>& members, const ApplyOptions& options,
                            std::mutex& output) {
  BarrierOutcome out;
  if (members.empty()) return out;  // its databases' changes were all left out: nothing to wait for
  const desired::Target& target = manifest.targets.at(barrier.target);
  for (const auto& m : members) {
    if (succeeded(m.result) || !out.problem.empty()) continue;
    out.problem = barrier.target + "/" + m.database + ": " +
                  (m.result == nullptr ? std::string("did not start") : m.result->message);
  }
  // What changed replays on the standbys, whatever else failed: a committed change is verified there.
  std::map<std::string, std::vector<planner::Step>> changed;
  for (const auto& m : members) {
    if (m.result != nullptr && m.result->outcome == Outcome::applied) {
      changed[barrier.target + "/" + m.database] = m.changes;
    }
  }
  for (auto& failure : wait_for_replicas(manifest, changed, options, output)) {
    if (out.problem.empty()) out.problem = failure.target + "/" + failure.database + ": " + failure.message;
    out.standby_failures.push_back(std::move(failure));
  }
  const auto& rollout = manifest.policy.rollout;
  if (!out.problem.empty() || !rollout || barrier.wave.empty()) return out;
  const auto stopped = [&] { return options.stop != nullptr && options.stop->load(); };
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(rollout->soak.ms());
  while (std::chrono::steady_clock::now() < until && !stopped()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  if (stopped()) {
    out.problem = "stopped by a signal during the soak";
    return out;
  }
  for (const auto& m : members) {
    if (m.result == nullptr || m.result->outcome != Outcome::applied) continue;
    const std::string unhealthy = health_after_soak(manifest, target, m.database, m.changes);
    if (unhealthy.empty()) continue;
    m.result->outcome = Outcome::failed;
    m.result->message = "applied, but after the soak:" + unhealthy.substr(1);
    out.problem = barrier.target + "/" + m.database + ": " + m.result->message;
    break;
  }
  return out;
}

}  // namespace pgparity::reconciler
