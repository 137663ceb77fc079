#include "state/pooler_console.hpp"

#include <libpq-fe.h>

#include "core/error.hpp"
#include "state/connection.hpp"

namespace pgparity::state {

namespace {
std::string trimmed(const char* message) {
  std::string text = message == nullptr ? "" : message;
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}
}  // namespace

PoolerConsole::PoolerConsole(const std::string& admin_dsn) : dsn_(admin_dsn) {
  connection_ = PQconnectdb(admin_dsn.c_str());
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

}  // namespace pgparity::state
