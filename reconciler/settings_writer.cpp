#include "reconciler/settings_writer.hpp"

#include <chrono>
#include <pqxx/pqxx>
#include <thread>

#include "planner/sql.hpp"
#include "state/observe.hpp"
#include "state/settings.hpp"

namespace pgparity::reconciler {

using planner::Step;
using planner::StepKind;

std::string write_settings(pqxx::connection_base& session, const std::vector<Step>& all,
                           const std::function<void(const Step&, long long ms)>& done) {
  std::vector<const Step*> steps;
  for (const auto& s : all) {
    if (s.kind == StepKind::set) steps.push_back(&s);
  }
  std::vector<const Step*> written;
  try {
    for (const Step* s : steps) {
      const auto started = std::chrono::steady_clock::now();
      pqxx::nontransaction tx(session);
      tx.exec(s->sql.front());
      written.push_back(s);
      done(*s, std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count());
    }
    pqxx::nontransaction tx(session);
    tx.exec("SELECT pg_catalog.pg_reload_conf()");
  } catch (const std::exception& e) {
    for (const Step* s : written) {
      try {
        pqxx::nontransaction tx(session);
        tx.exec("ALTER SYSTEM SET " + planner::quote_ident(s->setting) + " = " + planner::quote_literal(s->current));
      } catch (const std::exception&) {
      }
    }
    std::string what = e.what();
    while (!what.empty() && (what.back() == '\n' || what.back() == ' ')) what.pop_back();
    return "setting failed: " + what + "; settings already written were put back";
  }
  // Reload is asynchronous: give the server a moment, then check what it shows.
  std::string problems;
  for (int attempt = 0; attempt < 20; ++attempt) {
    problems.clear();
    const state::ClusterState cluster = state::observe_cluster(session);
    for (const Step* s : steps) {
      if (s->restart_required) continue;
      auto it = cluster.settings.find(s->setting);
      if (it == cluster.settings.end() ||
          !state::same_setting_value(s->value, it->second.value, it->second.unit, it->second.type)) {
        problems += "; " + s->setting + " shows " + (it == cluster.settings.end() ? "nothing" : it->second.value);
      }
    }
    if (problems.empty()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return problems.empty() ? "" : "verification failed" + problems;
}

}  // namespace pgparity::reconciler
