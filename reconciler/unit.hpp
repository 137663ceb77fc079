#pragma once

// The unit of one database (or one server's settings) that the executor runs for apply. Its
// members live in three files, one job each: unit.cpp (lock, pre-flight, drain, the steps),
// unit_commit.cpp (commit, in-doubt resolution, verification), unit_settings.cpp (a primary's
// and a standby's settings).

#include <memory>
#include <mutex>
#include <optional>
#include <pqxx/pqxx>
#include <semaphore>
#include <string>
#include <utility>
#include <vector>

#include "reconciler/apply.hpp"
#include "reconciler/change.hpp"
#include "reconciler/journal.hpp"
#include "reconciler/pooler.hpp"
#include "state/observed.hpp"

namespace pgparity::reconciler {

/// The --parallel change slots, shared by the units of one run.
using ChangeSlots = std::counting_semaphore<1024>;

/// Whether what a unit's change steps expect still holds, measured again.
struct Recheck {
  enum class Verdict { holds, converged, changed };
  Verdict verdict = Verdict::holds;
  std::string what;  ///< changed: what differs ("hstore is 1.8, the plan expected 1.4; ...")
};

/// The work for one database (or the settings of one server): the plan's
/// steps for it, gates included, executed in the plan's order. Each gate is
/// backed by one part that owns its resource: the run lock (RunLock), the
/// pooler pause (PoolerPause), the drain (Drain), the change transaction
/// (ChangeTransaction), the verification (verify_database), the settings
/// writer (write_settings).
class Unit {
 public:
  /// `database` is "" for a server's settings and "@replica-N" for a standby's.
  Unit(const desired::Manifest& manifest, const desired::Target& target, std::string database,
       std::vector<planner::Step> steps, const ApplyOptions& options, std::mutex& output,
       ChangeSlots* change_slots = nullptr);
  DatabaseResult run();

 private:
  bool stopped() const { return options_.stop != nullptr && options_.stop->load(); }
  std::string where() const { return target_.name + (database_.empty() ? "" : "/" + database_); }
  /// The change session's system_identifier ("" when the role may not read it).
  std::string identifier() const;
  /// A change session; `check_interval` sets client_connection_check_interval on it (the main
  /// session sets it in its first round trip instead: state::start_change_session).
  std::unique_ptr<pqxx::connection> connect(bool check_interval = true) const;
  void say(const std::string& line, std::vector<std::pair<std::string, std::string>> fields = {});
  void say_step(const planner::Step& s, long long ms, const std::string& note = "");
  void fail(const std::string& message);
  std::vector<planner::Step> changes() const;

  // unit.cpp
  Recheck recheck(const state::DatabaseState& now) const;
  std::string remeasure();
  bool preflight(const Journal& journal, Journal::Shape& shape);
  std::string drain(Journal& journal, std::optional<PoolerPause>& paused);
  void apply_extensions();
  std::string step_failure(const planner::Step* step, const pqxx::sql_error& e);
  bool take_slot(bool* waited = nullptr);

  // unit_commit.cpp
  void finish(Journal& journal, std::optional<ChangeTransaction>& change, std::optional<PoolerPause>& paused);
  void test_hook_before_commit();
  void resolve_in_doubt(int done, int backend);
  void record_failure(state::RunStatus status);
  void verify(pqxx::connection_base& session, Journal& journal);

  // unit_settings.cpp
  void apply_settings();
  void apply_replica_settings();

  const desired::Manifest& manifest_;
  const desired::Target& target_;
  std::string database_;
  std::vector<planner::Step> steps_;  ///< this unit's steps, gates included, in the plan's order
  const ApplyOptions& options_;
  std::mutex& output_;
  ChangeSlots* change_slots_;

  /// A change slot, held from the end of the drain until the run is over.
  struct Slot {
    explicit Slot(ChangeSlots& slots) : slots_(slots) {}
    ~Slot() { slots_.release(); }
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;
    ChangeSlots& slots_;
  };
  std::optional<Slot> slot_;
  std::unique_ptr<pqxx::connection> session_;
  DatabaseResult result_;
};

}  // namespace pgparity::reconciler
