#include "state/pooler_console.hpp"

#include <libpq-fe.h>
#include <poll.h>

#include <algorithm>
#include <pqxx/pqxx>

#include "core/error.hpp"
#include "state/catalog_read.hpp"
#include "state/catalog_sql.hpp"
#include "state/connection.hpp"
#include "state/observe.hpp"

namespace pgparity::state {

namespace {
std::string trimmed(const char* message) {
  std::string text = message == nullptr ? "" : message;
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}
}  // namespace

PoolerConsole::PoolerConsole(const std::string& admin_dsn) : dsn_(admin_dsn) {
  // A connect timeout and keepalives, as for every session: a pooler that stops answering must not hang a run.
  connection_ = PQconnectdb(session_conninfo(admin_dsn, Access::read_write, "pgparity", std::nullopt).c_str());
  if (PQstatus(connection_) != CONNECTION_OK) {
    const std::string why = trimmed(PQerrorMessage(connection_));
    PQfinish(connection_);
    connection_ = nullptr;
    throw ConnectionError("cannot reach the pooler's admin console at " + mask_dsn(admin_dsn), why,
                          "check pooler.admin_dsn and that the role is in admin_users");
  }
}

PoolerConsole::~PoolerConsole() {
  if (connection_ != nullptr) PQfinish(connection_);
}

void PoolerConsole::command(const std::string& text) {
  PGresult* result = PQexec(connection_, text.c_str());
  const ExecStatusType status = PQresultStatus(result);
  const std::string why = trimmed(PQresultErrorMessage(result));
  PQclear(result);
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    throw ConnectionError("the pooler refused '" + text + "'", why.empty() ? trimmed(PQerrorMessage(connection_)) : why,
                          "");
  }
}

bool PoolerConsole::command_until(const std::string& text, const std::function<bool()>& give_up) {
  if (PQsendQuery(connection_, text.c_str()) == 0) {
    throw ConnectionError("the pooler refused '" + text + "'", trimmed(PQerrorMessage(connection_)), "");
  }
  while (true) {
    if (PQconsumeInput(connection_) == 0) {
      throw ConnectionError("the pooler's console was lost during '" + text + "'", trimmed(PQerrorMessage(connection_)),
                            "");
    }
    if (PQisBusy(connection_) == 0) break;
    if (give_up()) {
      PQfinish(connection_);
      connection_ = nullptr;
      return false;
    }
    pollfd ready{PQsocket(connection_), POLLIN, 0};
    poll(&ready, 1, 100);
  }
  std::string why;
  bool failed = false;
  while (PGresult* result = PQgetResult(connection_)) {
    const ExecStatusType status = PQresultStatus(result);
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
      failed = true;
      why = trimmed(PQresultErrorMessage(result));
    }
    PQclear(result);
  }
  if (failed) throw ConnectionError("the pooler refused '" + text + "'", why, "");
  return true;
}

std::vector<std::map<std::string, std::string>> PoolerConsole::rows(const std::string& text) {
  PGresult* result = PQexec(connection_, text.c_str());
  std::vector<std::map<std::string, std::string>> out;
  if (PQresultStatus(result) != PGRES_TUPLES_OK) {
    const std::string why = trimmed(PQresultErrorMessage(result));
    PQclear(result);
    throw ConnectionError("the pooler refused '" + text + "'", why, "");
  }
  for (int r = 0; r < PQntuples(result); ++r) {
    std::map<std::string, std::string> row;
    for (int c = 0; c < PQnfields(result); ++c) {
      row[PQfname(result, c)] = PQgetisnull(result, r, c) ? "" : PQgetvalue(result, r, c);
    }
    out.push_back(std::move(row));
  }
  PQclear(result);
  return out;
}

std::string PoolerConsole::quote(const std::string& name) {
  if (name.empty() || name.find('"') != std::string::npos || name.find('\0') != std::string::npos) {
    throw InputError("the pooler's admin console cannot name '" + name + "': it has no way to quote a double quote");
  }
  return "\"" + name + "\"";
}

RouteEnd follow_alias(const std::string& admin_dsn, const std::string& follow_dsn, const std::string& alias) {
  const Endpoint through = dsn_endpoint(admin_dsn);
  // Read-write access: a pooler may refuse the startup option that makes a session read-only;
  // the read itself is SET TRANSACTION READ ONLY (CatalogRead).
  auto session = connect(dsn_through(follow_dsn, through.host, through.port), Access::read_write, "pgparity", alias);
  const auto row = CatalogRead::once(*session, sql::route_end).at(0);
  return RouteEnd{row.at(0).c_str(), row.at(1).c_str()};
}

PoolerState observe_pooler(const std::string& admin_dsn, const std::string& follow_dsn,
                           const std::vector<std::string>& databases) {
  PoolerState pooler;
  pooler.endpoint = mask_dsn(admin_dsn);
  try {
    PoolerConsole console(admin_dsn);
    for (auto& row : console.rows("SHOW CONFIG")) pooler.config[row["key"]] = row["value"];
    for (auto& row : console.rows("SHOW DATABASES")) {
      if (row["name"] == "pgbouncer") continue;  // the admin console itself
      pooler.routes.push_back(
          {row["name"], row["host"], row["port"], row["database"], row["pool_mode"], row["pool_size"], "", ""});
    }
    pooler.pools = console.rows("SHOW POOLS");
  } catch (const std::exception& e) {
    pooler.error = e.what();
    return pooler;
  }
  if (follow_dsn.empty()) return pooler;
  // A `*` route opens whatever database is asked: follow the target's own databases too.
  for (const auto& db : databases) {
    if (std::none_of(pooler.routes.begin(), pooler.routes.end(), [&](const auto& r) { return r.alias == db; })) {
      pooler.routes.push_back({db, "", "", db, "", "", "", ""});
    }
  }
  for (auto& route : pooler.routes) {
    try {
      route.system_identifier = follow_alias(admin_dsn, follow_dsn, route.alias).system_identifier;
    } catch (const std::exception& e) {
      route.error = e.what();
    }
  }
  std::sort(pooler.routes.begin(), pooler.routes.end(),
            [](const PoolerRoute& a, const PoolerRoute& b) { return a.alias < b.alias; });
  return pooler;
}

}  // namespace pgparity::state
