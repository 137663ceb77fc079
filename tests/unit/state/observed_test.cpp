#include "state/observed.hpp"

#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <string>

#include "state/catalog_sql.hpp"

namespace pgparity::state {
namespace {

TEST(ObjectKind, EveryWordTheBlastRadiusQueryWritesIsAKindAndReadsBackToItself) {
  // The query names kinds in CASE branches: THEN 'table', ELSE 'object', and the configuration rows.
  const std::string sql = sql::blast_radius;
  const std::regex word(R"((?:THEN|ELSE) '([a-z ]+)')");
  std::set<std::string> words{"configuration table", "configuration sequence"};
  for (auto it = std::sregex_iterator(sql.begin(), sql.end(), word); it != std::sregex_iterator(); ++it) {
    words.insert((*it)[1]);
  }
  EXPECT_GE(words.size(), 15u) << "the query's CASE branches were not found";
  for (const auto& w : words) {
    if (w == "privileges") continue;
    EXPECT_NO_THROW(EXPECT_EQ(name_of(object_kind_named(w)), w)) << w;
  }
  EXPECT_THROW((void)object_kind_named("tabel"), std::invalid_argument);
}

TEST(DependentObject, ExtensionsAndSequencesAreNoUserDataAndAnEmptyConfigurationTableIsNone) {
  EXPECT_FALSE((DependentObject{"extension x", ObjectKind::extension, std::nullopt, "x"}.user_data()));
  EXPECT_FALSE((DependentObject{"sequence s", ObjectKind::configuration_sequence, 3, ""}.user_data()));
  EXPECT_FALSE((DependentObject{"table t", ObjectKind::configuration_table, 0, ""}.user_data()));
  EXPECT_TRUE((DependentObject{"table t", ObjectKind::configuration_table, std::nullopt, ""}.user_data()))
      << "rows that cannot be counted are assumed to be there";
  EXPECT_TRUE((DependentObject{"view v", ObjectKind::view, std::nullopt, ""}.user_data()));
}

}  // namespace
}  // namespace pgparity::state
