#include "state/connection.hpp"

#include <libpq-fe.h>

#include <cctype>
#include <cstdlib>
#include <set>
#include <string_view>
#include <utility>
#include <vector>

#include <pqxx/connection>

#include "core/error.hpp"

namespace pgparity::state {

namespace {

/// Quotes a conninfo value as libpq's parser expects: in single quotes, with \' and \\ escaped.
std::string conninfo_value(const std::string& value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

/// libpq's parse error with every quoted token masked: libpq quotes the part
/// of the DSN it choked on (`invalid percent-encoded token: "SEC%zzRETX"`),
/// and that part can be a password.
std::string masked_parse_error(std::string message) {
  std::string out;
  bool quoted = false;
  for (char c : message) {
    if (c == '"') {
      out += quoted ? "\"" : "\"…";
      quoted = !quoted;
    } else if (!quoted) {
      out += c;
    }
  }
  return out;
}

/// Parses with libpq; nullptr on a syntax error, with the (masked) message in `error`.
PQconninfoOption* parse(const std::string& dsn, std::string& error) {
  char* err = nullptr;
  PQconninfoOption* options = PQconninfoParse(dsn.c_str(), &err);
  if (err != nullptr) {
    error = err;
    while (!error.empty() && error.back() == '\n') error.pop_back();
    error = masked_parse_error(error);
    PQfreemem(err);
  }
  return options;
}

/// Whether libpq will ask each host if the session is writable (target_session_attrs=read-write, in
/// the DSN or PGTARGETSESSIONATTRS). With default_transaction_read_only in the startup packet every
/// host, the primary too, would answer no: a read-only session asks for the primary instead.
bool asks_for_read_write(const std::string& dsn) {
  std::string value;
  if (const char* env = std::getenv("PGTARGETSESSIONATTRS"); env != nullptr) value = env;
  std::string error;
  if (PQconninfoOption* options = parse(dsn, error); options != nullptr) {
    for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
      if (o->val != nullptr && std::string_view(o->keyword) == "target_session_attrs") value = o->val;
    }
    PQconninfoFree(options);
  }
  return value == "read-write";
}

}  // namespace

void never_reconnect(pqxx::connection_base& session) {
  // Deprecated in libpqxx 6 only because 7 never reconnects at all: what this asks for.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  session.inhibit_reactivation(true);
#pragma GCC diagnostic pop
}

/// The DSN as a conninfo string for the session pgparity opens: its own
/// fallback application name, and for read-only access the server option
/// default_transaction_read_only added to any `options` the DSN has.
std::string session_conninfo(const std::string& dsn, Access access, const std::string& application_name,
                             const std::optional<std::string>& database) {
  std::string error;
  PQconninfoOption* options = parse(dsn, error);
  if (options == nullptr) {
    throw InputError("invalid connection string: " + error, "", "use a libpq conninfo string or a postgresql:// URI");
  }
  std::string out;
  std::string server_options;
  std::set<std::string> given;
  const bool read_write = asks_for_read_write(dsn);
  for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (o->val == nullptr) continue;
    const std::string keyword = o->keyword;
    given.insert(keyword);
    if (keyword == "options") {
      server_options = o->val;
      continue;
    }
    if (keyword == "dbname" && database) continue;
    if (keyword == "client_encoding") continue;  // always UTF8: below
    if (keyword == "target_session_attrs" && access == Access::read_only && read_write) continue;
    out += std::string(o->keyword) + "=" + conninfo_value(o->val) + " ";
  }
  PQconninfoFree(options);
  if (access == Access::read_only) {
    server_options += " -c default_transaction_read_only=on";
    // read-write would refuse every host of a read-only session: the primary is what it means here
    // (libpq asks pg_is_in_recovery()), and the session stays read-only from its first packet.
    if (read_write) out += "target_session_attrs=primary ";
  }
  if (!server_options.empty()) out += "options=" + conninfo_value(server_options) + " ";
  if (database) out += "dbname=" + conninfo_value(*database) + " ";
  // A server that stops answering must not hang a run: a connect timeout and TCP keepalives
  // unless the DSN (or PGCONNECT_TIMEOUT) says otherwise.
  if (!given.contains("connect_timeout") && std::getenv("PGCONNECT_TIMEOUT") == nullptr) {
    out += "connect_timeout=" + std::string(default_connect_timeout) + " ";
  }
  for (const auto& [keyword, value] : {std::pair<const char*, const char*>{"keepalives", "1"},
                                       {"keepalives_idle", "30"},
                                       {"keepalives_interval", "10"},
                                       {"keepalives_count", "3"}}) {
    if (!given.contains(keyword)) out += std::string(keyword) + "=" + value + " ";
  }
  // pgparity's strings are UTF-8, and its quoting of literals is right for every server encoding only
  // under a client encoding where no multibyte character holds a quote or backslash byte (not SJIS, BIG5,
  // GBK, ...): the session speaks UTF8 whatever the DSN or PGCLIENTENCODING says.
  out += "client_encoding=UTF8 ";
  return out + "fallback_application_name=" + conninfo_value(application_name);
}

