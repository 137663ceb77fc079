#include "reconciler/journal.hpp"

#include <ctime>
#include <map>
#include <pqxx/pqxx>
#include <random>

#include "planner/sql.hpp"
#include "reconciler/version.hpp"

namespace pgparity::reconciler {

using planner::quote_ident;
using planner::quote_literal;

std::string Journal::table(const char* name) const { return quote_ident(schema_) + "." + quote_ident(name); }

namespace {

/// The attribute check ensure() and shape_sql() share: whether `runs` has column `column`.
std::string has_column(const std::string& runs, const char* column) {
  return "EXISTS (SELECT 1 FROM pg_catalog.pg_attribute WHERE attrelid = pg_catalog.to_regclass(" +
         quote_literal(runs) + ") AND attname = " + quote_literal(column) + " AND NOT attisdropped)";
}

constexpr const char* added_columns[] = {"wave", "revision"};  // added after the first release, by ensure()

}  // namespace

std::string Journal::create_sql(bool schema_absent) const {
  // runs.wave came with rollouts, runs.revision with revisions: a journal created now has them, an
  // older one gains them in ensure().
  // Seen absent under the run lock: a schema that appeared since (planted by another role) fails the
  // run instead of being adopted without the owner check.
  return std::string(schema_absent ? "CREATE SCHEMA " : "CREATE SCHEMA IF NOT EXISTS ") + quote_ident(schema_) +
         "; CREATE TABLE IF NOT EXISTS " + table("runs") +
         " (run_id text PRIMARY KEY, target text NOT NULL, database text NOT NULL,"
         "  started_at timestamptz NOT NULL DEFAULT clock_timestamp(), finished_at timestamptz,"
         "  status text NOT NULL, plan_digest text, manifest_digest text, steps_done int NOT NULL DEFAULT 0,"
         "  error text, pgparity_version text, wave text, revision text);"
         // What this database was last converged to: one row per database, written with a run's success.
         " CREATE TABLE IF NOT EXISTS " +
         table("converged") +
         " (database text PRIMARY KEY, revision text, manifest_digest text, run_id text NOT NULL,"
         "  converged_at timestamptz NOT NULL);"
         " CREATE TABLE IF NOT EXISTS " +
         table("snapshots") +
         " (run_id text NOT NULL, extname name NOT NULL, extversion text NOT NULL, schema name NOT NULL,"
         "  relocatable boolean NOT NULL, extconfig text[], taken_at timestamptz NOT NULL DEFAULT clock_timestamp(),"
         "  PRIMARY KEY (run_id, extname));"
         " CREATE TABLE IF NOT EXISTS " +
         table("settings") +
         " (run_id text NOT NULL, setting text NOT NULL, value_before text, value_after text NOT NULL,"
         "  undo_sql text, written_at timestamptz NOT NULL DEFAULT clock_timestamp(), PRIMARY KEY (run_id, setting));"
         " CREATE TABLE IF NOT EXISTS " +
         table("pauses") +
         " (run_id text NOT NULL, pooler text NOT NULL, alias text NOT NULL,"
         "  paused_at timestamptz NOT NULL DEFAULT clock_timestamp(), resumed_at timestamptz,"
         "  PRIMARY KEY (run_id, alias))";
}

void Journal::ensure() {
  pqxx::work tx(session_);
  tx.exec(create_sql(false));
  // An older journal gains the columns added since, once: ALTER TABLE takes an ACCESS EXCLUSIVE lock,
  // so it runs only when the column is missing.
  for (const char* column : added_columns) {
    if (!tx.exec1("SELECT " + has_column(table("runs"), column))[0].as<bool>()) {
      tx.exec("ALTER TABLE " + table("runs") + " ADD COLUMN IF NOT EXISTS " + quote_ident(column) + " text");
    }
  }
  tx.commit();
}

std::string Journal::shape_sql() const {
  std::string columns;
  for (const char* column : added_columns) columns += " AND " + has_column(table("runs"), column);
  std::string tables;
  for (const char* t : {"converged", "snapshots", "settings", "pauses"}) {
    tables += " AND pg_catalog.to_regclass(" + quote_literal(table(t)) + ") IS NOT NULL";
  }
  return "CASE WHEN pg_catalog.to_regnamespace(" + quote_literal(quote_ident(schema_)) +
         ") IS NULL THEN 'absent' WHEN pg_catalog.to_regclass(" + quote_literal(table("runs")) + ") IS NOT NULL" +
         columns + tables + " THEN 'current' ELSE 'outdated' END";
}

Journal::Shape Journal::shape_named(const std::string& answer) {
  if (answer == "absent") return Shape::absent;
  if (answer == "current") return Shape::current;
  return Shape::outdated;
}

std::string Journal::close_interrupted_sql() const {
  // A settings run (database '') has no transaction to roll back: ALTER SYSTEM writes stay.
  return "UPDATE " + table("runs") + " SET status = '" + std::string(state::name_of(state::RunStatus::interrupted)) +
         "', error = CASE WHEN database = '' THEN 'the settings run ended without finishing"
         " (process killed or connection lost); ALTER SYSTEM is not transactional: compare " +
         table("settings") +
         " with postgresql.auto.conf' ELSE 'the run ended without finishing (process killed or connection lost);"
         " PostgreSQL rolled its transaction back' END WHERE status = 'running'";
}

std::string Journal::start_sql(const RunStart& run) const {
  return "INSERT INTO " + table("runs") +
         " (run_id, target, database, status, plan_digest, manifest_digest, pgparity_version, wave, revision)"
         " VALUES (" +
         quote_literal(run.run_id) + ", " + quote_literal(run.target) + ", " + quote_literal(run.database) + ", " +
         quote_literal(state::name_of(state::RunStatus::running)) + ", " + quote_literal(run.plan_digest) + ", " +
         quote_literal(run.manifest_digest) + ", " + quote_literal(version) + ", NULLIF(" + quote_literal(run.wave) +
         ", ''), NULLIF(" + quote_literal(run.revision) + ", ''))";
}

void Journal::start(const RunStart& run) {
  pqxx::nontransaction tx(session_);
  tx.exec(start_sql(run));
}

void Journal::open_run(Shape shape, const RunStart& run) {
  if (shape == Shape::outdated) ensure();
  // One simple-query string, which PostgreSQL runs as one implicit transaction: all of it or none.
  std::string sql = shape == Shape::absent ? create_sql(true) + "; " : close_interrupted_sql() + "; ";
  pqxx::nontransaction tx(session_);
  tx.exec(sql + start_sql(run));
}

std::string Journal::finish_sql(const std::string& run_id, state::RunStatus status, int steps_done,
                                const std::string& error) const {
  std::string sql = "UPDATE " + table("runs") +
                    " SET finished_at = clock_timestamp(), status = " + quote_literal(state::name_of(status)) +
                    ", steps_done = " + std::to_string(steps_done) + ", error = NULLIF(" + quote_literal(error) +
                    ", '') WHERE run_id = " + quote_literal(run_id);
  // A database's own run that succeeded converged it: to that revision and manifest (server-wide runs,
  // '' and '@…', are journaled on the DSN's database but converge no database of their own).
  if (status == state::RunStatus::succeeded) {
    sql += "; INSERT INTO " + table("converged") +
           " (database, revision, manifest_digest, run_id, converged_at)"
           " SELECT database, revision, manifest_digest, run_id, clock_timestamp() FROM " +
           table("runs") + " WHERE run_id = " + quote_literal(run_id) +
           " AND database <> '' AND left(database, 1) <> '@'"
           " ON CONFLICT (database) DO UPDATE SET revision = excluded.revision,"
           " manifest_digest = excluded.manifest_digest, run_id = excluded.run_id,"
           " converged_at = excluded.converged_at";
  }
  return sql;
}

void Journal::finish(const std::string& run_id, state::RunStatus status, int steps_done, const std::string& error) {
  // One round trip, one implicit transaction.
  pqxx::nontransaction tx(session_);
  tx.exec(finish_sql(run_id, status, steps_done, error));
}

std::vector<state::RunRecord> Journal::runs() const {
  std::vector<state::RunRecord> runs;
  pqxx::read_transaction tx(session_);
  if (tx.exec_params1("SELECT pg_catalog.to_regclass($1) IS NOT NULL", table("runs"))[0].as<bool>() == false)
    return runs;
  const char* iso = "YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"";
  // A journal an older version wrote has no revision column until the next run adds it.
  const bool has_revision = !tx.exec_params(
                                   "SELECT 1 FROM pg_catalog.pg_attribute WHERE attrelid = $1::regclass "
                                   "AND attname = 'revision' AND NOT attisdropped",
                                   table("runs"))
                                 .empty();
  for (const auto& row : tx.exec_params(
           "SELECT run_id, target, database, to_char(started_at AT TIME ZONE 'UTC', $1),"
           " coalesce(to_char(finished_at AT TIME ZONE 'UTC', $1), ''), status, coalesce(plan_digest, ''),"
           " coalesce(manifest_digest, ''), steps_done, coalesce(error, ''), coalesce(pgparity_version, '')," +
               std::string(has_revision ? " coalesce(revision, '')" : " ''") + " FROM " + table("runs") +
               " ORDER BY started_at DESC, run_id DESC",
           std::string(iso))) {
    state::RunRecord r;
    r.run_id = row[0].c_str();
    r.target = row[1].c_str();
    r.database = row[2].c_str();
    r.started_at = row[3].c_str();
    r.finished_at = row[4].c_str();
    r.status = row[5].c_str();
    r.plan_digest = row[6].c_str();
    r.manifest_digest = row[7].c_str();
    r.steps_done = row[8].as<int>();
    r.error = row[9].c_str();
    r.pgparity_version = row[10].c_str();
    r.revision = row[11].c_str();
    runs.push_back(std::move(r));
  }
  std::map<std::string, std::vector<state::InstalledExtension>> snapshots;
  for (const auto& row : tx.exec("SELECT run_id, extname, extversion, schema, relocatable FROM " + table("snapshots") +
                                 " ORDER BY run_id, extname")) {
    snapshots[row[0].c_str()].push_back({Identifier::from_catalog(row[1].c_str()),
                                         Version::from_catalog(row[2].c_str()),
                                         Identifier::from_catalog(row[3].c_str()), row[4].as<bool>()});
  }
  tx.commit();
  for (auto& r : runs) r.snapshot = std::move(snapshots[r.run_id]);
  return runs;
}

void Journal::pause_started(const std::string& run_id, const std::string& pooler, const std::string& alias) {
  pqxx::work tx(session_);
  tx.exec_params(
      "INSERT INTO " + table("pauses") + " (run_id, pooler, alias) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING", run_id,
      pooler, alias);
  tx.commit();
}

void Journal::pause_ended(const std::string& run_id, const std::string& alias) {
  pqxx::work tx(session_);
  tx.exec_params(
      "UPDATE " + table("pauses") +
          " SET resumed_at = clock_timestamp() WHERE alias = $2 AND resumed_at IS NULL AND ($1 = '' OR run_id = $1)",
      run_id, alias);
  tx.commit();
}

std::optional<state::ConvergedRecord> Journal::converged() const {
  pqxx::read_transaction tx(session_);
  if (!tx.exec_params1("SELECT pg_catalog.to_regclass($1) IS NOT NULL", table("converged"))[0].as<bool>()) {
    return std::nullopt;
  }
  const auto rows = tx.exec(
      "SELECT coalesce(revision, ''), coalesce(manifest_digest, ''), run_id, "
      "to_char(converged_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') FROM " +
      table("converged") + " WHERE database = current_database()");
  if (rows.empty()) return std::nullopt;
  return state::ConvergedRecord{rows[0][0].c_str(), rows[0][1].c_str(), rows[0][2].c_str(), rows[0][3].c_str()};
}

std::vector<state::OpenPause> Journal::open_pauses() const {
  std::vector<state::OpenPause> out;
  pqxx::read_transaction tx(session_);
  if (!tx.exec_params1("SELECT pg_catalog.to_regclass($1) IS NOT NULL", table("pauses"))[0].as<bool>()) return out;
  for (const auto& row : tx.exec("SELECT run_id, pooler, alias, to_char(paused_at AT TIME ZONE 'UTC', "
                                 "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') FROM " +
                                 table("pauses") + " WHERE resumed_at IS NULL ORDER BY paused_at, alias")) {
    out.push_back({row[0].c_str(), row[1].c_str(), row[2].c_str(), row[3].c_str()});
  }
  tx.commit();
  return out;
}

void Journal::record_setting(const std::string& run_id, const std::string& setting, const std::string& before,
                             const std::string& after, const std::string& undo_sql) {
  pqxx::work tx(session_);
  tx.exec_params("INSERT INTO " + table("settings") +
                     " (run_id, setting, value_before, value_after, undo_sql) VALUES ($1, $2, $3, $4, $5)"
                     " ON CONFLICT DO NOTHING",
                 run_id, setting, before, after, undo_sql);
  tx.commit();
}

bool Journal::has_snapshot(const std::string& run_id) const {
  pqxx::read_transaction tx(session_);
  return tx.exec_params1("SELECT EXISTS (SELECT 1 FROM " + table("snapshots") + " WHERE run_id = $1)", run_id)[0]
      .as<bool>();
}

std::string Journal::snapshot_sql(const std::string& run_id) const {
  return "INSERT INTO " + table("snapshots") +
         " (run_id, extname, extversion, schema, relocatable, extconfig)"
         " SELECT " +
         quote_literal(run_id) +
         ", e.extname, e.extversion, n.nspname, e.extrelocatable,"
         " (SELECT array_agg(c::regclass::text) FROM unnest(e.extconfig) AS c)"
         " FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace";
}

std::string Journal::progress_sql(const std::string& run_id, int steps_done) const {
  return "UPDATE " + table("runs") + " SET steps_done = " + std::to_string(steps_done) +
         " WHERE run_id = " + quote_literal(run_id);
}

std::string new_run_id() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &utc);
  std::random_device random;
  const unsigned suffix = random() & 0xffffffu;
  char hex[8];
  std::snprintf(hex, sizeof hex, "%06x", suffix);
  return std::string(stamp) + "-" + hex;
}

}  // namespace pgparity::reconciler
