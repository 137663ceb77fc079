// pgparity export against a real throwaway cluster.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "desired/loader.hpp"
#include "tests/support/cluster.hpp"

namespace pgparity::testing {
namespace {

const desired::Extension* find(const desired::Manifest& m, const std::string& name, const std::string& database = "") {
  for (const auto& e : m.extensions) {
    if (e.name.str() != name) continue;
    if (database.empty() && e.databases.empty()) return &e;
    for (const auto& db : e.databases) {
      if (db.str() == database) return &e;
    }
  }
  return nullptr;
}

class Export : public ::testing::Test {
 protected:
  void SetUp() override {
    cluster_.exec("CREATE DATABASE orders");
    cluster_.exec("CREATE EXTENSION hstore VERSION '1.4'; CREATE EXTENSION pg_trgm VERSION '1.3'");
    cluster_.exec(
        "CREATE EXTENSION earthdistance CASCADE; CREATE EXTENSION hstore; "
        "CREATE SCHEMA tools; CREATE EXTENSION pgparity_test_versions VERSION '1.1' SCHEMA tools",
        "orders");
  }
  Cluster cluster_{
      {{"work_mem", "8MB"}, {"shared_buffers", "64MB"}, {"shared_preload_libraries", "pg_stat_statements"}}};
};

TEST_F(Export, WritesEveryExtensionOfEveryDatabaseWithItsExactVersion) {
  const CommandResult r =
      run_pgparity({"export", "--dsn", cluster_.conninfo(), "--name", "production", "--databases", "*"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const desired::LoadResult loaded = desired::load_manifest_text(r.out, "exported.yaml");
  ASSERT_TRUE(loaded.ok()) << format(loaded.diagnostics) << r.out;
  const desired::Manifest& m = *loaded.manifest;

  // Per-database differences are kept: hstore is 1.4 in postgres and 1.8 in orders.
  ASSERT_NE(find(m, "hstore", "postgres"), nullptr) << r.out;
  EXPECT_EQ(find(m, "hstore", "postgres")->version.exact.str(), "1.4");
  ASSERT_NE(find(m, "hstore", "orders"), nullptr);
  EXPECT_EQ(find(m, "hstore", "orders")->version.exact.str(), "1.8");
  ASSERT_NE(find(m, "pg_trgm", "postgres"), nullptr);
  EXPECT_EQ(find(m, "pg_trgm", "postgres")->version.exact.str(), "1.3");
  EXPECT_EQ(find(m, "pg_trgm", "orders"), nullptr) << "pg_trgm is not in orders";
  ASSERT_NE(find(m, "cube", "orders"), nullptr);
  EXPECT_EQ(find(m, "cube", "orders")->version.exact.str(), "1.5");
  ASSERT_NE(find(m, "earthdistance", "orders"), nullptr);
  EXPECT_EQ(find(m, "earthdistance", "orders")->version.exact.str(), "1.1");
  ASSERT_NE(find(m, "pgparity_test_versions", "orders"), nullptr);
  EXPECT_EQ(find(m, "pgparity_test_versions", "orders")->version.exact.str(), "1.1");
  EXPECT_EQ(find(m, "pgparity_test_versions", "orders")->schema->str(), "tools");
  // Present everywhere at one version: a single entry without databases.
  ASSERT_NE(find(m, "plpgsql"), nullptr);
  EXPECT_EQ(find(m, "plpgsql")->version.exact.str(), "1.0");

  const desired::Target& t = m.targets.at("production");
  EXPECT_EQ(t.role, desired::Role::reference);
  EXPECT_TRUE(t.databases.all);
  EXPECT_EQ(m.settings.preload, std::vector<std::string>{"pg_stat_statements"});
  ASSERT_EQ(m.settings.ratios.size(), 3u);
  EXPECT_NE(r.out.find("\"work_mem / shared_buffers\"  # on production: 0.125"), std::string::npos) << r.out;
}

TEST_F(Export, GivesByteIdenticalOutputOnEveryRun) {
  const std::string out = cluster_.dir() + "/exported.yaml";
  const CommandResult first =
      run_pgparity({"export", "--dsn", cluster_.conninfo(), "--name", "production", "--databases", "*", "-o", out});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  std::ifstream in(out);
  const std::string file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const CommandResult second =
      run_pgparity({"export", "--dsn", cluster_.conninfo(), "--name", "production", "--databases", "*"});
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_EQ(file, second.out);
  EXPECT_FALSE(file.empty());
}

TEST_F(Export, ReadsATargetOfAManifestAndKeepsItsDsnUnexpanded) {
  const std::string manifest = cluster_.dir() + "/manifest.yaml";
  std::ofstream(manifest) << "apiVersion: pgparity/v1\ntargets:\n  prod:\n    dsn: \"${PGPARITY_TEST_DSN}\"\n"
                             "    role: reference\n    databases: [orders]\n";
  const CommandResult r = run_pgparity({"export", "-f", manifest, "--target", "prod"},
                                       {{"PGPARITY_TEST_DSN", cluster_.conninfo() + " password=s3cret"}});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("dsn: \"${PGPARITY_TEST_DSN}\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("databases: [\"orders\"]"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("pg_trgm"), std::string::npos) << "only orders was selected";
  EXPECT_EQ(r.out.find("s3cret"), std::string::npos);
  EXPECT_EQ(r.err.find("s3cret"), std::string::npos);
}

TEST_F(Export, ChangesNothingAndLeavesNoPasswordInTheFile) {
  const std::string catalog =
      "SELECT md5(string_agg(c.oid::text || c.relname, ',' ORDER BY c.oid)) || "
      "(SELECT string_agg(extname || extversion, ',' ORDER BY extname) FROM pg_extension) FROM pg_class c";
  const std::string before = cluster_.query_value(catalog) + cluster_.query_value(catalog, "orders");
  const CommandResult r = run_pgparity(
      {"export", "--dsn", cluster_.conninfo() + " password=s3cret", "--name", "production", "--databases", "*"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(cluster_.query_value(catalog) + cluster_.query_value(catalog, "orders"), before);
  EXPECT_EQ(r.out.find("s3cret"), std::string::npos);
  EXPECT_EQ(r.err.find("s3cret"), std::string::npos);
}

TEST_F(Export, AnUnknownTargetGetsADidYouMean) {
  const std::string manifest = cluster_.dir() + "/manifest.yaml";
  std::ofstream(manifest) << "apiVersion: pgparity/v1\ntargets:\n  production:\n    dsn: \"\"\n    role: reference\n";
  const CommandResult r = run_pgparity({"export", "-f", manifest, "--target", "prodution"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("no target 'prodution'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("did you mean 'production'?"), std::string::npos) << r.err;
}

TEST_F(Export, AMissingDatabaseIsAClearError) {
  const CommandResult r =
      run_pgparity({"export", "--dsn", cluster_.conninfo(), "--name", "production", "--databases", "orders,nope"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("database 'nope' does not exist"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace pgparity::testing
