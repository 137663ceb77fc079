#include "reconciler/executor.hpp"

#include <algorithm>
#include <condition_variable>
#include <exception>
#include <map>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>

namespace pgparity::reconciler {

std::string ExecUnit::name() const {
  if (barrier() || restart() || patroni()) return steps.front()->id;
  return target + (replica.empty() ? "" : "@" + replica) + (database.empty() ? "" : "/" + database);
}

std::vector<ExecUnit> units_of(const planner::Plan& plan) {
  std::vector<ExecUnit> units;
  std::map<std::string, std::size_t> by_scope;  // unit name -> index
  std::map<std::string, std::size_t> by_step;   // step id -> unit index
  auto scope_of = [](const planner::Step& s) {
    ExecUnit scope;
    scope.target = s.target;
    scope.database = s.database;
    scope.replica = s.replica;
    scope.steps = {&s};
    return scope;
  };
  // A scope whose change steps were all left out (reconcile backs a failing database off) has only
  // gates left: nothing to run.
  // Keys of their own for barriers and restarts: a database may be named like their ids ("barrier/2").
  auto key_of = [&](const planner::Step& s) {
    const bool alone = s.kind == planner::StepKind::barrier || s.kind == planner::StepKind::restart ||
                       s.kind == planner::StepKind::patroni;
    return alone ? std::string(planner::name_of(s.kind)) + "\n" + s.id : "scope\n" + scope_of(s).name();
  };
  std::set<std::string> changing;
  for (const auto& s : plan.steps) {
    if (!planner::is_gate(s.kind) || s.kind == planner::StepKind::barrier) changing.insert(key_of(s));
  }
  for (const auto& s : plan.steps) {
    ExecUnit scope = scope_of(s);
    const std::string key = key_of(s);
    if (!changing.contains(key)) continue;
    auto [it, fresh] = by_scope.emplace(key, units.size());
    if (fresh) {
      scope.index = units.size();
      units.push_back(std::move(scope));
    } else {
      units[it->second].steps.push_back(&s);
    }
    by_step.emplace(s.id, it->second);
  }
  for (auto& unit : units) {
    std::set<std::size_t> before;
    for (const auto* s : unit.steps) {
      for (const auto& id : s->after) {
        const auto other = by_step.find(id);
        if (other != by_step.end() && other->second != unit.index) before.insert(other->second);
      }
    }
    unit.after.assign(before.begin(), before.end());
  }
  return units;
}

namespace {

class Builder {
 public:
  Builder(const std::vector<ExecUnit>& units, Runner& runner, const ExecutorOptions& options)
      : units_(units), runner_(runner), options_(options), state_(units.size()), waiting_(units.size()) {
    dependents_.resize(units.size());
    for (const auto& u : units) {
      waiting_[u.index] = u.after.size();
      for (std::size_t p : u.after) dependents_[p].push_back(u.index);
    }
    for (const auto& u : units) {
      if (u.after.empty()) ready_.insert(u.index);
    }
  }

  void run() {
    const unsigned workers = std::max(1u, std::min<unsigned>(options_.parallel, static_cast<unsigned>(units_.size())));
    std::vector<std::thread> threads;
    for (unsigned i = 1; i < workers; ++i) threads.emplace_back([this] { work(); });
    work();
    for (auto& t : threads) t.join();
    if (error_) std::rethrow_exception(error_);
  }

 private:
  enum class State { pending, running, passed, failed, not_started };

  bool stopped() const { return options_.stop != nullptr && options_.stop->load(); }

  void work() {
    std::unique_lock lock(mutex_);
    while (true) {
      changed_.wait(lock, [this] { return !ready_.empty() || finished_ == units_.size() || running_ == 0; });
      if (ready_.empty()) {
        if (finished_ < units_.size() && running_ == 0 && !error_) {
          // Nothing runs, nothing is ready, and units are left: they wait for each other.
          error_ = std::make_exception_ptr(std::logic_error("the plan's units wait for each other (a cycle)"));
          finished_ = units_.size();
          changed_.notify_all();
        }
        return;
      }
      const std::size_t next = *ready_.begin();
      ready_.erase(ready_.begin());
      if (stopped()) {
        give_up(next, std::nullopt, lock);
        continue;
      }
      state_[next] = State::running;
      ++running_;
      lock.unlock();
      UnitOutcome outcome = UnitOutcome::failed;
      try {
        outcome = runner_.run(units_[next]);
      } catch (...) {
        lock.lock();
        if (!error_) error_ = std::current_exception();
        lock.unlock();
      }
      lock.lock();
      --running_;
      finish(next, outcome == UnitOutcome::passed ? State::passed : State::failed, next, lock);
    }
  }

  /// `unit` ended as `state`; its dependents learn it. `root` is the unit a failure comes from.
  void finish(std::size_t unit, State state, std::optional<std::size_t> root, std::unique_lock<std::mutex>& lock) {
    state_[unit] = state;
    ++finished_;
    for (std::size_t d : dependents_[unit]) {
      // A barrier decides after units that ran and failed (the standbys still verify what did change);
      // a unit that never started holds back everything after it.
      // A failed barrier holds back the next one too (a halt is a halt).
      const bool holds =
          state == State::not_started || (state == State::failed && (!units_[d].barrier() || units_[unit].barrier()));
      if (holds && !held_back_.contains(d)) held_back_[d] = root;
      if (--waiting_[d] > 0) continue;
      if (const auto held = held_back_.find(d); held != held_back_.end()) {
        give_up(d, held->second, lock);
      } else {
        ready_.insert(d);
      }
    }
    changed_.notify_all();
  }

  void give_up(std::size_t unit, std::optional<std::size_t> cause, std::unique_lock<std::mutex>& lock) {
    try {
      runner_.not_started(units_[unit], cause);
    } catch (...) {
      if (!error_) error_ = std::current_exception();
    }
    finish(unit, State::not_started, cause, lock);
  }

  const std::vector<ExecUnit>& units_;
  Runner& runner_;
  const ExecutorOptions& options_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<State> state_;
  std::vector<std::size_t> waiting_;  ///< predecessors not yet finished
  std::vector<std::vector<std::size_t>> dependents_;
  std::set<std::size_t> ready_;                                  ///< by plan order
  std::map<std::size_t, std::optional<std::size_t>> held_back_;  ///< unit -> the failure that holds it back
  std::size_t finished_ = 0;
  std::size_t running_ = 0;
  std::exception_ptr error_;
};

}  // namespace

void execute(const std::vector<ExecUnit>& units, Runner& runner, const ExecutorOptions& options) {
  if (units.empty()) return;
  Builder(units, runner, options).run();
}

}  // namespace pgparity::reconciler
