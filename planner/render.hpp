#pragma once

#include <string>

#include "planner/plan.hpp"

namespace pgparity::planner {

/// "2 to create, 1 to update, 1 to drop; 1 blocker", or "no changes".
std::string summary_line(const Plan& plan);

/// A change step in a few words: "update hstore 1.4 → 1.8", "set work_mem = 8MB".
std::string describe(const Step& step);

/// A step's rehearsal for people: "ok (12 ms, in a transaction that was rolled back)",
/// "failed: syntax error at or near "FUNCTIN" (SQLSTATE 42601)".
std::string rehearsal_text(const Rehearsal& rehearsal);
/// An update path as PostgreSQL names its scripts: "1.4--1.5--1.8".
std::string path_text(const std::vector<Version>& path);
/// A restart step's command ("/usr/bin/pg_ctlcluster 15 main restart") and its settings ("a, b").
std::string command_text(const ServerRestart& restart);
std::string settings_text(const ServerRestart& restart);
/// A postgresql.auto.conf entry that shadows Patroni, with its remedy, in one sentence.
std::string auto_conf_drift_text(const AutoConfDrift& drift);

/// An object of a blast radius for people: "table cron.job (2 rows, data)", "view v (data)".
std::string describe(const state::DependentObject& object);

/// For a terminal; ANSI colour only when `color` (a TTY, and NO_COLOR unset).
std::string render_text(const Plan& plan, bool color);

/// The plan document: stable, versioned field names (docs/plan-format.md);
/// also the saved plan file that apply reads.
std::string render_json(const Plan& plan);

/// A pull-request comment: a hidden marker line (so a CI job can update its
/// comment in place), a summary line, blockers first, a table per database,
/// the SQL in collapsible blocks.
/// `head`/`base`: the manifest's revision and the one it is compared with (a pull request's head and
/// base commits), named under the summary when given.
std::string render_markdown(const Plan& plan, const std::string& head = "", const std::string& base = "");

/// The marker the Markdown starts with.
inline constexpr const char* markdown_marker = "<!-- pgparity-plan -->";

/// The step graph in Graphviz DOT, for `dot -Tsvg`.
std::string render_dot(const Plan& plan);

}  // namespace pgparity::planner
