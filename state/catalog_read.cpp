#include "state/catalog_read.hpp"

namespace pgparity::state {

namespace {

const std::string pin = std::string(
                            "SELECT pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true), "
                            "pg_catalog.set_config('statement_timeout', '") +
                        observation_statement_timeout + "', true)";

}  // namespace

CatalogRead::CatalogRead(pqxx::connection_base& session) : tx_(session, "catalog read") {
  try {
    tx_.exec("BEGIN READ ONLY; " + pin);
  } catch (...) {
    // The destructor does not run for a constructor that throws: end the transaction block here, so
    // the session is not left in an aborted transaction for the next read to trip over.
    try {
      tx_.exec("ROLLBACK");
    } catch (const std::exception&) {
    }
    throw;
  }
}

std::string CatalogRead::pinned_sql(const std::string& sql) { return pin + "; " + sql; }

std::string CatalogRead::once_sql(const std::string& sql) { return "SET TRANSACTION READ ONLY; " + pinned_sql(sql); }

pqxx::result CatalogRead::once(pqxx::connection_base& session, const std::string& sql) {
  pqxx::nontransaction tx(session, "catalog read");
  return tx.exec(once_sql(sql));
}

void CatalogRead::commit() {
  open_ = false;
  tx_.exec("COMMIT");
  tx_.commit();  // ends libpqxx's own bookkeeping, so the session can start the next read
}

CatalogRead::~CatalogRead() {
  if (!open_) return;
  try {
    tx_.exec("ROLLBACK");
  } catch (const std::exception&) {
    // The session is broken; it is dropped with its transaction.
  }
}

pqxx::result CatalogRead::exec(const std::string& sql) { return tx_.exec(sql); }

pqxx::row CatalogRead::exec1(const std::string& sql) { return tx_.exec1(sql); }

pqxx::result CatalogRead::exec_params(const std::string& sql, const std::string& parameter) {
  return tx_.exec_params(sql, parameter);
}

pqxx::row CatalogRead::exec_params1(const std::string& sql, const std::string& parameter) {
  return tx_.exec_params1(sql, parameter);
}

}  // namespace pgparity::state