std::string dsn_through(const std::string& dsn, const std::string& host, const std::string& port) {
  std::string error;
  PQconninfoOption* options = parse(dsn, error);
  if (options == nullptr) throw InputError("invalid connection string: " + error);
  std::string out;
  std::string own_host;
  for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (o->val != nullptr && std::string(o->keyword) == "host") own_host = o->val;
  }
  // A password goes only to the endpoint it came with, or to a host the runner pinned as allowed.
  const bool keep_secrets =
      host == own_host || (std::getenv("PGPARITY_ALLOWED_HOSTS") != nullptr && host_allowed(host));
  for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    const std::string keyword = o->keyword;
    if (o->val == nullptr || keyword == "host" || keyword == "hostaddr" || keyword == "port") continue;
    if (!keep_secrets &&
        (keyword == "password" || keyword == "sslpassword" || keyword == "passfile" || keyword == "service")) {
      continue;
    }
    out += keyword + "=" + conninfo_value(o->val) + " ";
  }
  // Nor may libpq find one for it: an empty password keeps PGPASSWORD out, an empty passfile ~/.pgpass.
  if (!keep_secrets) out += "password='' passfile='/dev/null' ";
  PQconninfoFree(options);
  if (!host.empty()) out += "host=" + conninfo_value(host) + " ";
  if (!port.empty()) out += "port=" + conninfo_value(port) + " ";
  return out;
}

std::optional<std::string> dsn_problem(const std::string& dsn) {
  std::string error;
  PQconninfoOption* options = parse(dsn, error);
  if (options == nullptr) return error.empty() ? std::string("libpq cannot parse it") : error;
  std::vector<std::string> hosts;
  for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    const std::string keyword = o->keyword;
    if (o->val == nullptr || (keyword != "host" && keyword != "hostaddr")) continue;
    std::string item;
    for (char c : std::string(o->val) + ",") {
      if (c != ',') {
        item += c;
      } else if (!item.empty()) {
        hosts.push_back(item);
        item.clear();
      }
    }
  }
  PQconninfoFree(options);
  for (const auto& host : hosts) {
    if (!host_allowed(host)) {
      // The host is not named: a manifest could have put a secret variable there.
      return "it reaches a host (host= or hostaddr=) that PGPARITY_ALLOWED_HOSTS does not list; nothing connects "
             "(the runner pins the hosts a manifest may reach)";
    }
  }
  return std::nullopt;
}

