#include "reconciler/cli.hpp"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace pgparity::reconciler
