// The settings model's pure parts: list syntax, units rendered for people.
#include <gtest/gtest.h>

#include "state/settings.hpp"

namespace pgparity::state {
namespace {

using Ids = std::vector<std::string>;

TEST(SettingList, SplitsTheServersFormKeepingQuotedCommasAndSpaces) {
  EXPECT_EQ(split_setting_list("\"$user\", public, extra"), (Ids{"$user", "public", "extra"}));
  EXPECT_EQ(split_setting_list("\"a, b\",c"), (Ids{"a, b", "c"}));
  EXPECT_EQ(split_setting_list("\"say \"\"hi\"\"\""), (Ids{"say \"hi\""}));
  EXPECT_EQ(split_setting_list("  "), Ids{});
  EXPECT_EQ(split_setting_list("pg_stat_statements"), Ids{"pg_stat_statements"});
}

TEST(SettingList, JoinsElementsBackSoThatSplittingGivesThemAgain) {
  const Ids elements{"$user", "public", "Mixed Case", "a,b", "q\"uote"};
  const std::string joined = join_setting_list(elements);
  EXPECT_EQ(joined, "\"$user\", public, \"Mixed Case\", \"a,b\", \"q\"\"uote\"");
  EXPECT_EQ(split_setting_list(joined), elements);
}

TEST(SettingList, KnowsPostgres15sListSettings) {
  EXPECT_TRUE(is_list_setting("search_path"));
  EXPECT_TRUE(is_list_setting("shared_preload_libraries"));
  EXPECT_TRUE(is_list_setting("datestyle")) << "names are case-insensitive";
  EXPECT_FALSE(is_list_setting("work_mem"));
  EXPECT_FALSE(is_list_setting("application_name"));
}

TEST(SettingUnits, RenderInTheLargestUnitThatHoldsTheValueExactly) {
  EXPECT_EQ(display_value("16384", "8kB"), "128MB") << "blocks of 8kB, never 163848kB";
  EXPECT_EQ(display_value("4096", "kB"), "4MB");
  EXPECT_EQ(display_value("1000", "kB"), "1000kB");
  EXPECT_EQ(display_value("1024", "MB"), "1GB") << "WAL sizes count in MB";
  EXPECT_EQ(display_value("300000", "ms"), "5min");
  EXPECT_EQ(display_value("0", "ms"), "0ms");
  EXPECT_EQ(display_value("-1", "kB"), "-1") << "-1 means default or off: kept as the server says it";
  EXPECT_EQ(display_value("100", ""), "100");
  EXPECT_EQ(render_setting(2.0 * 1024 * 1024, "kB"), "2MB");
}

}  // namespace
}  // namespace pgparity::state
