// Every invalid manifest yields exactly the diagnostics listed, at file:line:col.
#include <gtest/gtest.h>

#include <map>

#include "desired/loader.hpp"

namespace pgparity::desired {
namespace {

// Eight lines every case below builds on; appended lines start at line 9.
const std::string base =
    "apiVersion: pgparity/v1\n"
    "targets:\n"
    "  prod:\n"
    "    dsn: \"host=p\"\n"
    "    role: reference\n"
    "  staging:\n"
    "    dsn: \"host=s\"\n"
    "    role: managed\n";

// A manifest with only a managed target, for rules that need a reference.
const std::string managed_only =
    "apiVersion: pgparity/v1\n"
    "targets:\n"
    "  staging:\n"
    "    dsn: \"host=s\"\n"
    "    role: managed\n";

struct Case {
  const char* name;
  std::string yaml;
  std::vector<std::string> expected;  // "line:col: message", in order
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

std::vector<std::string> diagnose(const std::string& yaml) {
  LoadOptions options;
  options.environment = [](const std::string& name) -> std::optional<std::string> {
    if (name == "PGPARITY_PROD_DSN") return "host=prod";
    return std::nullopt;
  };
  options.check_dsn = [](const std::string& dsn) -> std::optional<std::string> {
    if (dsn.find('\'') != std::string::npos && dsn.find("''") == std::string::npos) return "unterminated quote";
    return std::nullopt;
  };
  const LoadResult result = load_manifest_text(yaml, "m.yaml", options);
  std::vector<std::string> out;
  for (const auto& d : result.diagnostics) out.push_back(d.str().substr(std::string("m.yaml:").size()));
  EXPECT_EQ(result.ok(), out.empty());
  return out;
}

const std::vector<Case> cases = {
    {"UnsupportedApiVersion",
     "apiVersion: pgparity/v2\n" + base.substr(base.find('\n') + 1),
     {"1:13: unsupported apiVersion 'pgparity/v2': this build reads pgparity/v1"}},
    {"MissingApiVersion", base.substr(base.find('\n') + 1), {"1:1: the manifest needs 'apiVersion'"}},
    {"MisspelledTopLevelKey",
     base + "extension:\n  - name: hstore\n    version: \"1.8\"\n",
     {"9:1: unknown key 'extension' in the manifest (did you mean 'extensions'?)"}},
    {"MissingTargets", "apiVersion: pgparity/v1\n", {"1:1: the manifest needs 'targets'"}},
    {"MisspelledTargetKeyAndMissingRole",
     base + "  qa:\n    dsn: \"host=q\"\n    rol: managed\n",
     {"10:5: target 'qa' needs 'role'", "11:5: unknown key 'rol' in target 'qa' (did you mean 'role'?)"}},
    {"UnknownRole",
     base + "  qa:\n    dsn: \"host=q\"\n    role: primary\n",
     {"11:11: unknown role 'primary': use reference or managed"}},
    {"TwoReferenceTargets",
     base + "  dr:\n    dsn: \"host=d\"\n    role: reference\n",
     {"9:3: only one target may have role: reference (also 'prod')"}},
    {"BadTargetName",
     base + "  \"qa;x\":\n    dsn: \"host=q\"\n    role: managed\n",
     {"9:3: bad target name 'qa;x': use letters, digits, '_' and '-'"}},
    {"UnsetEnvironmentVariable",
     base + "  qa:\n    dsn: \"host=${PGPARITY_NOPE}\"\n    role: managed\n",
     {"10:16: environment variable PGPARITY_NOPE is not set (used in target 'qa' dsn)"}},
    {"MalformedVariableReference",
     base + "  qa:\n    dsn: \"host=${PGPARITY_NOPE\"\n    role: managed\n",
     {"10:16: malformed ${...} in target 'qa' dsn: write ${NAME}, or $${ for a literal ${"}},
    {"InvalidDsnSyntax",
     base + "  qa:\n    dsn: \"host='q\"\n    role: managed\n",
     {"10:10: invalid target 'qa' dsn: unterminated quote"}},
    {"StarMixedWithDatabaseNames",
     base + "  qa:\n    dsn: \"host=q\"\n    role: managed\n    databases: [\"*\", orders]\n",
     {"12:17: '*' in target 'qa' databases already selects every database"}},
    {"BadDatabasePattern",
     base + "  qa:\n    dsn: \"host=q\"\n    role: managed\n    databases: [\"app_[0-9\"]\n",
     {"12:17: bad database pattern 'app_[0-9' in target 'qa' databases: use name characters with *, ? and [...] "
      "classes, e.g. app_* or shard_[0-9]"}},
    {"ExcludeWithoutAPattern",
     base + "  qa:\n    dsn: \"host=q\"\n    role: managed\n    databases: [a, b]\n    exclude: [b]\n",
     {"13:14: target 'qa' exclude takes databases out of '*' or a pattern; with a list of names, leave the name "
      "out of databases instead"}},
    {"RolloutWavesThatShrinkOrStopShort",
     base + "policy:\n  rollout:\n    waves: [\"50%\", \"10%\"]\n",
     {"11:12: the last rollout wave must be \"100%\", or some databases would never converge",
      "11:20: rollout waves must grow: 10% after 50%"}},
    {"EmptyDatabaseList",
     base + "  qa:\n    dsn: \"host=q\"\n    role: managed\n    databases: []\n",
     {"12:16: target 'qa' databases must not be empty: leave it out for the DSN's database"}},
    {"DuplicateKeyInTarget",
     base + "  qa:\n    dsn: \"host=q\"\n    role: managed\n    role: reference\n",
     {"12:5: duplicate key 'role' in target 'qa' (first at 11:5)"}},
    {"ExtensionWithoutVersion",
     base + "extensions:\n  - name: hstore\n",
     {"10:5: extension 'hstore' needs a version (an exact version, reference or default) or ensure: absent"}},
    {"VersionAndEnsureAbsentTogether",
     base + "extensions:\n  - name: citext\n    ensure: absent\n    version: \"1.6\"\n",
     {"12:14: extension 'citext' has ensure: absent and a version: choose one"}},
    {"DuplicateExtension",
     base + "extensions:\n  - name: hstore\n    version: \"1.8\"\n  - name: hstore\n    version: \"1.4\"\n",
     {"12:11: duplicate extension 'hstore' (first at 10:11): give each entry its own databases"}},
    {"DuplicateExtensionInOneDatabase",
     base + "extensions:\n  - name: hstore\n    version: \"1.8\"\n    databases: [a, b]\n"
            "  - name: hstore\n    version: \"1.4\"\n    databases: [b]\n",
     {"13:11: duplicate extension 'hstore' (first at 10:11) for database 'b': give each entry its own databases"}},
    {"InjectionInExtensionName",
     base + "extensions:\n  - name: 'x\"; DROP TABLE t; --'\n    version: \"1.0\"\n",
     {"10:11: bad name 'x\"; DROP TABLE t; --' in extension name: use a letter or '_' first, then letters, digits, "
      "'_', '$' or '-' (63 at most)"}},
    {"BadVersionString",
     base + "extensions:\n  - name: hstore\n    version: \"1.0--2\"\n",
     {"11:14: bad version '1.0--2' for extension 'hstore': use letters, digits, '.', '_', '+', '~' and single '-' "
      "(e.g. \"1.10\"), or reference, or default"}},
    {"UnquotedNumericVersion",
     base + "extensions:\n  - name: pg_trgm\n    version: 1.10\n",
     {"11:14: extension 'pg_trgm' version must be a string; YAML reads 1.10 as a number: quote it (\"1.10\")"}},
    {"ReferenceVersionWithoutReferenceTarget",
     managed_only + "extensions:\n  - name: hstore\n    version: reference\n",
     {"8:14: version: reference needs a target with role: reference"}},
    {"UnknownEnsure",
     base + "extensions:\n  - name: citext\n    ensure: gone\n",
     {"11:13: unknown ensure 'gone' for extension 'citext': use present or absent"}},
    {"PreloadIsNotABoolean",
     base + "extensions:\n  - name: pg_cron\n    version: \"1.4\"\n    preload: yes\n",
     {"12:14: extension 'pg_cron' preload must be true or false"}},
    {"ExtensionsIsNotAList",
     base + "extensions:\n  name: hstore\n",
     {"10:3: extensions must be a list, not a mapping"}},
    {"RatioWithoutMatchOrBounds",
     base + "settings:\n  ratios:\n    - expr: work_mem / shared_buffers\n",
     {"11:7: a ratio needs match: reference or a min and/or max bound"}},
    {"RatioWithMatchAndBounds",
     base + "settings:\n  ratios:\n    - expr: work_mem / shared_buffers\n      match: reference\n      max: 0.5\n",
     {"11:7: a ratio has match: reference or min/max bounds, not both"}},
    {"ToleranceWithoutMatch",
     base + "settings:\n  ratios:\n    - expr: work_mem / shared_buffers\n      max: 0.5\n      tolerance: 0.1\n",
     {"13:18: ratio tolerance applies only with match: reference"}},
    {"RatioExpressionWithTwoOperators",
     base + "settings:\n  ratios:\n    - expr: \"work_mem / / shared_buffers\"\n      max: 1\n",
     {"11:25: bad ratio expression: unexpected '/': expected a setting name, a number or '('"}},
    {"RatioExpressionWithUnclosedParenthesis",
     base + "settings:\n  ratios:\n    - expr: (work_mem / shared_buffers\n      max: 1\n",
     {"11:39: bad ratio expression: expected ')'"}},
    {"RatioMinAboveMax",
     base + "settings:\n  ratios:\n    - expr: work_mem / shared_buffers\n      min: 2\n      max: 1\n",
     {"12:12: ratio min is greater than its max"}},
    {"RatioMatchWithoutReferenceTarget",
     managed_only + "settings:\n  ratios:\n    - expr: work_mem / shared_buffers\n      match: reference\n",
     {"9:14: match: reference needs a target with role: reference"}},
    {"NegativeTolerance",
     base + "settings:\n  ratios:\n    - expr: work_mem\n      match: reference\n      tolerance: -0.1\n",
     {"13:18: ratio tolerance must not be negative"}},
    {"BadSettingName",
     base + "settings:\n  values:\n    \"work mem\": 4MB\n",
     {"11:5: bad name 'work mem' in settings values: use a letter or '_' first, then letters, digits, '_', '$' or "
      "'.'"}},
    {"BadPreloadLibrary",
     base + "settings:\n  preload: [\"pg_stat; rm\"]\n",
     {"10:13: bad library name 'pg_stat; rm' in settings preload"}},
    {"BadDuration",
     base + "policy:\n  lock_timeout: 30 seconds\n",
     {"10:17: bad duration '30 seconds' for policy lock_timeout: use e.g. 500ms, 30s, 5m, 1h30m"}},
    {"UnquotedNumberAsDuration",
     base + "policy:\n  lock_timeout: 30\n",
     {"10:17: policy lock_timeout must be a string; YAML reads 30 as a number: quote it (\"30\")"}},
    {"MisspelledDrainKey",
     base + "policy:\n  drain:\n    quiet_fr: 30s\n",
     {"11:5: unknown key 'quiet_fr' in policy drain (did you mean 'quiet_for'?)"}},
    {"RestartTimeoutTooShortToFinishARestart",
     base + "policy:\n  restart:\n    allowed: true\n    timeout: 1s\n",
     {"12:14: policy restart timeout must be at least 10s: a restart killed midway leaves the server down"}},
    {"RestartCommandOnAReference",
     "apiVersion: pgparity/v1\ntargets:\n  prod:\n    dsn: \"host=p\"\n    role: reference\n    restart:\n"
     "      command: [\"/bin/true\"]\n",
     {"7:7: target 'prod' is a reference: pgparity never restarts a reference"}},
    {"RelativeRestartCommand",
     base + "    restart:\n      command: [pg_ctlcluster, \"15\", main, restart]\n",
     {"10:16: target 'staging' restart command must start with the program's absolute path, e.g. "
      "[\"/usr/bin/pg_ctlcluster\", \"15\", \"main\", \"restart\"] (it runs without a shell)"}},
    {"PatroniURLWithAPasswordAndAPath",
     base + "    patroni:\n      url: \"http://admin:secret@10.0.0.5:8008/latest\"\n",
     {"10:12: target 'staging' patroni url must be scheme://host[:port] and nothing else (no user, password, path "
      "or query), e.g. \"http://10.0.0.5:8008\""}},
    {"PatroniAndARestartCommandTogether",
     base + "    patroni:\n      url: \"http://10.0.0.5:8008\"\n    restart:\n      command: [\"/bin/true\"]\n",
     {"12:7: target 'staging' names both patroni and restart: Patroni restarts its own members"}},
    {"UnknownRecreatePolicy",
     base + "policy:\n  recreate: alway\n",
     {"10:13: unknown recreate 'alway': use never, in-window or always (did you mean 'always'?)"}},
    {"InWindowWithoutWindow",
     base + "policy:\n  recreate: in-window\n",
     {"10:13: recreate: in-window needs a policy maintenance_window"}},
    {"UnquotedTimeOfDay",
     base + "policy:\n  maintenance_window:\n    days: [sat]\n    start: 12:30\n    end: \"14:00\"\n",
     {"12:12: policy maintenance_window start must be a string; YAML reads 12:30 as a time: quote it (\"12:30\")"}},
    {"UnknownDay",
     base + "policy:\n  maintenance_window:\n    days: [sat, sn]\n    start: \"02:00\"\n    end: \"04:00\"\n",
     {"11:17: unknown day 'sn': use mon, tue, wed, thu, fri, sat, sun (did you mean 'sun'?)"}},
    {"EmptyWindow",
     base + "policy:\n  maintenance_window:\n    days: [sat]\n    start: \"02:00\"\n    end: \"02:00\"\n",
     {"11:5: policy maintenance_window start and end are equal: the window would be empty"}},
    {"NotATimezoneName",
     base + "policy:\n  maintenance_window:\n    days: [sat]\n    start: \"02:00\"\n    end: \"04:00\"\n"
            "    timezone: Europe/../../etc/passwd\n",
     {"14:15: not a timezone name 'Europe/../../etc/passwd': use an IANA name such as UTC or Europe/Berlin"}},
    {"QuotedBoolean",
     base + "policy:\n  allow_data_loss: \"true\"\n",
     {"10:20: policy allow_data_loss must be true or false"}},
    {"HealthQueryIsNotAString",
     base + "policy:\n  health:\n    postgis: {sql: x}\n",
     {"11:14: health query for 'postgis' must be a string, not a mapping"}},
    {"InvalidYaml", base + "extensions: [\n", {"10:1: invalid YAML: end of sequence flow not found"}},
    {"NotAMapping", "- just\n- a list\n", {"1:1: the manifest must be a mapping, not a list"}},
};

class InvalidManifest : public ::testing::TestWithParam<Case> {};

TEST_P(InvalidManifest, IsRejectedWithExactlyTheseDiagnostics) {
  EXPECT_EQ(diagnose(GetParam().yaml), GetParam().expected);
}

INSTANTIATE_TEST_SUITE_P(Loader, InvalidManifest, ::testing::ValuesIn(cases),
                         [](const ::testing::TestParamInfo<Case>& info) { return std::string(info.param.name); });

TEST(Loader, TheBaseOfTheInvalidCasesIsItselfValid) { EXPECT_TRUE(diagnose(base).empty()); }

TEST(Loader, ReportsEveryProblemOfAFileInOneRun) {
  const std::string yaml = base +
                           "  qa:\n    dsn: \"${PGPARITY_NOPE}\"\n    role: boss\n"
                           "extensions:\n  - name: hstore\n  - name: citext\n    version: 1.6\n"
                           "settings:\n  ratios:\n    - expr: work_mem *\n      max: 1\n"
                           "policy:\n  lock_timeout: soon\n  recreat: never\n";
  const auto found = diagnose(yaml);
  ASSERT_EQ(found.size(), 7u) << ::testing::PrintToString(found);
  EXPECT_NE(found[0].find("PGPARITY_NOPE is not set"), std::string::npos);
  EXPECT_NE(found[1].find("unknown role 'boss'"), std::string::npos);
  EXPECT_NE(found[2].find("'hstore' needs a version"), std::string::npos);
  EXPECT_NE(found[3].find("YAML reads 1.6 as a number"), std::string::npos);
  EXPECT_NE(found[4].find("bad ratio expression"), std::string::npos);
  EXPECT_NE(found[5].find("bad duration 'soon'"), std::string::npos) << "in the order of the file";
  EXPECT_NE(found[6].find("did you mean 'recreate'"), std::string::npos);
}

TEST(Loader, AMissingFileIsReportedWithItsName) {
  const LoadResult result = load_manifest_file("/nonexistent/manifest.yaml");
  ASSERT_EQ(result.diagnostics.size(), 1u);
  EXPECT_EQ(result.diagnostics[0].str(),
            "/nonexistent/manifest.yaml: cannot read the manifest: No such file or directory");
}

}  // namespace
}  // namespace pgparity::desired

namespace pgparity::desired {
namespace {

TEST(Loader, AManifestNested200000LevelsDeepIsRefusedWithAMessageNotACrash) {
  for (const std::string& body : {std::string(200000, '[') + std::string(200000, ']'), [] {
                                    std::string dashes;
                                    for (int i = 0; i < 200000; ++i) dashes += "- ";
                                    return dashes + "x";
                                  }()}) {
    const LoadResult r = load_manifest_text("apiVersion: pgparity/v1\ntargets: " + body + "\n", "deep.yaml");
    ASSERT_FALSE(r.ok());
    ASSERT_FALSE(r.diagnostics.empty());
    EXPECT_NE(r.diagnostics[0].message.find("nested deeper than 64 levels"), std::string::npos)
        << r.diagnostics[0].message;
    EXPECT_EQ(r.diagnostics[0].line, 2);
  }
}

TEST(Loader, QuotedBracketsCommentsAndDashedRulesAreNotNesting) {
  const LoadResult r = load_manifest_text(
      "# ------------------------------------------------------------------------------------\n"
      "apiVersion: pgparity/v1\n"
      "targets:\n  production:\n    dsn: \"host=x "
      "application_name=[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]\"\n"
      "    role: reference\n",
      "ok.yaml");
  EXPECT_TRUE(r.ok()) << format(r.diagnostics);
}

}  // namespace
}  // namespace pgparity::desired
