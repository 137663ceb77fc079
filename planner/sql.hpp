#pragma once

#include <string>
#include <string_view>

namespace pgparity::planner {

/// An identifier in double quotes, inner quotes doubled: always quoted, never bare.
std::string quote_ident(std::string_view name);

/// A string literal: single quotes doubled; with backslashes, an E'' literal
/// with them doubled, so the result means the same whatever
/// standard_conforming_strings is. NUL bytes cannot be quoted and throw.
std::string quote_literal(std::string_view text);

/// A manifest's health query as pgparity runs it: inside `SELECT * FROM (…)`, so it must be one query
/// (a COMMIT, COPY, DO or SET is a syntax error, never run); trailing semicolons are dropped.
std::string health_query(std::string_view sql);

}  // namespace pgparity::planner
