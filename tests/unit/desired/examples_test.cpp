// Every manifest in examples/ loads, and survives a write/load round trip.
#include <gtest/gtest.h>

#include <filesystem>

#include "desired/loader.hpp"
#include "desired/writer.hpp"

namespace pgparity::desired {
namespace {

std::vector<std::string> examples() {
  std::vector<std::string> out;
  for (const auto& entry : std::filesystem::directory_iterator(std::string(PGPARITY_SOURCE_DIR) + "/examples")) {
    if (entry.path().extension() == ".yaml") out.push_back(entry.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

LoadOptions example_environment() {
  LoadOptions options;
  options.environment = [](const std::string& name) -> std::optional<std::string> { return "host=" + name; };
  return options;
}

TEST(Examples, ThereAreExamplesForEveryUse) { EXPECT_GE(examples().size(), 6u); }

TEST(Examples, EveryExampleLoadsAndRoundTrips) {
  for (const auto& path : examples()) {
    SCOPED_TRACE(path);
    const LoadResult first = load_manifest_file(path, example_environment());
    ASSERT_TRUE(first.ok()) << format(first.diagnostics);
    const LoadResult second = load_manifest_text(write_manifest(*first.manifest), path, example_environment());
    ASSERT_TRUE(second.ok()) << format(second.diagnostics);
    EXPECT_EQ(*first.manifest, *second.manifest);
  }
}

}  // namespace
}  // namespace pgparity::desired
