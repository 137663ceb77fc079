// doctor, recover and history against real throwaway clusters: broken installations are made by
// removing files from a cluster's private extension and library folders, never the machine's.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "tests/support/cluster.hpp"

namespace pgparity::testing {
namespace {

using namespace std::chrono_literals;

class Recovery : public ::testing::Test {
 protected:
  void SetUp() override { staging_.exec("CREATE DATABASE orders"); }

  /// A manifest with staging (managed, every database) and `body`; returns its path.
  std::string manifest(const std::string& body, const std::string& extra_targets = "") {
    std::ofstream(path_) << "apiVersion: pgparity/v1\ntargets:\n  staging:\n    dsn: \"${PGPARITY_STAGING_DSN}\"\n"
                            "    role: managed\n    databases: [\"*\"]\n"
                         << extra_targets << body << "policy:\n  drain:\n    quiet_for: 0s\n    timeout: 10s\n";
    return path_;
  }

  CommandResult pgparity(std::vector<std::string> args) {
    return run_pgparity(args, {{"PGPARITY_STAGING_DSN", staging_.conninfo()}, {"PGPARITY_PROD_DSN", production_dsn_}});
  }

  CommandResult doctor() { return pgparity({"doctor", "-f", path_, "--target", "staging", "--format", "json"}); }

  /// The findings of a doctor run with this id.
  static std::vector<nlohmann::json> findings(const CommandResult& r, const std::string& id) {
    std::vector<nlohmann::json> out;
    const auto report = nlohmann::json::parse(r.out);
    for (const auto& f : report.at("findings")) {
      if (f.at("id") == id) out.push_back(f);
    }
    return out;
  }

  /// The newest run in staging's journal, as `history --format json` lists it.
  std::string latest_run_id() {
    const auto history =
        nlohmann::json::parse(pgparity({"history", "-f", path_, "--target", "staging", "--format", "json"}).out);
    return history.at("runs").at(0).at("run_id");
  }

  std::string version_of(const std::string& extension, const std::string& db = "orders") {
    return staging_.query_value("SELECT extversion FROM pg_extension WHERE extname = '" + extension + "'", db);
  }

  void remove_scripts_of_1_0() {
    for (const char* script : {"pgparity_test_versions--1.0.sql", "pgparity_test_versions--1.0--1.1.sql"}) {
      ASSERT_TRUE(std::filesystem::remove(staging_.extension_dir() + "/" + script)) << script;
    }
  }

  std::vector<std::string> recover_recreate(std::vector<std::string> extra) {
    std::vector<std::string> args{"recover",  "-f",          path_,
                                  "--target", "staging",     "--database",
                                  "orders",   "--extension", "pgparity_test_versions",
                                  "--mode",   "recreate"};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  }

