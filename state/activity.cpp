#include "state/activity.hpp"

#include <pqxx/pqxx>

#include "state/catalog_read.hpp"

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

ChangeSessionStart start_change_session(pqxx::connection_base& session, const std::string& reference_identifier) {
  pqxx::nontransaction tx(session);
  const bool compare = !reference_identifier.empty();
  const std::string lock =
      "pg_catalog.pg_try_advisory_lock(" + std::to_string(lock_class) + ", " + std::to_string(lock_object) + ")";
  // One implicit transaction: the SET stays only if the SELECT succeeds; search_path pinned for it, so no
  // operator a user put on the path stands in for pg_catalog's.
  const auto row =
      tx.exec1("SET client_connection_check_interval = '1s'; " +
               CatalogRead::pinned_sql(
                   "SELECT s.recovery, s.identifier, CASE WHEN NOT s.recovery" +
                   (compare ? " AND s.identifier IS DISTINCT FROM " + tx.quote(reference_identifier) : std::string()) +
                   " THEN " + lock + " ELSE false END FROM (SELECT pg_catalog.pg_is_in_recovery() AS recovery, " +
                   (compare ? std::string("(pg_catalog.pg_control_system()).system_identifier::text")
                            : std::string("NULL::text")) +
                   " AS identifier) s"));
  return {row[0].as<bool>(), row[1].is_null() ? "" : row[1].c_str(), row[2].as<bool>()};
}

namespace {

/// foreign_state_schema's answer from the schema's owner, whether it is a superuser, and whether it
/// is the session's role.
std::string schema_problem(const std::string& schema, const std::string& owner, bool superuser, bool mine) {
  if (superuser || mine) return "";
  return "pgparity's state schema \"" + schema + "\" exists and is owned by role " + owner +
         ", which is neither the applying role nor a superuser: an object planted there (a trigger on its tables) "
         "would run with the applying role's rights; drop or rename it, or set policy.state_schema";
}

constexpr const char* schema_owner =
    "SELECT o.rolname::text, o.rolsuper, o.rolname = current_user FROM pg_catalog.pg_namespace n "
    "JOIN pg_catalog.pg_roles o ON o.oid = n.nspowner WHERE n.nspname = ";

}  // namespace

PreflightAnswers preflight_reads(pqxx::connection_base& session, const std::string& schema,
                                 const std::vector<Install>& installs, const std::string& extra) {
  // Columns: what, name, version, then four booleans whose meaning depends on what.
  std::string sql = "SELECT 'schema', s.rolname, NULL::text, s.rolsuper, s.mine, NULL::bool, NULL::bool FROM (" +
                    std::string(schema_owner) + session.quote(schema) +
                    ") s(rolname, rolsuper, mine) "
                    "UNION ALL SELECT 'extra', (" +
                    extra + ")::text, current_user::text, NULL, NULL, NULL, NULL";
  if (!installs.empty()) {
    std::string values;
    for (const auto& i : installs) {
      values += (values.empty() ? "" : ", ") + std::string("(") + session.quote(i.extension) + ", " +
                session.quote(i.version) + ")";
    }
    // pg_available_extension_versions reads every control file of the installation (tens of ms): asked
    // only for a role that is not a superuser, whose answer does not need it.
    sql +=
        " UNION ALL SELECT 'install', i.name, i.version, r.rolsuper, v[1], v[2], "
        "pg_catalog.has_database_privilege(current_database(), 'CREATE') "
        "FROM (VALUES " +
        values +
        ") i(name, version) JOIN pg_catalog.pg_roles r ON r.rolname = current_user "
        "CROSS JOIN LATERAL (SELECT CASE WHEN r.rolsuper THEN NULL ELSE (SELECT ARRAY[a.superuser, a.trusted] "
        "FROM pg_catalog.pg_available_extension_versions a WHERE a.name = i.name AND a.version = i.version) END) "
        "AS x(v)";
  }
  PreflightAnswers answers;
  const pqxx::result rows = CatalogRead::once(session, sql);
  std::string role;
  for (const auto& row : rows) {
    if (std::string_view(row[0].c_str()) != "extra") continue;
    answers.extra = row[1].is_null() ? "" : row[1].c_str();
    role = row[2].c_str();
  }
  std::size_t install_rows = 0;
  for (const auto& row : rows) {
    const std::string what = row[0].c_str();
    if (what == "extra") continue;
    if (what == "schema") {
      std::string why = schema_problem(schema, row[1].c_str(), row[3].as<bool>(), row[4].as<bool>());
      if (!why.empty()) answers.problems.push_back(std::move(why));
    } else {
      ++install_rows;
      // A superuser, or a version that needs none (unknown versions are the planner's to refuse).
      if (row[3].as<bool>() || row[4].is_null() || !row[4].as<bool>()) continue;
      if (row[5].as<bool>() && row[6].as<bool>()) continue;
      answers.problems.push_back(std::string("role ") + role + " cannot install " + row[1].c_str() + " " +
                                 row[2].c_str() + ": it needs a superuser" +
                                 (row[5].as<bool>() ? " or CREATE on the database" : ""));
    }
  }
  if (install_rows != installs.size()) answers.problems.emplace_back("the current role is not in pg_roles");
  return answers;
}

std::string foreign_state_schema(pqxx::connection_base& session, const std::string& schema) {
  const auto rows = CatalogRead::once(session, schema_owner + session.quote(schema));
  return rows.empty() ? "" : schema_problem(schema, rows[0][0].c_str(), rows[0][1].as<bool>(), rows[0][2].as<bool>());
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
