#pragma once

#include <optional>
#include <string>

#include <pqxx/connection_base>
#include <vector>

#include "state/observed.hpp"

namespace pgparity::reconciler {

/// The run journal and catalog snapshots, in a schema of their own on each
/// managed database (policy.state_schema):
///   <schema>.runs      one row per run: started, finished, status, digests, steps done, error
///   <schema>.snapshots the pg_extension rows as they were before a run's changes
///   <schema>.converged one row per database: the revision, manifest digest and run it was last converged by
class Journal {
 public:
  Journal(pqxx::connection_base& session, std::string schema) : session_(session), schema_(std::move(schema)) {}

  /// What a run records when it starts.
  struct RunStart {
    std::string run_id, target, database, plan_digest, manifest_digest;
    std::string wave;      ///< "" without a rollout
    std::string revision;  ///< "" when unknown
  };
  /// What the journal's schema and tables are like, asked in the pre-flight's round trip (shape_sql()).
  enum class Shape {
    absent,    ///< no state schema yet
    current,   ///< every table and column there
    outdated,  ///< an older version's journal, or part of one
  };
  /// An SQL expression that answers 'absent', 'current' or 'outdated'.
  std::string shape_sql() const;
  static Shape shape_named(const std::string& answer);

  /// Creates the schema and tables when missing and adds the columns an older journal lacks;
  /// idempotent, its own committed transaction.
  void ensure();
  /// Records a run as started, committed at once, so an interrupted run stays visible.
  void start(const RunStart& run);
  /// A database's run starts, holding the run lock: the journal created when absent (ensured
  /// when outdated), runs still "running" closed as interrupted, and the run recorded as
  /// started, committed. One round trip unless the journal is outdated.
  void open_run(Shape shape, const RunStart& run);
  /// Records how the run ended, in its own transaction (one round trip); a database's run that succeeded
  /// also records in <schema>.converged what the database was converged to (revision, manifest digest, run).
  void finish(const std::string& run_id, state::RunStatus status, int steps_done, const std::string& error);
  /// The runs recorded on this database, newest first, each with its
  /// snapshot; empty when there is no journal. Reads only (two queries).
  std::vector<state::RunRecord> runs() const;
  /// What this database was last converged to (<schema>.converged); nullopt when never.
  std::optional<state::ConvergedRecord> converged() const;

  /// Records, committed at once, that `run_id` is about to PAUSE `alias` on the
  /// pooler `pooler` (its admin DSN with the password masked), so a run killed
  /// while the pooler is paused leaves a trace doctor finds.
  void pause_started(const std::string& run_id, const std::string& pooler, const std::string& alias);
  /// Records that the pause of `alias` by `run_id` ended (RESUME sent), or, with
  /// an empty run id, every open pause of `alias` (pgparity recover --mode resume-pooler).
  void pause_ended(const std::string& run_id, const std::string& alias);
  /// Pauses with no RESUME recorded, oldest first; empty when there is no journal.
  std::vector<state::OpenPause> open_pauses() const;

  /// Records a setting a run wrote: its value before (as the server ran it),
  /// after, and the SQL that puts postgresql.auto.conf back.
  void record_setting(const std::string& run_id, const std::string& setting, const std::string& before,
                      const std::string& after, const std::string& undo_sql);

  /// Whether the snapshot of `run_id` exists: written in the change
  /// transaction, it tells whether that transaction committed.
  bool has_snapshot(const std::string& run_id) const;

  /// SQL that saves the pg_extension rows under `run_id`: run it inside the change transaction.
  std::string snapshot_sql(const std::string& run_id) const;
  /// SQL that records progress; run it inside the change transaction after each step.
  std::string progress_sql(const std::string& run_id, int steps_done) const;

 private:
  std::string table(const char* name) const;
  std::string create_sql(bool schema_absent) const;
  std::string close_interrupted_sql() const;
  std::string start_sql(const RunStart& run) const;
  std::string finish_sql(const std::string& run_id, state::RunStatus status, int steps_done,
                         const std::string& error) const;
  pqxx::connection_base& session_;
  std::string schema_;
};

/// A run id: UTC time and a random suffix, "20261124T113000Z-3fa2c1".
std::string new_run_id();

}  // namespace pgparity::reconciler
