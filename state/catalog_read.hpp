#pragma once

#include <pqxx/nontransaction>
#include <string>

namespace pgparity::state {

/// How long one of pgparity's own catalog reads may run before the server cancels it.
inline constexpr const char* observation_statement_timeout = "120s";

/// A transaction for pgparity's own catalog reads, on any target:
/// - BEGIN READ ONLY at the server. On a reference this, not the session's
///   default_transaction_read_only, is what holds behind a PgBouncer: PgBouncer
///   drops the startup `options` that set the default, and a SET SESSION on a
///   transaction-pooled server connection would leak to production's own clients.
/// - search_path pinned to pg_catalog, pg_temp (SET LOCAL), so no object a user
///   planted in a schema on the path can stand in for a catalog function.
/// - statement_timeout (SET LOCAL), so a read never hangs a run.
class CatalogRead {
 public:
  explicit CatalogRead(pqxx::connection_base& session);
  /// One parameterless statement under the same guarantees, in one round trip: SET TRANSACTION READ
  /// ONLY, the SET LOCALs and `sql` sent as one simple-query string, which PostgreSQL runs as one
  /// implicit transaction, analysing each statement only after the one before ran (so the pinned
  /// search_path resolves `sql`'s names). What an idle reconcile tick runs per kept session.
  static pqxx::result once(pqxx::connection_base& session, const std::string& sql);
  /// The simple-query string once() sends, for a session that is not libpqxx's (the pooler follow).
  static std::string once_sql(const std::string& sql);
  /// `sql` after the search_path and statement_timeout pins (set_config(…, true)), as one simple-query
  /// string: the guarantees of a read without its READ ONLY, for a first round trip that also takes a lock.
  static std::string pinned_sql(const std::string& sql);
  pqxx::result exec(const std::string& sql);
  pqxx::row exec1(const std::string& sql);
  /// One parameter ($1): every catalog query pgparity makes takes at most one (a list joined by commas).
  pqxx::result exec_params(const std::string& sql, const std::string& parameter);
  pqxx::row exec_params1(const std::string& sql, const std::string& parameter);
  void commit();
  /// Rolls back unless committed.
  ~CatalogRead();
  CatalogRead(const CatalogRead&) = delete;
  CatalogRead& operator=(const CatalogRead&) = delete;

 private:
  /// The transaction block is ours (BEGIN in the same round trip as the SET LOCALs), so an idle
  /// tick on a kept session costs three round trips per read instead of four.
  pqxx::nontransaction tx_;
  bool open_ = true;
};

}  // namespace pgparity::state
