#include "planner/doctor.hpp"

#include <gtest/gtest.h>

#include "tests/unit/planner/fixtures.hpp"

namespace pgparity::planner {
namespace {

using namespace testing;  // NOLINT: the fixtures' builders

using Ids = std::vector<std::string>;

std::vector<Finding> diagnose_state(const state::TargetState& observed, DiagnoseInput input = {}) {
  input.target = observed.target;
  input.observed = &observed;
  input.manifest_path = "m.yaml";
  return diagnose(input);
}

Ids ids(const std::vector<Finding>& findings) {
  Ids out;
  for (const auto& f : findings) out.push_back(f.id + " " + f.database + " " + f.subject);
  return out;
}

state::RunRecord run(const std::string& id, const std::string& status) {
  state::RunRecord r;
  r.run_id = id;
  r.status = status;
  r.started_at = "2026-11-24T10:00:00Z";
  return r;
}

TEST(Doctor, AHealthyTargetHasNoFindings) {
  const auto s = Server("staging").db(Db().installed("hstore", "1.8").available("hstore", {"1.4", "1.8"})).state();
  EXPECT_TRUE(diagnose_state(s).empty());
  EXPECT_EQ(render_findings_text("staging", {}), "pgparity doctor staging: healthy, nothing found\n");
}

TEST(Doctor, AnInstalledVersionTheServerNoLongerOffersIsAnErrorWithTheRecreateCommand) {
  const auto s = Server("staging").db(Db("orders").installed("hstore", "1.4").available("hstore", {"1.8"})).state();
  const auto findings = diagnose_state(s);
  ASSERT_EQ(ids(findings), Ids{"installed-version-unavailable orders hstore"});
  EXPECT_EQ(findings[0].severity, "error");
  EXPECT_EQ(findings[0].evidence,
            (Ids{"pg_extension: hstore 1.4 (schema public)", "pg_available_extension_versions for hstore: 1.8"}));
  EXPECT_EQ(findings[0].remedy.substr(0, findings[0].remedy.find("   #")),
            "pgparity recover -f m.yaml --target staging --database orders --extension hstore --mode recreate");
}

TEST(Doctor, AnUnmanagedExtensionThatCannotReachTheDefaultVersionIsAWarning) {
  const auto s = Server("staging").db(Db().installed("pg_trgm", "1.3").available("pg_trgm", {"1.3", "1.6"})).state();
  const auto findings = diagnose_state(s);
  ASSERT_EQ(ids(findings), Ids{"no-update-path-to-default app pg_trgm"});
  EXPECT_EQ(findings[0].severity, "warning");
}

TEST(Doctor, APreloadLibraryWithoutItsFileSaysTheNextRestartFailsAndHowToAvoidIt) {
  const auto s = Server("staging")
                     .setting("shared_preload_libraries", "pg_stat_statements,pg_cron", "", "string", "postmaster")
                     .library_file("pg_stat_statements", true)
                     .library_file("pg_cron", false)
                     .state();
  const auto findings = diagnose_state(s);
  ASSERT_EQ(ids(findings), Ids{"preload-library-missing  pg_cron"});
  EXPECT_NE(findings[0].message.find("the next restart will fail"), std::string::npos);
  EXPECT_EQ(findings[0].remedy,
            "reinstall the package that ships pg_cron.so, or before any restart: ALTER SYSTEM SET "
            "\"shared_preload_libraries\" = 'pg_stat_statements';");
}

TEST(Doctor, AnExtensionThatNeedsPreloadingIsReportedWhenItsLibraryIsNotLoaded) {
  const auto s = Server("staging")
                     .setting("shared_preload_libraries", "auto_explain", "", "string", "postmaster")
                     .db(Db().installed("pg_stat_statements", "1.10").available("pg_stat_statements", {"1.10"}))
                     .state();
  const auto findings = diagnose_state(s);
  ASSERT_EQ(ids(findings), Ids{"preload-not-loaded app pg_stat_statements"});
  EXPECT_EQ(findings[0].remedy.substr(0, findings[0].remedy.find(';') + 1),
            "ALTER SYSTEM SET \"shared_preload_libraries\" = 'auto_explain', 'pg_stat_statements';");
}

TEST(Doctor, AnUnfinishedRunIsAnErrorUnlessARunHoldsTheLockNow) {
  const auto s = Server("staging").db(Db("orders")).state();
  DiagnoseInput input;
  input.runs["orders"] = {run("r2", "running"), run("r1", "succeeded")};
  EXPECT_EQ(ids(diagnose_state(s, input)), Ids{"unfinished-run orders r2"});
  input.locked.insert("orders");
  EXPECT_TRUE(diagnose_state(s, input).empty()) << "a run in progress is not a finding";
}

TEST(Doctor, OnlyTheLatestFailedRunIsReported) {
  const auto s = Server("staging").db(Db("orders")).state();
  DiagnoseInput input;
  input.runs["orders"] = {run("r3", "succeeded"), run("r2", "failed")};
  EXPECT_TRUE(diagnose_state(s, input).empty());
  input.runs["orders"] = {run("r4", "failed"), run("r3", "succeeded")};
  input.runs["orders"][0].revision = "main@sha1:0123456789abcdef0123456789abcdef01234567";
  const auto findings = diagnose_state(s, input);
  EXPECT_EQ(ids(findings), Ids{"failed-run orders r4"});
  ASSERT_FALSE(findings.empty());
  EXPECT_NE(findings[0].evidence.at(0).find(" revision=main@sha1:0123456789abcdef0123456789abcdef01234567"),
            std::string::npos)
      << "the commit the failed run applied";
}

TEST(Doctor, ErrorsComeBeforeWarnings) {
  state::Setting pending;
  pending.name = "shared_buffers";
  pending.value = "16384";
  pending.unit = "8kB";
  pending.pending_restart = true;
  auto s = Server("staging").db(Db("orders").installed("hstore", "1.4").available("hstore", {"1.8"})).state();
  s.cluster.settings["shared_buffers"] = pending;
  EXPECT_EQ(ids(diagnose_state(s)),
            (Ids{"installed-version-unavailable orders hstore", "pending-restart  shared_buffers"}));
}

TEST(Doctor, IntegrityProblemsBecomeFindingsWithQuotedSqlRemedies) {
  auto s = Server("staging").db(Db("orders").installed("hstore", "1.8").available("hstore", {"1.8"})).state();
  s.databases[0].integrity = {
      {"missing-member", "hstore", "pg_proc 16500", "gone"},
      {"non-member-function", "hstore", "my_in(cstring)", "loads $libdir/hstore but is not a member"}};
  const auto findings = diagnose_state(s);
  ASSERT_EQ(ids(findings), (Ids{"missing-member orders hstore", "non-member-function orders hstore"}));
  EXPECT_EQ(findings[1].remedy.substr(0, findings[1].remedy.find(';') + 1),
            "ALTER EXTENSION \"hstore\" ADD FUNCTION my_in(cstring);");
}

TEST(Doctor, JsonCarriesEveryFieldOfEveryFinding) {
  const auto s = Server("staging").db(Db("orders").installed("hstore", "1.4").available("hstore", {"1.8"})).state();
  const std::string json = render_findings_json("staging", diagnose_state(s));
  EXPECT_NE(json.find("\"kind\": \"DoctorReport\""), std::string::npos);
  EXPECT_NE(json.find("\"healthy\": false"), std::string::npos);
  for (const char* key : {"id", "severity", "target", "database", "subject", "message", "evidence", "remedy"}) {
    EXPECT_NE(json.find("\"" + std::string(key) + "\":"), std::string::npos) << key;
  }
}

TEST(Planner, AForcedRecreateDropsAndCreatesEvenWhenAnUpdatePathExists) {
  const auto m = manifest("extensions:\n  - name: hstore\n    version: \"1.8\"\n");
  PlanInput input;
  input.manifest = &m;
  input.observed.emplace(
      "staging",
      Server("staging")
          .db(Db().installed("hstore", "1.4").available("hstore", {"1.4", "1.8"}).path("hstore", {"1.4", "1.8"}))
          .state());
  input.observed.emplace("production", Server("production").state());
  input.force_recreate = {"app/hstore"};
  const Plan plan = make_plan(input);
  const Step* s = nullptr;
  for (const auto& step : plan.steps) {
    if (step.kind == StepKind::recreate) s = &step;
  }
  ASSERT_NE(s, nullptr) << "policy.recreate is never, but the operator asked for it";
  EXPECT_EQ(s->sql,
            (Ids{"DROP EXTENSION \"hstore\" RESTRICT", "CREATE EXTENSION \"hstore\" SCHEMA \"public\" VERSION '1.8'"}));
  EXPECT_EQ(s->reason, "recreate requested (pgparity recover)");
}

}  // namespace
}  // namespace pgparity::planner
