#include "reconciler/change.hpp"

#include <mutex>
#include <pqxx/pqxx>
#include <utility>

#include "core/error.hpp"
#include "planner/sql.hpp"
#include "reconciler/journal.hpp"

namespace pgparity::reconciler {

namespace {

/// Collects the server's notices that pgparity's own SQL raises ("pgparity: ..."),
/// such as a configuration column a recreate could not restore.
class NoticeCollector : public pqxx::errorhandler {
 public:
  explicit NoticeCollector(pqxx::connection_base& session) : pqxx::errorhandler(session) {}
  bool operator()(const char message[]) noexcept override {
    try {
      std::string text = message;
      const auto at = text.find("pgparity: ");
      if (at == std::string::npos) return true;
      text = text.substr(at + 10);
      while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
      std::lock_guard lock(mutex_);
      notices_.push_back(text);
    } catch (...) {
    }
    return true;
  }
  std::vector<std::string> take() {
    std::lock_guard lock(mutex_);
    return std::exchange(notices_, {});
  }

 private:
  std::mutex mutex_;
  std::vector<std::string> notices_;
};

/// Taken before each step (and again after it), so a failed step leaves the transaction as it was before it.
constexpr const char* step_savepoint = "pgparity_step";

}  // namespace

/// The transaction block is pgparity's own (BEGIN sent with the SET LOCALs and the snapshot, in one round
/// trip), on a libpqxx nontransaction: rolled back when it goes uncommitted, even from a constructor that threw.
struct ChangeTransaction::State {
  explicit State(pqxx::connection_base& session) : notices(session), tx(session, "change") {}
  ~State() {
    if (!open) return;
    try {
      tx.exec("ROLLBACK");
    } catch (const std::exception&) {
      // The session is gone, and PostgreSQL rolled the transaction back with it.
    }
  }
  State(const State&) = delete;
  State& operator=(const State&) = delete;
  /// Runs `sql`; when it fails, rolls back to `savepoint` (taken before it) and rethrows. A failure that
  /// leaves the transaction aborted (no savepoint, or none to go back to) marks it so: never committed.
  pqxx::result exec(const std::string& sql, const char* savepoint = nullptr) {
    return guarded([&] { return tx.exec(sql); }, savepoint);
  }
  pqxx::result exec_params(const std::string& sql, const std::string& parameter) {
    return guarded([&] { return tx.exec_params(sql, parameter); }, nullptr);
  }
  template <typename Run>
  pqxx::result guarded(const Run& run, const char* savepoint) {
    try {
      return run();
    } catch (const pqxx::sql_error&) {
      aborted = true;
      if (savepoint != nullptr) {
        try {
          tx.exec(std::string("ROLLBACK TO SAVEPOINT ") + savepoint);
          aborted = false;
        } catch (const std::exception&) {
          // Released already, or the session is gone: the transaction stays aborted.
        }
      }
      throw;
    }
  }
  NoticeCollector notices;
  pqxx::nontransaction tx;
  bool open = true;      ///< until COMMIT was sent
  bool aborted = false;  ///< a statement failed and the transaction could not go back to before it
};

ChangeTransaction::ChangeTransaction(pqxx::connection_base& session, const Journal* journal, std::string run_id,
                                     Duration lock_timeout, std::optional<Duration> statement_timeout)
    : state_(std::make_unique<State>(session)), journal_(journal), run_id_(std::move(run_id)) {
  // One round trip: BEGIN, the SET LOCALs, the snapshot and the first step's savepoint as one simple-query
  // string. BEGIN in it opens a transaction block that outlives the string; a statement that fails leaves
  // the block aborted, and ~State rolls it back.
  std::string sql =
      "BEGIN; SET LOCAL lock_timeout = " + planner::quote_literal(std::to_string(lock_timeout.ms()) + "ms");
  // pgparity's own statements name every schema; nothing a user put on the path can stand in for them
  // (CREATE/ALTER EXTENSION set their own search_path while a script runs).
  sql += "; SET LOCAL search_path = pg_catalog, pg_temp";
  if (statement_timeout) {
    sql += "; SET LOCAL statement_timeout = " + planner::quote_literal(std::to_string(statement_timeout->ms()) + "ms");
  }
  if (journal_ != nullptr) sql += "; " + journal_->snapshot_sql(run_id_);
  state_->tx.exec(sql + "; SAVEPOINT " + step_savepoint);
}

std::string ChangeTransaction::value(const std::string& sql, const std::string& parameter) {
  const auto rows = state_->exec_params(sql, parameter);
  return rows.empty() || rows[0][0].is_null() ? "" : rows[0][0].c_str();
}

std::string ChangeTransaction::value(const std::string& sql) {
  const auto rows = state_->exec(sql);
  return rows.empty() || rows[0][0].is_null() ? "" : rows[0][0].c_str();
}

void ChangeTransaction::check(const std::string& sql) {
  state_->exec("SAVEPOINT pgparity_check; " + sql + "; RELEASE SAVEPOINT pgparity_check", "pgparity_check");
}

void ChangeTransaction::health(const std::string& sql) {
  // The extended protocol takes one statement: a health query cannot smuggle in a COMMIT. A failure
  // ends the rehearsal, so the savepoint is not needed after it. A health query is the user's own SQL:
  // it runs with the session's search_path, as it would from their application.
  // Read-only from here: a health query reads, it never writes (a transaction may always turn read-only).
  state_->exec("RESET search_path; SET LOCAL transaction_read_only = on");
  // As a subquery: a health query of COMMIT cannot end the transaction that keeps a rehearsal uncommitted.
  state_->guarded([&] { return state_->tx.exec_params(planner::health_query(sql)); }, nullptr);
}

ChangeTransaction::~ChangeTransaction() = default;  // ~State rolls back unless committed

std::vector<std::string> ChangeTransaction::run(const planner::Step& step) {
  // One round trip per step: its statements, the release of the savepoint taken before it, the
  // journal's progress and the next step's savepoint, as one simple-query string inside the change
  // transaction (pg_stat_activity shows the step's own statement first). A statement that fails
  // skips the rest of the string; the transaction is then rolled back to the savepoint, as before the step.
  std::string sql;
  for (const auto& statement : step.sql) sql += statement + ";\n";
  sql += "RELEASE SAVEPOINT " + std::string(step_savepoint);
  if (journal_ != nullptr) sql += "; " + journal_->progress_sql(run_id_, done_ + 1);
  sql += "; SAVEPOINT " + std::string(step_savepoint);
  state_->exec(sql, step_savepoint);
  ++done_;
  return state_->notices.take();
}

ChangeTransaction::Commit ChangeTransaction::commit() {
  // COMMIT of a transaction block that an error aborted would roll it back without an error: never sent.
  if (state_->aborted) throw Error("a statement of the change transaction failed; it is rolled back, not committed");
  state_->open = false;  // after COMMIT, whatever its answer, there is no transaction left to roll back
  try {
    state_->tx.exec("COMMIT");
  } catch (const pqxx::broken_connection&) {
    return Commit::in_doubt;  // sent, its answer lost: the run's snapshot rows tell
  }
  state_->tx.commit();  // ends libpqxx's own bookkeeping
  return Commit::committed;
}

}  // namespace pgparity::reconciler
