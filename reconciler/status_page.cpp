#include "reconciler/status_page.hpp"

#include <graphviz/cgraph.h>
#include <graphviz/gvc.h>

#include <mutex>
#include <nlohmann/json.hpp>

namespace pgparity::reconciler {

namespace {

std::string escaped(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

}  // namespace

std::string status_json(const StatusView& view) {
  nlohmann::ordered_json databases = nlohmann::ordered_json::array();
  for (const auto& d : view.databases) {
    databases.push_back({{"target", d.target},
                         {"database", d.database},
                         {"status", d.status},
                         {"blockers", d.blockers},
                         {"revision", d.converged ? nlohmann::ordered_json(d.converged->revision) : nullptr}});
  }
  nlohmann::ordered_json runs = nlohmann::ordered_json::array();
  for (const auto& r : view.runs) {
    runs.push_back({{"target", r.target},
                    {"database", r.database},
                    {"outcome", r.outcome},
                    {"runId", r.run_id},
                    {"revision", r.revision},
                    {"message", r.message}});
  }
  return nlohmann::ordered_json{{"apiVersion", "pgparity/v1"},
                                {"kind", "ReconcileStatus"},
                                {"tickAt", view.tick_at},
                                {"result", view.result},
                                {"lastAttemptedRevision", view.attempted_revision},
                                {"lastAppliedRevision", view.applied_revision},
                                {"waitsFor", view.waits_for},
                                {"databases", databases},
                                {"runs", runs}}
             .dump(2) +
         "\n";
}

std::string status_html(const StatusView& view) {
  std::string out =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>pgparity</title>"
      "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;"
      "padding:4px 8px;text-align:left;vertical-align:top}.converged{background:#dfd}.drifted{background:#ffd}"
      ".blocked,.failed{background:#fdd}.pending-restart{background:#eef}</style></head><body>\n"
      "<h1>pgparity reconcile</h1>\n<p>Last tick: " +
      escaped(view.tick_at.empty() ? "(none yet)" : view.tick_at) + " — " + escaped(view.result) +
      "<br>Last attempted revision: <code>" + escaped(view.attempted_revision) +
      "</code><br>Last applied revision: <code>" + escaped(view.applied_revision) +
      "</code><br>Waiting for: " + escaped(view.waits_for) +
      "</p>\n<h2>Databases</h2>\n<table><tr><th>target</th><th>database</th>"
      "<th>status</th><th>why</th></tr>\n";
  for (const auto& d : view.databases) {
    std::string why;
    for (const auto& b : d.blockers) why += (why.empty() ? "" : "<br>") + escaped(b);
    out += "<tr class=\"" + escaped(d.status) + "\"><td>" + escaped(d.target) + "</td><td>" +
           escaped(d.database.empty() ? "(server settings)" : d.database) + "</td><td>" + escaped(d.status) +
           "</td><td>" + why + "</td></tr>\n";
  }
  out +=
      "</table>\n<h2>Last runs</h2>\n<table><tr><th>target</th><th>database</th><th>outcome</th><th>run</th>"
      "<th>revision</th><th>message</th></tr>\n";
  for (const auto& r : view.runs) {
    out += "<tr class=\"" + escaped(r.outcome) + "\"><td>" + escaped(r.target) + "</td><td>" + escaped(r.database) +
           "</td><td>" + escaped(r.outcome) + "</td><td>" + escaped(r.run_id) + "</td><td><code>" +
           escaped(r.revision) + "</code></td><td>" + escaped(r.message) + "</td></tr>\n";
  }
  out += "</table>\n<h2>Plan</h2>\n<p><img src=\"/plan.svg\" alt=\"the plan's step graph\"></p>\n</body></html>\n";
  return out;
}

std::string dot_to_svg(const std::string& dot) {
  // Graphviz's library keeps global state (its text-size cache outlives a freed context, and a second
  // context then reads freed memory): one context for the process, one layout at a time.
  static std::mutex graphviz;
  std::lock_guard lock(graphviz);
  static GVC_t* const context = gvContext();
  if (context == nullptr) return "";
  std::string svg;
  if (Agraph_t* graph = agmemread(dot.c_str()); graph != nullptr) {
    if (gvLayout(context, graph, "dot") == 0) {
      char* data = nullptr;
      unsigned int length = 0;
      if (gvRenderData(context, graph, "svg", &data, &length) == 0 && data != nullptr) svg.assign(data, length);
      gvFreeRenderData(data);
      gvFreeLayout(context, graph);
    }
    agclose(graph);
  }
  return svg;
}

}  // namespace pgparity::reconciler
