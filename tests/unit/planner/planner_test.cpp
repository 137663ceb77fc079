#include "planner/planner.hpp"

#include <gtest/gtest.h>

#include "planner/plan_file.hpp"
#include "planner/render.hpp"
#include "tests/unit/planner/fixtures.hpp"

namespace pgparity::planner {
namespace {

using namespace testing;  // NOLINT: the fixtures' builders

using Ids = std::vector<std::string>;

TEST(Planner, CreatesAMissingExtensionAtTheExactVersionWithQuotedSql) {
  const auto m = manifest("extensions:\n  - name: hstore\n    version: \"1.4\"\n    schema: public\n");
  const Plan plan = plan_for(m, Server("staging").db(Db().available("hstore", {"1.4", "1.8"})));
  ASSERT_EQ(changes(plan), Ids{"staging/app/create/hstore"});
  const Step* s = step(plan, "staging/app/create/hstore");
  EXPECT_EQ(object_of(*s).to, "1.4");
  EXPECT_EQ(s->sql, Ids{"CREATE EXTENSION \"hstore\" SCHEMA \"public\" VERSION '1.4'"});
  EXPECT_TRUE(plan.blockers.empty());
}

TEST(Planner, ADatabaseNamedLikeAStandbysGroupIsBlockedAndGetsNoStep) {
  const auto m = manifest("extensions:\n  - name: hstore\n    version: \"1.4\"\n    schema: public\n");
  const Plan plan = plan_for(
      m,
      Server("staging").db(Db("@replica-1").available("hstore", {"1.4"})).db(Db("app").available("hstore", {"1.4"})));
  EXPECT_EQ(changes(plan), Ids{"staging/app/create/hstore"});
  EXPECT_EQ(blocker_codes(plan), Ids{"database-name-reserved"});
}

TEST(Planner, AnUntrustedExtensionIsABlockerAtPlanTimeForARoleThatIsNotASuperuser) {
  const auto m = manifest(
      "extensions:\n  - name: pg_stat_statements\n    version: \"1.10\"\n  - name: hstore\n    version: \"1.8\"\n");
  const Plan plan =
      plan_for(m, Server("staging").not_superuser().db(
                      Db().available("pg_stat_statements", {"1.10"}).available("hstore", {"1.8"}).trusted("hstore")));
  EXPECT_EQ(changes(plan), Ids{"staging/app/create/hstore"}) << "a trusted extension needs no superuser";
  ASSERT_EQ(blocker_codes(plan), Ids{"needs-superuser"});
  EXPECT_EQ(plan.blockers[0].extension, "pg_stat_statements");
  const Plan as_superuser =
      plan_for(m, Server("staging").db(Db().available("pg_stat_statements", {"1.10"}).available("hstore", {"1.8"})));
  EXPECT_TRUE(as_superuser.blockers.empty());
}

TEST(Planner, AnExtensionIsNeverCreatedInASchemaAnotherRoleCanPlantObjectsIn) {
  const auto m = manifest("extensions:\n  - name: hstore\n    version: \"1.8\"\n    schema: shared\n");
  const Plan plan = plan_for(m, Server("staging").db(Db().available("hstore", {"1.8"}).unsafe_schema("shared")));
  EXPECT_TRUE(changes(plan).empty());
  EXPECT_EQ(blocker_codes(plan), Ids{"schema-unsafe"});
  const Plan own = plan_for(m, Server("staging").db(Db().available("hstore", {"1.8"}).with_schema("shared")));
  EXPECT_EQ(changes(own), Ids{"staging/app/create/hstore"});
}

TEST(Planner, CreatesWhatAnExtensionRequiresFirstAtItsDefaultVersion) {
  const auto m = manifest("extensions:\n  - name: top\n    version: \"1.0\"\n");
  const Plan plan = plan_for(m, Server("staging").db(Db().available("base", {"1.0", "1.1"})
                                                         .available("mid", {"1.0"}, {"base"})
                                                         .available("top", {"1.0"}, {"mid"})));
  EXPECT_EQ(changes(plan), (Ids{"staging/app/create/base", "staging/app/create/mid", "staging/app/create/top"}));
  EXPECT_EQ(object_of(*step(plan, "staging/app/create/base")).to, "1.1");
  EXPECT_EQ(step(plan, "staging/app/create/base")->reason, "required by mid");
  EXPECT_EQ(step(plan, "staging/app/create/top")->after, (Ids{"staging/app/snapshot", "staging/app/create/mid"}));
}

TEST(Planner, ARequiredExtensionListedInTheManifestUsesItsOwnVersionAndComesFirst) {
  // aaa requires zzz and sorts first; zzz keeps its own version (2.0, not the default 3.0) and runs first.
  const auto m = manifest("extensions:\n  - name: aaa\n    version: \"1.0\"\n  - name: zzz\n    version: \"2.0\"\n");
  const Plan plan =
      plan_for(m, Server("staging").db(Db().available("aaa", {"1.0"}, {"zzz"}).available("zzz", {"2.0", "3.0"})));
  EXPECT_EQ(changes(plan), (Ids{"staging/app/create/zzz", "staging/app/create/aaa"}));
  EXPECT_EQ(object_of(*step(plan, "staging/app/create/zzz")).to, "2.0");
}

TEST(Planner, UpdatesAlongThePathPostgresWouldTake) {
  const auto m = manifest("extensions:\n  - name: pg_trgm\n    version: \"1.6\"\n");
  const Plan plan = plan_for(m, Server("staging").db(Db().installed("pg_trgm", "1.3")
                                                         .available("pg_trgm", {"1.3", "1.4", "1.5", "1.6"})
                                                         .path("pg_trgm", {"1.3", "1.4", "1.5", "1.6"})));
  const Step* s = step(plan, "staging/app/update/pg_trgm");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(object_of(*s).from, "1.3");
  EXPECT_EQ(object_of(*s).to, "1.6");
  EXPECT_EQ(path_text(s->as<ExtensionUpdate>().path), "1.3--1.4--1.5--1.6");
  EXPECT_EQ(s->sql, Ids{"ALTER EXTENSION \"pg_trgm\" UPDATE TO '1.6'"});
}

TEST(Planner, ReferenceVersionIsWhatTheReferenceRunsInTheSameDatabase) {
  const auto m = manifest("extensions:\n  - name: hstore\n    version: reference\n");
  const Plan plan = plan_for(
      m,
      Server("staging").db(Db("orders")
                               .installed("hstore", "1.4")
                               .available("hstore", {"1.4", "1.7", "1.8"})
                               .path("hstore", {"1.4", "1.7"})),
      Server("production").db(Db("app").installed("hstore", "1.8")).db(Db("orders").installed("hstore", "1.7")));
  ASSERT_NE(step(plan, "staging/orders/update/hstore"), nullptr);
  EXPECT_EQ(object_of(*step(plan, "staging/orders/update/hstore")).to, "1.7");
}

TEST(Planner, ReferenceVersionFallsBackToTheReferencesOwnDatabase) {
  const auto m = manifest("extensions:\n  - name: hstore\n    version: reference\n");
  const Plan plan = plan_for(m, Server("staging").db(Db("staging_db").available("hstore", {"1.4", "1.8"})),
                             Server("production").db(Db("prod_db").installed("hstore", "1.4")));
  EXPECT_EQ(object_of(*step(plan, "staging/staging_db/create/hstore")).to, "1.4");
}

TEST(Planner, ACreateNamesItsSchemaFromTheReferenceAndCreatesTheSchemaFirst) {
  const auto m = manifest("extensions:\n  - name: pg_partman\n    version: reference\n");
  const Plan plan = plan_for(m, Server("staging").db(Db().available("pg_partman", {"4.7.2"})),
                             Server("production").db(Db().installed("pg_partman", "4.7.2", "partman")));
  EXPECT_EQ(changes(plan), (Ids{"staging/app/schema/partman", "staging/app/create/pg_partman"}));
  EXPECT_EQ(step(plan, "staging/app/schema/partman")->sql, Ids{"CREATE SCHEMA \"partman\""});
  const Step* created = step(plan, "staging/app/create/pg_partman");
  EXPECT_EQ(created->sql, Ids{"CREATE EXTENSION \"pg_partman\" SCHEMA \"partman\" VERSION '4.7.2'"});
  EXPECT_EQ(created->reason, "schema partman as on the reference");
  EXPECT_NE(std::find(created->after.begin(), created->after.end(), "staging/app/schema/partman"),
            created->after.end());
}

TEST(Planner, ACreateWithoutAnySchemaGoesToPublicExplicitlyNeverBySearchPath) {
  const auto m = manifest("extensions:\n  - name: hstore\n    version: \"1.8\"\n");
  const Plan plan = plan_for(m, Server("staging").db(Db().available("hstore", {"1.8"})));
  EXPECT_EQ(step(plan, "staging/app/create/hstore")->sql,
            Ids{"CREATE EXTENSION \"hstore\" SCHEMA \"public\" VERSION '1.8'"});
}

TEST(Planner, AControlFileThatFixesTheSchemaGetsNoSchemaClause) {
  const auto fixed = [](const std::string& extensions) {
    return plan_for(manifest(extensions),
                    Server("staging").db(Db().available("postgis", {"3.3.2"})
                                             .available("postgis_topology", {"3.3.2"}, {"postgis"})
                                             .control_schema("postgis_topology", "topology")));
  };
  const Plan plan = fixed("extensions:\n  - name: postgis_topology\n    version: \"3.3.2\"\n");
  EXPECT_TRUE(plan.blockers.empty());
  EXPECT_EQ(changes(plan), (Ids{"staging/app/create/postgis", "staging/app/create/postgis_topology"}))
      << "PostgreSQL creates a fixed schema itself: no CREATE SCHEMA step";
  EXPECT_EQ(step(plan, "staging/app/create/postgis_topology")->sql,
            Ids{"CREATE EXTENSION \"postgis_topology\" VERSION '3.3.2'"});
  EXPECT_EQ(step(plan, "staging/app/create/postgis_topology")->as<ExtensionCreate>().schema, "topology");

  const Plan elsewhere = fixed("extensions:\n  - name: postgis_topology\n    version: \"3.3.2\"\n    schema: gis\n");
  ASSERT_EQ(elsewhere.blockers.size(), 1u);
  EXPECT_EQ(elsewhere.blockers[0].code, BlockerCode::schema_fixed);
  EXPECT_FALSE(elsewhere.has_changes());
}

TEST(Planner, DefaultVersionIsTheServersDefault) {
  const auto m = manifest("extensions:\n  - name: pg_trgm\n    version: default\n");
  const Plan plan = plan_for(m, Server("staging").db(Db().available("pg_trgm", {"1.5", "1.6"})));
  EXPECT_EQ(object_of(*step(plan, "staging/app/create/pg_trgm")).to, "1.6");
}

TEST(Planner, ABareNumberForASettingWithAUnitIsRefusedWithTheUnitSpelledOut) {
  const auto m = manifest("settings:\n  values:\n    statement_timeout: 10\n    lock_timeout: 0\n");
  const Plan plan = plan_for(
      m, Server("staging").setting("statement_timeout", "0", "ms").setting("lock_timeout", "1000", "ms").db(Db()));
  ASSERT_EQ(plan.blockers.size(), 1u);
  EXPECT_EQ(plan.blockers[0].code, BlockerCode::setting_invalid_value);
  EXPECT_EQ(plan.blockers[0].message,
            "statement_timeout = 10 has no unit, and the server would read it as 10ms; write the unit, e.g. 10ms, 10s "
            "or 10min");
  EXPECT_NE(step(plan, "staging/set/lock_timeout"), nullptr) << "0 (off) needs no unit";
}

TEST(Replicas, AnUpdateWhoseVersionAStandbyLacksIsBlockedAndTheBlockerNamesTheStandby) {
  const auto m = manifest("extensions:\n  - name: hstore\n    version: \"1.8\"\n");
  const Db primary_db =
      Db().installed("hstore", "1.4").available("hstore", {"1.4", "1.8"}).path("hstore", {"1.4", "1.8"});
  const Server standby = Server("staging").db(Db().available("hstore", {"1.4"}));
  const Plan plan = plan_for(m, Server("staging").db(primary_db).replica(standby, "host=standby1"));
  EXPECT_EQ(blocker_codes(plan), Ids{"replica-version-not-available"});
  EXPECT_NE(plan.blockers.at(0).message.find("on standby host=standby1"), std::string::npos);

  const Server ready = Server("staging").db(Db().available("hstore", {"1.4", "1.8"}));
  const Plan without_path = plan_for(m, Server("staging").db(primary_db).replica(ready, "host=standby1"));
  EXPECT_EQ(blocker_codes(without_path), Ids{"replica-no-update-path"});
  const Server same = Server("staging").db(primary_db);
  EXPECT_TRUE(plan_for(m, Server("staging").db(primary_db).replica(same, "host=standby1")).blockers.empty());
}

TEST(Replicas, ASettingThatDiffersOnlyOnAStandbyIsASetStepOnThatStandbyWithItsOwnGates) {
  const auto m = manifest("settings:\n  values:\n    work_mem: 8MB\n");
  const Server standby = Server("staging").setting("work_mem", "4096", "kB");
  const Plan plan =
      plan_for(m, Server("staging").setting("work_mem", "8192", "kB").db(Db()).replica(standby, "host=standby1"));
  EXPECT_EQ(changes(plan), Ids{"staging@replica-1/set/work_mem"});
  const Step* s = step(plan, "staging@replica-1/set/work_mem");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->replica, "replica-1");
  EXPECT_EQ(s->database, "");
  EXPECT_EQ(s->sql, Ids{"ALTER SYSTEM SET \"work_mem\" = '8MB'"});
  EXPECT_EQ(s->after, Ids{"staging@replica-1/preflight"});
  EXPECT_NE(step(plan, "staging@replica-1/verify"), nullptr);
}

TEST(Replicas, AReplicaThatIsAPrimaryOrAnotherClustersStandbyIsABlocker) {
  const auto m = manifest("");
  Server primary = Server("staging").identity("111").db(Db());
  state::TargetState observed = primary.replica(Server("staging").identity("222"), "host=other").state();
  PlanInput input;
  input.manifest = &m;
  input.observed.emplace("staging", observed);
  input.observed.emplace("production", Server("production").state());
  EXPECT_EQ(blocker_codes(make_plan(input)), Ids{"replica-of-other-cluster"});
  input.observed["staging"].replicas[0].cluster.in_recovery = false;
  EXPECT_EQ(blocker_codes(make_plan(input)), Ids{"replica-not-standby"});
}

TEST(Routing, AnAliasOfTheManagedPoolerThatReachesTheReferencesClusterIsABlockerNamingIt) {
  const auto m = manifest("");
  const Plan plan = plan_for(m, Server("staging").identity("111").db(Db()).pooler_route("orders", "999"),
                             Server("production").identity("999"));
  ASSERT_EQ(blocker_codes(plan), Ids{"pooler-routes-to-reference"});
  EXPECT_EQ(plan.blockers[0].database, "orders");
  EXPECT_NE(plan.blockers[0].message.find("staging's pooler routes 'orders' to production's cluster"),
            std::string::npos);
  const Plan own = plan_for(m, Server("staging").identity("111").db(Db()).pooler_route("orders", "111"),
                            Server("production").identity("999"));
  EXPECT_TRUE(own.blockers.empty());
  const Plan unknown = plan_for(m, Server("staging").identity("111").db(Db()).pooler_route("orders", "555"),
                                Server("production").identity("999"));
  EXPECT_TRUE(unknown.blockers.empty());
  ASSERT_EQ(unknown.warnings.size(), 1u);
  EXPECT_NE(unknown.warnings[0].find("a cluster the manifest does not know"), std::string::npos);
}

TEST(Rollout, WavesTakeCanariesFirstThenCumulativeSharesByName) {
  std::vector<std::string> dbs;
  for (int i = 1; i <= 12; ++i) dbs.push_back("app_" + std::to_string(i));
  const auto waves = rollout_waves("staging", 1, {10, 50, 100}, dbs);
  ASSERT_EQ(waves.size(), 4u);
  EXPECT_EQ(waves[0].name, "canary");
  EXPECT_EQ(waves[0].databases, Ids{"app_1"}) << "by name: app_1, app_10, app_11, app_12, app_2, ...";
  EXPECT_EQ(waves[1].name, "wave 1 (10%)");
  EXPECT_EQ(waves[1].databases, Ids{"app_10"}) << "10% of 12, rounded up, is 2 with the canary";
  EXPECT_EQ(waves[2].databases, (Ids{"app_11", "app_12", "app_2", "app_3"}));
  EXPECT_EQ(waves[3].name, "wave 3 (100%)");
  EXPECT_EQ(waves[3].databases.size(), 6u);
  EXPECT_EQ(rollout_waves("staging", 5, {100}, {"b", "a"}).size(), 1u) << "empty waves are left out";
}

TEST(Planner, AConvergedDatabaseGetsAnEmptyPlanWithoutGates) {
  const auto m = manifest(
      "extensions:\n  - name: hstore\n    version: \"1.8\"\n  - name: citext\n    ensure: absent\n"
      "settings:\n  values:\n    work_mem: 4MB\n");
  const Plan plan = plan_for(m, Server("staging")
                                    .setting("work_mem", "4096", "kB")
                                    .db(Db().installed("hstore", "1.8").available("hstore", {"1.8"})));
  EXPECT_TRUE(plan.steps.empty());
  EXPECT_TRUE(plan.blockers.empty()) << "converged, not blocked";
  EXPECT_TRUE(plan.pending_restarts.empty());
  EXPECT_FALSE(plan.has_changes());
  EXPECT_TRUE(plan.blockers.empty());
}

TEST(Planner, ChangesOfADatabaseRunBetweenPreflightDrainSnapshotAndVerify) {
  const auto m = manifest("extensions:\n  - name: hstore\n    version: \"1.8\"\n");
  const Plan plan = plan_for(m, Server("staging").db(Db().available("hstore", {"1.8"})));
  Ids ids;
  for (const auto& s : plan.steps) ids.push_back(s.id);
  EXPECT_EQ(ids, (Ids{"staging/app/preflight", "staging/app/drain", "staging/app/snapshot", "staging/app/create/hstore",
                      "staging/app/verify"}));
  EXPECT_EQ(step(plan, "staging/app/verify")->after, Ids{"staging/app/create/hstore"});
  EXPECT_EQ(step(plan, "staging/app/drain")->after, Ids{"staging/app/preflight"});
}

TEST(Planner, EveryStepComesAfterEverythingItWaitsFor) {
  const auto m = manifest(
      "extensions:\n  - name: top\n    version: \"1.0\"\n  - name: old\n    ensure: absent\n  - name: x\n    version: "
      "\"2\"\n");
  const Plan plan = plan_for(m, Server("staging").db(Db().available("base", {"1.0"})
                                                         .available("mid", {"1.0"}, {"base"})
                                                         .available("top", {"1.0"}, {"mid"})
                                                         .installed("old", "1")
                                                         .installed("x", "1")
                                                         .available("x", {"1", "2"})
                                                         .path("x", {"1", "2"})));
  std::set<std::string> done;
  for (const auto& s : plan.steps) {
    for (const auto& before : s.after) EXPECT_TRUE(done.contains(before)) << s.id << " before " << before;
    done.insert(s.id);
  }
  EXPECT_EQ(plan.change_count(), 5u);
}

TEST(Planner, NeverPlansChangesToTheReferenceTarget) {
  const auto m = manifest("extensions:\n  - name: hstore\n    version: \"1.8\"\n");
  const Plan plan = plan_for(m, Server("staging").db(Db().installed("hstore", "1.8")),
                             Server("production").db(Db().available("hstore", {"1.8"})));
  EXPECT_TRUE(plan.steps.empty());
  EXPECT_TRUE(plan.blockers.empty()) << "the reference is read, never a place for steps or blockers";
}

// --- blockers -----------------------------------------------------------------

TEST(Planner, VersionReferenceMirrorsAnAbsenceOnTheReference) {
  const auto m = manifest("extensions:\n  - name: hstore\n    version: reference\n");
  const Plan absent_both =
      plan_for(m, Server("staging").db(Db().available("hstore", {"1.8"})), Server("production").db(Db()));
  EXPECT_TRUE(absent_both.steps.empty()) << "absent there, absent here: nothing to do";
  EXPECT_TRUE(absent_both.blockers.empty()) << "and no hint to install anything on the reference";
  const Plan installed_here =
      plan_for(m, Server("staging").db(Db().installed("hstore", "1.4")), Server("production").db(Db()));
  const Step* s = step(installed_here, "staging/app/drop/hstore");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->reason, "version: reference, and the reference does not have it in this database");
}

