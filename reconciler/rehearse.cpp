#include "reconciler/rehearse.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <pqxx/pqxx>

#include "core/error.hpp"
#include "planner/render.hpp"
#include "planner/sql.hpp"
#include "reconciler/apply.hpp"
#include "reconciler/change.hpp"
#include "reconciler/executor.hpp"
#include "state/activity.hpp"
#include "state/catalog_sql.hpp"
#include "state/connection.hpp"
#include "state/observe.hpp"

namespace pgparity::reconciler {

namespace {

using Clock = std::chrono::steady_clock;
using planner::Rehearsal;
using planner::Step;
using planner::StepKind;

/// The server's error for a report: message, SQLSTATE, and DETAIL/HINT when it gave them.
Rehearsal failure(const pqxx::sql_error& e, long long ms, const std::string& how) {
  Rehearsal r{planner::RehearsalStatus::failed, ms, how, "", e.sqlstate(), "", ""};
  std::string text = e.what();
  // libpq's text is "ERROR:  message\nDETAIL:  ...\nHINT:  ...\n"
  auto field = [&](const std::string& label) {
    const auto at = text.find(label);
    if (at == std::string::npos) return std::string();
    const auto end = text.find('\n', at);
    return server_text(
        text.substr(at + label.size(), end == std::string::npos ? std::string::npos : end - at - label.size()));
  };
  r.detail = field("DETAIL:  ");
  r.hint = field("HINT:  ");
  const auto first = text.find('\n');
  r.error = text.substr(0, first);
  if (r.error.rfind("ERROR:  ", 0) == 0) r.error = r.error.substr(8);
  r.error = server_text(r.error);
  return r;
}

std::string seconds(long long ms) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f s", static_cast<double>(ms) / 1000.0);
  return text;
}

/// What happened to one database (or one server's settings).
struct Outcome {
  std::string line;                         ///< for plan.rehearsals
  std::optional<planner::Blocker> blocker;  ///< when it failed
};

class Rehearser {
 public:
  /// `replica` is "replica-N" for a standby's settings, rehearsed on that standby.
  Rehearser(const desired::Manifest& manifest, const desired::Target& target, std::string database, std::string replica,
            std::vector<Step*> steps, std::string reference_identifier)
      : manifest_(manifest),
        target_(target),
        database_(std::move(database)),
        replica_(std::move(replica)),
        steps_(std::move(steps)),
        reference_identifier_(std::move(reference_identifier)) {}

  Outcome run() {
    const std::string where =
        target_.name + (replica_.empty() ? "" : "@" + replica_) + (database_.empty() ? "" : "/" + database_);
    const auto started = Clock::now();
    try {
      auto session = replica_.empty() ? primary() : standby();
      // As apply does: a multi-host DSN or a DNS change may lead to the reference now.
      if (!reference_identifier_.empty() && state::system_identifier(*session) == reference_identifier_) {
        throw Error("the session reached the reference's cluster (system_identifier " + reference_identifier_ + ")");
      }
      ChangeTransaction change(*session, nullptr, "", manifest_.policy.rehearse.lock_timeout,
                               manifest_.policy.rehearse.statement_timeout);
      // Inside the transaction: a rehearsal commits nothing, not even a SET.
      change.check("SET LOCAL client_connection_check_interval = '1s'");
      if (database_.empty()) {
        settings(change);
      } else {
        extensions(change);
      }
      // ~ChangeTransaction: ROLLBACK, always.
    } catch (const std::exception& e) {
      failed_ = "the rehearsal could not run: " + one_line(e.what());
    }
    const long long ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count();
    Outcome out;
    if (failed_.empty()) {
      out.line = "rehearsed on " + where + ": ✓ " + std::to_string(changes_) + " step" + (changes_ == 1 ? "" : "s") +
                 " in " + seconds(ms) + ", rolled back";
      return out;
    }
    out.line = "rehearsed on " + where + ": ✗ " + failed_ + "; rolled back, nothing changed";
    out.blocker =
        planner::Blocker{planner::BlockerCode::rehearsal_failed,
                         target_.name,
                         database_,
                         failed_extension_,
                         (replica_.empty() ? "" : "standby " + replica_ + ": ") + "rehearsal failed: " + failed_,
                         "fix the script or choose another version; the rehearsal was rolled back and "
                         "changed nothing"};
    return out;
  }

