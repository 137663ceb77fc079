#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pgparity {

/// An extension version as PostgreSQL names it ("1.10", "3.3.2"). Versions
/// have no order in PostgreSQL, only equality and update paths.
class Version {
 public:
  Version() = default;
  /// A version from user input: [A-Za-z0-9._+~-], at most 63 characters, no
  /// "--", not starting or ending with '-' (PostgreSQL's own rules, narrowed
  /// to characters that need no care in file names or SQL).
  static std::optional<Version> parse(std::string_view text);
  /// A version read from a catalog: trusted as the server wrote it.
  static Version from_catalog(std::string text);

  const std::string& str() const { return text_; }
  bool empty() const { return text_.empty(); }
  auto operator<=>(const Version&) const = default;

 private:
  explicit Version(std::string text) : text_(std::move(text)) {}
  std::string text_;
};

/// A name of an extension, schema, database or setting, checked once at the
/// edge: it starts with a letter or '_', holds only [A-Za-z0-9_$-] (settings
/// also '.'), and fits in PostgreSQL's 63 bytes. Anything else — quotes,
/// spaces, semicolons — is refused, so no name can carry SQL.
class Identifier {
 public:
  enum class Kind { object, setting };
  Identifier() = default;
  static std::optional<Identifier> parse(std::string_view text, Kind kind = Kind::object);
  /// A name read from a catalog: trusted as the server wrote it.
  static Identifier from_catalog(std::string text);

  const std::string& str() const { return text_; }
  bool empty() const { return text_.empty(); }
  auto operator<=>(const Identifier&) const = default;

 private:
  explicit Identifier(std::string text) : text_(std::move(text)) {}
  std::string text_;
};

/// A span of time in milliseconds, written as "500ms", "30s", "5m", "1h30m", "2d".
class Duration {
 public:
  constexpr Duration() = default;
  static constexpr Duration milliseconds(std::int64_t ms) { return Duration(ms); }
  static constexpr Duration seconds(std::int64_t s) { return Duration(s * 1000); }
  static constexpr Duration minutes(std::int64_t m) { return Duration(m * 60'000); }
  /// Parses one or more <number><unit> parts (units ms, s, m, h, d); nullopt when malformed.
  static std::optional<Duration> parse(std::string_view text);

  constexpr std::int64_t ms() const { return ms_; }
  /// The shortest exact form: "90s" -> "90s", 1800000 ms -> "30m", 0 -> "0s".
  std::string str() const;
  auto operator<=>(const Duration&) const = default;

 private:
  constexpr explicit Duration(std::int64_t ms) : ms_(ms) {}
  std::int64_t ms_ = 0;
};

}  // namespace pgparity
