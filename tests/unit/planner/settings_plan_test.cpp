#include "planner/planner.hpp"

#include <gtest/gtest.h>

#include "planner/plan_file.hpp"
#include "planner/render.hpp"
#include "tests/unit/planner/fixtures.hpp"

namespace pgparity::planner {
namespace {

using namespace testing;  // NOLINT: the fixtures' builders

using Ids = std::vector<std::string>;

TEST(Planner, SetsADifferingValueWithAlterSystemAndReload) {
  const auto m = manifest("settings:\n  values:\n    work_mem: 8MB\n    lock_timeout: \"30s\"\n");
  const Plan plan =
      plan_for(m, Server("staging").setting("work_mem", "4096", "kB").setting("lock_timeout", "30000", "ms"));
  ASSERT_EQ(changes(plan), Ids{"staging/set/work_mem"});
  const Step* s = step(plan, "staging/set/work_mem");
  EXPECT_EQ(s->sql, (Ids{"ALTER SYSTEM SET \"work_mem\" = '8MB'"}));
  EXPECT_EQ(s->as<SettingChange>().current, "4MB") << "shown in human units, never value and unit glued together";
  EXPECT_EQ(step(plan, "staging/verify")->sql, Ids{"SELECT pg_catalog.pg_reload_conf()"}) << "one reload for all";
  EXPECT_FALSE(s->as<SettingChange>().restart_required);
}

TEST(Planner, AListSettingIsWrittenOneLiteralPerElementWhicheverFormTheManifestUses) {
  for (const std::string form : {"'\"$user\", public, extra'", "[\"$user\", public, extra]"}) {
    const auto m = manifest("settings:\n  values:\n    search_path: " + form + "\n");
    const Plan plan = plan_for(m, Server("staging").setting("search_path", "\"$user\", public", "", "string"));
    const Step* s = step(plan, "staging/set/search_path");
    ASSERT_NE(s, nullptr) << form;
    EXPECT_EQ(s->sql, Ids{"ALTER SYSTEM SET \"search_path\" = '$user', 'public', 'extra'"}) << form;
    EXPECT_EQ(s->as<SettingChange>().value, "\"$user\", public, extra");
    const Plan same = plan_for(m, Server("staging").setting("search_path", "\"$user\", public, extra", "", "string"));
    EXPECT_TRUE(same.steps.empty() && same.blockers.empty()) << "compared element by element";
  }
}

TEST(Planner, SettingsAlreadyRunningInOtherUnitsPlanNothing) {
  const auto m = manifest("settings:\n  values:\n    shared_buffers: 128MB\n    work_mem: 4MB\n");
  const Plan plan = plan_for(m, Server("staging")
                                    .setting("shared_buffers", "16384", "8kB", "integer", "postmaster")
                                    .setting("work_mem", "4096", "kB"));
  EXPECT_TRUE(plan.steps.empty());
  EXPECT_TRUE(plan.blockers.empty()) << "already running, not blocked";
  EXPECT_TRUE(plan.pending_restarts.empty());
}

TEST(Planner, ARestartOnlySettingAlreadyWrittenIsAPendingRestartNotAStep) {
  const auto m = manifest("settings:\n  values:\n    max_connections: \"150\"\n");
  const Plan plan = plan_for(m, Server("staging")
                                    .setting("max_connections", "100", "", "integer", "postmaster")
                                    .auto_conf("max_connections", "150"));
  EXPECT_TRUE(plan.steps.empty());
  EXPECT_TRUE(plan.blockers.empty());
  ASSERT_EQ(plan.pending_restarts.size(), 1u);
  EXPECT_EQ(plan.pending_restarts[0].setting, "max_connections");
  EXPECT_EQ(plan.pending_restarts[0].running, "100");
  EXPECT_NE(render_text(plan, false).find("pending restart: staging max_connections = 150"), std::string::npos);
  EXPECT_NE(render_json(plan).find("\"pendingRestarts\""), std::string::npos);
  EXPECT_NE(render_markdown(plan).find("**pending restart**"), std::string::npos);
}

TEST(Planner, AnotherValueWaitingForTheNextRestartIsOverwrittenWithTheWantedOne) {
  const auto m = manifest("settings:\n  values:\n    max_connections: \"100\"\n");
  const Plan plan = plan_for(m, Server("staging")
                                    .setting("max_connections", "100", "", "integer", "postmaster")
                                    .auto_conf("max_connections", "300"));
  const Step* s = step(plan, "staging/set/max_connections");
  ASSERT_NE(s, nullptr) << "after the next restart the server would run 300";
  EXPECT_EQ(s->sql, Ids{"ALTER SYSTEM SET \"max_connections\" = '100'"});
}

TEST(Planner, AValueOutOfTheSettingsRangeIsABlockerWithTheAllowedRange) {
  const auto m = manifest("settings:\n  values:\n    work_mem: 4TB\n");
  const Plan plan =
      plan_for(m, Server("staging").setting("work_mem", "4096", "kB").range("work_mem", "64", "2147483647"));
  EXPECT_EQ(blocker_codes(plan), Ids{"setting-invalid-value"});
  EXPECT_NE(plan.blockers[0].message.find("out of range (allowed 64kB … "), std::string::npos)
      << plan.blockers[0].message;
}

TEST(Planner, ASettingTheRoleMayNotAlterIsABlockerNamingTheGrant) {
  const auto m = manifest("settings:\n  values:\n    shared_buffers: 256MB\n");
  const Plan plan = plan_for(
      m, Server("staging").setting("shared_buffers", "16384", "8kB", "integer", "postmaster").denied("shared_buffers"));
  EXPECT_EQ(blocker_codes(plan), Ids{"setting-privilege"});
  EXPECT_NE(plan.blockers[0].hint.find("GRANT ALTER SYSTEM ON PARAMETER \"shared_buffers\""), std::string::npos);
}

TEST(Planner, AWriteCarriesTheSqlThatPutsPostgresqlAutoConfBack) {
  const auto m = manifest("settings:\n  values:\n    work_mem: 8MB\n    lock_timeout: 5s\n");
  const Plan plan = plan_for(m, Server("staging")
                                    .setting("work_mem", "4096", "kB")
                                    .setting("lock_timeout", "0", "ms")
                                    .auto_conf("work_mem", "4MB"));
  EXPECT_EQ(step(plan, "staging/set/work_mem")->as<SettingChange>().undo_sql,
            Ids{"ALTER SYSTEM SET \"work_mem\" = '4MB'"});
  EXPECT_EQ(step(plan, "staging/set/lock_timeout")->as<SettingChange>().undo_sql,
            Ids{"ALTER SYSTEM RESET \"lock_timeout\""})
      << "no entry before: RESET";
}

TEST(Planner, ManagedPreloadAppendsWhatIsMissingAndNeverWritesALibraryWithoutItsFile) {
  const auto m = manifest("settings:\n  preload: [pg_stat_statements]\npolicy:\n  manage_preload: true\n");
  const Plan plan = plan_for(m, Server("staging")
                                    .setting("shared_preload_libraries", "auto_explain", "", "string", "postmaster")
                                    .library_file("pg_stat_statements", true));
  const Step* s = step(plan, "staging/set/shared_preload_libraries");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->sql, Ids{"ALTER SYSTEM SET \"shared_preload_libraries\" = 'auto_explain', 'pg_stat_statements'"});
  EXPECT_TRUE(s->as<SettingChange>().restart_required);
  const Plan missing = plan_for(m, Server("staging")
                                       .setting("shared_preload_libraries", "auto_explain", "", "string", "postmaster")
                                       .library_file("pg_stat_statements", false));
  EXPECT_EQ(blocker_codes(missing), Ids{"library-file-missing"});
  EXPECT_TRUE(missing.steps.empty());
}

TEST(Planner, APostmasterSettingSaysARestartIsRequired) {
  const auto m = manifest("settings:\n  values:\n    shared_buffers: 256MB\n");
  const Plan plan = plan_for(m, Server("staging").setting("shared_buffers", "16384", "8kB", "integer", "postmaster"));
  const Step* s = step(plan, "staging/set/shared_buffers");
  ASSERT_NE(s, nullptr);
  EXPECT_TRUE(s->as<SettingChange>().restart_required);
  ASSERT_EQ(plan.warnings.size(), 1u);
  EXPECT_EQ(plan.warnings[0], "staging: shared_buffers = 256MB needs a server restart");
}

TEST(Planner, RatiosCompareNormalizedValuesWhateverTheUnits) {
  // Both are 1/32: 4 MB of 128 MB, written in different units on each side.
  const auto m = manifest(
      "settings:\n  ratios:\n    - expr: work_mem / shared_buffers\n      match: reference\n      tolerance: 0\n");
  const Plan plan =
      plan_for(m, Server("staging").setting("work_mem", "4096", "kB").setting("shared_buffers", "16384", "8kB"),
               Server("production").setting("work_mem", "4", "MB").setting("shared_buffers", "131072", "kB"));
  EXPECT_TRUE(plan.blockers.empty()) << plan.blockers[0].message;
}

TEST(Planner, ARatioOffTheReferenceNamesTheValueThatWouldSatisfyItWithTheArithmetic) {
  const auto m = manifest("settings:\n  ratios:\n    - expr: work_mem / shared_buffers\n      match: reference\n");
  const Plan plan =
      plan_for(m, Server("staging").setting("work_mem", "16384", "kB").setting("shared_buffers", "8192", "8kB"),
               Server("production").setting("work_mem", "4096", "kB").setting("shared_buffers", "16384", "8kB"));
  ASSERT_EQ(blocker_codes(plan), Ids{"ratio-off-reference"});
  EXPECT_EQ(plan.blockers[0].hint,
            "set work_mem: 2MB on staging (0.03125 × shared_buffers 64MB = 2MB), e.g. in settings.values");

  const auto bounded = manifest("settings:\n  ratios:\n    - expr: work_mem / shared_buffers\n      max: 0.1\n");
  const Plan capped = plan_for(bounded, Server("staging")
                                            .setting("work_mem", "16384", "kB")
                                            .setting("shared_buffers", "8192", "8kB")
                                            .range("work_mem", "64", "2147483647"));
  ASSERT_EQ(blocker_codes(capped), Ids{"ratio-out-of-bounds"});
  EXPECT_EQ(capped.blockers[0].hint,
            "set work_mem: 6554kB on staging (0.1 × shared_buffers 64MB = 6554kB), e.g. in settings.values")
      << "rounded to work_mem's unit";
}

TEST(Planner, RatiosAreCheckedWithThePlannedSettingValues) {
  const auto m = manifest(
      "settings:\n  values:\n    work_mem: 4MB\n  ratios:\n    - expr: work_mem / shared_buffers\n      match: "
      "reference\n");
  const Plan plan =
      plan_for(m, Server("staging").setting("work_mem", "65536", "kB").setting("shared_buffers", "16384", "8kB"),
               Server("production").setting("work_mem", "4096", "kB").setting("shared_buffers", "16384", "8kB"));
  EXPECT_TRUE(plan.blockers.empty()) << plan.blockers[0].message;
  EXPECT_EQ(changes(plan), Ids{"staging/set/work_mem"});
}

TEST(Planner, ASettingFromTheCommandLineIsABlockerNeverAStepNorAPendingRestart) {
  const auto m = manifest("settings:\n  values:\n    max_connections: \"150\"\n    work_mem: 8MB\n");
  // As Patroni starts PostgreSQL: max_connections on the command line, and 150 already in postgresql.auto.conf.
  const Plan plan = plan_for(m, Server("staging")
                                    .setting("max_connections", "100", "", "integer", "postmaster")
                                    .source("max_connections", "command line")
                                    .auto_conf("max_connections", "150")
                                    .setting("work_mem", "4096", "kB")
                                    .source("work_mem", "command line"));
  EXPECT_EQ(blocker_codes(plan), (Ids{"setting-on-command-line", "setting-on-command-line"}));
  EXPECT_TRUE(plan.steps.empty());
  EXPECT_TRUE(plan.pending_restarts.empty()) << "a restart would not change it";
  EXPECT_NE(plan.blockers[0].message.find("max_connections is 100 from the server's command line"), std::string::npos)
      << plan.blockers[0].message;
  const Plan same = plan_for(manifest("settings:\n  values:\n    work_mem: 4MB\n"),
                             Server("staging").setting("work_mem", "4096", "kB").source("work_mem", "command line"));
  EXPECT_TRUE(same.steps.empty() && same.blockers.empty()) << "running as wanted: nothing to say";
}

const std::string preload_extension =
    "extensions:\n  - name: pg_stat_statements\n    version: default\n    preload: true\npolicy:\n  manage_preload: "
    "true\n";

Server preload_server() {
  return Server("staging")
      .setting("shared_preload_libraries", "", "", "string", "postmaster")
      .library_file("pg_stat_statements", true)
      .db(Db().available("pg_stat_statements", {"1.10"}));
}

TEST(Planner, ARestartStepFollowsTheSettingsAndPrecedesTheDatabasesWhenTheManifestAllowsIt) {
  auto m = manifest(preload_extension + "  restart:\n    allowed: true\n");
  m.targets.at("staging").restart_command = {"/usr/bin/pg_ctlcluster", "15", "main", "restart"};
  const Plan plan = plan_for(m, preload_server());
  EXPECT_EQ(changes(plan),
            (Ids{"staging/set/shared_preload_libraries", "staging/restart", "staging/app/create/pg_stat_statements"}));
  const Step* restart = step(plan, "staging/restart");
  ASSERT_NE(restart, nullptr);
  EXPECT_EQ(restart->as<ServerRestart>().settings, Ids{"shared_preload_libraries"});
  EXPECT_EQ(restart->as<ServerRestart>().command, m.targets.at("staging").restart_command);
  EXPECT_EQ(restart->after, Ids{"staging/verify"}) << "after the settings are written and reloaded";
  const Step* database = step(plan, "staging/app/preflight");
  ASSERT_NE(database, nullptr);
  EXPECT_NE(std::find(database->after.begin(), database->after.end(), "staging/restart"), database->after.end());
  EXPECT_TRUE(plan.pending_restarts.empty());
}

TEST(Planner, WithoutARestartAPreloadExtensionIsNotCreatedAndThePlanSaysWhy) {
  auto allowed_without_command = manifest(preload_extension + "  restart:\n    allowed: true\n");
  auto command_not_allowed = manifest(preload_extension);
  command_not_allowed.targets.at("staging").restart_command = {"/usr/bin/pg_ctlcluster", "15", "main", "restart"};
  for (const auto& m : {allowed_without_command, command_not_allowed}) {
    const Plan plan = plan_for(m, preload_server());
    EXPECT_EQ(changes(plan), Ids{"staging/set/shared_preload_libraries"});
    EXPECT_TRUE(std::any_of(plan.warnings.begin(), plan.warnings.end(), [](const std::string& w) {
      return w.find("pg_stat_statements is created once the server has restarted") != std::string::npos;
    })) << ::testing::PrintToString(plan.warnings);
  }
  // Once the server runs with the library loaded, the create is planned.
  const Plan loaded = plan_for(
      command_not_allowed, Server("staging")
                               .setting("shared_preload_libraries", "pg_stat_statements", "", "string", "postmaster")
                               .library_file("pg_stat_statements", true)
                               .db(Db().available("pg_stat_statements", {"1.10"})));
  EXPECT_EQ(changes(loaded), Ids{"staging/app/create/pg_stat_statements"});
}

TEST(Planner, NoRestartForAPrimaryWithStandbysOrOutsideTheWindowAndAStagedChangeIsNamedByTheRestart) {
  auto m = manifest(preload_extension + "  restart:\n    allowed: true\n");
  m.targets.at("staging").restart_command = {"/usr/bin/pg_ctlcluster", "15", "main", "restart"};
  auto staged = preload_server();
  staged.setting("shared_buffers", "16384", "8kB", "integer", "postmaster").pending("shared_buffers");  // a DBA's
  const Plan plan = plan_for(m, staged);
  const Step* restart = step(plan, "staging/restart");
  ASSERT_NE(restart, nullptr);
  EXPECT_EQ(restart->as<ServerRestart>().settings, (Ids{"shared_buffers", "shared_preload_libraries"}));

  auto windowed =
      manifest(preload_extension +
               "  restart:\n    allowed: true\n  maintenance_window:\n    days: [sun]\n    start: \"01:00\"\n"
               "    end: \"02:00\"\n");
  windowed.targets.at("staging").restart_command = m.targets.at("staging").restart_command;
  EXPECT_EQ(step(plan_for(windowed, preload_server()), "staging/restart"), nullptr);
  EXPECT_NE(step(plan_for(windowed, preload_server(), Server("production"), true), "staging/restart"), nullptr);

  Server standby("staging");
  standby.setting("shared_preload_libraries", "", "", "string", "postmaster").library_file("pg_stat_statements", true);
  const Plan with_standby = plan_for(m, preload_server().replica(standby, "host=standby1"));
  EXPECT_EQ(step(with_standby, "staging/restart"), nullptr);
  EXPECT_EQ(step(with_standby, "staging/app/create/pg_stat_statements"), nullptr) << "held: nothing restarts";
}

desired::Manifest patroni_manifest(const std::string& body) {
  auto m = manifest(body);
  m.targets.at("staging").patroni_url = m.targets.at("staging").patroni_url_source = "http://m1:8008";
  return m;
}

Server patroni_server(const std::string& max_connections,
                      std::vector<std::tuple<std::string, std::string, bool>> members) {
  Server s("staging");
  s.identity("7001")
      .setting("max_connections", max_connections, "", "integer", "postmaster")
      .source("max_connections", "command line")
      .setting("shared_preload_libraries", "", "", "string", "postmaster")
      .library_file("pg_stat_statements", true)
      .db(Db().available("pg_stat_statements", {"1.10"}))
      .patroni({{"max_connections", max_connections}}, members);
  return s;
}

TEST(Planner, ThroughPatroniEachMemberIsRestartedReplicasFirstAfterThePatchAndBeforeTheDatabases) {
  const auto m = patroni_manifest(preload_extension + "  restart:\n    allowed: true\n" +
                                  "settings:\n  values:\n    max_connections: \"150\"\n");
  const Plan plan =
      plan_for(m, patroni_server("100", {{"m1", "leader", false}, {"m2", "replica", false}, {"m3", "replica", false}}));
  EXPECT_EQ(changes(plan), (Ids{"staging/patroni/config", "staging/restart/m2", "staging/restart/m3",
                                "staging/restart/m1", "staging/app/create/pg_stat_statements"}))
      << "the PATCH, the replicas one at a time, the leader, then the CREATE that needs the library loaded";
  const Step* m2 = step(plan, "staging/restart/m2");
  const Step* m1 = step(plan, "staging/restart/m1");
  ASSERT_TRUE(m2 != nullptr && m1 != nullptr);
  EXPECT_EQ(m2->as<ServerRestart>().member, "m2");
  EXPECT_FALSE(m2->as<ServerRestart>().leader);
  EXPECT_TRUE(m1->as<ServerRestart>().leader);
  EXPECT_TRUE(m1->as<ServerRestart>().command.empty()) << "Patroni restarts it, not a command";
  EXPECT_EQ(m2->as<ServerRestart>().settings, (Ids{"max_connections", "shared_preload_libraries"}));
  EXPECT_NE(std::find(m2->after.begin(), m2->after.end(), "staging/patroni/config"), m2->after.end());
  EXPECT_NE(std::find(m1->after.begin(), m1->after.end(), "staging/restart/m3"), m1->after.end());
  const Step* database = step(plan, "staging/app/preflight");
  ASSERT_NE(database, nullptr);
  EXPECT_NE(std::find(database->after.begin(), database->after.end(), "staging/restart/m1"), database->after.end());
}

TEST(Planner, ThroughPatroniLoweringASettingStandbysMustNotRunBelowThePrimaryRestartsTheLeaderFirst) {
  const auto m =
      patroni_manifest("policy:\n  restart:\n    allowed: true\nsettings:\n  values:\n    max_connections: \"80\"\n");
  const Plan plan = plan_for(m, patroni_server("100", {{"m1", "leader", false}, {"m2", "replica", false}}));
  EXPECT_EQ(changes(plan), (Ids{"staging/patroni/config", "staging/restart/m1", "staging/restart/m2"}));
}

TEST(Planner, ThroughPatroniOnlyWhatTheManifestNeedsIsRestartedAndOnlyWherePatroniSaysItIsPending) {
  const auto forbidden = patroni_manifest("settings:\n  values:\n    max_connections: \"150\"\n");
  EXPECT_EQ(changes(plan_for(forbidden, patroni_server("100", {{"m1", "leader", false}, {"m2", "replica", false}}))),
            Ids{"staging/patroni/config"})
      << "no permission: the PATCH alone, the restart stays pending";
  // Patroni holds 150 already; m2 was restarted since, m1 not.
  const auto allowed = patroni_manifest(
      "settings:\n  values:\n    max_connections: \"150\"\npolicy:\n  restart:\n"
      "    allowed: true\n");
  auto holds = patroni_server("100", {{"m1", "leader", true}, {"m2", "replica", false}});
  holds.pending("max_connections")
      .patroni({{"max_connections", "150"}}, {{"m1", "leader", true}, {"m2", "replica", false}});
  EXPECT_EQ(changes(plan_for(allowed, holds)), Ids{"staging/restart/m1"});
  // A restart someone staged through Patroni for their own window is not the manifest's to take.
  const auto unrelated = patroni_manifest("policy:\n  restart:\n    allowed: true\n");
  EXPECT_TRUE(
      changes(plan_for(unrelated, patroni_server("100", {{"m1", "leader", true}, {"m2", "replica", true}}))).empty());
}

TEST(Planner, OnAPatroniNodeAMissingPreloadLibraryIsToldToGoThroughPatroniNotPostgresqlConf) {
  const auto m =
      patroni_manifest("extensions:\n  - name: pg_stat_statements\n    version: default\n    preload: true\n");
  const Plan plan = plan_for(m, patroni_server("100", {{"m1", "leader", false}}));
  ASSERT_EQ(blocker_codes(plan), Ids{"preload-missing"});
  EXPECT_NE(plan.blockers[0].hint.find("patronictl edit-config"), std::string::npos) << plan.blockers[0].hint;
  EXPECT_EQ(plan.blockers[0].hint.find("in postgresql.conf"), std::string::npos) << plan.blockers[0].hint;
}

TEST(Planner, AListedStandbyThatIsNoneOfPatronisMembersIsABlocker) {
  const auto m = patroni_manifest("settings:\n  values:\n    max_connections: \"100\"\n");
  Server standby("staging");
  standby.identity("7001").setting("max_connections", "100", "", "integer", "postmaster");
  auto server = patroni_server("100", {{"m1", "leader", false}, {"m2", "replica", false}});
  server.replica(standby, "host=elsewhere port=6543");  // observation matched no member at its port
  EXPECT_EQ(blocker_codes(plan_for(m, server)), Ids{"patroni-member-unknown"});
}

TEST(Planner, AHeldPreloadCreateTakesTheSchemaItNeededAlongAndTwoTargetsOnOneServerAreNotRestarted) {
  const auto in_schema = manifest(
      "extensions:\n  - name: pg_stat_statements\n    version: default\n    preload: true\n    schema: stats\n"
      "policy:\n  manage_preload: true\n");
  EXPECT_EQ(changes(plan_for(in_schema, preload_server())), Ids{"staging/set/shared_preload_libraries"})
      << "no CREATE SCHEMA for a create that waits";

  auto two = manifest(preload_extension + "  restart:\n    allowed: true\n");
  two.targets.at("staging").restart_command = {"/usr/bin/pg_ctlcluster", "15", "main", "restart"};
  desired::Target other = two.targets.at("staging");
  other.name = "staging_b";
  other.dsn = "host=s dbname=b_app";
  two.targets.emplace("staging_b", other);
  PlanInput input;
  input.manifest = &two;
  input.observed.emplace("staging", preload_server().identity("7001").state());
  input.observed.emplace("staging_b", Server("staging_b")
                                          .setting("shared_preload_libraries", "", "", "string", "postmaster")
                                          .library_file("pg_stat_statements", true)
                                          .db(Db("b_app").available("pg_stat_statements", {"1.10"}))
                                          .identity("7001")
                                          .state());
  input.observed.emplace("production", Server("production").state());
  const Plan plan = make_plan(input);
  EXPECT_TRUE(plan.blockers.empty()) << plan.blockers.front().message;
  EXPECT_EQ(step(plan, "staging/set/shared_preload_libraries") != nullptr ||
                step(plan, "staging_b/set/shared_preload_libraries") != nullptr,
            true);
  EXPECT_EQ(step(plan, "staging/restart"), nullptr);
  EXPECT_EQ(step(plan, "staging_b/restart"), nullptr);
}

}  // namespace
}  // namespace pgparity::planner
