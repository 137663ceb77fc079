#include "state/catalog_read.hpp"

namespace pgparity::state {

CatalogRead::CatalogRead(pqxx::connection_base& session) : tx_(session, "catalog read") {
  tx_.exec(std::string("SELECT pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true), "
                       "pg_catalog.set_config('statement_timeout', '") +
           observation_statement_timeout + "', true)");
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
