#include "planner/render.hpp"

#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>

#include "planner/diff.hpp"
#include "planner/sql.hpp"
#include "tests/unit/planner/fixtures.hpp"

namespace pgparity::planner {
namespace {

using namespace testing;  // NOLINT: the fixtures' builders

Plan sample_plan() {
  const auto m = manifest(
      "extensions:\n  - name: hstore\n    version: \"1.8\"\n  - name: pg_trgm\n    version: \"9\"\n"
      "  - name: citext\n    ensure: absent\npolicy:\n  allow_data_loss: true\n");
  return plan_for(m, Server("staging").db(Db("orders")
                                              .installed("hstore", "1.4")
                                              .available("hstore", {"1.4", "1.8"})
                                              .path("hstore", {"1.4", "1.8"})
                                              .available("pg_trgm", {"1.6"})
                                              .installed("citext", "1.6")
                                              .depends("citext", "column c of table t|x", "column")));
}

TEST(Sql, QuotesIdentifiersAlwaysAndDoublesQuotes) {
  EXPECT_EQ(quote_ident("hstore"), "\"hstore\"");
  EXPECT_EQ(quote_ident("x\"; DROP TABLE t; --"), "\"x\"\"; DROP TABLE t; --\"");
  EXPECT_THROW(quote_ident(std::string("a\0b", 3)), std::invalid_argument);
}

TEST(Sql, QuotesLiteralsSafelyWhateverStandardConformingStringsIs) {
  EXPECT_EQ(quote_literal("1.8"), "'1.8'");
  EXPECT_EQ(quote_literal("it's"), "'it''s'");
  EXPECT_EQ(quote_literal("a\\'b"), "E'a\\\\''b'");
}

TEST(RenderText, ShowsBlockersFirstThenStepsWithTheirSql) {
  const std::string text = render_text(sample_plan(), false);
  EXPECT_EQ(text.rfind("pgparity plan: 1 to update, 1 to drop; 1 blocker\n", 0), 0u) << text;
  const auto blocked = text.find("Blocked");
  const auto update = text.find("~ update  hstore 1.4 → 1.8 (path 1.4--1.8)");
  ASSERT_NE(blocked, std::string::npos);
  ASSERT_NE(update, std::string::npos);
  EXPECT_LT(blocked, update);
  EXPECT_NE(text.find("ALTER EXTENSION \"hstore\" UPDATE TO '1.8';"), std::string::npos);
  EXPECT_NE(text.find("takes with it: column c of table t|x (data);"), std::string::npos);
  EXPECT_EQ(text.find('\033'), std::string::npos) << "no colour unless asked";
}

TEST(RenderText, ColoursOnlyWhenAsked) {
  EXPECT_NE(render_text(sample_plan(), true).find("\033[31m"), std::string::npos);
}

TEST(RenderText, SaysNoChangesForAnEmptyPlan) { EXPECT_EQ(render_text(Plan{}, false), "pgparity plan: no changes\n"); }

TEST(RenderMarkdown, StartsWithTheMarkerAndPutsBlockersBeforeTheTables) {
  const std::string md = render_markdown(sample_plan());
  EXPECT_EQ(md.rfind(std::string(markdown_marker) + "\n### pgparity plan: 1 to update, 1 to drop; 1 blocker", 0), 0u)
      << md;
  const auto blockers = md.find("**Blocked**");
  const auto table = md.find("#### staging/orders");
  ASSERT_NE(blockers, std::string::npos);
  ASSERT_NE(table, std::string::npos);
  EXPECT_LT(blockers, table);
  EXPECT_NE(md.find("| update | hstore | 1.4 → 1.8 | path `1.4--1.8` |"), std::string::npos) << md;
  EXPECT_NE(md.find("column c of table t\\|x"), std::string::npos) << "pipes in cells are escaped";
  EXPECT_NE(
      md.find("<details><summary>SQL for staging/orders</summary>\n\n```sql\nDROP EXTENSION \"citext\" CASCADE;\n"),
      std::string::npos);
}

/// The Mermaid graph of each database, read back: its edges are exactly the JSON plan's `after` lists.
TEST(RenderMarkdown, TheMermaidGraphHasAnEdgeForEveryAfterOfTheJsonPlan) {
  const Plan plan = sample_plan();
  const std::string md = render_markdown(plan);
  const auto start = md.find("<details><summary>Step graph for staging/orders</summary>\n\n```mermaid\ngraph LR\n");
  ASSERT_NE(start, std::string::npos) << md;
  const auto end = md.find("```\n", start + 60);
  std::istringstream graph(md.substr(start, end - start));
  std::map<std::string, std::string> node_ids;  // s0 -> step id, in plan order
  std::vector<std::string> ids;
  for (const auto& s : plan.steps) {
    if (s.database == "orders") ids.push_back(s.id);
  }
  std::set<std::pair<std::string, std::string>> edges;
  std::string line;
  while (std::getline(graph, line)) {
    std::smatch m;
    if (std::regex_match(line, m, std::regex(R"re(  s(\d+)\["(.*)"\])re"))) {
      node_ids["s" + m[1].str()] = ids.at(std::stoul(m[1].str()));
    } else if (std::regex_match(line, m, std::regex(R"(  (s\d+) --> (s\d+))"))) {
      edges.insert({node_ids.at(m[1].str()), node_ids.at(m[2].str())});
    }
  }
  std::set<std::pair<std::string, std::string>> expected;
  const auto json = nlohmann::json::parse(render_json(plan));
  for (const auto& step : json["steps"]) {
    if (step["database"] != "orders") continue;
    for (const auto& before : step["after"])
      expected.insert({before.get<std::string>(), step["id"].get<std::string>()});
  }
  EXPECT_EQ(node_ids.size(), ids.size()) << "a node per step, gates included";
  EXPECT_FALSE(expected.empty());
  EXPECT_EQ(edges, expected);
}

TEST(RenderMarkdown, HostileTextCannotInjectHtmlMentionsOrCloseTheSqlFence) {
  Plan plan;
  Step s = make_step(StepKind::set);
  s.id = "staging/set/application_name";
  s.target = "staging";
  s.as<SettingChange>().setting = "application_name";
  s.as<SettingChange>().current = "<img src=x onerror=alert(1)> @octocat";
  s.as<SettingChange>().value = "```\n<script>";
  s.sql = {"ALTER SYSTEM SET \"application_name\" = '```\n<script>'"};
  plan.steps.push_back(s);
  plan.blockers.push_back(
      {BlockerCode::rehearsal_failed, "staging", "", "", "ERROR: <b>bold</b> @org/team \"quoted\"", "hint"});
  const std::string md = render_markdown(plan);
  EXPECT_EQ(md.find("<img"), std::string::npos) << md;
  EXPECT_EQ(md.find("<b>"), std::string::npos) << md;
  EXPECT_NE(md.find("'```\n<script>';\n````\n"), std::string::npos) << "the SQL stays inside its fence\n" << md;
  EXPECT_EQ(md.find("<script>"), md.find("'```\n<script>") + 5) << "and nowhere else\n" << md;
  EXPECT_EQ(md.find("@octocat"), std::string::npos) << md;
  EXPECT_EQ(md.find("@org"), std::string::npos) << md;
  EXPECT_NE(md.find("&lt;img src=x onerror=alert(1)&gt; &#64;octocat"), std::string::npos) << md;
  EXPECT_NE(md.find("````sql\n"), std::string::npos) << "a fence longer than the SQL's own backticks\n" << md;
  EXPECT_NE(md.find("s0[\"set application_name = #96;#96;#96; #lt;script#gt;\"]"), std::string::npos) << md;
}

TEST(RenderJson, IsVersionedAndCarriesEveryStepWithItsSql) {
  const auto doc = nlohmann::json::parse(render_json(sample_plan()));
  EXPECT_EQ(doc["apiVersion"], "pgparity/v1");
  EXPECT_EQ(doc["kind"], "Plan");
  EXPECT_EQ(doc["formatVersion"], 1);
  EXPECT_EQ(doc["summary"]["changes"], 2);
  EXPECT_EQ(doc["summary"]["blocked"], true);
  EXPECT_EQ(doc["blockers"][0]["code"], "version-not-available");
  bool found = false;
  for (const auto& s : doc["steps"]) {
    if (s["id"] != "staging/orders/drop/citext") continue;
    found = true;
    EXPECT_EQ(s["cascade"], true);
    EXPECT_EQ(s["blastRadius"][0]["userData"], true);
    EXPECT_EQ(s["sql"][0], "DROP EXTENSION \"citext\" CASCADE");
  }
  EXPECT_TRUE(found);
}

TEST(RenderDot, DrawsEveryStepAndEdge) {
  const Plan plan = sample_plan();
  const std::string dot = render_dot(plan);
  EXPECT_EQ(dot.rfind("digraph pgparity_plan {", 0), 0u);
  for (const auto& s : plan.steps) EXPECT_NE(dot.find("\"" + s.id + "\" [label="), std::string::npos) << s.id;
  EXPECT_NE(dot.find("\"staging/orders/snapshot\" -> \"staging/orders/update/hstore\";"), std::string::npos) << dot;
}

TEST(Diff, ReportsVersionsPreloadAndRatiosThatDiffer) {
  const auto a = Server("production")
                     .setting("work_mem", "4096", "kB")
                     .setting("shared_buffers", "16384", "8kB")
                     .setting("maintenance_work_mem", "65536", "kB")
                     .setting("max_connections", "100")
                     .setting("shared_preload_libraries", "pg_stat_statements", "", "string")
                     .db(Db("app").installed("hstore", "1.8").installed("pg_trgm", "1.6"))
                     .state();
  const auto b = Server("staging")
                     .setting("work_mem", "16384", "kB")
                     .setting("shared_buffers", "16384", "8kB")
                     .setting("maintenance_work_mem", "65536", "kB")
                     .setting("max_connections", "100")
                     .db(Db("app").installed("hstore", "1.4").installed("pg_trgm", "1.6"))
                     .state();
  const ParityReport report = compare_targets(a, b, {});
  ASSERT_EQ(report.differences.size(), 4u) << render_parity_text(report);
  EXPECT_EQ(report.differences[0], (ParityDifference{"extension", "app", "hstore", "1.8", "1.4"}));
  EXPECT_EQ(report.differences[1], (ParityDifference{"preload", "", "pg_stat_statements", "preloaded", ""}));
  EXPECT_EQ(report.differences[2].subject, "max_connections * work_mem / shared_buffers");
  EXPECT_EQ(report.differences[3], (ParityDifference{"ratio", "", "work_mem / shared_buffers", "0.03125", "0.125"}));
  EXPECT_FALSE(report.matches());
  EXPECT_TRUE(compare_targets(a, a, {}).matches());
}

}  // namespace
}  // namespace pgparity::planner