 private:
  std::unique_ptr<pqxx::connection> primary() const {
    auto session = state::connect(target_.dsn, state::Access::read_write, "pgparity-rehearsal",
                                  database_.empty() ? std::nullopt : std::optional<std::string>(database_));
    if (state::in_recovery(*session)) throw Error("the session reached a standby (pg_is_in_recovery() is true)");
    return session;
  }

  /// A standby's settings are rehearsed where they will be written: set_config works in a standby's
  /// read-only transaction, and its pg_settings decides what the value means there.
  std::unique_ptr<pqxx::connection> standby() const {
    const desired::Replica* replica = desired::find_replica(target_, replica_);
    if (replica == nullptr) throw Error("the plan names standby " + replica_ + ", which the manifest does not list");
    auto session = state::connect(replica->dsn, state::Access::read_only, "pgparity-rehearsal", std::nullopt);
    if (!state::in_recovery(*session)) throw Error("standby " + replica_ + " is no longer in recovery");
    return session;
  }

  void extensions(ChangeTransaction& change) {
    for (const Step* s : steps_) {
      if (s->kind == StepKind::recreate) {
        // A recreate keeps configuration rows in the state schema: inside this transaction only.
        change.check("CREATE SCHEMA IF NOT EXISTS " + planner::quote_ident(manifest_.policy.state_schema.str()));
        break;
      }
    }
    for (Step* s : steps_) {
      if (planner::is_gate(s->kind)) continue;
      if (!failed_.empty()) {
        s->rehearsal = Rehearsal{planner::RehearsalStatus::skipped, 0, "an earlier step failed", "", "", "", ""};
        continue;
      }
      const auto begun = Clock::now();
      try {
        change.run(*s);
        s->rehearsal = Rehearsal{
            planner::RehearsalStatus::ok, elapsed(begun), "in a transaction that was rolled back", "", "", "", ""};
        ++changes_;
      } catch (const pqxx::sql_error& e) {
        s->rehearsal = failure(e, elapsed(begun), "in a transaction that was rolled back");
        failed_ = planner::describe(*s) + ": " + s->rehearsal->error +
                  (s->rehearsal->sqlstate.empty() ? "" : " (SQLSTATE " + s->rehearsal->sqlstate + ")");
        failed_extension_ = planner::extension_of(*s);
      }
    }
    Step* verify = nullptr;
    for (Step* s : steps_) verify = s->kind == StepKind::verify ? s : verify;
    if (!failed_.empty() || verify == nullptr) return;
    // The health queries, against the rehearsed versions. A manifest's SQL may come from anyone who opens a
    // pull request: it never runs as a role that could run a program or read or write the server's files.
    const auto begun = Clock::now();
    if (const std::string why = change.value(state::sql::privileged_session_user); !why.empty()) {
      if (!manifest_.policy.health.empty()) {
        verify->rehearsal = Rehearsal{planner::RehearsalStatus::skipped,
                                      0,
                                      "health queries not run: the role " + why +
                                          "; a manifest's SQL never runs with those rights in a rehearsal "
                                          "(docs/gitops.md: plan jobs use a role without them)",
                                      "",
                                      "",
                                      "",
                                      ""};
        return;
      }
    }
    for (const auto& [extension, sql] : manifest_.policy.health) {
      if (change.value(state::sql::extension_installed, extension.str()).empty()) continue;
      try {
        change.health(sql);
      } catch (const pqxx::sql_error& e) {
        verify->rehearsal =
            failure(e, elapsed(begun), "health query of " + extension.str() + " on the rehearsed versions");
        failed_ =
            "health query for " + extension.str() + " failed on the rehearsed versions: " + verify->rehearsal->error;
        failed_extension_ = extension.str();
        return;
      }
    }
    verify->rehearsal = Rehearsal{
        planner::RehearsalStatus::ok, elapsed(begun), "health queries on the rehearsed versions", "", "", "", ""};
  }

