#pragma once

#include <functional>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace pgparity::desired {

/// An arithmetic expression over server settings, such as
/// "max_connections * work_mem / shared_buffers": setting names, numbers,
/// '*', '/' and parentheses. Settings are looked up already normalized by unit
/// (memory in bytes, time in milliseconds), so a ratio means the same on every server.
class RatioExpr {
 public:
  /// Where parsing failed: a 0-based offset into the text, and what was wrong.
  struct ParseError {
    std::size_t offset;
    std::string message;
  };
  using Lookup = std::function<std::optional<double>(const std::string& setting)>;

  static std::variant<RatioExpr, ParseError> parse(const std::string& text);

  /// The value, or nullopt when a setting is unknown or a divisor is zero.
  std::optional<double> evaluate(const Lookup& lookup) const;
  /// Every setting name used, sorted, each once.
  std::vector<std::string> settings() const;
  /// For an expression "a / b" of two settings: {a, b}, so a value of `a`
  /// that gives the wanted ratio can be suggested. nullopt for any other shape.
  std::optional<std::pair<std::string, std::string>> simple_ratio() const;
  /// The text as written.
  const std::string& text() const { return text_; }
  bool operator==(const RatioExpr& other) const { return text_ == other.text_; }

 private:
  struct Node {
    enum class Kind { number, setting, multiply, divide } kind;
    double number = 0;
    std::string setting;
    int lhs = -1;
    int rhs = -1;
  };
  friend class RatioParser;
  std::optional<double> evaluate(int node, const Lookup& lookup) const;

  std::string text_;
  std::vector<Node> nodes_;
  int root_ = -1;
};

}  // namespace pgparity::desired