TEST(Planner, AMisspeltExtensionNameGetsADidYouMeanFromWhatTheServerOffers) {
  const auto m = manifest("extensions:\n  - name: pg_trgrm\n    version: \"1.6\"\n");
  const Plan plan = plan_for(m, Server("staging").db(Db()).offers({"hstore", "pg_trgm", "postgis"}));
  ASSERT_EQ(blocker_codes(plan), Ids{"version-not-available"});
  EXPECT_NE(plan.blockers[0].message.find("did you mean 'pg_trgm'?"), std::string::npos) << plan.blockers[0].message;
  EXPECT_EQ(plan.blockers[0].hint, "fix the name in the manifest, or install the package that ships pg_trgrm");
}

TEST(Planner, TheSameInputGivesByteIdenticalJson) {
  const auto m = manifest(
      "extensions:\n  - name: top\n    version: \"1.0\"\n  - name: pg_trgm\n    version: \"1.6\"\n  - name: old\n    "
      "ensure: absent\n");
  const Server staging =
      Server("staging")
          .db(Db("b").available("base", {"1.0"}).available("mid", {"1.0"}, {"base"}).available("top", {"1.0"}, {"mid"}))
          .db(Db("a")
                  .installed("pg_trgm", "1.3")
                  .available("pg_trgm", {"1.3", "1.6"})
                  .path("pg_trgm", {"1.3", "1.6"})
                  .installed("old", "2"));
  const std::string first = render_json(plan_for(m, staging));
  EXPECT_EQ(first, render_json(plan_for(m, staging)));
  EXPECT_NE(first.find("\"fingerprint\""), std::string::npos);
}

