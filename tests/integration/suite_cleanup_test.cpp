// Runs last (CTest fixture cleanup of every integration test): no throwaway
// server process and no cluster directory may outlive the tests that made them.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "tests/support/cluster.hpp"

namespace pgparity::testing {
namespace {

std::vector<std::string> server_processes_under(const std::string& root) {
  std::vector<std::string> found;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    std::ifstream in(entry.path() / "cmdline");
    std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    for (char& c : cmdline) c = c == '\0' ? ' ' : c;
    const bool server = cmdline.find("postgres") != std::string::npos || cmdline.find("pgbouncer") != std::string::npos;
    if (server && cmdline.find(root + "/") != std::string::npos) {
      found.push_back(entry.path().filename().string() + ": " + cmdline);
    }
  }
  return found;
}

TEST(SuiteCleanup, NoServerOrClusterDirectoryOutlivesTheSuite) {
  const char* root = std::getenv("PGPARITY_CLUSTER_ROOT");
  ASSERT_NE(root, nullptr) << "PGPARITY_CLUSTER_ROOT is set by CTest";
  const std::string leftovers = pgcluster({"list"});
  const auto processes = server_processes_under(root);
  // Leave the machine clean either way, then report what the tests left behind.
  pgcluster({"sweep"});
  EXPECT_EQ(leftovers, "") << "cluster directories left behind";
  EXPECT_TRUE(processes.empty()) << "server processes left behind: " << processes.size() << ", first: " << processes[0];
  EXPECT_TRUE(server_processes_under(root).empty());
}

}  // namespace
}  // namespace pgparity::testing
