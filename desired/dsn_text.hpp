#pragma once

#include <cstddef>
#include <string>

/// Where a ${VAR} stands in a manifest's DSN text, and how its value must be written there. The
/// manifest comes from a pull request: these rules keep a variable's password where it belongs.
namespace pgparity::desired::dsn_text {

/// Whether a variable at `at` stands where a keyword=value pair starts (not inside a value, not in a
/// URI's userinfo or parameters): its value would be read as keywords, a whole DSN or a part of one.
bool whole_dsn_position(const std::string& dsn, std::size_t at);

/// The DSN keyword whose value a variable at `at` is part of: "password" for a URI's userinfo
/// password, the parameter's name after `?`, "" where a keyword starts or in a URI's host part.
std::string keyword_at(const std::string& dsn, std::size_t at);

/// Why variable `name` (holding `value`) may not stand at `at` ("" when it may): a DSN only as the
/// whole DSN, and a secret (*PASSWORD*, *SECRET*, *TOKEN*) only where a password goes, so neither
/// is sent as a host, a database or an application name to a server that logs it.
std::string misplaced(const std::string& name, const std::string& value, const std::string& dsn, std::size_t at);

/// A variable's value as it must be written at position `at` of a DSN: percent-encoded in a
/// postgresql:// URI; in a conninfo string, backslash-escaped inside '...' and quoted where a
/// bare value stands, so a quote, backslash, space, @, % or : in a password cannot break it.
std::string escaped(const std::string& value, const std::string& dsn, std::size_t at);

}  // namespace pgparity::desired::dsn_text
