// Server settings against real throwaway clusters: list settings, units,
// restart-only settings, exact rollback, managed preload, parameter privileges.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>
#include <sstream>

#include "state/settings.hpp"
#include "tests/support/cluster.hpp"

namespace pgparity::testing {
namespace {

class Settings : public ::testing::Test {
 protected:
  explicit Settings(const std::map<std::string, std::string>& settings = {}) : staging_(settings) {}

  /// A manifest with one managed target, `staging`, then `body`.
  std::string manifest(const std::string& body) {
    const std::string path = staging_.dir() + "/manifest.yaml";
    std::ofstream(path) << "apiVersion: pgparity/v1\ntargets:\n  staging:\n    dsn: \"${PGPARITY_STAGING_DSN}\""
                        << "\n    role: managed\n"
                        << body;
    return path;
  }
  /// As the bootstrap superuser, or as `user` (the DSN variable is the whole DSN: nothing may be added beside it).
  CommandResult pgparity(const std::vector<std::string>& args, const std::string& user = "") {
    return run_pgparity(args, {{"PGPARITY_STAGING_DSN", staging_.conninfo() + (user.empty() ? "" : " user=" + user)}});
  }
  std::string auto_conf() const { return read_text(staging_.dir() + "/data/postgresql.auto.conf"); }

