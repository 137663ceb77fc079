#include "reconciler/executor.hpp"

#include "reconciler/backoff.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <set>

#include "tests/unit/planner/fixtures.hpp"

namespace pgparity::reconciler {
namespace {

using namespace planner::testing;  // NOLINT: the planner fixtures' builders
using Events = std::vector<std::string>;

/// Records when each unit starts and ends; fails the units named in `failing`. A barrier fails
/// when one of the units it ends did not pass, as the real one does.
class FakeRunner final : public Runner {
 public:
  explicit FakeRunner(const std::vector<ExecUnit>& units, std::set<std::string> failing = {})
      : units_(units), failing_(std::move(failing)), passed_(units.size(), 0) {}

  UnitOutcome run(const ExecUnit& unit) override {
    record("start " + unit.name());
    if (on_start) on_start(unit);
    bool ok = !failing_.contains(unit.name());
    if (unit.barrier()) {
      for (std::size_t p : unit.after) ok = ok && passed_[p];
    }
    passed_[unit.index] = ok;
    record("end " + unit.name());
    return ok ? UnitOutcome::passed : UnitOutcome::failed;
  }
  void not_started(const ExecUnit& unit, std::optional<std::size_t> cause) override {
    record("not started " + unit.name() + (cause ? " because of " + units_[*cause].name() : " (stop)"));
  }

  Events events() {
    std::lock_guard lock(mutex_);
    return events_;
  }
  /// The position of `event`, or -1.
  long at(const std::string& event) {
    const Events all = events();
    const auto it = std::find(all.begin(), all.end(), event);
    return it == all.end() ? -1 : static_cast<long>(it - all.begin());
  }
  std::function<void(const ExecUnit&)> on_start;

