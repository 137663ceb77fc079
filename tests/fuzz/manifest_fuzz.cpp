// libFuzzer target (clang -fsanitize=fuzzer,address,undefined): the manifest loader and the ratio
// parser take any bytes without crashing, hanging or letting an exception escape. Built and run by
// scripts/fuzz, with examples/ and tests/manifests/ as the seed corpus.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "desired/loader.hpp"
#include "desired/ratio_expr.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  pgparity::desired::LoadOptions options;
  // Every variable is "set", so DSN expansion and escaping are exercised too.
  options.environment = [](const std::string&) { return std::optional<std::string>("host=x pass'w\\d"); };
  (void)pgparity::desired::load_manifest_text(text, "fuzz.yaml", options);
  // The same bytes as a ratio expression (its first line, as a manifest would hold it).
  (void)pgparity::desired::RatioExpr::parse(text.substr(0, text.find('\n')));
  return 0;
}
