// Planning alone (no I/O) over a synthetic fleet: D databases x E extensions,
// each installed at 1.0 and wanted at 2.0 along a two-step path, so the plan
// has D*E update steps plus the gates of every database.
#include <benchmark/benchmark.h>

#include "desired/loader.hpp"
#include "planner/planner.hpp"
#include "planner/render.hpp"

namespace {

using namespace pgparity;

struct Fleet {
  desired::Manifest manifest;
  std::map<std::string, state::TargetState> observed;
};

Fleet make_fleet(int databases, int extensions) {
  std::string yaml =
      "apiVersion: pgparity/v1\ntargets:\n  staging:\n    dsn: \"\"\n    role: managed\n    databases: "
      "[\"*\"]\nextensions:\n";
  for (int e = 0; e < extensions; ++e) yaml += "  - name: ext" + std::to_string(e) + "\n    version: \"2.0\"\n";
  Fleet fleet;
  fleet.manifest = *desired::load_manifest_text(yaml, "bench.yaml").manifest;
  state::TargetState& t = fleet.observed["staging"];
  t.target = "staging";
  for (int e = 0; e < extensions; ++e) {
    const std::string name = "ext" + std::to_string(e);
    state::AvailableExtension& a = t.cluster.available[name];
    a.name = Identifier::from_catalog(name);
    for (const char* v : {"1.0", "1.5", "2.0"})
      a.versions.push_back({Version::from_catalog(v), {}, false, true, true, {}});
    a.default_version = Version::from_catalog("2.0");
    t.cluster.paths[name].push_back(
        {Version::from_catalog("1.0"),
         Version::from_catalog("2.0"),
         {Version::from_catalog("1.0"), Version::from_catalog("1.5"), Version::from_catalog("2.0")}});
  }
  for (int d = 0; d < databases; ++d) {
    state::DatabaseState db;
    db.name = "db" + std::to_string(d);
    for (int e = 0; e < extensions; ++e) {
      db.installed.push_back({Identifier::from_catalog("ext" + std::to_string(e)), Version::from_catalog("1.0"),
                              Identifier::from_catalog("public"), true});
    }
    t.databases.push_back(std::move(db));
  }
  return fleet;
}

void BM_Plan(benchmark::State& state) {
  const Fleet fleet = make_fleet(static_cast<int>(state.range(0)), static_cast<int>(state.range(1)));
  planner::PlanInput input;
  input.manifest = &fleet.manifest;
  input.observed = fleet.observed;
  std::size_t steps = 0;
  for (auto _ : state) {
    const planner::Plan plan = planner::make_plan(input);
    steps = plan.change_count();
    benchmark::DoNotOptimize(steps);
  }
  state.counters["update_steps"] = static_cast<double>(steps);
}
BENCHMARK(BM_Plan)->Args({100, 100})->Args({400, 25})->Args({10, 1000})->Unit(benchmark::kMillisecond);

void BM_PlanAndRenderJson(benchmark::State& state) {
  const Fleet fleet = make_fleet(100, 100);
  planner::PlanInput input;
  input.manifest = &fleet.manifest;
  input.observed = fleet.observed;
  for (auto _ : state) benchmark::DoNotOptimize(planner::render_json(planner::make_plan(input)));
}
BENCHMARK(BM_PlanAndRenderJson)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
