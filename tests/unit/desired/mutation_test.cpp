// Hostile input never crashes: a seeded random-mutation run of the manifest loader and the ratio parser
// under the GCC sanitizer build, beside the libFuzzer target in tests/fuzz/ (see docs/development.md).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "desired/loader.hpp"
#include "desired/ratio_expr.hpp"

namespace pgparity::desired {
namespace {

std::vector<std::string> seed_corpus() {
  std::vector<std::string> seeds;
  for (const char* folder : {"/examples", "/tests/manifests/valid", "/tests/manifests/invalid"}) {
    const std::filesystem::path dir = std::string(PGPARITY_SOURCE_DIR) + folder;
    if (!std::filesystem::is_directory(dir)) continue;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
      if (entry.path().extension() != ".yaml") continue;
      std::ifstream in(entry.path());
      std::stringstream text;
      text << in.rdbuf();
      seeds.push_back(text.str());
    }
  }
  return seeds;
}

/// One random edit: a byte replaced by one YAML or DSN cares about, a piece of the input copied
/// elsewhere, a range deleted, or a run of openers inserted.
std::string mutate(std::string text, std::mt19937& random) {
  static const std::string specials = "[]{}:-'\"#\n ${}%\\,&*!|>?@`\t0123456789.eE";
  auto pick = [&](std::size_t n) { return n == 0 ? 0 : std::uniform_int_distribution<std::size_t>(0, n - 1)(random); };
  switch (pick(4)) {
    case 0:
      if (!text.empty()) text[pick(text.size())] = specials[pick(specials.size())];
      break;
    case 1: {
      const std::size_t from = pick(text.size() + 1);
      const std::size_t length = pick(std::min<std::size_t>(64, text.size() - from) + 1);
      text.insert(pick(text.size() + 1), text.substr(from, length));
      break;
    }
    case 2: {
      const std::size_t from = pick(text.size() + 1);
      text.erase(from, pick(std::min<std::size_t>(32, text.size() - from) + 1));
      break;
    }
    default:
      text.insert(pick(text.size() + 1), std::string(pick(200) + 1, specials[pick(6)]));
      break;
  }
  return text;
}

TEST(Mutation, TheManifestLoaderAndTheRatioParserSurviveMutatedInputWithoutACrash) {
  const std::vector<std::string> seeds = seed_corpus();
  ASSERT_GE(seeds.size(), 5u) << "the seed corpus comes from examples/ and tests/manifests/";
  const std::vector<std::string> expressions{"work_mem / shared_buffers", "max_connections * work_mem / shared_buffers",
                                             "(maintenance_work_mem / (shared_buffers * 2))", "0.5 * x / y"};
  const char* budget_text = std::getenv("PGPARITY_MUTATION_SECONDS");
  const double budget = budget_text != nullptr ? std::atof(budget_text) : 10.0;
  std::mt19937 random(20261125);  // seeded: a failure reproduces
  LoadOptions options;
  options.environment = [](const std::string&) { return std::optional<std::string>("host=x"); };
  const auto start = std::chrono::steady_clock::now();
  long executions = 0;
  while (std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() < budget) {
    std::string text = seeds[static_cast<std::size_t>(executions) % seeds.size()];
    const int edits = 1 + static_cast<int>(random() % 8);
    for (int i = 0; i < edits; ++i) text = mutate(text, random);
    EXPECT_NO_THROW({
      const LoadResult r = load_manifest_text(text, "mutated.yaml", options);
      (void)r;
    }) << "input:\n"
       << text;
    std::string expr = expressions[static_cast<std::size_t>(executions) % expressions.size()];
    for (int i = 0; i < edits; ++i) expr = mutate(expr, random);
    EXPECT_NO_THROW((void)RatioExpr::parse(expr)) << expr;
    ++executions;
    if (HasFailure()) break;
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << "mutation run: " << executions << " executions in " << seconds << " s, no crash\n";
  EXPECT_GT(executions, 100);
}

}  // namespace
}  // namespace pgparity::desired