  Cluster staging_;
};

TEST(SettingsFacts, TheListSettingsArePostgres15sOwnListSettings) {
  Cluster server;
  pqxx::connection session(server.conninfo());
  pqxx::work tx(session);
  std::vector<std::string> lists;
  for (const auto& row : tx.exec("SELECT name FROM pg_settings WHERE vartype = 'string' ORDER BY name")) {
    const std::string name = row[0].c_str();
    pqxx::subtransaction probe(tx, "probe");
    try {
      // PostgreSQL refuses a second element before anything else for a setting that is not a list.
      probe.exec("SET " + tx.quote_name(name) + " = 'a', 'b'");
      lists.push_back(name);
    } catch (const pqxx::sql_error& e) {
      if (std::string(e.what()).find("takes only one argument") == std::string::npos) lists.push_back(name);
    }
  }
  for (const auto& row : tx.exec("SELECT name FROM pg_settings ORDER BY name")) {
    const std::string name = row[0].c_str();
    const bool list = std::find(lists.begin(), lists.end(), name) != lists.end();
    EXPECT_EQ(state::is_list_setting(name), list) << name;
  }
  EXPECT_GE(lists.size(), 5u);
}

TEST_F(Settings, ASearchPathInEitherFormIsWrittenElementWiseAndConverges) {
  for (const std::string form : {"'\"$user\", public, extra'", "[\"$user\", public, extra]"}) {
    staging_.exec("ALTER SYSTEM RESET search_path");
    staging_.exec("SELECT pg_reload_conf()");
    const std::string m = manifest("settings:\n  values:\n    search_path: " + form + "\n");
    const CommandResult r = pgparity({"apply", "-f", m, "--auto-approve"});
    ASSERT_EQ(r.exit_code, 0) << form << "\n" << r.out << r.err;
    EXPECT_NE(r.out.find("ALTER SYSTEM SET \"search_path\" = '$user', 'public', 'extra'"), std::string::npos) << r.out;
    EXPECT_EQ(staging_.query_value("SHOW search_path"), "\"$user\", public, extra") << form;
    EXPECT_EQ(pgparity({"plan", "-f", m}).exit_code, 0) << "converged: " << form;
  }
}

class SizedSettings : public Settings {
 protected:
  SizedSettings() : Settings({{"shared_buffers", "128MB"}, {"work_mem", "4MB"}}) {}
};

TEST_F(SizedSettings, ValuesTheServerRunsInOtherUnitsPlanNoStepAndShowHumanUnits) {
  const CommandResult same =
      pgparity({"plan", "-f", manifest("settings:\n  values:\n    shared_buffers: 128MB\n    work_mem: 4MB\n")});
  EXPECT_EQ(same.exit_code, 0) << same.out << same.err;
  const CommandResult bigger = pgparity({"plan", "-f", manifest("settings:\n  values:\n    shared_buffers: 256MB\n")});
  EXPECT_EQ(bigger.exit_code, 2);
  EXPECT_NE(bigger.out.find("shared_buffers 128MB → 256MB"), std::string::npos) << bigger.out;
  EXPECT_EQ(bigger.out.find("163848kB"), std::string::npos) << bigger.out;
}

/// A server that logs every statement, to see what a run really sent.
class LoggedSettings : public Settings {
 protected:
  LoggedSettings() : Settings({{"log_statement", "all"}}) {}
};

TEST_F(LoggedSettings, ASettingsUnitRunsExactlyTheSqlItsPlanShowsGatesIncludedInPlanOrder) {
  const std::string m = manifest("settings:\n  values:\n    work_mem: 8MB\n    lock_timeout: 2s\n");
  const CommandResult planned = pgparity({"plan", "-f", m, "--format", "json"});
  ASSERT_EQ(planned.exit_code, 2) << planned.out << planned.err;
  std::vector<std::string> shown;
  bool verify = false;
  const auto plan = nlohmann::json::parse(planned.out);
  for (const auto& step : plan.at("steps")) {
    if (step.at("kind") == "verify") verify = !step.at("sql").empty();
    for (const auto& sql : step.at("sql")) shown.push_back(sql);
  }
  ASSERT_TRUE(verify) << "the verify gate shows the reload it runs";
  ASSERT_EQ(shown.size(), 3u) << planned.out;
  const std::size_t before = read_text(staging_.dir() + "/server.log").size();
  const CommandResult applied = pgparity({"apply", "-f", m, "--auto-approve"});
  ASSERT_EQ(applied.exit_code, 0) << applied.out << applied.err;
  const std::string log = read_text(staging_.dir() + "/server.log").substr(before);
  std::size_t at = 0;
  for (const auto& sql : shown) {
    const std::size_t found = log.find("statement: " + sql, at);
    EXPECT_NE(found, std::string::npos) << "not run after the step before it: " << sql << "\n" << log;
    if (found != std::string::npos) at = found;
  }
  EXPECT_EQ(staging_.query_value("SHOW work_mem"), "8MB");
}

TEST_F(Settings, ARestartOnlySettingIsWrittenOnceThenPendingUntilTheRestart) {
  const std::string m = manifest("settings:\n  values:\n    max_connections: \"150\"\n");
  const CommandResult applied = pgparity({"apply", "-f", m, "--auto-approve"});
  ASSERT_EQ(applied.exit_code, 0) << applied.out << applied.err;
  EXPECT_NE(auto_conf().find("max_connections = '150'"), std::string::npos) << auto_conf();

  const CommandResult plan = pgparity({"plan", "-f", m});
  EXPECT_EQ(plan.exit_code, 0) << plan.out << plan.err;
  EXPECT_NE(plan.out.find("pending restart: staging max_connections = 150"), std::string::npos) << plan.out;
  const CommandResult check = pgparity({"check", "-f", m});
  EXPECT_EQ(check.exit_code, 2) << check.out;
  EXPECT_NE(check.out.find("(pending restart)"), std::string::npos) << check.out;

  const std::string before = auto_conf();
  const CommandResult tick = pgparity({"reconcile", "-f", m, "--once"});
  EXPECT_EQ(tick.exit_code, 0) << tick.out << tick.err;
  EXPECT_EQ(auto_conf(), before) << "reconcile never rewrites a pending restart";

  staging_.restart();
  EXPECT_EQ(staging_.query_value("SHOW max_connections"), "150");
  const CommandResult after = pgparity({"check", "-f", m});
  EXPECT_EQ(after.exit_code, 0) << after.out << after.err;
}

TEST_F(Settings, AFailedWritePutsPostgresqlAutoConfBackByteForByte) {
  staging_.exec("ALTER SYSTEM SET \"DateStyle\" = 'ISO, YMD'");
  staging_.exec("SELECT pg_reload_conf()");
  const std::string before = auto_conf();
  // DateStyle is written first; the server refuses the time zone (its check runs only on the write).
  const CommandResult r = pgparity(
      {"apply", "-f", manifest("settings:\n  values:\n    DateStyle: \"ISO, DMY\"\n    TimeZone: Mars/Olympus\n"),
       "--auto-approve"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("setting failed"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("put back as it was for DateStyle"), std::string::npos) << r.out;
  EXPECT_EQ(auto_conf(), before);
  EXPECT_EQ(staging_.query_value("SHOW \"DateStyle\""), "ISO, YMD");
  EXPECT_EQ(staging_.query_value("SELECT count(*) FROM pgparity.runs WHERE status = 'failed' AND database = ''"), "1")
      << "settings runs are journaled";
}

TEST_F(Settings, AConfigurationFileWithErrorsBlocksSettingsAndNothingIsWritten) {
  staging_.exec("ALTER SYSTEM SET lock_timeout = '3s'");
  staging_.exec("SELECT pg_reload_conf()");
  const std::string before = auto_conf();
  // A syntax error in postgresql.conf's included file: a reload would apply nothing, and pg_file_settings
  // stops listing at the error, so postgresql.auto.conf's entries (lock_timeout = 3s) are not shown.
  std::ofstream(staging_.dir() + "/data/pgparity-cluster.conf", std::ios::app) << "this line is not a setting\n";
  const CommandResult r = pgparity(
      {"apply", "-f", manifest("settings:\n  values:\n    lock_timeout: 9s\n    work_mem: 8MB\n"), "--auto-approve"});
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_NE(r.out.find("configuration files have errors"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("pgparity-cluster.conf:"), std::string::npos) << "the file and line are named\n" << r.out;
  EXPECT_EQ(auto_conf(), before) << "nothing written into a file that cannot be read in full";
}

TEST_F(Settings, ASettingOnTheCommandLineIsABlockerNeverWrittenAndNeverAPendingRestart) {
  // As Patroni starts PostgreSQL: max_connections and work_mem on the postmaster's command line.
  staging_.restart({"max_connections=100", "work_mem=1MB"});
  const std::string before = auto_conf();
  const std::string m = manifest("settings:\n  values:\n    max_connections: \"150\"\n    work_mem: 4MB\n");
  CommandResult r = pgparity({"apply", "-f", m, "--auto-approve"});
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_NE(r.out.find("max_connections is 100 from the server's command line"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("patronictl edit-config"), std::string::npos) << r.out;
  EXPECT_EQ(auto_conf(), before) << "nothing written that the server would never run";
  // Even with the value already in postgresql.auto.conf, it is no pending restart: a restart would not apply it.
  staging_.exec("ALTER SYSTEM SET max_connections = 150");
  r = pgparity({"plan", "-f", m});
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_EQ(r.out.find("pending restart"), std::string::npos) << r.out;
  staging_.restart({"max_connections=100", "work_mem=1MB"});
  EXPECT_EQ(staging_.query_value("SHOW max_connections"), "100") << "the command line outranks the file";
}

class Preloaded : public Settings {
 protected:
  Preloaded() : Settings({{"shared_preload_libraries", "auto_explain"}}) {}
};

TEST_F(Preloaded, ManagedPreloadAddsALibraryNextToTheLoadedOneAndBothLoadAfterARestart) {
  const std::string m = manifest("settings:\n  preload: [pg_stat_statements]\npolicy:\n  manage_preload: true\n");
  const CommandResult r = pgparity({"apply", "-f", m, "--auto-approve"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("ALTER SYSTEM SET \"shared_preload_libraries\" = 'auto_explain', 'pg_stat_statements'"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(pgparity({"plan", "-f", m}).exit_code, 0) << "written, pending a restart";
  staging_.restart();
  EXPECT_EQ(staging_.query_value("SHOW shared_preload_libraries"), "auto_explain, pg_stat_statements");
  staging_.exec("CREATE EXTENSION pg_stat_statements");
  EXPECT_NE(staging_.query_value("SELECT count(*) FROM pg_stat_statements"), "");
}

TEST_F(Preloaded, APreloadLibraryWithoutItsFileIsABlockerAndNothingIsWritten) {
  const std::string before = auto_conf();
  const CommandResult r = pgparity(
      {"apply", "-f", manifest("settings:\n  preload: [pgparity_no_such_library]\npolicy:\n  manage_preload: true\n"),
       "--auto-approve"});
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_NE(r.out.find("library pgparity_no_such_library has no file"), std::string::npos) << r.out;
  EXPECT_EQ(auto_conf(), before);
}

TEST_F(Settings, ARoleGrantedAlterSystemOnOneParameterChangesItAndIsToldWhichGrantTheOtherNeeds) {
  staging_.exec(
      "CREATE ROLE tuner LOGIN; GRANT ALTER SYSTEM ON PARAMETER work_mem TO tuner;"
      "GRANT CREATE ON DATABASE postgres TO tuner");
  // A private override of the role: it must never become the cluster's value (issue 23, finding 8).
  staging_.exec("ALTER ROLE tuner SET work_mem = '77MB'");
  const std::string m = manifest("settings:\n  values:\n    work_mem: 8MB\n");
  const CommandResult no_reload = pgparity({"plan", "-f", m}, "tuner");
  EXPECT_EQ(no_reload.exit_code, 3) << no_reload.out << no_reload.err;
  EXPECT_NE(no_reload.out.find("GRANT EXECUTE ON FUNCTION pg_catalog.pg_reload_conf() TO"), std::string::npos)
      << no_reload.out;
  staging_.exec("GRANT EXECUTE ON FUNCTION pg_catalog.pg_reload_conf() TO tuner");
  // Without postgresql.auto.conf, a rollback could only write the session's 77MB for everyone: blocked.
  const std::string before = auto_conf();
  const CommandResult no_file = pgparity({"apply", "-f", m, "--auto-approve"}, "tuner");
  EXPECT_EQ(no_file.exit_code, 3) << no_file.out << no_file.err;
  EXPECT_NE(no_file.out.find("GRANT SELECT ON pg_catalog.pg_file_settings TO"), std::string::npos) << no_file.out;
  EXPECT_EQ(auto_conf(), before);
  staging_.exec(
      "GRANT SELECT ON pg_catalog.pg_file_settings TO tuner;"
      "GRANT EXECUTE ON FUNCTION pg_catalog.pg_show_all_file_settings() TO tuner");
  // The role's own 77MB hides the server's value from its sessions: the server's value is the file's,
  // so the change is verified there, and the session's 77MB (78848 kB) never becomes the cluster's.
  const CommandResult r = pgparity({"apply", "-f", m, "--auto-approve"}, "tuner");
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(staging_.query_value("SHOW work_mem"), "8MB") << "a new superuser session";
  EXPECT_NE(auto_conf().find("work_mem = '8MB'"), std::string::npos) << auto_conf();
  EXPECT_EQ(auto_conf().find("78848"), std::string::npos) << auto_conf();
  const CommandResult again = pgparity({"plan", "-f", m}, "tuner");
  EXPECT_EQ(again.exit_code, 0) << "converged, though the role still sees its own 77MB\n" << again.out << again.err;
  pqxx::connection as_tuner(staging_.conninfo() + " user=tuner");
  EXPECT_EQ(pqxx::nontransaction(as_tuner).exec1("SHOW work_mem")[0].as<std::string>(), "77MB");

  const CommandResult denied =
      pgparity({"plan", "-f", manifest("settings:\n  values:\n    shared_buffers: 256MB\n")}, "tuner");
  EXPECT_EQ(denied.exit_code, 3) << denied.out << denied.err;
  EXPECT_NE(denied.out.find("GRANT ALTER SYSTEM ON PARAMETER \"shared_buffers\""), std::string::npos) << denied.out;
}

TEST_F(Settings, ASettingFixedAtConnectionStartIsVerifiedInTheFileAndConverges) {
  // log_connections is superuser-backend: a running session never shows a new value.
  const std::string m = manifest("settings:\n  values:\n    log_connections: \"on\"\n");
  const CommandResult r = pgparity({"apply", "-f", m, "--auto-approve"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(auto_conf().find("log_connections = 'on'"), std::string::npos) << auto_conf();
  EXPECT_EQ(staging_.query_value("SHOW log_connections"), "on") << "a new session";
  const CommandResult again = pgparity({"plan", "-f", m});
  EXPECT_EQ(again.exit_code, 0) << again.out << again.err;
}

TEST_F(Settings, AConnectionStringOrCommandSettingIsNeverManagedAndItsValueNeverShown) {
  staging_.exec("ALTER SYSTEM SET primary_conninfo = 'host=standby.internal password=replsecret'");
  staging_.exec("SELECT pg_reload_conf()");
  for (const std::string body : {"settings:\n  values:\n    primary_conninfo: \"host=other\"\n",
                                 "settings:\n  values:\n    archive_command: \"cp %p /tmp/x\"\n"}) {
    const std::string before = auto_conf();
    const CommandResult r = pgparity({"apply", "-f", manifest(body), "--auto-approve"});
    EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
    EXPECT_NE(r.out.find("holds a connection string or a command"), std::string::npos) << r.out;
    EXPECT_EQ((r.out + r.err).find("replsecret"), std::string::npos) << r.out << r.err;
    EXPECT_EQ(auto_conf(), before);
    const CommandResult md = pgparity({"plan", "-f", manifest(body), "--format", "markdown"});
    EXPECT_EQ((md.out + md.err).find("replsecret"), std::string::npos) << md.out;
  }
}

}  // namespace
}  // namespace pgparity::testing
