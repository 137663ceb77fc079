#include "state/activity.hpp"

#include <pqxx/pqxx>

namespace pgparity::state {

namespace {

constexpr const char* session_columns =
    "a.pid, coalesce(a.application_name, ''), coalesce(a.state, ''), "
    "coalesce(extract(epoch FROM clock_timestamp() - a.state_change), 0)::float8, left(coalesce(a.query, ''), 120), "
    "coalesce(a.backend_start::text, '')";

std::vector<Session> sessions_of(const pqxx::result& rows) {
  std::vector<Session> out;
  for (const auto& row : rows) {
    out.push_back(
        {row[0].as<int>(), row[1].c_str(), row[2].c_str(), row[3].as<double>(), row[4].c_str(), row[5].c_str()});
  }
  return out;
}

}  // namespace

std::vector<Session> busy_sessions(pqxx::connection_base& session, bool include_idle) {
  pqxx::nontransaction tx(session);
  return sessions_of(tx.exec_params(std::string("SELECT ") + session_columns +
                                        " FROM pg_catalog.pg_stat_activity a "
                                        "WHERE a.datname = current_database() AND a.pid <> pg_catalog.pg_backend_pid() "
                                        "  AND a.backend_type = 'client backend' "
                                        "  AND (a.state IN ('active', 'idle in transaction', 'idle in transaction "
                                        "(aborted)', 'fastpath function call')"
                                        "       OR ($1 AND a.state = 'idle')) "
                                        "ORDER BY a.pid",
                                    include_idle));
}

std::vector<Session> lock_holders(pqxx::connection_base& session, const std::string& extension) {
  pqxx::nontransaction tx(session);
  auto holders = sessions_of(tx.exec_params(
      std::string("SELECT DISTINCT ") + session_columns +
          " FROM pg_catalog.pg_locks l "
          "JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = l.relation "
          "  AND d.refclassid = 'pg_catalog.pg_extension'::regclass AND d.deptype = 'e' "
          "JOIN pg_catalog.pg_extension e ON e.oid = d.refobjid AND e.extname = $1 "
          "JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid "
          "WHERE l.granted AND l.pid <> pg_catalog.pg_backend_pid() AND l.database = "
          "  (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database()) "
          "ORDER BY 1",
      extension));
  if (holders.empty()) {
    holders = sessions_of(tx.exec(std::string("SELECT ") + session_columns +
                                  " FROM pg_catalog.pg_stat_activity a "
                                  "WHERE a.datname = current_database() AND a.pid <> pg_catalog.pg_backend_pid() "
                                  "  AND a.backend_type = 'client backend' AND a.xact_start IS NOT NULL "
                                  "ORDER BY a.pid"));
  }
  return holders;
}

std::vector<int> terminate(pqxx::connection_base& session, const std::vector<Session>& sessions) {
  std::vector<int> ended;
  pqxx::nontransaction tx(session);
  for (const auto& s : sessions) {
    const auto rows = tx.exec_params(
        "SELECT pg_catalog.pg_terminate_backend(a.pid, 5000) FROM pg_catalog.pg_stat_activity a "
        "WHERE a.pid = $1 AND a.backend_start::text = $2 AND a.datname = current_database() AND a.state = $3 "
        "  AND a.backend_type = 'client backend' AND a.pid <> pg_catalog.pg_backend_pid()",
        s.pid, s.backend_start, s.state);
    if (!rows.empty() && rows[0][0].as<bool>()) ended.push_back(s.pid);
  }
  return ended;
}

namespace {
// 'pgpa' and 1: the two-key advisory lock every pgparity writer takes in a database.
constexpr int lock_class = 0x70677061;
constexpr int lock_object = 1;
}  // namespace

bool try_run_lock(pqxx::connection_base& session) {
  pqxx::nontransaction tx(session);
  return tx.exec_params1("SELECT pg_catalog.pg_try_advisory_lock($1, $2)", lock_class, lock_object)[0].as<bool>();
}

void release_run_lock(pqxx::connection_base& session) {
  pqxx::nontransaction tx(session);
  tx.exec_params("SELECT pg_catalog.pg_advisory_unlock($1, $2)", lock_class, lock_object);
}

int run_lock_holder(pqxx::connection_base& session) {
  pqxx::nontransaction tx(session);
  const auto rows = tx.exec_params(
      "SELECT pid FROM pg_catalog.pg_locks WHERE locktype = 'advisory' AND classid = $1 AND objid = $2 "
      "AND objsubid = 2 AND granted AND database = (SELECT oid FROM pg_catalog.pg_database WHERE datname = "
      "current_database())",
      lock_class, lock_object);
  return rows.empty() ? 0 : rows[0][0].as<int>();
}

std::string cannot_install(pqxx::connection_base& session, const std::string& extension, const std::string& version) {
  pqxx::nontransaction tx(session);
  const auto rows = tx.exec_params(
      "SELECT r.rolsuper, v.superuser, v.trusted, pg_catalog.has_database_privilege(current_database(), 'CREATE'), "
      "       current_user "
      "FROM pg_catalog.pg_roles r LEFT JOIN pg_catalog.pg_available_extension_versions v "
      "  ON v.name = $1 AND v.version = $2 WHERE r.rolname = current_user",
      extension, version);
  if (rows.empty()) return "the current role is not in pg_roles";
  const auto& row = rows[0];
  if (row[0].as<bool>() || row[1].is_null() || !row[1].as<bool>()) return "";
  if (row[2].as<bool>() && row[3].as<bool>()) return "";
  return std::string("role ") + row[4].c_str() + " cannot install " + extension + " " + version +
         ": it needs a superuser" + (row[2].as<bool>() ? " or CREATE on the database" : "");
}

std::string foreign_state_schema(pqxx::connection_base& session, const std::string& schema) {
  pqxx::nontransaction tx(session);
  const auto rows = tx.exec_params(
      "SELECT o.rolname, o.rolsuper, o.rolname = current_user FROM pg_catalog.pg_namespace n "
      "JOIN pg_catalog.pg_roles o ON o.oid = n.nspowner WHERE n.nspname = $1",
      schema);
  if (rows.empty() || rows[0][1].as<bool>() || rows[0][2].as<bool>()) return "";
  return "pgparity's state schema \"" + schema + "\" exists and is owned by role " + rows[0][0].c_str() +
         ", which is neither the applying role nor a superuser: an object planted there (a trigger on its tables) "
         "would run with the applying role's rights";
}

bool in_recovery(pqxx::connection_base& session) {
  pqxx::nontransaction tx(session);
  return tx.exec1("SELECT pg_catalog.pg_is_in_recovery()")[0].as<bool>();
}

bool backend_alive(pqxx::connection_base& session, int pid) {
  pqxx::nontransaction tx(session);
  return tx.exec_params1("SELECT count(*) FROM pg_catalog.pg_stat_activity WHERE pid = $1", pid)[0].as<int>() > 0;
}

bool cancel_backend(pqxx::connection_base& session, int pid) {
  pqxx::nontransaction tx(session);
  return tx.exec_params1("SELECT pg_catalog.pg_cancel_backend($1)", pid)[0].as<bool>();
}

bool terminate_backend(pqxx::connection_base& session, int pid) {
  pqxx::nontransaction tx(session);
  return tx.exec_params1("SELECT pg_catalog.pg_terminate_backend($1, 5000)", pid)[0].as<bool>();
}

Privileges privileges(pqxx::connection_base& session) {
  pqxx::nontransaction tx(session);
  const auto row = tx.exec1(
      "SELECT r.rolsuper, pg_catalog.has_database_privilege(current_database(), 'CREATE'), current_user "
      "FROM pg_catalog.pg_roles r WHERE r.rolname = current_user");
  return {row[0].as<bool>(), row[1].as<bool>(), row[2].c_str()};
}

}  // namespace pgparity::state
