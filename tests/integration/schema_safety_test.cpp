// Names and schemas: a schema planted under pgparity's name, and schemas with capitals, on real clusters.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <future>
#include <map>
#include <thread>

#include "tests/support/cluster.hpp"

namespace pgparity::testing {
namespace {

std::string manifest(const Cluster& staging, const std::string& body) {
  const std::string path = staging.dir() + "/manifest.yaml";
  std::ofstream(path) << "apiVersion: pgparity/v1\ntargets:\n  staging:\n    dsn: \"" << staging.conninfo()
                      << "\"\n    role: managed\n"
                      << body;
  return path;
}

TEST(SchemaSafety, AStateSchemaPlantedByAnotherRoleMakesApplyRefuseAndItsTriggerNeverFires) {
  Cluster staging;
  staging.exec("CREATE EXTENSION hstore VERSION '1.4'; CREATE ROLE mallory; CREATE TABLE canary (fired text)");
  staging.exec(
      "CREATE SCHEMA pgparity AUTHORIZATION mallory;"
      "CREATE TABLE pgparity.runs (run_id text PRIMARY KEY, target text, database text, started_at timestamptz,"
      "  finished_at timestamptz, status text, plan_digest text, manifest_digest text, steps_done int, error text,"
      "  pgparity_version text);"
      "CREATE FUNCTION pgparity.planted() RETURNS trigger LANGUAGE plpgsql AS"
      "  $$ BEGIN INSERT INTO public.canary VALUES (current_user); RETURN NEW; END $$;"
      "CREATE TRIGGER planted BEFORE INSERT OR UPDATE ON pgparity.runs FOR EACH ROW EXECUTE FUNCTION "
      "pgparity.planted();"
      "ALTER TABLE pgparity.runs OWNER TO mallory; ALTER FUNCTION pgparity.planted() OWNER TO mallory");
  const CommandResult r = run_pgparity(
      {"apply", "-f",
       manifest(staging, "extensions:\n  - name: hstore\n    version: \"1.8\"\npolicy:\n  drain:\n    quiet_for: 0s\n"),
       "--auto-approve"});
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_NE(r.out.find("is owned by role mallory"), std::string::npos) << r.out;
  EXPECT_EQ(staging.query_value("SELECT count(*) FROM canary"), "0") << "the planted trigger never fired";
  EXPECT_EQ(staging.query_value("SELECT extversion FROM pg_extension WHERE extname = 'hstore'"), "1.4");
}

/// The pre-flight asks again, under the run lock, whether the applying role may install each version
/// itself: a role that is not a superuser installs a trusted extension with CREATE on the database;
/// when that right is taken away while the run waits for the lock, the run is refused with nothing changed.
TEST(SchemaSafety, ARoleThatLosesItsRightToInstallWhileWaitingForTheLockIsRefusedBeforeAnythingRuns) {
  Cluster staging;
  staging.exec("CREATE ROLE app LOGIN; GRANT CREATE ON DATABASE postgres TO app; GRANT CREATE ON SCHEMA public TO app");
  const auto manifest_for = [&](const std::string& extension) {
    const std::string path = staging.dir() + "/app.yaml";
    std::ofstream(path) << "apiVersion: pgparity/v1\ntargets:\n  staging:\n    dsn: \"" << staging.conninfo()
                        << " user=app\"\n    role: managed\nextensions:\n  - name: " << extension
                        << "\n    version: default\npolicy:\n  drain:\n    quiet_for: 0s\n";
    return path;
  };
  const CommandResult trusted = run_pgparity({"apply", "-f", manifest_for("hstore"), "--auto-approve"});
  ASSERT_EQ(trusted.exit_code, 0) << trusted.out << trusted.err;
  EXPECT_EQ(staging.query_value("SELECT extowner::regrole::text FROM pg_extension WHERE extname = 'hstore'"), "app");

  // Another writer holds pgparity's run lock ('pgpa', 1) while the run plans and waits.
  Process holder("psql", {"-XAtq", staging.conninfo(), "-c",
                          "SELECT pg_advisory_lock(" + std::to_string(0x70677061) + ", 1), pg_sleep(4)"});
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  auto waiting = std::async(std::launch::async, [&] {
    return run_pgparity({"apply", "-f", manifest_for("pg_trgm"), "--auto-approve", "--lock-wait", "30s"});
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  staging.exec("REVOKE CREATE ON DATABASE postgres FROM app");
  ASSERT_TRUE(holder.wait(20000).has_value());
  const CommandResult refused = waiting.get();
  EXPECT_EQ(refused.exit_code, 3) << refused.out << refused.err;
  EXPECT_NE((refused.out + refused.err).find("waiting for the lock held by another pgparity run"), std::string::npos)
      << "planned while the right was there\n"
      << refused.out;
  EXPECT_NE(refused.out.find("role app cannot install pg_trgm"), std::string::npos) << refused.out;
  EXPECT_NE(refused.out.find("it needs a superuser or CREATE on the database"), std::string::npos);
  EXPECT_EQ(staging.query_value("SELECT count(*) FROM pg_extension WHERE extname = 'pg_trgm'"), "0");
  EXPECT_EQ(staging.query_value("SELECT count(*) FROM pgparity.runs"), "1") << "refused before a run started";
}

TEST(SchemaSafety, AnExtensionInAMixedCaseSchemaConvergesAndExportsItsSchemaAsItIs) {
  Cluster staging;
  staging.exec("CREATE SCHEMA \"MixedCase\"");
  const std::string m = manifest(staging,
                                 "extensions:\n  - name: isn\n    version: default\n    schema: MixedCase\n"
                                 "policy:\n  drain:\n    quiet_for: 0s\n");
  const CommandResult applied = run_pgparity({"apply", "-f", m, "--auto-approve"});
  ASSERT_EQ(applied.exit_code, 0) << applied.out << applied.err;
  EXPECT_NE(applied.out.find("CREATE EXTENSION \"isn\" SCHEMA \"MixedCase\""), std::string::npos) << applied.out;
  const CommandResult again = run_pgparity({"plan", "-f", m});
  EXPECT_EQ(again.exit_code, 0) << "no permanent schema-differs blocker\n" << again.out << again.err;

  const std::string first = staging.dir() + "/export1.yaml";
  const std::string second = staging.dir() + "/export2.yaml";
  ASSERT_EQ(run_pgparity({"export", "--dsn", staging.conninfo(), "--name", "staging", "-o", first}).exit_code, 0);
  ASSERT_EQ(run_pgparity({"export", "--dsn", staging.conninfo(), "--name", "staging", "-o", second}).exit_code, 0);
  std::ifstream a(first), b(second);
  const std::string exported((std::istreambuf_iterator<char>(a)), std::istreambuf_iterator<char>());
  const std::string exported_again((std::istreambuf_iterator<char>(b)), std::istreambuf_iterator<char>());
  EXPECT_EQ(exported, exported_again);
  EXPECT_NE(exported.find("MixedCase"), std::string::npos) << exported;
  EXPECT_EQ(exported.find("\\\"MixedCase"), std::string::npos) << "never quoted twice\n" << exported;
}

/// Debian's postgis_topology (control file: schema = topology), pg_partman (installed in schema
/// partman on production, no schema in its control file) and pglogical (schema = pglogical),
/// mirrored onto a fresh staging: the schema each goes to is chosen, never left to search_path.
TEST(SchemaSafety, MirroringExtensionsThatLiveInTheirOwnSchemasCreatesThoseSchemasAndConverges) {
  const std::map<std::string, std::string> preload{{"shared_preload_libraries", "pglogical"}};
  Cluster production(preload);
  Cluster staging(preload);
  production.exec(
      "CREATE EXTENSION postgis_topology CASCADE; CREATE SCHEMA partman; CREATE EXTENSION pg_partman SCHEMA partman;"
      "CREATE EXTENSION pglogical");
  const std::string path = write_pair_manifest(staging.dir() + "/m.yaml",
                                               "extensions:\n"
                                               "  - name: postgis\n    version: reference\n"
                                               "  - name: postgis_topology\n    version: reference\n"
                                               "  - name: pg_partman\n    version: reference\n"
                                               "  - name: pglogical\n    version: reference\n"
                                               "policy:\n  drain:\n    quiet_for: 0s\n");
  const std::map<std::string, std::string> env{{"PGPARITY_PROD_DSN", production.conninfo()},
                                               {"PGPARITY_STAGING_DSN", staging.conninfo()}};
  const CommandResult plan = run_pgparity({"plan", "-f", path, "--format", "json"}, env);
  ASSERT_EQ(plan.exit_code, 2) << plan.out << plan.err;
  EXPECT_NE(plan.out.find("CREATE SCHEMA \\\"partman\\\""), std::string::npos) << plan.out;
  EXPECT_NE(plan.out.find("CREATE EXTENSION \\\"pg_partman\\\" SCHEMA \\\"partman\\\""), std::string::npos);
  EXPECT_NE(plan.out.find("CREATE EXTENSION \\\"postgis_topology\\\" VERSION"), std::string::npos)
      << "its control file fixes the schema: no SCHEMA clause";

  const CommandResult applied = run_pgparity({"apply", "-f", path, "--auto-approve"}, env);
  ASSERT_EQ(applied.exit_code, 0) << applied.out << applied.err;
  const std::string where =
      "SELECT string_agg(extname || ' ' || extnamespace::regnamespace::text, ', ' ORDER BY extname) FROM pg_extension "
      "WHERE extname <> 'plpgsql'";
  EXPECT_EQ(staging.query_value(where), production.query_value(where));
  EXPECT_EQ(staging.query_value("SELECT nspowner::regrole::text FROM pg_namespace WHERE nspname = 'partman'"),
            "postgres")
      << "owned by the applying role";
  const CommandResult again = run_pgparity({"plan", "-f", path}, env);
  EXPECT_EQ(again.exit_code, 0) << "converged\n" << again.out << again.err;
}

}  // namespace
}  // namespace pgparity::testing
