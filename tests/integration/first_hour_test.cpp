// What a new user meets in the first hour, on real throwaway clusters.
#include <gtest/gtest.h>

#include <fstream>

#include "tests/support/cluster.hpp"

namespace pgparity::testing {
namespace {

class FirstHour : public ::testing::Test {
 protected:
  CommandResult pgparity(const std::vector<std::string>& args) {
    return run_pgparity(args, {{"PGPARITY_PROD_DSN", production_.conninfo()}, {"PGPARITY_STAGING_DSN", staging_.conninfo()}});
  }
  Cluster production_;
  Cluster staging_;
};

TEST_F(FirstHour, DoctorHistoryAndCheckNeedNoTargetWhenThereIsOneManagedTarget) {
  for (Cluster* c : {&production_, &staging_}) c->exec("CREATE EXTENSION hstore VERSION '1.4'");
  const std::string m =
      write_pair_manifest(staging_.dir() + "/m.yaml", "extensions:\n  - name: hstore\n    version: \"1.4\"\n");
  const CommandResult doctor = pgparity({"doctor", "-f", m});
  EXPECT_EQ(doctor.exit_code, 0) << doctor.out << doctor.err;
  const CommandResult history = pgparity({"history", "-f", m});
  EXPECT_EQ(history.exit_code, 0) << history.out << history.err;
  EXPECT_NE(history.out.find("no runs recorded on staging"), std::string::npos) << history.out;
  const CommandResult check = pgparity({"check", "-f", m, "--target", "staging"});
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
  const CommandResult wrong = pgparity({"check", "-f", m, "--target", "stagign"});
  EXPECT_EQ(wrong.exit_code, 1);
  EXPECT_NE(wrong.err.find("did you mean 'staging'"), std::string::npos) << wrong.err;
}

TEST_F(FirstHour, ExportIntoAFolderThatDoesNotExistYetMakesIt) {
  const std::string out = staging_.dir() + "/repo/pgparity/manifest.yaml";
  const CommandResult r = pgparity({"export", "--dsn", production_.conninfo(), "--name", "production", "-o", out});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(read_text(out).find("apiVersion: pgparity/v1"), std::string::npos);
}

TEST_F(FirstHour, VersionReferenceOnADatabaseTheReferenceLacksMirrorsTheAbsence) {
  for (Cluster* c : {&production_, &staging_}) c->exec("CREATE DATABASE app");
  production_.exec("CREATE EXTENSION hstore", "postgres");
  staging_.exec("CREATE EXTENSION hstore VERSION '1.4'", "postgres");
  staging_.exec("CREATE EXTENSION hstore VERSION '1.4'", "app");
  const std::string m = staging_.dir() + "/m.yaml";
  std::ofstream(m)
      << "apiVersion: pgparity/v1\ntargets:\n  production:\n    dsn: \"${PGPARITY_PROD_DSN}\"\n    role: reference\n"
         "    databases: [postgres, app]\n  staging:\n    dsn: \"${PGPARITY_STAGING_DSN}\"\n    role: managed\n"
         "    databases: [postgres, app]\n"
         "extensions:\n  - name: hstore\n    version: reference\npolicy:\n  drain:\n    quiet_for: 0s\n";
  const CommandResult plan = pgparity({"plan", "-f", m});
  EXPECT_EQ(plan.exit_code, 2) << plan.out << plan.err;
  EXPECT_EQ(plan.out.find("install it on the reference"), std::string::npos) << "never a hint to write production";
  const CommandResult r = pgparity({"apply", "-f", m, "--auto-approve"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(staging_.query_value("SELECT extversion FROM pg_extension WHERE extname = 'hstore'", "postgres"), "1.8");
  EXPECT_EQ(staging_.query_value("SELECT count(*) FROM pg_extension WHERE extname = 'hstore'", "app"), "0")
      << "production's app database has no hstore: neither has staging's";
}

}  // namespace
}  // namespace pgparity::testing
