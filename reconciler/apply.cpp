#include "reconciler/apply.hpp"

#include <algorithm>
#include <map>
#include <mutex>
#include <ostream>
#include <set>

#include "core/error.hpp"
#include "reconciler/barrier.hpp"
#include "reconciler/executor.hpp"
#include "reconciler/patroni.hpp"
#include "reconciler/restart.hpp"
#include "reconciler/unit.hpp"
#include "state/connection.hpp"
#include "state/observe.hpp"

namespace pgparity::reconciler {

using planner::Step;
using Outcome = DatabaseResult::Outcome;

bool ApplyResult::failed() const {
  return !halted.empty() ||
         std::any_of(results.begin(), results.end(), [](const auto& r) { return r.outcome == Outcome::failed; });
}

bool ApplyResult::skipped() const {
  return std::any_of(results.begin(), results.end(), [](const auto& r) { return r.outcome == Outcome::skipped; });
}

bool ApplyResult::blocked() const {
  return std::any_of(results.begin(), results.end(), [](const auto& r) { return r.outcome == Outcome::blocked; });
}

std::string reference_identifier(const desired::Manifest& manifest) {
  const desired::Target* reference = manifest.reference();
  if (reference == nullptr) return "";
  try {
    auto session = state::connect(reference->dsn, state::Access::read_only, "pgparity", std::nullopt);
    return state::system_identifier(*session);
  } catch (const std::exception& e) {
    // The plan read the reference a moment ago; without its identity nothing can be checked against it.
    throw ConnectionError("cannot read the reference's system_identifier before changing anything", one_line(e.what()),
                          "check the reference's DSN; nothing changed");
  }
}

namespace {

bool succeeded(const DatabaseResult& r) { return r.outcome == Outcome::applied || r.outcome == Outcome::unchanged; }

/// The real runner: a unit changes its database (unit.hpp), a barrier waits for the standbys and
/// the soak (barrier.hpp). Each unit writes only its own slot of `results_`; the executor orders
/// a barrier after the units it reads.
class ApplyRunner final : public Runner {
 public:
  ApplyRunner(const desired::Manifest& manifest, const planner::Plan& plan, const std::vector<ExecUnit>& units,
              const ApplyOptions& options)
      : manifest_(manifest),
        plan_(plan),
        units_(units),
        options_(options),
        slots_(static_cast<std::ptrdiff_t>(std::min(std::max(1u, options.parallel), 1024u))),
        results_(units.size()),
        problems_(units.size()),
        ran_(units.size(), false) {}

  UnitOutcome run(const ExecUnit& unit) override {
    ApplyOptions with = options_;
    with.wave = unit.wave();
    if (unit.barrier()) return barrier(unit, with);
    if (unit.restart() || unit.patroni()) {
      DatabaseResult& r = results_[unit.index];
      const Step& step = *unit.steps.front();
      r = !unit.restart()                                    ? apply_patroni(manifest_, step, with, output_)
          : step.as<planner::ServerRestart>().member.empty() ? restart_server(manifest_, step, with, output_)
                                                             : restart_member(manifest_, step, with, output_);
      ran_[unit.index] = true;
      problems_[unit.index] = r.message;
      return succeeded(r) ? UnitOutcome::passed : UnitOutcome::failed;
    }
    announce(unit);
    std::vector<Step> steps;
    for (const Step* s : unit.steps) steps.push_back(*s);
    DatabaseResult& r = results_[unit.index];
    r = Unit(manifest_, manifest_.targets.at(unit.target), scope(unit), std::move(steps), with, output_, &slots_).run();
    ran_[unit.index] = true;
    problems_[unit.index] = r.message;
    return succeeded(r) ? UnitOutcome::passed : UnitOutcome::failed;
  }

  void not_started(const ExecUnit& unit, std::optional<std::size_t> cause) override {
    DatabaseResult& r = results_[unit.index];
    r.target = unit.target;
    r.database = scope(unit);
    r.outcome = Outcome::skipped;
    r.message = cause ? "not started: " + units_[*cause].name() + " did not succeed (" + problems_[*cause] +
                            "); nothing changed"
                      : "stopped by a signal before it started; nothing changed";
    problems_[unit.index] = r.message;
  }

  /// The results in plan order (settings, then databases wave by wave), then the standbys' failures;
  /// a halted rollout's untouched databases are in its RolloutHalt instead.
  ApplyResult collect() {
    ApplyResult out;
    // A rollout that never reached its barrier (its settings failed, a signal came) halted all the same.
    for (const auto& unit : units_) {
      if (unit.barrier() || ran_[unit.index] || unit.wave().empty() || halted_.contains(unit.target)) continue;
      RolloutHalt halt{unit.target, "(before " + unit.wave() + ")", problems_[unit.index], {}};
      for (const auto& other : units_) {
        if (other.target == unit.target && !other.barrier() && !ran_[other.index] && !other.wave().empty()) {
          halt.untouched.push_back(other.database);
        }
      }
      halted_.insert(unit.target);
      halts_.push_back(std::move(halt));
    }
    for (const auto& unit : units_) {
      if (unit.barrier()) continue;
      const bool untouched = !ran_[unit.index] && !unit.wave().empty() && halted_.contains(unit.target);
      if (!untouched) out.results.push_back(std::move(results_[unit.index]));
    }
    for (auto& f : standby_failures_) out.results.push_back(std::move(f));
    out.halted = std::move(halts_);
    return out;
  }

