#pragma once

#include <string>
#include <vector>

#include "planner/status.hpp"

namespace pgparity::reconciler {

/// A run of reconcile's last applying tick, as its page lists it.
struct RunLine {
  std::string target;
  std::string database;
  std::string outcome;  ///< applied, failed, skipped, blocked, unchanged
  std::string run_id;
  std::string revision;
  std::string message;
};

/// What reconcile's status page shows (docs/gitops.md, "The status page"): the last tick, how every
/// managed database stands, the last runs, what the loop waits for, and the plan's graph.
struct StatusView {
  std::string tick_at;  ///< ISO 8601, UTC; "" before the first tick
  std::string result;   ///< converged, applied, drift, blocked, failed
  std::string attempted_revision;
  std::string applied_revision;
  std::string waits_for;  ///< "the next tick at …", or a halted rollout
  std::vector<planner::DatabaseStatus> databases;
  std::vector<RunLine> runs;  ///< newest first
  std::string dot;            ///< the last plan's graph (render_dot)
};

/// The view as one JSON document (GET /status.json).
std::string status_json(const StatusView& view);
/// The page (GET /): every value HTML-escaped, no script, no form, nothing loaded from elsewhere; the
/// graph is an <img> of /plan.svg, which cannot run anything.
std::string status_html(const StatusView& view);
/// `dot` laid out by Graphviz's library as SVG ("" when it cannot be laid out).
std::string dot_to_svg(const std::string& dot);

}  // namespace pgparity::reconciler
