// Production is never reachable through a managed target: real throwaway clusters and a real standby.
#include <gtest/gtest.h>

#include <fstream>
#include <pqxx/pqxx>

#include "state/catalog_read.hpp"
#include "state/connection.hpp"

#include "tests/support/cluster.hpp"

namespace pgparity::testing {
namespace {

std::string write_manifest(const std::string& path, const std::string& reference_dsn, const std::string& managed_dsn,
                           const std::string& body) {
  std::ofstream(path) << "apiVersion: pgparity/v1\ntargets:\n  production:\n    dsn: \"" << reference_dsn
                      << "\"\n    role: reference\n  staging:\n    dsn: \"" << managed_dsn << "\"\n    role: managed\n"
                      << body;
  return path;
}

TEST(Isolation, AManagedTargetThatReachesTheReferencesClusterUnderAnotherNameIsBlockedAndNothingIsWritten) {
  Cluster production;
  production.exec("CREATE EXTENSION hstore");
  const std::string port = std::to_string(production.port());
  const std::string m = write_manifest(production.dir() + "/manifest.yaml",
                                       "host=127.0.0.1 port=" + port + " user=postgres dbname=postgres",
                                       "host=localhost port=" + port + " user=postgres dbname=postgres",
                                       "extensions:\n  - name: hstore\n    ensure: absent\n");
  const CommandResult r = run_pgparity({"apply", "-f", m, "--auto-approve"});
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_NE(r.out.find("host='localhost' port='" + port + "') reaches the same cluster as the reference production ("),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("host='127.0.0.1' port='" + port + "')"), std::string::npos) << "names both DSNs\n" << r.out;
  EXPECT_EQ(production.query_value("SELECT extversion FROM pg_extension WHERE extname = 'hstore'"), "1.8");
  EXPECT_EQ(production.query_value("SELECT count(*) FROM pg_namespace WHERE nspname = 'pgparity'"), "0")
      << "not even the journal is written";
}

TEST(Isolation, AManagedTargetThatIsAStandbyIsBlocked) {
  Cluster production;
  Cluster primary;
  primary.exec("CREATE EXTENSION hstore VERSION '1.4'");
  const auto standby = Cluster::standby_of(primary);
  ASSERT_EQ(standby->query_value("SELECT pg_is_in_recovery()"), "t");
  const std::string m = write_manifest(primary.dir() + "/manifest.yaml", production.conninfo(), standby->conninfo(),
                                       "extensions:\n  - name: hstore\n    version: \"1.8\"\n");
  const CommandResult r = run_pgparity({"plan", "-f", m});
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_NE(r.out.find("points at a standby"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("use the primary"), std::string::npos) << r.out;
  // It names the primary it replicates from (after a switchover: the new leader), and how to follow it.
  EXPECT_NE(r.out.find("it replicates from " + primary.dir() + " port " + std::to_string(primary.port())),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("target_session_attrs=read-write"), std::string::npos) << r.out;
}

/// PgBouncer drops the startup options that make a session read-only by default, so what keeps a
/// reference read-only behind it is that every read pgparity makes is BEGIN READ ONLY (CatalogRead),
/// never a SET SESSION that would leak onto a server connection production's clients share.
TEST(Isolation, ThroughPgBouncerAReferenceSessionRefusesToWriteAndPlanningWritesNothing) {
  Cluster production;
  Cluster staging;
  production.exec("CREATE EXTENSION hstore");
  staging.exec("CREATE EXTENSION hstore VERSION '1.4'");
  const int bouncer = production.start_bouncer("transaction");
  const std::string through = "host=127.0.0.1 port=" + std::to_string(bouncer) + " dbname=postgres user=postgres";

  auto session = state::connect(through, state::Access::read_only);
  {
    pqxx::nontransaction raw(*session);
    EXPECT_EQ(raw.exec1("SHOW default_transaction_read_only")[0].as<std::string>(), "off")
        << "the pooler dropped the startup option: the hazard this test is about";
  }
  {
    state::CatalogRead read(*session);
    EXPECT_EQ(read.exec1("SHOW transaction_read_only")[0].as<std::string>(), "on");
    EXPECT_EQ(read.exec1("SHOW search_path")[0].as<std::string>(), "pg_catalog, pg_temp");
    EXPECT_EQ(read.exec1("SHOW statement_timeout")[0].as<std::string>(), "2min");
    try {
      read.exec("CREATE TABLE pgparity_must_not_exist (x int)");
      ADD_FAILURE() << "a reference read created a table through the pooler";
    } catch (const pqxx::sql_error& e) {
      EXPECT_EQ(e.sqlstate(), "25006");  // read_only_sql_transaction
    }
  }
  // The one-round-trip form an idle tick uses: the same guarantees, and nothing left on the session.
  {
    const auto row =
        state::CatalogRead::once(*session,
                                 "SELECT current_setting('transaction_read_only'), current_setting('search_path'), "
                                 "current_setting('statement_timeout')")[0];
    EXPECT_EQ(row[0].as<std::string>(), "on");
    EXPECT_EQ(row[1].as<std::string>(), "pg_catalog, pg_temp");
    EXPECT_EQ(row[2].as<std::string>(), "2min");
    try {
      state::CatalogRead::once(*session, "CREATE TABLE pgparity_must_not_exist (x int)");
      ADD_FAILURE() << "a one-round-trip reference read created a table through the pooler";
    } catch (const pqxx::sql_error& e) {
      EXPECT_EQ(e.sqlstate(), "25006");
    }
    pqxx::nontransaction raw(*session);
    EXPECT_EQ(raw.exec1("SHOW search_path")[0].as<std::string>(), "\"$user\", public");
    EXPECT_EQ(raw.exec1("SHOW transaction_read_only")[0].as<std::string>(), "off");
  }
  // A name planted ahead of pg_catalog on the session's path does not stand in for the catalog.
  {
    production.exec(
        "CREATE TABLE public.pg_extension (extname text); INSERT INTO public.pg_extension VALUES ('planted')");
    auto planted =
        state::connect(production.conninfo() + " options='-csearch_path=public,pg_catalog'", state::Access::read_only);
    EXPECT_EQ(
        state::CatalogRead::once(*planted, "SELECT string_agg(extname, ',' ORDER BY extname) FROM pg_extension")[0][0]
            .as<std::string>(),
        "hstore,plpgsql");
    production.exec("DROP TABLE public.pg_extension");
  }
  EXPECT_EQ(production.query_value("SELECT to_regclass('pgparity_must_not_exist') IS NULL"), "t");

  const std::string catalog = "SELECT string_agg(extname || extversion, ',' ORDER BY extname) FROM pg_extension";
  const std::string before = production.query_value(catalog);
  const std::string m = write_manifest(staging.dir() + "/manifest.yaml", through, staging.conninfo(),
                                       "extensions:\n  - name: hstore\n    version: reference\n");
  const CommandResult r = run_pgparity({"plan", "-f", m});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.out.find("hstore 1.4 → 1.8"), std::string::npos) << "the reference was read\n" << r.out;
  EXPECT_EQ(production.query_value(catalog), before);
  EXPECT_EQ(production.query_value("SELECT count(*) FROM pg_namespace WHERE nspname = 'pgparity'"), "0");
}

}  // namespace
}  // namespace pgparity::testing
