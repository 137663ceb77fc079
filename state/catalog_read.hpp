#pragma once

#include <pqxx/transaction>
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
  pqxx::result exec(const std::string& sql);
  pqxx::row exec1(const std::string& sql);
  /// One parameter ($1): every catalog query pgparity makes takes at most one (a list joined by commas).
  pqxx::result exec_params(const std::string& sql, const std::string& parameter);
  pqxx::row exec_params1(const std::string& sql, const std::string& parameter);
  void commit() { tx_.commit(); }

 private:
  pqxx::read_transaction tx_;
};

}  // namespace pgparity::state
