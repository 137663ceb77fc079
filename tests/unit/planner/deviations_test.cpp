#include "planner/deviations.hpp"

#include <gtest/gtest.h>

#include "tests/unit/planner/fixtures.hpp"

namespace pgparity::planner {
namespace {

using namespace testing;  // NOLINT: the fixtures' builders

std::vector<std::string> lines(const std::vector<Deviation>& deviations) {
  std::vector<std::string> out;
  for (const auto& d : deviations) {
    out.push_back(d.where + " " + d.subject + " " + d.observed + " -> " + d.desired +
                  (d.problem.empty() ? "" : " ! " + d.problem));
  }
  return out;
}

// Listed in the plan's step order.
TEST(Deviations, EachChangeIsWhatIsInstalledAgainstWhatTheManifestWants) {
  const auto m = manifest(
      "extensions:\n  - name: hstore\n    version: \"1.8\"\n  - name: citext\n    ensure: absent\n"
      "  - name: pg_trgm\n    version: \"1.6\"\n");
  const Plan plan = plan_for(m, Server("staging").db(Db().installed("hstore", "1.4")
                                                         .installed("citext", "1.6")
                                                         .available("hstore", {"1.4", "1.8"})
                                                         .path("hstore", {"1.4", "1.8"})
                                                         .available("citext", {"1.6"})
                                                         .available("pg_trgm", {"1.6"})));
  EXPECT_EQ(lines(deviations_of(plan)),
            (std::vector<std::string>{"staging/app citext 1.6 -> absent", "staging/app hstore 1.4 -> 1.8",
                                      "staging/app pg_trgm absent -> 1.6"}));
}

TEST(Deviations, ABlockerIsADeviationWithItsReason) {
  const auto m = manifest("extensions:\n  - name: hstore\n    version: \"9.9\"\n");
  const Plan plan =
      plan_for(m, Server("staging").db(Db().installed("hstore", "1.4").available("hstore", {"1.4", "1.8"})));
  const auto found = deviations_of(plan);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].where, "staging/app");
  EXPECT_EQ(found[0].subject, "hstore");
  EXPECT_NE(found[0].problem.find("hstore 9.9 is not available"), std::string::npos) << found[0].problem;
}

TEST(Deviations, AConvergedPlanHasNone) {
  const auto m = manifest("extensions:\n  - name: hstore\n    version: \"1.8\"\n");
  EXPECT_TRUE(
      deviations_of(plan_for(m, Server("staging").db(Db().installed("hstore", "1.8").available("hstore", {"1.8"}))))
          .empty());
}

}  // namespace
}  // namespace pgparity::planner
