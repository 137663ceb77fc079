// The maintenance window: the manifest's loader accepts a timezone by its shape (the same verdict on
// every machine); the time zone database is asked where the window is evaluated, and a zone it lacks
// is refused, never read as UTC.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "core/error.hpp"
#include "desired/loader.hpp"
#include "reconciler/observation.hpp"

namespace pgparity::reconciler {
namespace {

desired::Manifest with_window(const std::string& timezone) {
  const desired::LoadResult r = desired::load_manifest_text(
      "apiVersion: pgparity/v1\ntargets:\n  staging:\n    dsn: \"host=s\"\n    role: managed\n"
      "policy:\n  maintenance_window:\n    days: [sat]\n    start: \"02:00\"\n    end: \"03:00\"\n    timezone: " +
          timezone + "\n",
      "window.yaml");
  if (!r.ok()) throw std::runtime_error(format(r.diagnostics));
  return *r.manifest;
}

constexpr long long saturday_0130_utc = 1796434200;  // 2026-12-05 01:30 UTC = 02:30 in Berlin

TEST(Window, IsEvaluatedInItsOwnZone) {
  EXPECT_TRUE(in_maintenance_window(with_window("Europe/Berlin").policy, saturday_0130_utc));
  EXPECT_FALSE(in_maintenance_window(with_window("UTC").policy, saturday_0130_utc)) << "01:30 is before 02:00";
}

TEST(Window, AZoneTheTimeZoneDatabaseLacksLoadsEverywhereButIsRefusedWhenEvaluated) {
  const desired::Manifest m = with_window("Mars/Olympus");  // loads: the shape of an IANA name
  EXPECT_THROW(in_maintenance_window(m.policy, saturday_0130_utc), InputError);
  // The database asked is the machine's (TZDIR), at evaluation: without one, even Berlin is refused.
  const std::string empty = ::testing::TempDir() + "/no-zoneinfo";
  std::filesystem::create_directories(empty);
  setenv("TZDIR", empty.c_str(), 1);
  EXPECT_THROW(in_maintenance_window(with_window("Europe/Berlin").policy, saturday_0130_utc), InputError);
  unsetenv("TZDIR");
}

}  // namespace
}  // namespace pgparity::reconciler
