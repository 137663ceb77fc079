#include "desired/ratio_expr.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>

namespace pgparity::desired {

/// Recursive descent over: expr := term (('*' | '/') term)* ; term := number | name | '(' expr ')'.
class RatioParser {
 public:
  explicit RatioParser(const std::string& text) : text_(text) { expr_.text_ = text; }

  std::variant<RatioExpr, RatioExpr::ParseError> run() {
    skip_space();
    if (at_end()) return error("empty expression: use setting names, numbers, '*', '/' and parentheses");
    const int root = expression();
    if (failed_) return *failure_;
    skip_space();
    if (!at_end()) return error(std::string("unexpected '") + text_[pos_] + "': expected '*', '/' or the end");
    expr_.root_ = root;
    return expr_;
  }

 private:
  using Node = RatioExpr::Node;

  bool at_end() const { return pos_ >= text_.size(); }
  void skip_space() {
    while (!at_end() && std::isspace(static_cast<unsigned char>(text_[pos_])) != 0) ++pos_;
  }
  RatioExpr::ParseError error(const std::string& message) { return {pos_, message}; }
  int fail(const std::string& message) {
    if (!failed_) failure_ = error(message);
    failed_ = true;
    return -1;
  }
  int add(Node node) {
    // evaluate() recurses once per operator: bound the size so no input can exhaust the stack.
    if (expr_.nodes_.size() >= max_nodes) return fail("expression longer than " + std::to_string(max_nodes) + " terms");
    expr_.nodes_.push_back(std::move(node));
    return static_cast<int>(expr_.nodes_.size()) - 1;
  }

  int expression() {
    int lhs = term();
    while (!failed_) {
      skip_space();
      if (at_end() || (text_[pos_] != '*' && text_[pos_] != '/')) break;
      const Node::Kind kind = text_[pos_] == '*' ? Node::Kind::multiply : Node::Kind::divide;
      ++pos_;
      const int rhs = term();
      if (failed_) break;
      lhs = add(Node{kind, 0, {}, lhs, rhs});
    }
    return lhs;
  }

  int term() {
    skip_space();
    if (at_end()) return fail("expression ends early: expected a setting name, a number or '('");
    const char c = text_[pos_];
    if (c == '(') {
      if (++depth_ > max_depth) return fail("parentheses nested deeper than " + std::to_string(max_depth));
      ++pos_;
      const int inner = expression();
      --depth_;
      if (failed_) return -1;
      skip_space();
      if (at_end() || text_[pos_] != ')') return fail("expected ')'");
      ++pos_;
      return inner;
    }
    if (std::isdigit(static_cast<unsigned char>(c)) != 0 || c == '.') {
      const std::size_t start = pos_;
      while (!at_end() && (std::isdigit(static_cast<unsigned char>(text_[pos_])) != 0 || text_[pos_] == '.')) ++pos_;
      const std::string digits = text_.substr(start, pos_ - start);
      char* end = nullptr;
      const double value = std::strtod(digits.c_str(), &end);
      if (end != digits.c_str() + digits.size() || !std::isfinite(value)) {
        pos_ = start;
        return fail("bad number '" + digits + "'");
      }
      return add(Node{Node::Kind::number, value, {}, -1, -1});
    }
    if (std::isalpha(static_cast<unsigned char>(c)) != 0 || c == '_') {
      const std::size_t start = pos_;
      while (!at_end() &&
             (std::isalnum(static_cast<unsigned char>(text_[pos_])) != 0 || text_[pos_] == '_' || text_[pos_] == '.')) {
        ++pos_;
      }
      return add(Node{Node::Kind::setting, 0, text_.substr(start, pos_ - start), -1, -1});
    }
    return fail(std::string("unexpected '") + c + "': expected a setting name, a number or '('");
  }

  static constexpr int max_depth = 32;
  static constexpr std::size_t max_nodes = 256;
  const std::string& text_;
  int depth_ = 0;
  std::size_t pos_ = 0;
  RatioExpr expr_;
  bool failed_ = false;
  std::optional<RatioExpr::ParseError> failure_;
};

std::variant<RatioExpr, RatioExpr::ParseError> RatioExpr::parse(const std::string& text) {
  return RatioParser(text).run();
}

std::optional<double> RatioExpr::evaluate(const Lookup& lookup) const {
  if (root_ < 0) return std::nullopt;
  return evaluate(root_, lookup);
}

std::optional<double> RatioExpr::evaluate(int index, const Lookup& lookup) const {
  const Node& node = nodes_[static_cast<std::size_t>(index)];
  switch (node.kind) {
    case Node::Kind::number:
      return node.number;
    case Node::Kind::setting:
      return lookup(node.setting);
    case Node::Kind::multiply:
    case Node::Kind::divide: {
      const auto lhs = evaluate(node.lhs, lookup);
      const auto rhs = evaluate(node.rhs, lookup);
      if (!lhs || !rhs) return std::nullopt;
      if (node.kind == Node::Kind::multiply) return *lhs * *rhs;
      if (*rhs == 0) return std::nullopt;
      return *lhs / *rhs;
    }
  }
  return std::nullopt;
}

std::optional<std::pair<std::string, std::string>> RatioExpr::simple_ratio() const {
  if (root_ < 0) return std::nullopt;
  const Node& root = nodes_[static_cast<std::size_t>(root_)];
  if (root.kind != Node::Kind::divide) return std::nullopt;
  const Node& a = nodes_[static_cast<std::size_t>(root.lhs)];
  const Node& b = nodes_[static_cast<std::size_t>(root.rhs)];
  if (a.kind != Node::Kind::setting || b.kind != Node::Kind::setting) return std::nullopt;
  return std::make_pair(a.setting, b.setting);
}

std::vector<std::string> RatioExpr::settings() const {
  std::vector<std::string> names;
  for (const auto& node : nodes_) {
    if (node.kind == Node::Kind::setting) names.push_back(node.setting);
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

}  // namespace pgparity::desired
