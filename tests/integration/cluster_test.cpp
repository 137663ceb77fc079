// The throwaway clusters every integration test stands on, and the fixture
// extensions, exercised through the real server.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "tests/support/cluster.hpp"

namespace pgparity::testing {
namespace {

TEST(Cluster, TwoClustersRunAtOnceWithTheirOwnMemorySettings) {
  Cluster production({{"work_mem", "4MB"}, {"shared_buffers", "128MB"}, {"max_connections", "50"}});
  Cluster staging({{"work_mem", "16MB"}, {"shared_buffers", "32MB"}, {"max_connections", "40"}});
  ASSERT_NE(production.port(), staging.port());

  const std::string bytes =
      "SELECT pg_size_bytes(current_setting('work_mem')) || '/' || "
      "pg_size_bytes(current_setting('shared_buffers')) || '/' || current_setting('max_connections')";
  EXPECT_EQ(production.query_value(bytes), "4194304/134217728/50");
  EXPECT_EQ(staging.query_value(bytes), "16777216/33554432/40");
}

TEST(Cluster, ServerListensOnlyOnLoopbackAndItsOwnSocketDirectory) {
  Cluster cluster;
  EXPECT_EQ(cluster.query_value("SHOW listen_addresses"), "127.0.0.1");
  EXPECT_EQ(cluster.query_value("SHOW unix_socket_directories"), cluster.dir());
  EXPECT_EQ(cluster.query_value("SHOW port"), std::to_string(cluster.port()));
}

TEST(Cluster, FixtureExtensionUpdatesFrom1_0To2_0AlongThePathTheServerChooses) {
  Cluster cluster;
  cluster.exec("CREATE EXTENSION pgparity_test_versions VERSION '1.0'");
  EXPECT_EQ(cluster.query_value("SELECT path FROM pg_extension_update_paths('pgparity_test_versions') "
                                "WHERE source = '1.0' AND target = '2.0'"),
            "1.0--1.1--2.0");
  cluster.exec("ALTER EXTENSION pgparity_test_versions UPDATE TO '2.0'");
  EXPECT_EQ(cluster.query_value("SELECT extversion FROM pg_extension WHERE extname = 'pgparity_test_versions'"), "2.0");
  EXPECT_EQ(cluster.query_value("SELECT pgparity_test_versions_version()"), "2.0");
}

TEST(Cluster, FixtureVersion3_0IsAvailableButHasNoUpdatePathFrom2_0) {
  Cluster cluster;
  EXPECT_EQ(cluster.query_value("SELECT count(*) FROM pg_available_extension_versions "
                                "WHERE name = 'pgparity_test_versions' AND version = '3.0'"),
            "1");
  EXPECT_EQ(
      cluster.query_value("SELECT coalesce(path, 'none') FROM pg_extension_update_paths('pgparity_test_versions') "
                          "WHERE source = '2.0' AND target = '3.0'"),
      "none");
}

TEST(Cluster, FailingFixtureUpdateLeavesTheExtensionAsItWas) {
  Cluster cluster;
  cluster.exec("CREATE EXTENSION pgparity_test_fails VERSION '1.0'");
  EXPECT_ANY_THROW(cluster.exec("ALTER EXTENSION pgparity_test_fails UPDATE TO '1.1'"));
  EXPECT_EQ(cluster.query_value("SELECT extversion FROM pg_extension WHERE extname = 'pgparity_test_fails'"), "1.0");
  EXPECT_EQ(cluster.query_value("SELECT to_regclass('pgparity_test_fails_partial')::text"), "");
}

TEST(Cluster, FixtureRequiresChainIsInstalledBottomUp) {
  Cluster cluster;
  cluster.exec("CREATE EXTENSION pgparity_test_top CASCADE");
  EXPECT_EQ(cluster.query_value("SELECT string_agg(extname, ',' ORDER BY oid) FROM pg_extension "
                                "WHERE extname LIKE 'pgparity_test_%'"),
            "pgparity_test_base,pgparity_test_mid,pgparity_test_top");
}

TEST(Cluster, RestartLoadsANewSharedPreloadLibraryList) {
  Cluster cluster;
  EXPECT_EQ(cluster.query_value("SHOW shared_preload_libraries"), "");
  EXPECT_ANY_THROW(cluster.exec("CREATE EXTENSION pg_stat_statements; SELECT count(*) FROM pg_stat_statements"));

  cluster.set("shared_preload_libraries", "pg_stat_statements");
  cluster.restart();
  EXPECT_EQ(cluster.query_value("SHOW shared_preload_libraries"), "pg_stat_statements");
  cluster.exec("CREATE EXTENSION pg_stat_statements");
  EXPECT_NE(cluster.query_value("SELECT count(*) FROM pg_stat_statements"), "");
}

TEST(Cluster, TestsMayRemoveExtensionScriptsWithoutTouchingTheMachinesInstallation) {
  Cluster cluster;
  const std::filesystem::path script = cluster.extension_dir() + "/pgparity_test_versions--3.0.sql";
  ASSERT_TRUE(std::filesystem::exists(script));
  std::filesystem::remove(script);
  EXPECT_EQ(cluster.query_value("SELECT count(*) FROM pg_available_extension_versions "
                                "WHERE name = 'pgparity_test_versions' AND version = '3.0'"),
            "0");
  // A real extension's file in the private folder is a link to the machine's copy; removing the link leaves the copy.
  const std::filesystem::path control = cluster.extension_dir() + "/hstore.control";
  ASSERT_TRUE(std::filesystem::is_symlink(control));
  const auto target = std::filesystem::read_symlink(control);
  std::filesystem::remove(control);
  EXPECT_TRUE(std::filesystem::exists(target));
  EXPECT_EQ(cluster.query_value("SELECT count(*) FROM pg_available_extensions WHERE name = 'hstore'"), "0");
}

TEST(Cluster, DestroyStopsTheServerAndRemovesItsDirectory) {
  std::string dir;
  pid_t pid = 0;
  {
    Cluster cluster;
    dir = cluster.dir();
    pid = cluster.postmaster_pid();
    ASSERT_GT(pid, 0);
    ASSERT_EQ(kill(pid, 0), 0);
  }
  EXPECT_FALSE(std::filesystem::exists(dir));
  EXPECT_NE(kill(pid, 0), 0) << "postmaster " << pid << " still runs";
}

TEST(Cluster, SweepDestroysTheClustersOfAnOwnerThatIsGone) {
  // A process that exits at once stands for a test that was killed.
  std::string pid_text;
  ASSERT_EQ(run_program("/bin/sh", {"-c", "echo $$"}, &pid_text), 0);
  const std::string owner = pid_text.substr(0, pid_text.find('\n'));
  const std::string dir = pgcluster({"create", "--owner", owner});
  ASSERT_TRUE(std::filesystem::exists(dir));
  pgcluster({"sweep"});
  EXPECT_FALSE(std::filesystem::exists(dir));
}

// Not run by itself: the helper process of the next test. It makes a cluster,
// says where, and waits to be killed.
TEST(Cluster, DISABLED_HelperHoldsAClusterUntilInterrupted) {
  Cluster cluster;
  std::ofstream(std::getenv("PGPARITY_HELPER_OUT")) << cluster.dir() << std::endl;
  std::this_thread::sleep_for(std::chrono::seconds(120));
}

TEST(Cluster, AnInterruptedTestProcessTakesItsClustersWithIt) {
  const std::string out_file = std::filesystem::temp_directory_path() / ("pgparity-helper-" + std::to_string(getpid()));
  std::filesystem::remove(out_file);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    setenv("PGPARITY_HELPER_OUT", out_file.c_str(), 1);
    execl("/proc/self/exe", "helper", "--gtest_also_run_disabled_tests",
          "--gtest_filter=Cluster.DISABLED_HelperHoldsAClusterUntilInterrupted", static_cast<char*>(nullptr));
    _exit(127);
  }
  std::string dir;
  for (int i = 0; i < 600 && dir.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    std::ifstream in(out_file);
    std::getline(in, dir);
  }
  ASSERT_FALSE(dir.empty()) << "the helper made no cluster";
  ASSERT_TRUE(std::filesystem::exists(dir + "/data/postmaster.pid"));
  std::string pid_line;
  std::getline(std::ifstream(dir + "/data/postmaster.pid"), pid_line);
  const pid_t postmaster = std::stoi(pid_line);

  kill(child, SIGTERM);
  int status = 0;
  waitpid(child, &status, 0);
  std::filesystem::remove(out_file);
  EXPECT_FALSE(std::filesystem::exists(dir));
  EXPECT_NE(kill(postmaster, 0), 0) << "postmaster " << postmaster << " outlived its test";
}

}  // namespace
}  // namespace pgparity::testing
