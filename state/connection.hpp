#pragma once

#include <memory>
#include <optional>
#include <pqxx/connection>
#include <string>

namespace pgparity::state {

/// How a session may touch its server.
enum class Access {
  read_write,  ///< a managed target
  read_only,   ///< a reference target: every transaction READ ONLY at the server
};

/// Seconds libpq waits for a connection when neither the DSN nor PGCONNECT_TIMEOUT says.
inline constexpr const char* default_connect_timeout = "10";

/// A DSN (libpq conninfo string or URI) with any password replaced by "********",
/// for messages and logs. A DSN libpq cannot parse is returned as "<unparsable dsn>".
std::string mask_dsn(const std::string& dsn);

/// libpq's objection to a DSN's syntax, or a host (host= or hostaddr=) that
/// PGPARITY_ALLOWED_HOSTS does not list; nullopt when the DSN may be used.
std::optional<std::string> dsn_problem(const std::string& dsn);

/// Whether the runner lets a manifest reach `host`: PGPARITY_ALLOWED_HOSTS unset, or one of
/// its comma-separated entries is the host (a name, an address, a socket directory) or
/// `*.domain` with the host under that domain.
bool host_allowed(const std::string& host);

/// The conninfo string connect() hands to libpq: the DSN's own keywords, the
/// read-only server option (a read-only session's target_session_attrs=read-write,
/// which every read-only host would fail, becomes primary), the database, connect_timeout and keepalives where
/// the DSN leaves them out, and a fallback application name.
std::string session_conninfo(const std::string& dsn, Access access, const std::string& application_name,
                             const std::optional<std::string>& database);

/// Opens a session, to `database` instead of the DSN's own when given. Reads
/// PG* variables, service files and .pgpass as libpq does. A read_only session
/// sets default_transaction_read_only at connect, so the server itself refuses
/// writes (and every catalog read is a CatalogRead: BEGIN READ ONLY, for when a
/// pooler drops that option). Adds connect_timeout and TCP keepalives unless the
/// DSN sets them. Throws ConnectionError (password masked), InputError for a bad DSN.
std::unique_ptr<pqxx::connection> connect(const std::string& dsn, Access access,
                                          const std::string& application_name = "pgparity",
                                          const std::optional<std::string>& database = std::nullopt);

/// A session that holds state on its backend (pgparity's run lock, a transaction) must never be reopened
/// behind the caller's back: libpqxx 6 resets a broken connection and retries when a pqxx::work or
/// read_transaction sends its BEGIN, which would carry on without the lock. After this, a broken
/// session stays broken.
void never_reconnect(pqxx::connection_base& session);

/// The DSN with its host, hostaddr and port replaced (a pooler in front of the server): the same
/// user and options; its password only when `host` is the DSN's own host or one that
/// PGPARITY_ALLOWED_HOSTS pins (credentials go only to the endpoints they came with).
std::string dsn_through(const std::string& dsn, const std::string& host, const std::string& port);

/// The host and port a DSN names ("" for what it leaves to libpq's defaults).
struct Endpoint {
  std::string host;
  std::string port;
};
Endpoint dsn_endpoint(const std::string& dsn);

/// The DSN as written in a manifest, with a literal password (a conninfo
/// `password=` or a URI's user:password@) replaced by ${variable}; unchanged
/// when it has none, when it is already a ${...} reference, or when libpq
/// cannot parse it (a whole-DSN "${PGPARITY_PROD_DSN}"). `replaced` says whether it was.
std::string dsn_with_password_variable(const std::string& dsn, const std::string& variable, bool& replaced);

/// The DSN as a conninfo string without its password (libpq then finds one in
/// .pgpass or PGPASSWORD), for writing into files people commit.
std::string dsn_without_password(const std::string& dsn);

}  // namespace pgparity::state