  Cluster staging_;
  std::string production_dsn_;
  std::string path_ = staging_.dir() + "/manifest.yaml";
};

const std::string wants_3_0 =
    "extensions:\n  - name: pgparity_test_versions\n    version: \"3.0\"\n    databases: [orders]\n";

TEST_F(Recovery, DoctorReportsAnInstalledVersionWhoseScriptsAreGoneAndRecreateBringsItToTheDesiredVersion) {
  staging_.exec("CREATE EXTENSION pgparity_test_versions VERSION '1.0'", "orders");
  remove_scripts_of_1_0();
  manifest(wants_3_0);

  const CommandResult diagnosis = doctor();
  EXPECT_EQ(diagnosis.exit_code, 2) << diagnosis.err;
  const auto gone = findings(diagnosis, "installed-version-unavailable");
  ASSERT_EQ(gone.size(), 1u) << diagnosis.out;
  EXPECT_EQ(gone[0].at("severity"), "error");
  EXPECT_EQ(gone[0].at("database"), "orders");
  EXPECT_EQ(gone[0].at("evidence")[0], "pg_extension: pgparity_test_versions 1.0 (schema public)");
  EXPECT_EQ(gone[0].at("evidence")[1], "pg_available_extension_versions for pgparity_test_versions: 3.0");
  EXPECT_NE(gone[0].at("remedy").get<std::string>().find(
                "pgparity recover -f " + path_ +
                " --target staging --database orders --extension pgparity_test_versions --mode recreate"),
            std::string::npos)
      << gone[0].dump(2);
  EXPECT_EQ(findings(diagnosis, "no-update-path").size(), 1u) << diagnosis.out;

  // Without --yes it only shows what it would do.
  const CommandResult shown = pgparity(recover_recreate({"--outside-window"}));
  EXPECT_EQ(shown.exit_code, 2) << shown.out << shown.err;
  EXPECT_NE(shown.out.find("DROP EXTENSION \"pgparity_test_versions\" RESTRICT;"), std::string::npos) << shown.out;
  EXPECT_NE(shown.out.find("CREATE EXTENSION \"pgparity_test_versions\" SCHEMA \"public\" VERSION '3.0';"),
            std::string::npos);
  EXPECT_EQ(version_of("pgparity_test_versions"), "1.0");

  // Outside a maintenance window it refuses unless told.
  const CommandResult refused = pgparity(recover_recreate({"--yes"}));
  EXPECT_EQ(refused.exit_code, 3) << refused.out << refused.err;
  EXPECT_NE(refused.err.find("--outside-window"), std::string::npos) << refused.err;
  EXPECT_EQ(version_of("pgparity_test_versions"), "1.0");

  const CommandResult done = pgparity(recover_recreate({"--outside-window", "--yes"}));
  ASSERT_EQ(done.exit_code, 0) << done.out << done.err;
  EXPECT_EQ(version_of("pgparity_test_versions"), "3.0");
  const CommandResult healthy = doctor();
  EXPECT_EQ(healthy.exit_code, 0) << healthy.out;
  EXPECT_EQ(nlohmann::json::parse(healthy.out).at("healthy"), true);

  // The recreate was journaled with its snapshot, as apply does.
  const auto history = nlohmann::json::parse(
      pgparity({"history", "-f", path_, "--target", "staging", "--database", "orders", "--format", "json"}).out);
  ASSERT_EQ(history.at("runs").size(), 1u);
  EXPECT_EQ(history["runs"][0]["status"], "succeeded");
  EXPECT_EQ(history["runs"][0]["snapshot"][0]["name"], "pgparity_test_versions");
  EXPECT_EQ(history["runs"][0]["snapshot"][0]["version"], "1.0");
}

TEST_F(Recovery, RecreateRefusesWhenAUserTableColumnUsesTheExtensionsTypeAndLeavesTheTableUntouched) {
  staging_.exec(
      "CREATE EXTENSION pgparity_test_versions VERSION '1.0';"
      "CREATE TABLE shipments (id int PRIMARY KEY, code pgparity_test_code);"
      "INSERT INTO shipments VALUES (1, 'ABC'), (2, 'XYZ')",
      "orders");
  remove_scripts_of_1_0();
  manifest(wants_3_0);

  const CommandResult refused = pgparity(recover_recreate({"--outside-window", "--yes"}));
  EXPECT_EQ(refused.exit_code, 3) << refused.out << refused.err;
  EXPECT_NE(refused.out.find("column code of table public.shipments"), std::string::npos) << refused.out;
  EXPECT_NE(refused.out.find("allow_data_loss"), std::string::npos) << refused.out;
  EXPECT_EQ(version_of("pgparity_test_versions"), "1.0");
  EXPECT_EQ(staging_.query_value("SELECT string_agg(id || ':' || code, ',' ORDER BY id) FROM shipments", "orders"),
            "1:ABC,2:XYZ");

  // Accepting the loss is explicit, and then the column goes with the old extension.
  const CommandResult accepted = pgparity(recover_recreate({"--outside-window", "--yes", "--allow-data-loss"}));
  ASSERT_EQ(accepted.exit_code, 0) << accepted.out << accepted.err;
  EXPECT_EQ(version_of("pgparity_test_versions"), "3.0");
  EXPECT_EQ(
      staging_.query_value("SELECT count(*) FROM information_schema.columns WHERE table_name = 'shipments'", "orders"),
      "1");
}

TEST_F(Recovery, DoctorReportsAPreloadLibraryWhoseFileIsGoneAndAModuleFileThatIsMissing) {
  staging_.set("shared_preload_libraries", "pg_stat_statements");
  staging_.restart();
  staging_.exec("CREATE EXTENSION pg_stat_statements; CREATE EXTENSION hstore", "orders");
  // The running server loaded them already; the files go, as a careless package removal would.
  ASSERT_TRUE(std::filesystem::remove(staging_.library_dir() + "/pg_stat_statements.so"));
  ASSERT_TRUE(std::filesystem::remove(staging_.library_dir() + "/hstore.so"));
  manifest("extensions:\n  - name: pg_stat_statements\n    version: default\n    preload: true\n");

  const CommandResult r = doctor();
  EXPECT_EQ(r.exit_code, 2) << r.err;
  const auto preload = findings(r, "preload-library-missing");
  ASSERT_EQ(preload.size(), 1u) << r.out;
  EXPECT_EQ(preload[0].at("subject"), "pg_stat_statements");
  EXPECT_EQ(preload[0].at("evidence")[1], "no file pg_stat_statements.so in " + staging_.library_dir());
  EXPECT_NE(preload[0].at("remedy").get<std::string>().find("ALTER SYSTEM SET \"shared_preload_libraries\" = '';"),
            std::string::npos)
      << preload[0].dump(2);
  const auto module = findings(r, "module-file-missing");
  ASSERT_EQ(module.size(), 2u) << r.out;  // hstore and pg_stat_statements, in orders
  EXPECT_EQ(module[0].at("subject"), "hstore");
  EXPECT_EQ(module[0].at("evidence")[0], "pg_proc.probin of hstore's member functions: $libdir/hstore");
  EXPECT_TRUE(findings(r, "library-file-missing").empty()) << "one finding per missing library, not two";

  const CommandResult text = pgparity({"doctor", "-f", path_, "--target", "staging"});
  EXPECT_EQ(text.exit_code, 2);
  EXPECT_NE(text.out.find("✗ preload-library-missing  staging  pg_stat_statements"), std::string::npos) << text.out;
}

TEST_F(Recovery, DoctorReportsAPreloadExtensionNotLoadedAndSettingsWaitingForARestart) {
  staging_.exec("CREATE EXTENSION pg_stat_statements", "orders");
  staging_.exec("ALTER SYSTEM SET shared_buffers = '256MB'");
  staging_.exec("SELECT pg_reload_conf()");
  manifest("");
  std::this_thread::sleep_for(500ms);  // the reload reaches pg_settings
  const CommandResult r = doctor();
  EXPECT_EQ(r.exit_code, 2) << r.err;
  const auto not_loaded = findings(r, "preload-not-loaded");
  ASSERT_EQ(not_loaded.size(), 1u) << r.out;
  EXPECT_EQ(not_loaded[0].at("remedy").get<std::string>().rfind(
                "ALTER SYSTEM SET \"shared_preload_libraries\" = 'pg_stat_statements';", 0),
            0u)
      << not_loaded[0].dump(2);
  const auto pending = findings(r, "pending-restart");
  ASSERT_EQ(pending.size(), 1u) << r.out;
  EXPECT_EQ(pending[0].at("subject"), "shared_buffers");
  EXPECT_EQ(pending[0].at("severity"), "warning");
}

TEST_F(Recovery, DoctorReportsMembersThatAreGoneAndFunctionsThatLoadAModuleWithoutBelongingToIt) {
  staging_.exec(
      "CREATE EXTENSION pgparity_test_versions VERSION '1.0'; CREATE EXTENSION hstore;"
      "CREATE FUNCTION my_hstore_in(cstring) RETURNS hstore AS '$libdir/hstore', 'hstore_in' LANGUAGE C STRICT;"
      // A member destroyed behind PostgreSQL's back: its pg_depend row stays.
      "DELETE FROM pg_proc WHERE proname = 'pgparity_test_versions_version'",
      "orders");
  manifest("");
  const CommandResult r = doctor();
  EXPECT_EQ(r.exit_code, 2) << r.err;
  const auto missing = findings(r, "missing-member");
  ASSERT_EQ(missing.size(), 1u) << r.out;
  EXPECT_EQ(missing[0].at("subject"), "pgparity_test_versions");
  EXPECT_NE(missing[0].at("message").get<std::string>().find("pg_proc "), std::string::npos) << missing[0].dump(2);
  const auto stray = findings(r, "non-member-function");
  ASSERT_EQ(stray.size(), 1u) << r.out;
  EXPECT_EQ(stray[0].at("remedy").get<std::string>().rfind(
                "ALTER EXTENSION \"hstore\" ADD FUNCTION public.my_hstore_in(cstring);", 0),
            0u)
      << stray[0].dump(2);
}

TEST_F(Recovery, ARunKilledMidApplyIsReportedChangesNothingAndApplyConvergesAfterwards) {
  staging_.exec("CREATE EXTENSION pgparity_test_slow VERSION '1.0'", "orders");
  staging_.exec("ALTER DATABASE orders SET pgparity_test.sleep = '3'");
  manifest("extensions:\n  - name: pgparity_test_slow\n    version: \"1.1\"\n    databases: [orders]\n");
  auto run = start_pgparity({"apply", "-f", path_, "--auto-approve"}, {{"PGPARITY_STAGING_DSN", staging_.conninfo()}});
  bool applying = false;
  for (int i = 0; i < 600 && !applying; ++i) {
    applying = run->err().find("applying 1 step") != std::string::npos;
    std::this_thread::sleep_for(50ms);
  }
  ASSERT_TRUE(applying) << run->err();
  std::this_thread::sleep_for(300ms);  // inside the update script's sleep
  run->signal(SIGKILL);
  ASSERT_TRUE(run->wait(5000).has_value());
  // The server notices the lost client when the statement ends, and rolls back.
  for (int i = 0; i < 100; ++i) {
    if (staging_.query_value("SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'pgparity%'") == "0") {
      break;
    }
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_EQ(version_of("pgparity_test_slow"), "1.0") << "the catalog is unchanged";

  const CommandResult diagnosis = doctor();
  EXPECT_EQ(diagnosis.exit_code, 2) << diagnosis.err;
  const auto unfinished = findings(diagnosis, "unfinished-run");
  ASSERT_EQ(unfinished.size(), 1u) << diagnosis.out;
  EXPECT_EQ(unfinished[0].at("database"), "orders");
  EXPECT_NE(unfinished[0].at("evidence")[0].get<std::string>().find("status=running finished_at=NULL"),
            std::string::npos);

  staging_.exec("ALTER DATABASE orders SET pgparity_test.sleep = '0'");
  const CommandResult again = pgparity({"apply", "-f", path_, "--auto-approve"});
  ASSERT_EQ(again.exit_code, 0) << again.out << again.err;
  EXPECT_EQ(version_of("pgparity_test_slow"), "1.1");
  EXPECT_TRUE(findings(doctor(), "unfinished-run").empty()) << "the next run closes it as interrupted";
  const CommandResult history = pgparity({"history", "-f", path_, "--target", "staging", "--database", "orders"});
  EXPECT_EQ(history.exit_code, 0);
  const auto succeeded = history.out.find("succeeded");
  const auto interrupted = history.out.find("interrupted");
  ASSERT_NE(interrupted, std::string::npos) << history.out;
  EXPECT_LT(succeeded, interrupted) << "newest first:\n" << history.out;
}

TEST_F(Recovery, RestoreSnapshotReturnsFrom2_0To1_1ThroughTheDowngradeScript) {
  staging_.exec("CREATE EXTENSION pgparity_test_versions VERSION '1.1'", "orders");
  manifest("extensions:\n  - name: pgparity_test_versions\n    version: \"2.0\"\n    databases: [orders]\n");
  ASSERT_EQ(pgparity({"apply", "-f", path_, "--auto-approve"}).exit_code, 0);
  ASSERT_EQ(version_of("pgparity_test_versions"), "2.0");
  const std::string run_id = latest_run_id();

  const std::vector<std::string> restore{"recover",    "-f",     path_,    "--target",         "staging",
                                         "--database", "orders", "--mode", "restore-snapshot", run_id};
  const CommandResult shown = pgparity(restore);
  EXPECT_EQ(shown.exit_code, 2) << shown.out << shown.err;
  EXPECT_NE(shown.out.find("ALTER EXTENSION \"pgparity_test_versions\" UPDATE TO '1.1';"), std::string::npos)
      << shown.out;
  std::vector<std::string> yes = restore;
  yes.push_back("--yes");
  const CommandResult done = pgparity(yes);
  ASSERT_EQ(done.exit_code, 0) << done.out << done.err;
  EXPECT_EQ(version_of("pgparity_test_versions"), "1.1");
}

TEST_F(Recovery, RestoreSnapshotExplainsTheRecreateWhenThereIsNoDowngradePath) {
  staging_.exec("CREATE EXTENSION pgparity_test_versions VERSION '1.0'", "orders");
  manifest("extensions:\n  - name: pgparity_test_versions\n    version: \"2.0\"\n    databases: [orders]\n");
  ASSERT_EQ(pgparity({"apply", "-f", path_, "--auto-approve"}).exit_code, 0);
  const std::string run_id = latest_run_id();

  const CommandResult r = pgparity({"recover", "-f", path_, "--target", "staging", "--database", "orders", "--mode",
                                    "restore-snapshot", run_id, "--yes"});
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_NE(r.out.find("pgparity_test_versions 2.0 → 1.0: no update path"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("No downgrade path"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("DROP EXTENSION \"pgparity_test_versions\" RESTRICT;"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("VERSION '1.0';"), std::string::npos) << r.out;
  EXPECT_EQ(version_of("pgparity_test_versions"), "2.0") << "nothing was changed";
}

TEST_F(Recovery, DoctorReportsWhereStagingDivergesFromTheReference) {
  Cluster production;
  production_dsn_ = production.conninfo();
  production.exec("CREATE DATABASE orders");
  production.exec("CREATE EXTENSION hstore", "orders");
  staging_.exec("CREATE EXTENSION hstore VERSION '1.4'", "orders");
  manifest("", "  production:\n    dsn: \"${PGPARITY_PROD_DSN}\"\n    role: reference\n    databases: [\"*\"]\n");
  const CommandResult r = doctor();
  EXPECT_EQ(r.exit_code, 2) << r.err;
  const auto divergence = findings(r, "reference-divergence");
  ASSERT_FALSE(divergence.empty()) << r.out;
  EXPECT_EQ(divergence[0].at("database"), "orders");
  EXPECT_EQ(divergence[0].at("subject"), "hstore");
  EXPECT_NE(divergence[0].at("message").get<std::string>().find("production has 1.8, staging has 1.4"),
            std::string::npos)
      << divergence[0].dump(2);

  // The reference itself can be examined; it is only read.
  const CommandResult reference = pgparity({"doctor", "-f", path_, "--target", "production"});
  EXPECT_EQ(reference.exit_code, 0) << reference.out << reference.err;
  EXPECT_EQ(production.query_value("SELECT count(*) FROM pg_namespace WHERE nspname = 'pgparity'", "orders"), "0");
}

TEST_F(Recovery, RecoverUpdateRetriesTheManifestsUpdateAlongItsPath) {
  staging_.exec("CREATE EXTENSION hstore VERSION '1.4'; CREATE EXTENSION pg_trgm VERSION '1.3'", "orders");
  manifest("extensions:\n  - name: hstore\n    version: \"1.8\"\n  - name: pg_trgm\n    version: \"1.6\"\n");
  const std::vector<std::string> args{"recover", "-f",          path_,    "--target", "staging", "--database",
                                      "orders",  "--extension", "hstore", "--mode",   "update"};
  const CommandResult shown = pgparity(args);
  EXPECT_EQ(shown.exit_code, 2) << shown.out << shown.err;
  EXPECT_NE(shown.out.find("update  hstore 1.4 → 1.8 (path 1.4--1.5--1.6--1.7--1.8)"), std::string::npos) << shown.out;
  EXPECT_EQ(shown.out.find("pg_trgm"), std::string::npos) << "only the extension named";
  EXPECT_EQ(version_of("hstore"), "1.4");

  std::vector<std::string> yes = args;
  yes.push_back("--yes");
  const CommandResult done = pgparity(yes);
  ASSERT_EQ(done.exit_code, 0) << done.out << done.err;
  EXPECT_EQ(version_of("hstore"), "1.8");
  EXPECT_EQ(version_of("pg_trgm"), "1.3");
  EXPECT_EQ(pgparity(yes).exit_code, 0) << "nothing left to recover";
}

}  // namespace
}  // namespace pgparity::testing