  void settings(ChangeTransaction& change) {
    for (Step* s : steps_) {
      if (s->kind != StepKind::set) continue;
      const auto begun = Clock::now();
      try {
        const auto& set = s->as<planner::SettingChange>();
        change.check("SELECT pg_catalog.set_config(" + planner::quote_literal(set.setting) + ", " +
                     planner::quote_literal(set.value) + ", true)");
        s->rehearsal = Rehearsal{planner::RehearsalStatus::ok,
                                 elapsed(begun),
                                 "set_config in a transaction that was rolled back" +
                                     std::string(replica_.empty() ? "" : " on standby " + replica_),
                                 "",
                                 "",
                                 "",
                                 ""};
        ++changes_;
      } catch (const pqxx::sql_error& e) {
        // 55P02: the setting's context does not allow set_config; its value was checked at planning.
        if (e.sqlstate() == "55P02" || e.sqlstate() == "42501") {
          s->rehearsal = Rehearsal{planner::RehearsalStatus::ok,
                                   elapsed(begun),
                                   "checked against pg_settings (type, unit, range, enum values) when planned; its "
                                   "context does not allow set_config",
                                   "",
                                   "",
                                   "",
                                   ""};
          ++changes_;
          continue;
        }
        s->rehearsal = failure(e, elapsed(begun), "set_config in a transaction that was rolled back");
        failed_ = planner::describe(*s) + ": " + s->rehearsal->error;
      }
    }
  }

  static long long elapsed(Clock::time_point since) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - since).count();
  }

  const desired::Manifest& manifest_;
  const desired::Target& target_;
  std::string database_;
  std::string replica_;
  std::vector<Step*> steps_;
  std::string reference_identifier_;  ///< "" without a reference
  int changes_ = 0;
  std::string failed_;
  std::string failed_extension_;
};

/// The rehearsal runner: each unit in a transaction that is rolled back; a barrier has nothing to
/// rehearse (it waits for standbys and soaks). A unit always passes: what failed is a blocker, and
/// the units after it are rehearsed as well, so one plan shows every failure.
class RehearsalRunner final : public Runner {
 public:
  RehearsalRunner(const desired::Manifest& manifest, planner::Plan& plan, const std::vector<ExecUnit>& units,
                  std::string reference)
      : manifest_(manifest), plan_(plan), units_(units), outcomes_(units.size()), reference_(std::move(reference)) {}

  UnitOutcome run(const ExecUnit& unit) override {
    const auto target = manifest_.targets.find(unit.target);
    std::vector<Step*> steps;  // the plan's own steps, to fill in their rehearsal
    for (const Step* s : unit.steps) steps.push_back(plan_.steps.data() + (s - plan_.steps.data()));
    if (unit.restart() || unit.patroni()) {
      steps.front()->rehearsal =
          Rehearsal{planner::RehearsalStatus::skipped,
                    0,
                    unit.restart() ? "a restart is never rehearsed" : "Patroni has no dry run of PATCH /config",
                    "",
                    "",
                    "",
                    ""};
      return UnitOutcome::passed;
    }
    if (unit.barrier() || target == manifest_.targets.end() || target->second.role != desired::Role::managed) {
      return UnitOutcome::passed;
    }
    // What runs after a restart needs the server as the restart leaves it (a preload library loaded):
    // rehearsed against the server as it runs now, it would fail, or pass, for nothing.
    if (std::any_of(unit.after.begin(), unit.after.end(), [&](std::size_t p) { return units_[p].restart(); })) {
      for (Step* s : steps) {
        if (planner::is_gate(s->kind)) continue;
        s->rehearsal =
            Rehearsal{planner::RehearsalStatus::skipped, 0, "runs only after the restart step", "", "", "", ""};
      }
      outcomes_[unit.index].line = "not rehearsed on " + unit.name() + ": its steps run only after the restart";
      return UnitOutcome::passed;
    }
    outcomes_[unit.index] = Rehearser(manifest_, target->second, unit.database, unit.replica, steps, reference_).run();
    return UnitOutcome::passed;
  }
  void not_started(const ExecUnit&, std::optional<std::size_t>) override {}

  /// In plan order: a line per unit, and its blocker.
  void report() {
    for (auto& o : outcomes_) {
      if (!o.line.empty()) plan_.rehearsals.push_back(o.line);
      if (o.blocker) plan_.blockers.push_back(*o.blocker);
    }
  }

 private:
  const desired::Manifest& manifest_;
  planner::Plan& plan_;
  const std::vector<ExecUnit>& units_;
  std::vector<Outcome> outcomes_;
  std::string reference_;
};

}  // namespace

void rehearse(const desired::Manifest& manifest, planner::Plan& plan, unsigned parallel) {
  const std::vector<ExecUnit> units = units_of(plan);
  RehearsalRunner runner(manifest, plan, units, units.empty() ? "" : reference_identifier(manifest));
  execute(units, runner, {parallel, nullptr});
  runner.report();
  plan.rehearsed = true;
}

}  // namespace pgparity::reconciler
