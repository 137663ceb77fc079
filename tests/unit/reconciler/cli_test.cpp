#include "reconciler/cli.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "reconciler/version.hpp"

namespace pgparity::reconciler {
namespace {

struct CliRun {
  int code;
  std::string out;
  std::string err;
};

CliRun run_args(const std::vector<std::string>& args) {
  std::ostringstream out;
  std::ostringstream err;
  const int code = run_cli(args, out, err);
  return {code, out.str(), err.str()};
}

TEST(Cli, VersionPrintsTheBuildVersionAndSucceeds) {
  const CliRun r = run_args({"--version"});
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.out, std::string("pgparity ") + version + "\n");
}

TEST(Cli, HelpDescribesTheToolAndSucceeds) {
  const CliRun r = run_args({"--help"});
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("extension topology"), std::string::npos);
  EXPECT_NE(r.out.find("--log-level"), std::string::npos);
}

TEST(Cli, AnUnknownSubcommandIsBadInputWithExitOne) {
  const CliRun r = run_args({"frobnicate"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("error:"), std::string::npos);
  EXPECT_TRUE(r.out.empty());
}

TEST(Cli, ArgumentMistakesAreSaidInThePointsOwnWordsNotCli11s) {
  const CliRun diff = run_args({"diff", "-f", "m.yaml", "production"});
  EXPECT_EQ(diff.code, 1);
  EXPECT_EQ(diff.err,
            "error: diff: needs two target names, e.g. production staging (got 1)\n"
            "run 'pgparity diff --help' for usage\n");
  const CliRun missing = run_args({"plan"});
  EXPECT_EQ(missing.code, 1);
  EXPECT_NE(missing.err.find("error: plan: --file is required"), std::string::npos) << missing.err;
  EXPECT_EQ(missing.err.find("At least"), std::string::npos);
  const CliRun format = run_args({"plan", "-f", "m.yaml", "--format", "yaml"});
  EXPECT_EQ(format.code, 1);
  EXPECT_NE(format.err.find("error: plan: "), std::string::npos) << format.err;
  EXPECT_NE(format.err.find("run 'pgparity plan --help'"), std::string::npos) << format.err;
}

std::string write_temp(const std::string& name, const std::string& text) {
  const auto path = std::filesystem::temp_directory_path() / ("pgparity-cli-test-" + name);
  std::ofstream(path) << text;
  return path.string();
}

TEST(Validate, AValidManifestExitsZeroAndSaysWhatItHolds) {
  const std::string path =
      write_temp("valid.yaml",
                 "apiVersion: pgparity/v1\ntargets:\n  s:\n    dsn: \"host=x\"\n    role: managed\n"
                 "extensions:\n  - name: hstore\n    version: \"1.8\"\n");
  const CliRun r = run_args({"validate", "-f", path});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, path + ": valid (1 target, 1 extension entry)\n");
}

TEST(Validate, AnInvalidManifestExitsOneWithEveryProblem) {
  const std::string path =
      write_temp("invalid.yaml", "apiVersion: pgparity/v1\ntargets:\n  s:\n    dsn: \"host='x\"\n    role: boss\n");
  const CliRun r = run_args({"validate", "-f", path});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find(path + ":4:10: invalid target 's' dsn: unterminated quoted string"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(path + ":5:11: unknown role 'boss'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("2 problems found; nothing was connected or run"), std::string::npos) << r.err;
  EXPECT_TRUE(r.out.empty());
}

TEST(Validate, JsonOutputListsDiagnosticsWithTheirPositions) {
  const std::string path = write_temp("invalid-json.yaml", "apiVersion: pgparity/v1\ntargets:\n  s:\n    dsn: \"\"\n");
  const CliRun r = run_args({"validate", "-f", path, "--format", "json"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("\"valid\": false"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"line\": 4"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"message\": \"target 's' needs 'role'\""), std::string::npos) << r.out;
}

TEST(Validate, WithoutAFileIsBadInput) {
  const CliRun r = run_args({"validate"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("--file is required"), std::string::npos) << r.err;
}

TEST(Export, NeedsEitherATargetOrADsn) {
  const CliRun r = run_args({"export"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("export needs either --target NAME with -f MANIFEST, or --dsn DSN"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace pgparity::reconciler
