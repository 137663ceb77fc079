#include "planner/graph.hpp"

#include <boost/graph/adjacency_list.hpp>
#include <functional>
#include <map>
#include <queue>
#include <stdexcept>

namespace pgparity::planner {

std::vector<Step> order_steps(std::vector<Step> steps) {
  using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::bidirectionalS>;
  Graph graph(steps.size());
  std::map<std::string, std::size_t> index;
  for (std::size_t i = 0; i < steps.size(); ++i) index.emplace(steps[i].id, i);
  for (std::size_t i = 0; i < steps.size(); ++i) {
    std::vector<std::string> known;
    for (const auto& before : steps[i].after) {
      auto it = index.find(before);
      if (it == index.end()) continue;
      boost::add_edge(it->second, i, graph);
      known.push_back(before);
    }
    steps[i].after = std::move(known);
  }

  // Kahn's algorithm over the graph, smallest index first among the ready ones.
  std::vector<std::size_t> waiting(steps.size());
  std::priority_queue<std::size_t, std::vector<std::size_t>, std::greater<>> ready;
  for (std::size_t v = 0; v < steps.size(); ++v) {
    waiting[v] = boost::in_degree(v, graph);
    if (waiting[v] == 0) ready.push(v);
  }
  std::vector<Step> ordered;
  ordered.reserve(steps.size());
  while (!ready.empty()) {
    const std::size_t v = ready.top();
    ready.pop();
    for (auto [e, end] = boost::out_edges(v, graph); e != end; ++e) {
      const std::size_t w = boost::target(*e, graph);
      if (--waiting[w] == 0) ready.push(w);
    }
    ordered.push_back(std::move(steps[v]));
  }
  if (ordered.size() != steps.size()) throw std::logic_error("the step graph has a cycle");
  return ordered;
}

}  // namespace pgparity::planner