TEST(Planner, TheFingerprintChangesWhenTheObservedVersionsChange) {
  const auto m = manifest("extensions:\n  - name: hstore\n    version: \"1.8\"\n");
  const Plan before = plan_for(m, Server("staging").db(Db().installed("hstore", "1.4")));
  const Plan after = plan_for(m, Server("staging").db(Db().installed("hstore", "1.8")));
  EXPECT_NE(before.fingerprint, after.fingerprint);
  EXPECT_EQ(before.fingerprint, plan_for(m, Server("staging").db(Db().installed("hstore", "1.4"))).fingerprint);
  EXPECT_EQ(before.fingerprint.size(), 64u) << "SHA-256 in hex";
}

TEST(Planner, TheFingerprintCoversTheManifestTheBlastRadiusAndPgparitysVersion) {
  const auto m = manifest("extensions:\n  - name: citext\n    ensure: absent\npolicy:\n  allow_data_loss: true\n");
  const auto other = manifest(
      "extensions:\n  - name: citext\n    ensure: absent\npolicy:\n  allow_data_loss: true\n  lock_timeout: 9s\n");
  const Server plain = Server("staging").db(Db().installed("citext", "1.6"));
  const Server with_view = Server("staging").db(Db().installed("citext", "1.6").depends("citext", "view v", "view"));
  const std::string base = plan_for(m, plain).fingerprint;
  EXPECT_NE(base, plan_for(other, plain).fingerprint) << "another manifest";
  EXPECT_NE(base, plan_for(m, with_view).fingerprint) << "a new dependent object";
  PlanInput input;
  input.manifest = &m;
  input.observed.emplace("staging", plain.state());
  input.observed.emplace("production", Server("production").state());
  input.tool_version = "9.9.9";
  EXPECT_NE(base, make_plan(input).fingerprint) << "another pgparity version";
}

