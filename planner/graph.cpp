#include "planner/graph.hpp"

#include <algorithm>
#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/topological_sort.hpp>
#include <stdexcept>
#include <unordered_map>

namespace pgparity::planner {

std::vector<Step> order_steps(std::vector<Step> steps) {
  using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::directedS>;
  const std::size_t n = steps.size();
  // Vertex v stands for step n - 1 - v. topological_sort's depth-first search
  // starts from vertex 0, so steps already in a valid order keep it, and the
  // order is the same for the same input.
  auto vertex = [n](std::size_t step) { return n - 1 - step; };
  Graph graph(n);
  std::unordered_map<std::string_view, std::size_t> index;
  index.reserve(n);
  for (std::size_t i = 0; i < n; ++i) index.emplace(steps[i].id, i);
  for (std::size_t i = 0; i < n; ++i) {
    auto& after = steps[i].after;
    // Edges to steps that are not in the plan (a blocked requirement) are dropped.
    after.erase(std::remove_if(after.begin(), after.end(),
                               [&](const std::string& before) {
                                 auto it = index.find(before);
                                 if (it == index.end()) return true;
                                 boost::add_edge(vertex(it->second), vertex(i), graph);
                                 return false;
                               }),
                after.end());
  }
  std::vector<std::size_t> reversed;  // topological_sort writes the order back to front
  reversed.reserve(n);
  try {
    boost::topological_sort(graph, std::back_inserter(reversed));
  } catch (const boost::not_a_dag&) {
    throw std::logic_error("the step graph has a cycle");
  }
  std::vector<Step> ordered;
  ordered.reserve(n);
  for (auto it = reversed.rbegin(); it != reversed.rend(); ++it) ordered.push_back(std::move(steps[n - 1 - *it]));
  return ordered;
}

}  // namespace pgparity::planner
