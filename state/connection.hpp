#pragma once

#include <memory>
#include <pqxx/connection>
#include <string>

namespace pgparity::state {

/// How a session may touch its server.
enum class Access {
  read_write,  ///< a managed target
  read_only,   ///< a reference target: every transaction READ ONLY at the server
};

/// A DSN (libpq conninfo string or URI) with any password replaced by "********",
/// for messages and logs. A DSN libpq cannot parse is returned as "<unparsable dsn>".
std::string mask_dsn(const std::string& dsn);

/// Opens a session. Reads PG* variables, service files and .pgpass as libpq does.
/// A read_only session sets default_transaction_read_only at connect, so the
/// server itself refuses writes. Throws ConnectionError (password masked).
std::unique_ptr<pqxx::connection> connect(const std::string& dsn, Access access,
                                          const std::string& application_name = "pgparity");

}  // namespace pgparity::state