TEST(Planner, ASavedPlanDiffersFromAFreshOneAtItsFirstChangedStep) {
  const auto m = manifest("extensions:\n  - name: citext\n    ensure: absent\npolicy:\n  allow_data_loss: true\n");
  const Plan fresh = plan_for(m, Server("staging").db(Db().installed("citext", "1.6")));
  EXPECT_EQ(first_difference(fresh, fresh), "");
  Plan edited = fresh;
  for (auto& s : edited.steps) {
    if (s.kind == StepKind::drop) s.sql.push_back("DROP TABLE kv");
  }
  EXPECT_NE(first_difference(edited, fresh).find("its SQL differs: the file says DROP TABLE kv"), std::string::npos)
      << first_difference(edited, fresh);
  const Plan grown =
      plan_for(m, Server("staging").db(Db().installed("citext", "1.6").depends("citext", "view v", "view")));
  EXPECT_NE(first_difference(fresh, grown).find("blast radius changed"), std::string::npos)
      << first_difference(fresh, grown);
  Plan other_manifest = fresh;
  other_manifest.fingerprint = std::string(64, '0');
  EXPECT_NE(first_difference(other_manifest, fresh).find("another manifest"), std::string::npos);
}

TEST(Planner, NamesTheExtensionsAndLibrariesItNeedsObserved) {
  const auto m = manifest(
      "extensions:\n  - name: pg_cron\n    version: \"1.4\"\n    preload: true\n  - name: hstore\n    version: "
      "\"1.8\"\n"
      "settings:\n  preload: [pg_stat_statements]\n");
  EXPECT_EQ(extensions_to_observe(m), (Ids{"hstore", "pg_cron"}));
  EXPECT_EQ(libraries_to_check(m), (Ids{"hstore", "pg_cron", "pg_stat_statements"})) << "each extension's own module";
}

TEST(Planner, MeasuresTheBlastRadiusOnlyOfWhatMayBeDropped) {
  const std::string body =
      "extensions:\n  - name: citext\n    ensure: absent\n  - name: hstore\n    version: \"1.8\"\n";
  EXPECT_EQ(extensions_to_measure_for_drop(manifest(body)), Ids{"citext"});
  EXPECT_EQ(extensions_to_measure_for_drop(manifest(body + "policy:\n  recreate: always\n")),
            (Ids{"citext", "hstore"}));
}

}  // namespace
}  // namespace pgparity::planner
