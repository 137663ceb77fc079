#include "reconciler/settings_writer.hpp"

#include <chrono>
#include <pqxx/pqxx>
#include <stdexcept>
#include <thread>

#include "core/error.hpp"
#include "core/setting_list.hpp"
#include "planner/sql.hpp"
#include "state/observe.hpp"
#include "state/settings.hpp"

namespace pgparity::reconciler {

using planner::Step;
using planner::StepKind;

namespace {

void exec(pqxx::connection_base& session, const std::string& sql) {
  pqxx::nontransaction tx(session);
  tx.exec(sql);
}

/// What the server shows for each written setting after the reload: "" when all hold.
std::string read_back(pqxx::connection_base& session, const std::vector<const Step*>& steps) {
  std::string problems;
  // Reload is asynchronous: give the server a moment, then check what it shows.
  for (int attempt = 0; attempt < 20; ++attempt) {
    problems.clear();
    const state::ClusterState cluster = state::observe_cluster(session);
    for (const Step* step : steps) {
      const auto* s = &step->as<planner::SettingChange>();
      if (s->restart_required) continue;
      auto it = cluster.settings.find(s->setting);
      bool same = false;
      if (it != cluster.settings.end()) {
        // A session shows the server's value unless the setting is fixed at connection start (backend
        // contexts: only new sessions see it) or overridden for this session (ALTER ROLE/DATABASE … SET,
        // the DSN's options). Then the server's word is the file it reloaded: postgresql.auto.conf.
        const state::Setting& shown = it->second;
        const bool session_bound = state::session_bound(shown);
        const std::string value = session_bound && shown.auto_conf ? *shown.auto_conf : shown.value;
        same = state::is_list_setting(s->setting) ? split_setting_list(s->value) == split_setting_list(value)
               : session_bound && shown.auto_conf ? state::same_setting_value(s->value, value, "", shown.type) ||
                                                        state::normalize_written_value(s->value, shown.unit) ==
                                                            state::normalize_written_value(value, shown.unit)
                                                  : state::same_setting_value(s->value, value, shown.unit, shown.type);
      }
      if (!same) {
        problems +=
            "; " + s->setting + " shows " +
            (it == cluster.settings.end() ? "nothing" : state::display_value(it->second.value, it->second.unit)) +
            ", not " + s->value;
      }
    }
    if (problems.empty()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return problems;
}

}  // namespace

std::string write_settings(pqxx::connection_base& session, const std::vector<Step>& all,
                           const std::function<void(const Step&, long long ms)>& done) {
  std::vector<const Step*> steps;
  std::vector<std::string> reload;  // the verify gate's SQL, as the plan shows it
  for (const auto& s : all) {
    if (s.kind == StepKind::set) steps.push_back(&s);
    if (s.kind == StepKind::verify) reload.insert(reload.end(), s.sql.begin(), s.sql.end());
  }
  if (reload.empty()) throw std::logic_error("the plan has no verify gate with the reload after its settings");
  std::vector<const Step*> written;
  std::string problem;
  try {
    for (const Step* s : steps) {
      const auto started = std::chrono::steady_clock::now();
      for (const auto& sql : s->sql) exec(session, sql);
      written.push_back(s);
      done(*s,
           std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count());
    }
    for (const auto& sql : reload) exec(session, sql);
    if (const std::string shown = read_back(session, steps); !shown.empty()) problem = "verification failed" + shown;
  } catch (const std::exception& e) {
    problem = "setting failed: " + one_line(e.what());
  }
  if (problem.empty()) return "";
  // Put postgresql.auto.conf back exactly as it was: the old entry, or none.
  std::string undone;
  for (auto it = written.rbegin(); it != written.rend(); ++it) {
    const auto& set = (*it)->as<planner::SettingChange>();
    try {
      for (const auto& sql : set.undo_sql) exec(session, sql);
      undone += (undone.empty() ? "" : ", ") + set.setting;
    } catch (const std::exception& e) {
      problem +=
          "; could not put " + set.setting + " back (" + one_line(e.what()) + "): run " +
          (set.undo_sql.empty() ? "ALTER SYSTEM RESET " + planner::quote_ident(set.setting) : set.undo_sql.front());
    }
  }
  try {
    if (!written.empty()) {
      for (const auto& sql : reload) exec(session, sql);
    }
  } catch (const std::exception&) {
  }
  return problem + (undone.empty() ? "" : "; postgresql.auto.conf was put back as it was for " + undone);
}

}  // namespace pgparity::reconciler