 private:
  void record(const std::string& event) {
    std::lock_guard lock(mutex_);
    events_.push_back(event);
  }
  const std::vector<ExecUnit>& units_;
  std::set<std::string> failing_;
  std::vector<char> passed_;
  std::mutex mutex_;
  Events events_;
};

const auto extension = "extensions:\n  - name: hstore\n    version: \"1.8\"\n";

Server fleet(int databases) {
  Server s("staging");
  for (int i = 1; i <= databases; ++i) s.db(Db("app_" + std::to_string(i)).available("hstore", {"1.4", "1.8"}));
  return s;
}

TEST(Executor, ServerSettingsRunBeforeAnyDatabaseStarts) {
  const auto m = manifest(std::string(extension) + "settings:\n  values:\n    work_mem: 8MB\n");
  const planner::Plan plan = plan_for(m, fleet(3).setting("work_mem", "4096", "kB"));
  ASSERT_TRUE(plan.blockers.empty()) << plan.blockers.front().message;
  const auto units = units_of(plan);
  ASSERT_EQ(units.size(), 4u);
  FakeRunner runner(units);
  execute(units, runner, {4, nullptr});
  const long settings_end = runner.at("end staging");
  ASSERT_GE(settings_end, 0);
  for (const char* db : {"staging/app_1", "staging/app_2", "staging/app_3"}) {
    EXPECT_GT(runner.at(std::string("start ") + db), settings_end) << db;
  }
}

TEST(Executor, AStandbysSettingsStartOnlyAfterItsPrimarysPassed) {
  const auto m = manifest("settings:\n  values:\n    work_mem: 8MB\n");
  Server standby("staging");
  standby.setting("work_mem", "4096", "kB");
  const planner::Plan plan =
      plan_for(m, Server("staging").setting("work_mem", "4096", "kB").db(Db()).replica(standby, "host=standby1"));
  const auto units = units_of(plan);
  FakeRunner runner(units);
  execute(units, runner, {4, nullptr});
  ASSERT_GE(runner.at("end staging"), 0);
  EXPECT_GT(runner.at("start staging@replica-1"), runner.at("end staging"));

  FakeRunner failing(units, {"staging"});
  execute(units, failing, {4, nullptr});
  EXPECT_EQ(failing.at("start staging@replica-1"), -1) << "a standby never gets settings its primary did not take";
  EXPECT_GE(failing.at("not started staging@replica-1 because of staging"), 0);
}

TEST(Executor, NothingStartsAfterAFailedWaveWhichIsTheRolloutHalt) {
  const auto m =
      manifest(std::string(extension) + "policy:\n  rollout:\n    canary: 1\n    waves: [\"50%\", \"100%\"]\n");
  const planner::Plan plan = plan_for(m, fleet(4));
  const auto units = units_of(plan);
  FakeRunner runner(units, {"staging/app_1"});
  execute(units, runner, {4, nullptr});
  EXPECT_GE(runner.at("start staging/barrier/1"), 0) << "the barrier decides once the canary finished";
  for (const char* db : {"staging/app_2", "staging/app_3", "staging/app_4"}) {
    EXPECT_EQ(runner.at(std::string("start ") + db), -1) << db;
    EXPECT_GE(runner.at(std::string("not started ") + db + " because of staging/barrier/1"), 0) << db;
  }

  FakeRunner healthy(units);
  execute(units, healthy, {4, nullptr});
  EXPECT_GT(healthy.at("start staging/app_2"), healthy.at("end staging/barrier/1"));
  EXPECT_GT(healthy.at("start staging/app_4"), healthy.at("end staging/barrier/2"));
}

/// A plan that writes shared_preload_libraries, restarts (allowed, with a command) and then creates
/// pg_stat_statements in each of `databases`.
planner::Plan preload_plan(const std::vector<std::string>& databases) {
  auto m = manifest(
      "extensions:\n  - name: pg_stat_statements\n    version: default\n    preload: true\npolicy:\n"
      "  manage_preload: true\n  restart:\n    allowed: true\n");
  m.targets.at("staging").restart_command = {"/bin/true"};
  Server server("staging");
  server.setting("shared_preload_libraries", "", "", "string", "postmaster").library_file("pg_stat_statements", true);
  for (const auto& db : databases) server.db(Db(db).available("pg_stat_statements", {"1.10"}));
  return plan_for(m, server);
}

TEST(Executor, ARestartRunsAloneBetweenTheSettingsAndTheDatabasesAndAFailedOneHoldsThemBack) {
  const planner::Plan plan = preload_plan({"app_1", "app_2"});
  const auto units = units_of(plan);
  ASSERT_EQ(units.size(), 4u);
  EXPECT_TRUE(units[1].restart()) << units[1].name();
  EXPECT_EQ(units[1].name(), "staging/restart");
  FakeRunner runner(units);
  execute(units, runner, {4, nullptr});
  EXPECT_GT(runner.at("start staging/restart"), runner.at("end staging"));
  for (const char* db : {"staging/app_1", "staging/app_2"}) {
    EXPECT_GT(runner.at(std::string("start ") + db), runner.at("end staging/restart")) << db;
  }
  FakeRunner failing(units, {"staging/restart"});
  execute(units, failing, {4, nullptr});
  EXPECT_GE(failing.at("not started staging/app_1 because of staging/restart"), 0);
  EXPECT_GE(failing.at("not started staging/app_2 because of staging/restart"), 0);
}

TEST(Backoff, AFailedRestartIsBackedOffUnderItsOwnKeyAndHoldsItsTargetsDatabasesBackMeanwhile) {
  const planner::Plan plan = preload_plan({"app_1"});
  const planner::Step* restart = nullptr;
  for (const auto& s : plan.steps) {
    if (s.kind == planner::StepKind::restart) restart = &s;
  }
  ASSERT_NE(restart, nullptr);
  EXPECT_EQ(backoff_scope(*restart), "staging/@restart") << "the key reconcile files a failed restart under";
  const planner::Plan waiting = without_scopes(plan, {"staging/@restart"});
  for (const auto& s : waiting.steps) {
    EXPECT_TRUE(planner::is_gate(s.kind)) << s.id << " would run while the restart waits";
  }
}

TEST(Executor, ADatabaseWhoseChangesWereLeftOutIsNoUnitAndTheWavesStillEndInOrder) {
  const auto m =
      manifest(std::string(extension) + "policy:\n  rollout:\n    canary: 1\n    waves: [\"50%\", \"100%\"]\n");
  planner::Plan plan = plan_for(m, fleet(4));
  // reconcile backs app_2 (the whole of wave 1) off: its gates stay, its change goes.
  std::erase_if(plan.steps, [](const planner::Step& s) { return s.database == "app_2" && !planner::is_gate(s.kind); });
  const auto units = units_of(plan);
  for (const auto& u : units) EXPECT_NE(u.database, "app_2") << "gates alone are no unit";
  FakeRunner runner(units, {"staging/app_1"});
  execute(units, runner, {4, nullptr});
  EXPECT_EQ(runner.at("start staging/barrier/2"), -1) << "a failed barrier holds back the next one";
  EXPECT_EQ(runner.at("start staging/app_3"), -1);
  FakeRunner healthy(units);
  execute(units, healthy, {4, nullptr});
  EXPECT_GT(healthy.at("start staging/app_3"), healthy.at("end staging/barrier/2"));
  EXPECT_GT(healthy.at("start staging/barrier/2"), healthy.at("end staging/barrier/1"));
}

TEST(Executor, ADatabaseNamedLikeABarrierIsAUnitOfItsOwn) {
  const auto m = manifest(std::string(extension) + "policy:\n  rollout:\n    canary: 1\n    waves: [\"100%\"]\n");
  Server s("staging");
  for (const char* db : {"app_1", "barrier/1"}) s.db(Db(db).available("hstore", {"1.4", "1.8"}));
  const planner::Plan plan = plan_for(m, s);  // outlives its units
  const auto units = units_of(plan);
  ASSERT_EQ(units.size(), 4u) << "two databases, two barriers";
  FakeRunner runner(units);
  execute(units, runner, {2, nullptr});
  EXPECT_GT(runner.at("start staging/barrier/1"), runner.at("end staging/app_1"));
}

TEST(Executor, UnitsThatWaitForEachOtherAreRefusedNotWaitedForForever) {
  planner::Plan plan = plan_for(manifest(extension), fleet(2));
  for (auto& s : plan.steps) {
    if (s.id == "staging/app_1/preflight") s.after.push_back("staging/app_2/verify");
    if (s.id == "staging/app_2/preflight") s.after.push_back("staging/app_1/verify");
  }
  const auto units = units_of(plan);
  FakeRunner runner(units);
  EXPECT_THROW(execute(units, runner, {2, nullptr}), std::logic_error);
  EXPECT_TRUE(runner.events().empty());
}

TEST(Backoff, ABackedOffCanaryKeepsTheLaterWavesWaitingSoAHaltedRolloutStaysHalted) {
  const auto m = manifest(std::string(extension) +
                          "settings:\n  values:\n    work_mem: 8MB\n"
                          "policy:\n  rollout:\n    canary: 1\n    waves: [\"50%\", \"100%\"]\n");
  const planner::Plan plan = plan_for(m, fleet(4).setting("work_mem", "4096", "kB"));
  const planner::Plan held = without_scopes(plan, {"staging/app_1"});
  const auto units = units_of(held);
  std::set<std::string> names;
  for (const auto& u : units) names.insert(u.name());
  EXPECT_TRUE(names.contains("staging")) << "the settings do not depend on the canary";
  for (const char* db : {"staging/app_1", "staging/app_2", "staging/app_3", "staging/app_4"}) {
    EXPECT_FALSE(names.contains(db)) << db;
  }
  const planner::Plan middle = without_scopes(plan, {"staging/app_2"});
  names.clear();
  for (const auto& u : units_of(middle)) names.insert(u.name());
  EXPECT_TRUE(names.contains("staging/app_1")) << "an earlier wave goes on";
  EXPECT_FALSE(names.contains("staging/app_3") || names.contains("staging/app_4"));
  const planner::Plan settings = without_scopes(plan, {"staging/"});
  for (const auto& u : units_of(settings)) {
    EXPECT_TRUE(u.barrier()) << u.name() << ": databases wait for the settings they may rely on";
  }
}

TEST(Executor, AStopSignalEndsTheRunBetweenUnits) {
  const auto m = manifest(extension);
  const planner::Plan plan = plan_for(m, fleet(4));
  const auto units = units_of(plan);
  std::atomic<bool> stop{false};
  FakeRunner runner(units);
  runner.on_start = [&](const ExecUnit&) { stop = true; };
  execute(units, runner, {1, &stop});
  EXPECT_EQ(runner.events(), (Events{"start staging/app_1", "end staging/app_1", "not started staging/app_2 (stop)",
                                     "not started staging/app_3 (stop)", "not started staging/app_4 (stop)"}));
}

TEST(Executor, TheOrderComesOnlyFromTheGraph) {
  const auto m = manifest(std::string(extension) + "settings:\n  values:\n    work_mem: 8MB\n");
  planner::Plan plan = plan_for(m, fleet(1).setting("work_mem", "4096", "kB"));
  {
    const auto units = units_of(plan);
    FakeRunner runner(units);
    execute(units, runner, {1, nullptr});
    EXPECT_EQ(runner.events(), (Events{"start staging", "end staging", "start staging/app_1", "end staging/app_1"}));
  }
  // Reversed: the database's verify before the settings' pre-flight, and no edge the other way.
  for (auto& s : plan.steps) {
    if (s.id == "staging/app_1/preflight") s.after.clear();
    if (s.id == "staging/preflight") s.after.push_back("staging/app_1/verify");
  }
  const auto units = units_of(plan);
  FakeRunner runner(units);
  execute(units, runner, {1, nullptr});
  EXPECT_EQ(runner.events(), (Events{"start staging/app_1", "end staging/app_1", "start staging", "end staging"}));
}

TEST(Executor, ARunnersExceptionFailsItsUnitAndIsRethrownOnceEverythingElseFinished) {
  const planner::Plan plan = plan_for(manifest(extension), fleet(2));
  const auto units = units_of(plan);
  struct Throwing final : Runner {
    std::atomic<int> ran{0};
    UnitOutcome run(const ExecUnit& unit) override {
      ++ran;
      if (unit.database == "app_1") throw std::runtime_error("boom");
      return UnitOutcome::passed;
    }
    void not_started(const ExecUnit&, std::optional<std::size_t>) override {}
  } runner;
  EXPECT_THROW(execute(units, runner, {1, nullptr}), std::runtime_error);
  EXPECT_EQ(runner.ran.load(), 2) << "the other database still ran";
}

}  // namespace
}  // namespace pgparity::reconciler
