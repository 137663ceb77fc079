#include "core/error.hpp"

#include <gtest/gtest.h>

namespace pgparity {
namespace {

TEST(Error, ReportSaysWhereWhatAndTheFix) {
  const Error e("no update path from 1.3 to 1.7", "available: 1.3, 1.4", "set policy.recreate or choose 1.4",
                Where{"staging", "orders", "pg_trgm", ""});
  EXPECT_STREQ(e.what(), "staging/orders: pg_trgm: no update path from 1.3 to 1.7");
  EXPECT_EQ(e.report(),
            "error: staging/orders: pg_trgm: no update path from 1.3 to 1.7\n"
            "detail: available: 1.3, 1.4\n"
            "hint: set policy.recreate or choose 1.4");
}

TEST(Error, MessageWithoutLocationHasNoPrefix) {
  const Error e("cannot read manifest.yaml");
  EXPECT_STREQ(e.what(), "cannot read manifest.yaml");
  EXPECT_EQ(e.report(), "error: cannot read manifest.yaml");
}

}  // namespace
}  // namespace pgparity
