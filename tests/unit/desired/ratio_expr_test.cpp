#include "desired/ratio_expr.hpp"

#include <gtest/gtest.h>

#include <map>

namespace pgparity::desired {
namespace {

RatioExpr parse_ok(const std::string& text) {
  auto parsed = RatioExpr::parse(text);
  EXPECT_TRUE(std::holds_alternative<RatioExpr>(parsed)) << text;
  return std::holds_alternative<RatioExpr>(parsed) ? std::get<RatioExpr>(parsed) : RatioExpr{};
}

RatioExpr::ParseError parse_error(const std::string& text) {
  auto parsed = RatioExpr::parse(text);
  EXPECT_TRUE(std::holds_alternative<RatioExpr::ParseError>(parsed)) << text;
  return std::holds_alternative<RatioExpr::ParseError>(parsed) ? std::get<RatioExpr::ParseError>(parsed)
                                                               : RatioExpr::ParseError{};
}

// Normalized values: memory in bytes, as state/ reports them.
const std::map<std::string, double> settings{
    {"work_mem", 4.0 * 1024 * 1024}, {"shared_buffers", 128.0 * 1024 * 1024}, {"max_connections", 100}};

std::optional<double> lookup(const std::string& name) {
  auto it = settings.find(name);
  if (it == settings.end()) return std::nullopt;
  return it->second;
}

TEST(RatioExpr, DividesNormalizedSettings) {
  EXPECT_DOUBLE_EQ(*parse_ok("work_mem / shared_buffers").evaluate(lookup), 1.0 / 32);
}

TEST(RatioExpr, EvaluatesLeftToRight) {
  EXPECT_DOUBLE_EQ(*parse_ok("max_connections * work_mem / shared_buffers").evaluate(lookup), 100.0 / 32);
  EXPECT_DOUBLE_EQ(*parse_ok("shared_buffers / work_mem * 2").evaluate(lookup), 64);
}

TEST(RatioExpr, ParenthesesGroup) {
  EXPECT_DOUBLE_EQ(*parse_ok("shared_buffers / (work_mem * 2)").evaluate(lookup), 16);
  EXPECT_DOUBLE_EQ(*parse_ok(" ( ( work_mem ) ) / 1048576 ").evaluate(lookup), 4);
}

TEST(RatioExpr, UnknownSettingOrZeroDivisorHasNoValue) {
  EXPECT_FALSE(parse_ok("work_mem / nope").evaluate(lookup).has_value());
  EXPECT_FALSE(parse_ok("work_mem / 0").evaluate(lookup).has_value());
}

TEST(RatioExpr, ListsTheSettingsItUsesOnce) {
  EXPECT_EQ(parse_ok("work_mem * max_connections / work_mem").settings(),
            (std::vector<std::string>{"max_connections", "work_mem"}));
}

TEST(RatioExpr, ErrorsSayWhere) {
  EXPECT_EQ(parse_error("").message, "empty expression: use setting names, numbers, '*', '/' and parentheses");
  EXPECT_EQ(parse_error("work_mem +").offset, 9u);
  EXPECT_EQ(parse_error("work_mem / ").message, "expression ends early: expected a setting name, a number or '('");
  EXPECT_EQ(parse_error("(work_mem").offset, 9u);
  EXPECT_EQ(parse_error("1.2.3 / work_mem").message, "bad number '1.2.3'");
  EXPECT_EQ(parse_error("work_mem shared_buffers").offset, 9u);
}

}  // namespace
}  // namespace pgparity::desired

namespace pgparity::desired {
namespace {

TEST(RatioExpr, HostileNestingAndLengthAreRefusedInsteadOfExhaustingTheStack) {
  const std::string deep = std::string(200000, '(') + "work_mem" + std::string(200000, ')');
  const auto nested = RatioExpr::parse(deep);
  ASSERT_TRUE(std::holds_alternative<RatioExpr::ParseError>(nested));
  EXPECT_NE(std::get<RatioExpr::ParseError>(nested).message.find("nested deeper than"), std::string::npos);
  std::string chain = "work_mem";
  for (int i = 0; i < 200000; ++i) chain += " * 2";
  const auto longer = RatioExpr::parse(chain);
  ASSERT_TRUE(std::holds_alternative<RatioExpr::ParseError>(longer));
  EXPECT_NE(std::get<RatioExpr::ParseError>(longer).message.find("longer than"), std::string::npos);
  EXPECT_TRUE(std::holds_alternative<RatioExpr>(RatioExpr::parse("((work_mem * 2) / (shared_buffers))")));
}

}  // namespace
}  // namespace pgparity::desired