 private:
  static std::string scope(const ExecUnit& unit) { return unit.replica.empty() ? unit.database : "@" + unit.replica; }

  /// "staging: rollout canary: 1 database", once per wave, when its first database starts.
  void announce(const ExecUnit& unit) {
    if (unit.wave().empty() || options_.progress == nullptr) return;
    std::lock_guard lock(output_);
    if (!announced_.insert(unit.target + "\n" + unit.wave()).second) return;
    for (const auto& w : plan_.waves) {
      if (w.target != unit.target || w.name != unit.wave()) continue;
      *options_.progress << w.target << ": rollout " << w.name << ": " << w.databases.size() << " database"
                         << (w.databases.size() == 1 ? "" : "s") << std::endl;
    }
  }

  UnitOutcome barrier(const ExecUnit& unit, const ApplyOptions& with) {
    const Step& step = *unit.steps.front();
    std::vector<BarrierMember> members;
    for (std::size_t p : unit.after) {
      const ExecUnit& member = units_[p];
      if (member.barrier()) continue;  // the previous wave's end, not a database of this one
      BarrierMember m{member.database, {}, ran_[p] ? &results_[p] : nullptr};
      for (const Step* s : member.steps) {
        if (!planner::is_gate(s->kind)) m.changes.push_back(*s);
      }
      members.push_back(std::move(m));
    }
    BarrierOutcome outcome = pass_barrier(manifest_, step, members, with, output_);
    std::lock_guard lock(output_);
    for (auto& f : outcome.standby_failures) standby_failures_.push_back(std::move(f));
    problems_[unit.index] = outcome.problem;
    if (outcome.problem.empty()) return UnitOutcome::passed;
    const auto& rollout = manifest_.policy.rollout;
    if (!rollout || step.wave.empty()) return UnitOutcome::failed;  // nothing depends on it: reported above
    if (!rollout->halt_on_failure) return UnitOutcome::passed;      // the next wave goes on
    RolloutHalt halt{unit.target, step.wave, outcome.problem, {}};
    bool later = false;
    for (const auto& w : plan_.waves) {
      if (w.target != unit.target) continue;
      if (later) halt.untouched.insert(halt.untouched.end(), w.databases.begin(), w.databases.end());
      later = later || w.name == step.wave;
    }
    if (options_.progress != nullptr) {
      *options_.progress << unit.target << ": rollout halted after " << step.wave << " (" << outcome.problem << "); "
                         << halt.untouched.size() << " database" << (halt.untouched.size() == 1 ? "" : "s")
                         << " left untouched" << std::endl;
    }
    halted_.insert(unit.target);
    halts_.push_back(std::move(halt));
    return UnitOutcome::failed;
  }

  const desired::Manifest& manifest_;
  const planner::Plan& plan_;
  const std::vector<ExecUnit>& units_;
  const ApplyOptions& options_;
  std::mutex output_;
  ChangeSlots slots_;
  std::vector<DatabaseResult> results_;
  std::vector<std::string> problems_;  ///< why a unit did not succeed, for the units it holds back
  std::vector<char> ran_;              ///< not vector<bool>: each worker writes its own element
  std::set<std::string> announced_;
  std::vector<DatabaseResult> standby_failures_;
  std::vector<RolloutHalt> halts_;
  std::set<std::string> halted_;
};

}  // namespace

ApplyResult apply_plan(const desired::Manifest& manifest, const planner::Plan& plan, const ApplyOptions& requested) {
  for (const auto& s : plan.steps) {
    const auto target = manifest.targets.find(s.target);
    if (target == manifest.targets.end() || target->second.role != desired::Role::managed) {
      throw InputError("the plan has a step for '" + s.target + "', which is not a managed target of the manifest");
    }
  }
  ApplyOptions options = requested;
  const std::vector<ExecUnit> units = units_of(plan);
  if (units.empty()) return {};
  options.reference_identifier = reference_identifier(manifest);
  ApplyRunner runner(manifest, plan, units, options);
  // Up to drain_parallel units run at once (waiting for quiet costs a connection); at most
  // `parallel` of them change at once (the change slots).
  const unsigned parallel = std::max(1u, options.parallel);
  execute(units, runner, {std::max(parallel, options.drain_parallel), options.stop});
  return runner.collect();
}

}  // namespace pgparity::reconciler
