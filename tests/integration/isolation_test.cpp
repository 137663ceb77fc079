// Production is never reachable through a managed target: real throwaway clusters and a real standby.
#include <gtest/gtest.h>

#include <fstream>

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
}

}  // namespace
}  // namespace pgparity::testing
