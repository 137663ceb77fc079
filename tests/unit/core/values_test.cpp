#include "core/values.hpp"

#include <gtest/gtest.h>

#include "core/spelling.hpp"

namespace pgparity {
namespace {

TEST(Version, AcceptsTheVersionsExtensionsShip) {
  for (const char* v : {"1.0", "1.10", "3.3.2", "2.5.0dev", "1.0-beta1", "unpackaged", "10+deb", "1.2~rc1"}) {
    EXPECT_TRUE(Version::parse(v).has_value()) << v;
  }
}

TEST(Version, RefusesWhatPostgresRefusesOrWhatCouldCarrySql) {
  for (const char* v : {"", "-1.0", "1.0-", "1.0--2.0", "1.0'", "1 0", "1;0", "a/b", "x\"y",
                        "1234567890123456789012345678901234567890123456789012345678901234"}) {
    EXPECT_FALSE(Version::parse(v).has_value()) << v;
  }
}

TEST(Identifier, AcceptsExtensionSchemaAndDatabaseNames) {
  for (const char* n : {"hstore", "uuid-ossp", "pg_stat_statements", "_private", "Orders2", "a$b"}) {
    EXPECT_TRUE(Identifier::parse(n).has_value()) << n;
  }
}

TEST(Identifier, RefusesNamesThatCouldCarrySql) {
  for (const char* n : {"x\"; DROP TABLE t; --", "a b", "1abc", "", "a'b", "a;b", "a.b", "tab\tname"}) {
    EXPECT_FALSE(Identifier::parse(n).has_value()) << n;
  }
}

TEST(Identifier, SettingNamesMayHoldDots) {
  EXPECT_TRUE(Identifier::parse("pg_stat_statements.max", Identifier::Kind::setting).has_value());
  EXPECT_FALSE(Identifier::parse("pg-stat", Identifier::Kind::setting).has_value());
}

TEST(Duration, ParsesUnitsAndSums) {
  EXPECT_EQ(Duration::parse("500ms")->ms(), 500);
  EXPECT_EQ(Duration::parse("30s")->ms(), 30'000);
  EXPECT_EQ(Duration::parse("5m")->ms(), 300'000);
  EXPECT_EQ(Duration::parse("1h30m")->ms(), 5'400'000);
  EXPECT_EQ(Duration::parse("2d")->ms(), 172'800'000);
  EXPECT_EQ(Duration::parse("0s")->ms(), 0);
}

TEST(Duration, RefusesMalformedText) {
  for (const char* d : {"", "30", "s", "30 s", "30sec", "-5s", "1.5s", "99999999999999999999d"}) {
    EXPECT_FALSE(Duration::parse(d).has_value()) << d;
  }
}

TEST(Duration, PrintsTheLargestExactUnit) {
  EXPECT_EQ(Duration::seconds(90).str(), "90s");
  EXPECT_EQ(Duration::minutes(30).str(), "30m");
  EXPECT_EQ(Duration::milliseconds(1500).str(), "1500ms");
  EXPECT_EQ(Duration().str(), "0s");
  EXPECT_EQ(Duration::parse(Duration::parse("1h30m")->str()), Duration::parse("1h30m"));
}

TEST(Spelling, SuggestsTheClosestPlausibleName) {
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
  EXPECT_EQ(did_you_mean("verison", {"name", "version", "schema"}), " (did you mean 'version'?)");
  EXPECT_EQ(did_you_mean("zzz", {"name", "version"}), "");
}

}  // namespace
}  // namespace pgparity