namespace {
/// One entry of PGPARITY_ALLOWED_HOSTS: the host itself (case-insensitive), or `*.domain` for every name
/// under that domain. Nothing else is a pattern: `*` never crosses a dot, `10.0.0.*` matches no address.
bool allows(const std::string& entry, const std::string& host) {
  auto lower = [](std::string t) {
    for (char& c : t) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return t;
  };
  const std::string e = lower(entry);
  const std::string h = lower(host);
  if (e.rfind("*.", 0) == 0) {
    const std::string suffix = e.substr(1);  // ".domain"
    // A name under the domain: never an address (127.0.0.1 is not under "*.0.0.1") or a socket directory.
    const bool address = h.find_first_not_of("0123456789.") == std::string::npos || h.find(':') != std::string::npos;
    return !address && h.find('/') == std::string::npos && h.size() > suffix.size() &&
           h.compare(h.size() - suffix.size(), suffix.size(), suffix) == 0;
  }
  return e == h;
}
}  // namespace

bool host_allowed(const std::string& host) {
  const char* pinned = std::getenv("PGPARITY_ALLOWED_HOSTS");
  if (pinned == nullptr) return true;
  std::string item;
  for (char c : std::string(pinned) + ",") {
    if (c != ',' && c != ' ') {
      item += c;
      continue;
    }
    if (!item.empty() && allows(item, host)) return true;
    item.clear();
  }
  return false;
}

Endpoint dsn_endpoint(const std::string& dsn) {
  Endpoint out;
  std::string error;
  PQconninfoOption* options = parse(dsn, error);
  if (options == nullptr) return out;
  for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (o->val == nullptr) continue;
    if (std::string(o->keyword) == "host") out.host = o->val;
    if (std::string(o->keyword) == "port") out.port = o->val;
  }
  PQconninfoFree(options);
  return out;
}

std::string dsn_with_password_variable(const std::string& dsn, const std::string& variable, bool& replaced) {
  replaced = false;
  std::string error;
  PQconninfoOption* options = parse(dsn, error);
  if (options == nullptr) return dsn;
  std::string out;
  for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (o->val == nullptr) continue;
    const std::string keyword = o->keyword;
    std::string value = o->val;
    if (keyword == "password" && value.find("${") == std::string::npos) {
      replaced = true;
      out += (out.empty() ? "" : " ") + keyword + "=${" + variable + "}";
      continue;
    }
    out += (out.empty() ? "" : " ") + keyword + "=" + conninfo_value(value);
  }
  PQconninfoFree(options);
  return replaced ? out : dsn;
}

std::string dsn_without_password(const std::string& dsn) {
  std::string error;
  PQconninfoOption* options = parse(dsn, error);
  if (options == nullptr) return dsn;
  std::string out;
  for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (o->val == nullptr || std::string(o->keyword) == "password") continue;
    if (!out.empty()) out += ' ';
    out += std::string(o->keyword) + "=" + conninfo_value(o->val);
  }
  PQconninfoFree(options);
  return out;
}

std::string mask_dsn(const std::string& dsn) {
  std::string error;
  PQconninfoOption* options = parse(dsn, error);
  if (options == nullptr) return "<unparsable dsn>";
  std::string out;
  for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (o->val == nullptr) continue;
    const std::string keyword = o->keyword;
    const bool secret = keyword == "password" || std::string(o->dispchar) == "*";
    if (!out.empty()) out += ' ';
    out += keyword + "=" + (secret ? std::string("********") : conninfo_value(o->val));
  }
  PQconninfoFree(options);
  return out;
}

std::unique_ptr<pqxx::connection> connect(const std::string& dsn, Access access, const std::string& application_name,
                                          const std::optional<std::string>& database) {
  const std::string conninfo = session_conninfo(dsn, access, application_name, database);
  try {
    return std::make_unique<pqxx::connection>(conninfo);
  } catch (const std::exception& e) {
    std::string message = e.what();
    while (!message.empty() && message.back() == '\n') message.pop_back();
    throw ConnectionError("cannot connect to " + mask_dsn(dsn), message,
                          "check the DSN, that the server runs, and pg_hba.conf");
  }
}

}  // namespace pgparity::state
