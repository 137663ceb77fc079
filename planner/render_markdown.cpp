#include <algorithm>
#include <map>
#include <sstream>
#include <vector>

#include "planner/render.hpp"

namespace pgparity::planner {

namespace {

/// Table cells (and notes) must not break the table, inject HTML or mention anyone: a name, a
/// server's error text or a setting value is shown as text, whatever it holds.
std::string cell(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '|':
        out += "\\|";
        break;
      case '\n':
      case '\r':
        out += ' ';
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '@':
        out += "&#64;";  // no @mention, no team ping
        break;
      default:
        out += c;
    }
  }
  return out;
}

/// A code fence longer than any run of backticks in `content`, so SQL cannot close it early.
std::string fence_for(const std::string& content) {
  std::size_t longest = 0;
  std::size_t run = 0;
  for (char c : content) {
    run = c == '`' ? run + 1 : 0;
    longest = std::max(longest, run);
  }
  return std::string(std::max<std::size_t>(3, longest + 1), '`');
}

/// A Mermaid node's text: quoted, with Mermaid's own entity codes for what would end or format it.
std::string mermaid_text(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '"':
        out += "#quot;";
        break;
      case '<':
        out += "#lt;";
        break;
      case '>':
        out += "#gt;";
        break;
      case '&':
        out += "#amp;";
        break;
      case '`':
        out += "#96;";
        break;
      case '#':
        out += "#35;";
        break;
      case '\n':
      case '\r':
        out += ' ';
        break;
      default:
        out += c;
    }
  }
  return out;
}

/// The step graph of one database (or one server's settings) as a Mermaid flowchart: a node per
/// step (s0, s1, ... in plan order), an edge per entry of each step's `after`.
std::string mermaid_graph(const std::vector<const Step*>& steps) {
  std::ostringstream out;
  out << "graph LR\n";
  std::map<std::string, std::size_t> index;
  for (std::size_t i = 0; i < steps.size(); ++i) {
    index[steps[i]->id] = i;
    out << "  s" << i << "[\"" << mermaid_text(describe(*steps[i])) << "\"]\n";
  }
  for (std::size_t i = 0; i < steps.size(); ++i) {
    for (const auto& before : steps[i]->after) {
      if (auto it = index.find(before); it != index.end()) out << "  s" << it->second << " --> s" << i << "\n";
    }
  }
  return out.str();
}

std::string change_of(const Step& s) {
  const StepObject o = object_of(s);
  switch (s.kind) {
    case StepKind::schema:
      return "→ created";
    case StepKind::create:
      return "→ " + o.to;
    case StepKind::update:
    case StepKind::set:
      return o.from + " → " + o.to;
    case StepKind::drop:
      return o.from + " → (absent)";
    case StepKind::recreate:
      return o.from + " → " + o.to + " (drop + create)";
    default:
      return "";
  }
}

std::string detail_of(const Step& s) {
  std::string out = s.reason;
  if (const auto* update = s.get_if<ExtensionUpdate>()) out = "path `" + path_text(update->path) + "`";
  const auto& blast = blast_radius_of(s);
  if (!blast.empty()) {
    out += (out.empty() ? "" : "; ") + std::string("takes: ");
    for (std::size_t i = 0; i < blast.size(); ++i) out += (i ? ", " : "") + planner::describe(blast[i]);
  }
  if (const auto* r = s.get_if<ExtensionRecreate>(); r != nullptr && !r->keeps.empty()) {
    out += (out.empty() ? "" : "; ") + std::string("keeps: ");
    for (std::size_t i = 0; i < r->keeps.size(); ++i) out += (i ? ", " : "") + r->keeps[i];
  }
  if (const auto* patch = s.get_if<PatroniPatch>()) {
    out += (out.empty() ? "" : "; ") + ("PATCH " + patch->url + "/config " + patch->body);
  }
  if (const auto* restart = s.get_if<ServerRestart>()) {
    out += (out.empty() ? "" : "; ") + ("runs " + command_text(*restart) + " for " + settings_text(*restart));
  }
  const auto* set = s.get_if<SettingChange>();
  if (set != nullptr && set->restart_required) out += (out.empty() ? "" : "; ") + std::string("**restart required**");
  if (s.rehearsal) {
    out += (out.empty() ? "" : "; ") +
           std::string(s.rehearsal->status == RehearsalStatus::failed ? "rehearsal ✗ " : "rehearsal ✓ ") +
           rehearsal_text(*s.rehearsal);
  }
  return out;
}

}  // namespace

