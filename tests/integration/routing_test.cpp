// The connection-routing layer: real PgBouncers in front of a real production
// and staging, their pools compared and their routes followed.
#include <gtest/gtest.h>

#include <fstream>

#include "tests/support/cluster.hpp"

namespace pgparity::testing {
namespace {

std::string admin(int port) {
  return "host=127.0.0.1 port=" + std::to_string(port) + " dbname=pgbouncer user=postgres";
}

class Routing : public ::testing::Test {
 protected:
  std::string manifest(int production_pooler, int staging_pooler, const std::string& body) {
    const std::string path = staging_.dir() + "/manifest.yaml";
    std::ofstream(path) << "apiVersion: pgparity/v1\ntargets:\n"
                        << "  production:\n    dsn: \"${PGPARITY_PROD_DSN}\"\n    role: reference\n"
                        << "    databases: [orders]\n    pooler:\n      admin_dsn: \"" << admin(production_pooler)
                        << "\"\n  staging:\n    dsn: \"${PGPARITY_STAGING_DSN}\"\n    role: managed\n"
                        << "    databases: [orders]\n    pooler:\n      admin_dsn: \"" << admin(staging_pooler)
                        << "\"\n"
                        << body;
    return path;
  }
  CommandResult pgparity(const std::vector<std::string>& args) {
    return run_pgparity(args, {{"PGPARITY_PROD_DSN", production_.conninfo("orders")},
                               {"PGPARITY_STAGING_DSN", staging_.conninfo("orders")}});
  }
  void SetUp() override {
    production_.exec("CREATE DATABASE orders");
    production_.exec("CREATE EXTENSION hstore", "orders");
    staging_.exec("CREATE DATABASE orders");
    staging_.exec("CREATE EXTENSION hstore VERSION '1.4'", "orders");
  }

  Cluster production_;
  Cluster staging_;
};

TEST_F(Routing, DiffReportsThePoolModeAndPoolSizeWhereTheTwoPoolersDiffer) {
  const int p = production_.start_bouncer("transaction", {"--set", "default_pool_size=20"});
  const int s = staging_.start_bouncer("session", {"--set", "default_pool_size=5"});
  const std::string m = manifest(p, s, "extensions:\n  - name: hstore\n    version: reference\n");
  const CommandResult r = pgparity({"diff", "-f", m, "production", "staging"});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.out.find("pooler  pool_mode  production=transaction  staging=session"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("pooler  default_pool_size  production=20  staging=5"), std::string::npos) << r.out;
  // The same pool settings on both sides: no pooler difference is reported.
  const CommandResult same = pgparity({"diff", "-f", manifest(s, s, ""), "production", "staging"});
  EXPECT_EQ(same.out.find("pooler"), std::string::npos) << same.out;
}

TEST_F(Routing, AStagingPoolerThatRoutesAnAliasToProductionBlocksThePlanNamingItAndNothingIsWritten) {
  const int p = production_.start_bouncer("transaction");
  const int s = staging_.start_bouncer("transaction", {"--route", "orders=" + production_.dir()});
  const std::string m = manifest(p, s, "extensions:\n  - name: hstore\n    version: \"1.8\"\n");
  const std::string catalog = "SELECT string_agg(extname || extversion, ',' ORDER BY extname) FROM pg_extension";
  const std::string production_before = production_.query_value(catalog, "orders");

  CommandResult r = pgparity({"plan", "-f", m});
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_NE(r.out.find("staging's pooler routes 'orders' to production's cluster"), std::string::npos) << r.out;
  r = pgparity({"apply", "-f", m, "--auto-approve"});
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_EQ(production_.query_value(catalog, "orders"), production_before);
  EXPECT_EQ(staging_.query_value(catalog, "orders"), "hstore1.4,plpgsql1.0");
  for (Cluster* c : {&production_, &staging_}) {
    EXPECT_EQ(c->query_value("SELECT count(*) FROM pg_namespace WHERE nspname = 'pgparity'", "orders"), "0");
  }
}

TEST_F(Routing, RatiosMayNamePoolerSettings) {
  const int p = production_.start_bouncer("transaction", {"--set", "default_pool_size=20"});
  const int s = staging_.start_bouncer("transaction", {"--set", "default_pool_size=50"});
  const std::string m =
      manifest(p, s,
               "settings:\n  ratios:\n    - expr: pooler.default_pool_size / max_connections\n      match: "
               "reference\n");
  const CommandResult r = pgparity({"plan", "-f", m});
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_NE(r.out.find("pooler.default_pool_size / max_connections is 0.5 on staging, 0.2 on production"),
            std::string::npos)
      << r.out;
}

}  // namespace
}  // namespace pgparity::testing
