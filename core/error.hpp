#pragma once

#include <stdexcept>
#include <string>

namespace pgparity {

/// Where a failure happened; empty fields are unknown or not applicable.
struct Where {
  std::string target;
  std::string database;
  std::string extension;
  std::string step;

  /// "staging/orders: pg_trgm" — the prefix of a message, or "" when nothing is known.
  std::string str() const;
};

/// Root of the failures of the world (lost connection, lock timeout, failed
/// script), shaped like PostgreSQL's ERROR / DETAIL / HINT. Bad user input is
/// reported as diagnostics instead (see core/diagnostic.hpp).
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message, std::string detail = {}, std::string hint = {}, Where where = {});

  const std::string& message() const { return message_; }
  const std::string& detail() const { return detail_; }
  const std::string& hint() const { return hint_; }
  const Where& where() const { return where_; }

  /// The whole report for a person: "error: where: message\ndetail: ...\nhint: ...".
  std::string report() const;

 private:
  std::string message_;
  std::string detail_;
  std::string hint_;
  Where where_;
};

/// A server could not be reached or refused the session.
class ConnectionError : public Error {
 public:
  using Error::Error;
};

/// Input that cannot be used (a manifest, a plan file, a flag); nothing ran.
class InputError : public Error {
 public:
  using Error::Error;
};

/// A server's or a library's message on one line, for a summary: trailing
/// newlines and spaces removed, inner newlines as spaces.
std::string one_line(std::string text);
/// A server's message as pgparity shows it where others read it (a pull-request comment): one line,
/// password hashes masked, at most 300 bytes.
std::string server_text(std::string text);

}  // namespace pgparity
