#include "reconciler/change.hpp"

#include <mutex>
#include <pqxx/pqxx>
#include <utility>

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

}  // namespace

namespace {

/// Taken before each step (and again after it), so a failed step leaves the transaction as it was before it.
constexpr const char* savepoint = "SAVEPOINT pgparity_step";

}  // namespace

struct ChangeTransaction::State {
  explicit State(pqxx::connection_base& session) : notices(session), tx(session) {}
  NoticeCollector notices;
  pqxx::work tx;
};

ChangeTransaction::ChangeTransaction(pqxx::connection_base& session, const Journal* journal, std::string run_id,
                                     Duration lock_timeout, std::optional<Duration> statement_timeout)
    : state_(std::make_unique<State>(session)), journal_(journal), run_id_(std::move(run_id)) {
  // One round trip after BEGIN: the SET LOCALs and the snapshot as one simple-query string.
  std::string sql = "SET LOCAL lock_timeout = " + planner::quote_literal(std::to_string(lock_timeout.ms()) + "ms");
  // pgparity's own statements name every schema; nothing a user put on the path can stand in for them
  // (CREATE/ALTER EXTENSION set their own search_path while a script runs).
  sql += "; SET LOCAL search_path = pg_catalog, pg_temp";
  if (statement_timeout) {
    sql += "; SET LOCAL statement_timeout = " + planner::quote_literal(std::to_string(statement_timeout->ms()) + "ms");
  }
  if (journal_ != nullptr) sql += "; " + journal_->snapshot_sql(run_id_);
  state_->tx.exec(sql + "; " + savepoint);
}

std::string ChangeTransaction::value(const std::string& sql, const std::string& parameter) {
  const auto rows = state_->tx.exec_params(sql, parameter);
  return rows.empty() || rows[0][0].is_null() ? "" : rows[0][0].c_str();
}

std::string ChangeTransaction::value(const std::string& sql) {
  const auto rows = state_->tx.exec(sql);
  return rows.empty() || rows[0][0].is_null() ? "" : rows[0][0].c_str();
}

void ChangeTransaction::check(const std::string& sql) {
  pqxx::subtransaction savepoint(state_->tx, "check");
  savepoint.exec(sql);
  savepoint.commit();
}

void ChangeTransaction::health(const std::string& sql) {
  // The extended protocol takes one statement: a health query cannot smuggle in a COMMIT. A failure
  // ends the rehearsal, so the savepoint is not needed after it. A health query is the user's own SQL:
  // it runs with the session's search_path, as it would from their application.
  state_->tx.exec("RESET search_path");
  // Read-only from here: a health query reads, it never writes (a transaction may always turn read-only).
  state_->tx.exec("SET LOCAL transaction_read_only = on");
  // As a subquery: a health query of COMMIT cannot end the transaction that keeps a rehearsal uncommitted.
  state_->tx.exec_params(planner::health_query(sql));
}

ChangeTransaction::~ChangeTransaction() = default;  // pqxx::work rolls back unless committed

std::vector<std::string> ChangeTransaction::run(const planner::Step& step) {
  // One round trip per step: its statements, the release of the savepoint taken before it, the
  // journal's progress and the next step's savepoint, as one simple-query string inside the change
  // transaction (pg_stat_activity shows the step's own statement first). A statement that fails
  // skips the rest of the string; the transaction is then rolled back to the savepoint, as before the step.
  std::string sql;
  for (const auto& statement : step.sql) sql += statement + ";\n";
  sql += "RELEASE SAVEPOINT pgparity_step";
  if (journal_ != nullptr) sql += "; " + journal_->progress_sql(run_id_, done_ + 1);
  sql += "; " + std::string(savepoint);
  try {
    state_->tx.exec(sql);
  } catch (const pqxx::sql_error&) {
    try {
      state_->tx.exec("ROLLBACK TO SAVEPOINT pgparity_step");
    } catch (const std::exception&) {
      // The session is gone, and the transaction with it.
    }
    throw;
  }
  ++done_;
  return state_->notices.take();
}

ChangeTransaction::Commit ChangeTransaction::commit() {
  try {
    state_->tx.commit();
    return Commit::committed;
  } catch (const pqxx::in_doubt_error&) {
    return Commit::in_doubt;
  }
}

}  // namespace pgparity::reconciler
