#pragma once

#include <atomic>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "planner/plan.hpp"

namespace pgparity::reconciler {

/// One node the executor runs: the steps that share a session, in the plan's
/// order: a database's transaction (pre-flight … verify), a server's settings,
/// a standby's settings, or a barrier.
struct ExecUnit {
  std::size_t index = 0;  ///< its position in units_of's result
  std::string target;
  std::string database;  ///< "" for settings and barriers
  std::string replica;   ///< "replica-N" for a standby's settings
  std::vector<const planner::Step*> steps;
  std::vector<std::size_t> after;  ///< units that must finish first (from the steps' `after` edges)
  bool barrier() const { return steps.size() == 1 && steps.front()->kind == planner::StepKind::barrier; }
  /// A restart step: a unit of its own, like a barrier, but never run after a failed predecessor.
  bool restart() const { return steps.size() == 1 && steps.front()->kind == planner::StepKind::restart; }
  /// A PATCH /config of the target's Patroni: a unit of its own.
  bool patroni() const { return steps.size() == 1 && steps.front()->kind == planner::StepKind::patroni; }
  std::string wave() const { return steps.empty() ? "" : steps.front()->wave; }
  /// "staging/orders", "staging", "staging@replica-1", or a barrier's step id.
  std::string name() const;
};

/// The plan's units, in plan order, with the edges between them. A step's
/// `after` naming a step of another unit makes that unit a predecessor; the
/// executor reads order from nothing else. A scope left with gates only (its
/// changes were taken out) is no unit. The plan must outlive the units.
std::vector<ExecUnit> units_of(const planner::Plan& plan);

enum class UnitOutcome { passed, failed };

/// Runs units; the real one changes databases, the rehearsal one rolls back,
/// tests' fake one records. Called from worker threads, once per unit; a
/// unit's predecessors have finished (with their effects visible) before it starts.
class Runner {
 public:
  virtual ~Runner() = default;
  virtual UnitOutcome run(const ExecUnit& unit) = 0;
  /// A unit that will not start: `cause` is the unit whose failure held it
  /// back (the first one that failed on its way), nullopt after a stop signal.
  /// Called before any of its dependents is decided.
  virtual void not_started(const ExecUnit& unit, std::optional<std::size_t> cause) = 0;
};

struct ExecutorOptions {
  unsigned parallel = 1;                    ///< units running at once (at least one)
  const std::atomic<bool>* stop = nullptr;  ///< once set, no unit starts
};

/// A ninja-style builder over the units' graph: every unit whose
/// predecessors all passed is ready; ready units start in plan order, up to
/// `parallel` at once. The dependents of a unit that failed (or did not start)
/// never start, which is what halts a rollout, except that a barrier runs
/// after predecessors that ran and failed, and decides itself (it still has
/// the standbys verify what did change).
/// After a stop signal nothing more starts. Returns when every unit has run or
/// been reported not started. A runner's exception is rethrown at the end.
void execute(const std::vector<ExecUnit>& units, Runner& runner, const ExecutorOptions& options);

}  // namespace pgparity::reconciler
