#include "planner/planner.hpp"

#include <gtest/gtest.h>

#include "planner/plan_file.hpp"
#include "planner/render.hpp"
#include "tests/unit/planner/fixtures.hpp"

namespace pgparity::planner {
namespace {

using namespace testing;  // NOLINT: the fixtures' builders

using Ids = std::vector<std::string>;

struct BlockerCase {
  const char* name;
  std::string body;
  Server staging;
  Server production;
  Ids codes;
  std::string message;  // of the first blocker
};

void PrintTo(const BlockerCase& c, std::ostream* os) { *os << c.name; }

const std::vector<BlockerCase> blocker_cases = {
    {"NoUpdatePathAndNoRecreate", "extensions:\n  - name: hypo\n    version: \"2.0\"\n",
     Server("staging").db(Db().installed("hypo", "1.0").available("hypo", {"1.0", "2.0"})), Server("production"),
     Ids{"no-update-path"}, "hypo 1.0 → 2.0: no update path (available: 1.0, 2.0)"},
    {"VersionNotAvailable", "extensions:\n  - name: hstore\n    version: \"9.9\"\n",
     Server("staging").db(Db().available("hstore", {"1.4", "1.8"})), Server("production"), Ids{"version-not-available"},
     "hstore 9.9 is not available on this server (available: 1.4, 1.8)"},
    {"ExtensionNotAvailableForDefault", "extensions:\n  - name: nope\n    version: default\n",
     Server("staging").db(Db()), Server("production"), Ids{"extension-not-available"},
     "extension nope is not available on this server"},
    {"PreloadMissing", "extensions:\n  - name: pg_stat_statements\n    version: \"1.10\"\n    preload: true\n",
     Server("staging")
         .setting("shared_preload_libraries", "pg_cron", "", "string", "postmaster")
         .db(Db().installed("pg_stat_statements", "1.10")),
     Server("production"), Ids{"preload-missing"},
     "pg_stat_statements must be in shared_preload_libraries (it is: pg_cron)"},
    {"PreloadLibraryFileMissing", "settings:\n  preload: [pg_cron]\n",
     Server("staging")
         .setting("shared_preload_libraries", "pg_cron", "", "string", "postmaster")
         .library_file("pg_cron", false),
     Server("production"), Ids{"library-file-missing"},
     "library pg_cron has no file in /usr/lib/postgresql/15/lib (the server would not start again with it in "
     "shared_preload_libraries)"},
    {"PreloadValueLibraryFileMissing", "settings:\n  values:\n    shared_preload_libraries: \"pg_cron, nope\"\n",
     Server("staging")
         .setting("shared_preload_libraries", "", "", "string", "postmaster")
         .library_file("pg_cron", true)
         .library_file("nope", false),
     Server("production"), Ids{"library-file-missing"},
     "library nope has no file in /usr/lib/postgresql/15/lib (the server would not start again with it in "
     "shared_preload_libraries)"},
    {"SettingWithoutFileSettings", "settings:\n  values:\n    work_mem: 8MB\n",
     Server("staging").setting("work_mem", "4096", "kB").without_file_settings(), Server("production"),
     Ids{"setting-privilege"},
     "the role cannot read postgresql.auto.conf (pg_file_settings), so work_mem could be neither rolled back exactly "
     "nor told apart from a value waiting for a restart"},
    {"SecretSetting", "settings:\n  values:\n    primary_conninfo: \"host=x\"\n",
     Server("staging").setting("primary_conninfo", "host=y password=secret", "", "string", "postmaster"),
     Server("production"), Ids{"setting-secret"},
     "primary_conninfo holds a connection string or a command (it can carry a password or run a program); pgparity "
     "does not manage it and never shows its value"},
    {"RatioAboveItsMax",
     "settings:\n  ratios:\n    - expr: max_connections * work_mem / shared_buffers\n      max: 0.5\n",
     Server("staging")
         .setting("max_connections", "100")
         .setting("work_mem", "4096", "kB")
         .setting("shared_buffers", "16384", "8kB"),
     Server("production"), Ids{"ratio-out-of-bounds"},
     "max_connections * work_mem / shared_buffers is 3.125, above its max 0.5"},
    {"RatioBelowItsMin", "settings:\n  ratios:\n    - expr: work_mem / shared_buffers\n      min: 0.5\n",
     Server("staging").setting("work_mem", "4096", "kB").setting("shared_buffers", "16384", "8kB"),
     Server("production"), Ids{"ratio-out-of-bounds"}, "work_mem / shared_buffers is 0.03125, below its min 0.5"},
    {"RatioOffTheReference", "settings:\n  ratios:\n    - expr: work_mem / shared_buffers\n      match: reference\n",
     // staging: 16MB / 64MB = 0.25 (units differ from production's on purpose); production: 4MB / 128MB.
     Server("staging").setting("work_mem", "16384", "kB").setting("shared_buffers", "8192", "8kB"),
     Server("production").setting("work_mem", "4", "MB").setting("shared_buffers", "134217728", "B"),
     Ids{"ratio-off-reference"}, "work_mem / shared_buffers is 0.25 on staging, 0.03125 on production (tolerance 5 %)"},
    {"RequiresCycle", "extensions:\n  - name: a\n    version: \"1\"\n",
     Server("staging").db(Db().available("a", {"1"}, {"b"}).available("b", {"1"}, {"a"})), Server("production"),
     Ids{"requires-cycle"}, "requires cycle: a → b → a"},
    {"DropTakesUserData", "extensions:\n  - name: citext\n    ensure: absent\n",
     Server("staging").db(Db().installed("citext", "1.6").depends("citext", "column c of table t", "column")),
     Server("production"), Ids{"data-loss"}, "dropping citext would drop user data: column c of table t"},
    {"DropTakesAnExtensionTheManifestKeeps",
     "extensions:\n  - name: cube\n    ensure: absent\n  - name: earthdistance\n    version: \"1.1\"\n",
     Server("staging").db(Db().installed("cube", "1.5")
                              .installed("earthdistance", "1.1")
                              .depends("cube", "extension earthdistance", "extension")),
     Server("production"), Ids{"drop-takes-extension"}, "dropping cube would also drop extension earthdistance"},
    {"UnknownSetting", "settings:\n  values:\n    work_mam: 4MB\n", Server("staging").setting("work_mem", "4096", "kB"),
     Server("production"), Ids{"unknown-setting"}, "setting work_mam does not exist on this server"},
    {"InstalledInAnotherSchema", "extensions:\n  - name: hstore\n    version: \"1.8\"\n    schema: public\n",
     Server("staging").db(Db().installed("hstore", "1.8", "tools")), Server("production"), Ids{"schema-differs"},
     "hstore is installed in schema tools, the manifest wants public"},
    {"RequiresAnAbsentExtension",
     "extensions:\n  - name: earthdistance\n    version: \"1.1\"\n  - name: cube\n    ensure: absent\n",
     Server("staging").db(Db().available("earthdistance", {"1.1"}, {"cube"}).available("cube", {"1.5"})),
     Server("production"), Ids{"requires-absent"}, "earthdistance requires cube, which the manifest wants absent"},
};

class Blockers : public ::testing::TestWithParam<BlockerCase> {};

TEST_P(Blockers, AreReportedAndTheBlockedChangeIsNotPlanned) {
  const BlockerCase& c = GetParam();
  const Plan plan = plan_for(manifest(c.body), c.staging, c.production);
  EXPECT_EQ(blocker_codes(plan), c.codes);
  ASSERT_FALSE(plan.blockers.empty());
  EXPECT_EQ(plan.blockers[0].message, c.message);
  EXPECT_FALSE(plan.blockers[0].hint.empty() && c.codes[0] != "requires-cycle");
  for (const auto& s : plan.steps) {
    if (is_gate(s.kind)) continue;
    EXPECT_TRUE(extension_of(s).empty() || extension_of(s) != plan.blockers[0].extension) << s.id << " was planned";
  }
}

INSTANTIATE_TEST_SUITE_P(Planner, Blockers, ::testing::ValuesIn(blocker_cases),
                         [](const auto& info) { return std::string(info.param.name); });

// --- recreate policy ---------------------------------------------------------

struct RecreateCase {
  const char* name;
  std::string policy;
  bool in_window;
  bool user_column;
  bool planned;  // else blocked
};

void PrintTo(const RecreateCase& c, std::ostream* os) { *os << c.name; }

const std::string window = "  maintenance_window:\n    days: [sat]\n    start: \"02:00\"\n    end: \"04:00\"\n";

const std::vector<RecreateCase> recreate_cases = {
    {"NeverIsABlocker", "policy:\n  recreate: never\n", true, false, false},
    {"InWindowOutsideTheWindowIsABlocker", "policy:\n  recreate: in-window\n" + window, false, false, false},
    {"InWindowInsideTheWindowRecreates", "policy:\n  recreate: in-window\n" + window, true, false, true},
    {"AlwaysRecreates", "policy:\n  recreate: always\n", false, false, true},
    {"AlwaysRefusesToLoseUserData", "policy:\n  recreate: always\n", false, true, false},
    {"AlwaysWithAllowDataLossRecreatesDespiteUserData", "policy:\n  recreate: always\n  allow_data_loss: true\n", false,
     true, true},
};

class RecreatePolicy : public ::testing::TestWithParam<RecreateCase> {};

TEST_P(RecreatePolicy, DecidesWhetherAMissingPathBecomesDropAndCreate) {
  const RecreateCase& c = GetParam();
  const auto m = manifest("extensions:\n  - name: hypo\n    version: \"2.0\"\n" + c.policy);
  Db db = Db().installed("hypo", "1.0").available("hypo", {"1.0", "2.0"});
  if (c.user_column) db.depends("hypo", "column h of table t", "column");
  const Plan plan = plan_for(m, Server("staging").db(db), Server("production"), c.in_window);
  const Step* s = step(plan, "staging/app/recreate/hypo");
  if (c.planned) {
    ASSERT_NE(s, nullptr);
    EXPECT_TRUE(plan.blockers.empty());
    EXPECT_EQ(s->sql.size(), 2u);
    EXPECT_EQ(s->sql[0], std::string("DROP EXTENSION \"hypo\" ") + (c.user_column ? "CASCADE" : "RESTRICT"));
    EXPECT_EQ(s->sql[1], "CREATE EXTENSION \"hypo\" SCHEMA \"public\" VERSION '2.0'");
  } else {
    EXPECT_EQ(s, nullptr);
    ASSERT_EQ(plan.blockers.size(), 1u);
    EXPECT_EQ(plan.blockers[0].code, c.user_column ? BlockerCode::data_loss : BlockerCode::no_update_path);
  }
}

INSTANTIATE_TEST_SUITE_P(Planner, RecreatePolicy, ::testing::ValuesIn(recreate_cases),
                         [](const auto& info) { return std::string(info.param.name); });

// --- ratios and determinism --------------------------------------------------

}  // namespace
}  // namespace pgparity::planner