std::string render_markdown(const Plan& plan, const std::string& head, const std::string& base) {
  std::ostringstream out;
  out << markdown_marker << "\n";
  out << "### pgparity plan: " << summary_line(plan) << "\n\n";
  if (!head.empty()) {
    // In a code span, where GitHub links no mention and decodes no entity: only a backtick or a line
    // break could leave it.
    const auto code = [](std::string text) {
      for (char& c : text) {
        if (c == '`' || c == '\n' || c == '\r') c = '?';
      }
      return "`" + text + "`";
    };
    out << "Manifest at " << code(head) << (base.empty() ? "" : " (base " + code(base) + ")") << ".\n\n";
  }
  for (const auto& line : plan.rehearsals) out << "- " << cell(line) << "\n";
  if (!plan.rehearsals.empty()) out << "\n";
  if (plan.blocked()) {
    out << "> [!CAUTION]\n> **Blocked** — nothing is applied while any of these remain.\n\n";
    out << "| where | extension | problem | hint |\n|---|---|---|---|\n";
    for (const auto& b : plan.blockers) {
      out << "| " << cell(b.target + (b.database.empty() ? "" : "/" + b.database)) << " | " << cell(b.extension)
          << " | " << cell(b.message) << " | " << cell(b.hint) << " |\n";
    }
    out << "\n";
  }
  if (!plan.has_changes() && !plan.blocked()) out << "Every managed database matches the manifest.\n";

  std::string group;
  std::string sql;
  auto close_group = [&] {
    if (group.empty()) return;
    const std::string fence = fence_for(sql);
    out << "\n<details><summary>SQL for " << cell(group) << "</summary>\n\n"
        << fence << "sql\n"
        << sql << fence << "\n\n</details>\n";
    std::vector<const Step*> nodes;
    for (const auto& s : plan.steps) {
      if (s.target + (s.replica.empty() ? "" : "@" + s.replica) +
              (s.database.empty() ? " (server settings)" : "/" + s.database) ==
          group)
        nodes.push_back(&s);
    }
    out << "\n<details><summary>Step graph for " << cell(group) << "</summary>\n\n```mermaid\n"
        << mermaid_graph(nodes) << "```\n\n</details>\n";
    sql.clear();
  };
  for (const auto& s : plan.steps) {
    if (is_gate(s.kind)) continue;
    const std::string here = s.target + (s.replica.empty() ? "" : "@" + s.replica) +
                             (s.database.empty() ? " (server settings)" : "/" + s.database);
    if (here != group) {
      close_group();
      group = here;
      out << "\n#### " << cell(here) << "\n\n| step | object | change | detail |\n|---|---|---|---|\n";
    }
    out << "| " << name_of(s.kind) << " | " << cell(object_of(s).name) << " | " << cell(change_of(s)) << " | "
        << cell(detail_of(s)) << " |\n";
    for (const auto& statement : s.sql) sql += statement + ";\n";
  }
  close_group();
  for (const auto& d : plan.auto_conf_drift) {
    out << "\n> [!WARNING]\n> **drift**: " << cell(auto_conf_drift_text(d)) << "\n";
  }
  for (const auto& p : plan.pending_restarts) {
    out << "\n> [!NOTE]\n> **pending restart**: " << cell(p.target + " " + p.setting + " = " + p.written)
        << " is written to postgresql.auto.conf; the server runs " << cell(p.running) << " until it is restarted\n";
  }
  for (const auto& w : plan.warnings) out << "\n> [!WARNING]\n> " << cell(w) << "\n";
  out << "\n<sub>fingerprint " << plan.fingerprint << "</sub>\n";
  return out.str();
}

}  // namespace pgparity::planner
