#include <sstream>

#include "planner/render.hpp"

namespace pgparity::planner {

namespace {

std::string dot_string(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string label_of(const Step& s) {
  std::string label = name_of(s.kind);
  const StepObject object = object_of(s);
  if (!object.name.empty()) label += "\\n" + object.name;
  if (s.kind == StepKind::update || s.kind == StepKind::recreate) label += "\\n" + object.from + " → " + object.to;
  if (s.kind == StepKind::create) label += "\\n" + object.to;
  return label;
}

}  // namespace

std::string render_dot(const Plan& plan) {
  std::ostringstream out;
  out << "digraph pgparity_plan {\n  rankdir=LR;\n  node [shape=box, fontname=\"monospace\"];\n";
  std::string group;
  int cluster = 0;
  for (const auto& s : plan.steps) {
    const std::string here = s.target + (s.database.empty() ? "" : "/" + s.database);
    if (here != group) {
      if (!group.empty()) out << "  }\n";
      group = here;
      out << "  subgraph cluster_" << cluster++ << " {\n    label=" << dot_string(here) << ";\n";
    }
    const char* style = is_gate(s.kind)                                              ? ", style=dashed"
                        : (s.kind == StepKind::drop || s.kind == StepKind::recreate) ? ", color=red"
                                                                                     : "";
    // Labels carry their own escapes (\n); only quotes need escaping here.
    std::string label = label_of(s);
    std::string quoted = "\"";
    for (char c : label) {
      if (c == '"') quoted += '\\';
      quoted += c;
    }
    out << "    " << dot_string(s.id) << " [label=" << quoted << "\"" << style << "];\n";
  }
  if (!group.empty()) out << "  }\n";
  for (const auto& s : plan.steps) {
    for (const auto& before : s.after) out << "  " << dot_string(before) << " -> " << dot_string(s.id) << ";\n";
  }
  out << "}\n";
  return out.str();
}

}  // namespace pgparity::planner
