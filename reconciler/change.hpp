#pragma once

#include <memory>
#include <optional>
#include <pqxx/connection_base>
#include <string>
#include <vector>

#include "core/values.hpp"
#include "planner/plan.hpp"

namespace pgparity::reconciler {

class Journal;

/// A database's one change transaction: opened by the plan's snapshot gate
/// (BEGIN, SET LOCAL lock_timeout, the pg_extension rows saved under the run
/// id, in one round trip), one savepoint per change step, progress recorded in
/// the journal (a round trip per step), then COMMIT. Destroyed without commit(), it rolls back. Any failure of a step
/// throws; PostgreSQL has then rolled nothing forward.
///
/// A rehearsal (plan --rehearse) is the same transaction with no journal (no
/// snapshot, no progress rows) and a statement_timeout, never committed.
class ChangeTransaction {
 public:
  ChangeTransaction(pqxx::connection_base& session, const Journal* journal, std::string run_id, Duration lock_timeout,
                    std::optional<Duration> statement_timeout = std::nullopt);
  ~ChangeTransaction();
  ChangeTransaction(const ChangeTransaction&) = delete;
  ChangeTransaction& operator=(const ChangeTransaction&) = delete;

  /// Runs the step's SQL in a savepoint; returns the notices pgparity's own SQL raised ("pgparity: ...").
  std::vector<std::string> run(const planner::Step& step);
  /// Runs pgparity's own statement in its own savepoint (set_config, SET LOCAL, CREATE SCHEMA).
  void check(const std::string& sql);
  /// Runs a health query from the manifest: one statement only; a failure ends the transaction's usefulness.
  void health(const std::string& sql);
  /// The first column of the first row of a read inside the transaction ("" when none).
  std::string value(const std::string& sql, const std::string& parameter);
  std::string value(const std::string& sql);
  int steps_done() const { return done_; }

  enum class Commit { committed, in_doubt };
  /// COMMIT; in_doubt when the connection was lost during it (resolve with
  /// Journal::has_snapshot on a new session).
  Commit commit();

 private:
  struct State;
  std::unique_ptr<State> state_;
  const Journal* journal_;
  std::string run_id_;
  int done_ = 0;
};

}  // namespace pgparity::reconciler
