#include "state/pooler_console.hpp"

#include <libpq-fe.h>
#include <poll.h>

#include <algorithm>
#include <chrono>
#include <memory>
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

RouteEnd follow_alias(const std::string& admin_dsn, const std::string& follow_dsn, const std::string& alias,
                      const std::function<bool()>& give_up) {
  const Endpoint through = dsn_endpoint(admin_dsn);
  // Read-write access: a pooler may refuse the startup option that makes a session read-only;
  // the read itself is SET TRANSACTION READ ONLY (CatalogRead::once_sql).
  const std::string conninfo =
      session_conninfo(dsn_through(follow_dsn, through.host, through.port), Access::read_write, "pgparity", alias);
  std::unique_ptr<pg_conn, void (*)(pg_conn*)> c(PQconnectStart(conninfo.c_str()), PQfinish);
  const std::string where = "alias '" + alias + "' through the pooler at " + mask_dsn(admin_dsn);
  auto failed = [&](const std::string& what) {
    return ConnectionError("cannot follow " + where, what.empty() ? trimmed(PQerrorMessage(c.get())) : what, "");
  };
  if (c == nullptr || PQstatus(c.get()) == CONNECTION_BAD) throw failed("");
  // Waits until the socket is ready for `events`, asking give_up every 100 ms.
  auto wait = [&](short events) {
    while (true) {
      if (give_up()) throw failed("gave up waiting for it");
      pollfd ready{PQsocket(c.get()), events, 0};
      if (poll(&ready, 1, 100) != 0) return;
    }
  };
  for (PostgresPollingStatusType status = PGRES_POLLING_WRITING; status != PGRES_POLLING_OK;
       status = PQconnectPoll(c.get())) {
    if (status == PGRES_POLLING_FAILED) throw failed("");
    wait(status == PGRES_POLLING_READING ? POLLIN : POLLOUT);
  }
  if (PQsendQuery(c.get(), CatalogRead::once_sql(sql::route_end).c_str()) == 0) throw failed("");
  while (true) {
    if (PQconsumeInput(c.get()) == 0) throw failed("");
    if (PQisBusy(c.get()) == 0) break;
    wait(POLLIN);
  }
  RouteEnd end;
  std::string error;
  while (PGresult* result = PQgetResult(c.get())) {
    if (PQresultStatus(result) == PGRES_TUPLES_OK && PQntuples(result) == 1 && PQnfields(result) == 2) {
      end = RouteEnd{PQgetvalue(result, 0, 0), PQgetvalue(result, 0, 1)};
    } else if (PQresultStatus(result) != PGRES_COMMAND_OK && PQresultStatus(result) != PGRES_TUPLES_OK) {
      error = trimmed(PQresultErrorMessage(result));
    }
    PQclear(result);
  }
  if (!error.empty() || end.system_identifier.empty()) throw failed(error.empty() ? "no answer" : error);
  return end;
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
      // Bounded: a paused alias or a full pool would hold the read until PgBouncer's query_wait_timeout.
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
      route.system_identifier = follow_alias(admin_dsn, follow_dsn, route.alias, [&] {
                                  return std::chrono::steady_clock::now() > deadline;
                                }).system_identifier;
    } catch (const std::exception& e) {
      route.error = e.what();
    }
  }
  std::sort(pooler.routes.begin(), pooler.routes.end(),
            [](const PoolerRoute& a, const PoolerRoute& b) { return a.alias < b.alias; });
  return pooler;
}

}  // namespace pgparity::state