#include "planner/plan_file.hpp"

namespace pgparity::planner {
namespace {

/// A plan with every step kind, a standby's steps, waves and barriers, a rehearsal's results, a
/// pending restart, a warning and an unmatched pattern.
Plan every_kind_plan() {
  const auto m = manifest(
      "extensions:\n  - name: hstore\n    version: \"1.8\"\n  - name: pg_trgm\n    version: \"1.6\"\n"
      "    schema: trgm\n  - name: cube\n    version: \"1.5\"\n  - name: citext\n    ensure: absent\n"
      "settings:\n  values:\n    work_mem: 8MB\n    max_connections: \"200\"\n    shared_buffers: 256MB\n"
      "policy:\n  allow_data_loss: true\n  recreate: always\n  rollout:\n    canary: 1\n    waves: [\"100%\"]\n");
  Server standby("staging");
  standby.setting("work_mem", "4096", "kB");
  Plan plan = plan_for(m, Server("staging")
                              .setting("work_mem", "4096", "kB")
                              .setting("max_connections", "100", "", "integer", "postmaster")
                              .auto_conf("max_connections", "150")
                              .setting("shared_buffers", "16384", "8kB", "integer", "postmaster")
                              .auto_conf("shared_buffers", "256MB")
                              .db(Db("orders")
                                      .installed("hstore", "1.4")
                                      .available("hstore", {"1.4", "1.8"})
                                      .path("hstore", {"1.4", "1.8"})
                                      .available("pg_trgm", {"1.6"})
                                      .installed("cube", "1.4")
                                      .available("cube", {"1.4", "1.5"})
                                      .installed("citext", "1.6")
                                      .depends("citext", "column c of table t|x", "column"))
                              .db(Db("users").available("hstore", {"1.8"}))
                              .replica(standby, "host=standby1"));
  plan.steps.front().rehearsal = Rehearsal{
      RehearsalStatus::failed, 12, "in a transaction that was rolled back", "boom", "XX000", "a detail", "a hint"};
  plan.rehearsed = true;
  plan.rehearsals.push_back("rehearsed on staging/orders: ✗ boom; rolled back, nothing changed");
  plan.unmatched_patterns.emplace_back("staging", "nothing_*");
  // A restart step, as a plan with policy.restart allowed has it (the pending restarts above stay, to be read back
  // too).
  Step restart = make_step(StepKind::restart);
  restart.id = "staging/restart";
  restart.target = "staging";
  restart.as<ServerRestart>() = {{"/usr/bin/pg_ctlcluster", "15", "main", "restart"}, {"max_connections"}, "", false};
  restart.after = {"staging/verify"};
  plan.steps.push_back(restart);
  Step patroni = make_step(StepKind::patroni);
  patroni.id = "staging/patroni/config";
  patroni.target = "staging";
  patroni.as<PatroniPatch>() = {"http://10.0.0.5:8008",
                                R"({"postgresql":{"parameters":{"max_connections":"200","work_mem":"8MB"}}})",
                                {"max_connections", "work_mem"},
                                {"100", "4MB"},
                                {"max_connections"}};
  plan.steps.push_back(patroni);
  return plan;
}

TEST(PlanFile, APlanWithEveryStepKindReadsBackEqualFieldForField) {
  const Plan plan = every_kind_plan();
  std::set<StepKind> kinds;
  bool standby = false;
  bool wave = false;
  for (const auto& s : plan.steps) {
    kinds.insert(s.kind);
    standby = standby || !s.replica.empty();
    wave = wave || !s.wave.empty();
  }
  EXPECT_EQ(kinds.size(), 13u) << render_text(plan, false);
  EXPECT_TRUE(standby && wave);
  EXPECT_FALSE(plan.waves.empty() || plan.pending_restarts.empty() || plan.warnings.empty() || plan.blockers.empty());
  const Plan back = parse_plan(render_json(plan));
  ASSERT_EQ(back.steps.size(), plan.steps.size());
  for (std::size_t i = 0; i < plan.steps.size(); ++i) EXPECT_EQ(back.steps[i], plan.steps[i]) << plan.steps[i].id;
  EXPECT_EQ(back, plan);
  EXPECT_EQ(first_difference(back, plan), "");
}

TEST(Plan, EveryStepCarriesThePayloadOfItsKindAndWhatItChangesIsReadFromIt) {
  for (const auto& s : every_kind_plan().steps) {
    EXPECT_TRUE(payload_fits(s.kind, s.payload)) << s.id;
    const StepObject o = object_of(s);
    switch (s.kind) {
      case StepKind::set:
        EXPECT_EQ(std::string(o.key), "setting") << s.id;
        EXPECT_EQ(o.name, s.as<SettingChange>().setting);
        EXPECT_EQ(o.to, s.as<SettingChange>().value);
        break;
      case StepKind::schema:
        EXPECT_EQ(std::string(o.key), "schema") << s.id;
        EXPECT_EQ(o.name, s.as<SchemaCreate>().schema);
        break;
      case StepKind::update:
        EXPECT_EQ(std::string(o.key), "extension") << s.id;
        EXPECT_EQ(o.name, extension_of(s));
        EXPECT_EQ(o.from, s.as<ExtensionUpdate>().from.str());
        EXPECT_EQ(o.to, s.as<ExtensionUpdate>().to.str());
        EXPECT_EQ(s.as<ExtensionUpdate>().path.front(), s.as<ExtensionUpdate>().from);
        break;
      case StepKind::create:
      case StepKind::drop:
      case StepKind::recreate:
        EXPECT_EQ(std::string(o.key), "extension") << s.id;
        EXPECT_FALSE(extension_of(s).empty()) << s.id;
        EXPECT_EQ(o.name, extension_of(s));
        EXPECT_EQ(o.to.empty(), s.kind == StepKind::drop) << s.id << ": a drop leaves no version";
        break;
      case StepKind::patroni:
        EXPECT_EQ(s.as<PatroniPatch>().settings.size(), s.as<PatroniPatch>().current.size()) << s.id;
        EXPECT_EQ(std::string(o.key), "") << s.id;
        break;
      case StepKind::restart:
        EXPECT_FALSE(s.as<ServerRestart>().command.empty()) << s.id;
        EXPECT_EQ(std::string(o.key), "") << s.id << ": a restart changes no object";
        break;
      default:
        EXPECT_EQ(std::string(o.key), "") << s.id << ": a gate changes nothing";
        EXPECT_TRUE(std::holds_alternative<std::monostate>(s.payload)) << s.id;
    }
  }
  EXPECT_THROW((void)make_step(StepKind::update).as<SettingChange>(), std::bad_variant_access);
}

TEST(PlanFile, AVersionInAPlanFileIsCheckedAsInputAndAKindWithoutItsFieldsIsRefused) {
  const Plan plan = every_kind_plan();
  auto json = nlohmann::ordered_json::parse(render_json(plan));
  for (auto& step : json.at("steps")) {
    if (step.at("kind") == "update") step["to"] = "1.8'; DROP TABLE t; --";
  }
  EXPECT_THROW((void)parse_plan(json.dump()), std::exception);
  json = nlohmann::ordered_json::parse(render_json(plan));
  for (auto& step : json.at("steps")) {
    if (step.at("kind") == "set") step.erase("setting");
  }
  EXPECT_THROW((void)parse_plan(json.dump()), std::exception);
}

TEST(RenderText, ShowsWhatEachBarrierOfARolloutWaitsFor) {
  const std::string text = render_text(every_kind_plan(), false);
  EXPECT_NE(text.find("staging (barrier)\n  · barrier  — end of rollout canary\n\nstaging/users\n"), std::string::npos)
      << text;
}

TEST(PlanFile, ADifferenceInAnyFieldOfAStepMakesASavedPlanDiffer) {
  const Plan plan = every_kind_plan();
  Plan other = plan;
  for (auto& s : other.steps) {
    if (!s.replica.empty()) s.replica = "replica-2";
  }
  EXPECT_NE(first_difference(plan, other).find("its replica changed"), std::string::npos)
      << first_difference(plan, other);
  other = plan;
  other.steps.front().rehearsal.reset();
  EXPECT_EQ(first_difference(plan, other), "") << "a rehearsal's result is not part of what runs";
}

TEST(PlanFile, AnUnknownBlockerCodeStepKindOrRehearsalStatusIsRefusedNotGuessed) {
  const std::string text = render_json(every_kind_plan());
  for (const auto& [from, to] : std::vector<std::pair<std::string, std::string>>{
           {"\"code\": \"replica-version-not-available\"", "\"code\": \"replica-whatever\""},
           {"\"kind\": \"barrier\"", "\"kind\": \"restart\""},
           {"\"status\": \"failed\"", "\"status\": \"fine\""}}) {
    std::string edited = text;
    const auto at = edited.find(from);
    ASSERT_NE(at, std::string::npos) << from;
    edited.replace(at, from.size(), to);
    EXPECT_THROW(parse_plan(edited), std::invalid_argument) << to;
  }
}

TEST(PlanFile, RefusesWhatIsNotAPlanOfThisFormat) {
  EXPECT_THROW(parse_plan("{"), std::invalid_argument);
  EXPECT_THROW(parse_plan("{\"kind\": \"Manifest\"}"), std::invalid_argument);
  std::string other = render_json(sample_plan());
  other.replace(other.find("\"formatVersion\": 1"), 18, "\"formatVersion\": 9");
  try {
    parse_plan(other);
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "plan format version 9 is not the 1 this build reads");
  }
}

}  // namespace
}  // namespace pgparity::planner
