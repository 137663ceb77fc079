// Secrets never printed, values that break DSNs escaped, validate offline: real clusters, real outputs grepped.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/support/cluster.hpp"

namespace pgparity::testing {
namespace {

/// Every output of a run, for grepping.
std::string everything(const CommandResult& r) { return r.out + "\n" + r.err; }

TEST(Secrets, ValidateChecksEveryExampleWithNoVariablesSetAndNotesTheUnsetOnes) {
  for (const auto& entry : std::filesystem::directory_iterator(PGPARITY_SOURCE_DIR "/examples")) {
    if (entry.path().extension() != ".yaml") continue;
    // The examples use ${PGPARITY_PROD_DSN} and friends; none is set here (a fork's pull request has no secrets).
    ASSERT_EQ(std::getenv("PGPARITY_PROD_DSN"), nullptr) << "the test needs PGPARITY_PROD_DSN unset";
    const CommandResult r = run_pgparity({"validate", "-f", entry.path().string()});
    EXPECT_EQ(r.exit_code, 0) << entry.path() << "\n" << r.out << r.err;
  }
  Cluster scratch;
  const std::string m = scratch.dir() + "/m.yaml";
  std::ofstream(m) << "apiVersion: pgparity/v1\ntargets:\n  production:\n    dsn: \"${PGPARITY_NEVER_SET_X}\"\n"
                      "    role: reference\n";
  const CommandResult noted = run_pgparity({"validate", "-f", m});
  EXPECT_EQ(noted.exit_code, 0) << noted.out << noted.err;
  EXPECT_NE(noted.err.find("note: " + m + ":4:11: environment variable PGPARITY_NEVER_SET_X is not set"),
            std::string::npos)
      << noted.err;
  const CommandResult plan = run_pgparity({"plan", "-f", m});
  EXPECT_EQ(plan.exit_code, 1) << "commands that connect still need it\n" << plan.out << plan.err;
  EXPECT_NE(plan.err.find("PGPARITY_NEVER_SET_X is not set"), std::string::npos) << plan.err;
}

TEST(Secrets, LibpqsParseErrorNeverEchoesAPassword) {
  const CommandResult r =
      run_pgparity({"export", "--dsn", "postgresql://u:SEC%zzRETX@127.0.0.1/db", "--name", "production"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_EQ(everything(r).find("SEC"), std::string::npos) << everything(r);
  EXPECT_NE(r.err.find("invalid percent-encoded token"), std::string::npos) << r.err;

  Cluster scratch;
  const std::string m = scratch.dir() + "/m.yaml";
  std::ofstream(m)
      << "apiVersion: pgparity/v1\ntargets:\n  production:\n    dsn: \"postgresql://u:${PGPARITY_PW}x%zz@h/db\"\n"
         "    role: reference\n";
  const CommandResult v = run_pgparity({"validate", "-f", m}, {{"PGPARITY_PW", "SEC%zzRETX"}});
  EXPECT_EQ(everything(v).find("SEC"), std::string::npos) << everything(v);
}

TEST(Secrets, PasswordsWithQuotesBackslashesSpacesAtPercentAndColonAreEscapedAndNeverPrinted) {
  Cluster staging;
  staging.exec("CREATE EXTENSION hstore VERSION '1.4'");
  const std::string password = "p'a\\ss w@r%d:1";
  const std::string socket = staging.dir();
  const std::string port = std::to_string(staging.port());
  // Trust authentication ignores the password; the DSN must still parse and connect, whatever it holds.
  for (const std::string& dsn :
       {"host=" + socket + " port=" + port + " user=postgres dbname=postgres password=${PGPARITY_PW}",
        "host='" + socket + "' port=" + port + " user=postgres password='${PGPARITY_PW}'",
        "postgresql://postgres:${PGPARITY_PW}@127.0.0.1:" + port + "/postgres"}) {
    const std::string m = staging.dir() + "/m.yaml";
    std::ofstream(m) << "apiVersion: pgparity/v1\ntargets:\n  staging:\n    dsn: \"" << dsn
                     << "\"\n    role: managed\nextensions:\n  - name: hstore\n    version: \"1.8\"\n";
    const std::string saved = staging.dir() + "/plan.json";
    for (const auto& args :
         std::vector<std::vector<std::string>>{{"plan", "-f", m, "--out", saved},
                                               {"plan", "-f", m, "--format", "json"},
                                               {"plan", "-f", m, "--format", "markdown"},
                                               {"--log-format", "json", "reconcile", "-f", m, "--once", "--plan-only",
                                                "--metrics-file", staging.dir() + "/metrics.prom"},
                                               {"check", "-f", m},
                                               {"doctor", "-f", m, "--target", "staging"}}) {
      const CommandResult r = run_pgparity(args, {{"PGPARITY_PW", password}});
      EXPECT_NE(r.exit_code, 1) << dsn << " " << args[0] << "\n" << r.out << r.err;
      EXPECT_EQ(everything(r).find("w@r%d"), std::string::npos) << args[0] << ": " << everything(r);
    }
    EXPECT_EQ(read_text(saved).find("w@r%d"), std::string::npos);
    EXPECT_EQ(read_text(staging.dir() + "/metrics.prom").find("w@r%d"), std::string::npos);
  }
}

TEST(Secrets, ExportOfATargetWritesALiteralPasswordAsAVariable) {
  Cluster production;
  const std::string m = production.dir() + "/m.yaml";
  std::ofstream(m) << "apiVersion: pgparity/v1\ntargets:\n  production:\n    dsn: \"" << production.conninfo()
                   << " password=hunter2secret\"\n    role: reference\n";
  const CommandResult r = run_pgparity({"export", "-f", m, "--target", "production"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(everything(r).find("hunter2secret"), std::string::npos) << everything(r);
  EXPECT_NE(r.out.find("password=${PGPARITY_PRODUCTION_PASSWORD}"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("# the password in production's dsn is written as ${PGPARITY_PRODUCTION_PASSWORD}"),
            std::string::npos)
      << r.out;
}

}  // namespace
}  // namespace pgparity::testing
