#include <cstdint>
#include <set>

#include "planner/planner.hpp"

namespace pgparity::planner {

namespace {

/// FNV-1a, 64 bits: a change detector, not a security measure.
class Digest {
 public:
  void add(const std::string& text) {
    for (unsigned char c : text) {
      hash_ ^= c;
      hash_ *= 1099511628211ULL;
    }
    hash_ ^= 0xff;  // field separator
    hash_ *= 1099511628211ULL;
  }
  std::string hex() const {
    static const char* digits = "0123456789abcdef";
    std::string out(16, '0');
    for (int i = 0; i < 16; ++i) out[static_cast<std::size_t>(15 - i)] = digits[(hash_ >> (4 * i)) & 0xf];
    return out;
  }

 private:
  std::uint64_t hash_ = 14695981039346656037ULL;
};

}  // namespace

std::string digest(const std::string& text) {
  Digest d;
  d.add(text);
  return d.hex();
}

std::string fingerprint(const desired::Manifest& manifest, const std::map<std::string, state::TargetState>& observed) {
  std::set<std::string> settings;
  for (const auto& [name, value] : manifest.settings.values) settings.insert(name.str());
  for (const auto& r : manifest.settings.ratios) {
    for (const auto& s : r.expr.settings()) settings.insert(s);
  }
  settings.insert("shared_preload_libraries");

  Digest digest;
  for (const auto& [name, target] : observed) {
    digest.add("target " + name);
    for (const auto& s : settings) {
      auto it = target.cluster.settings.find(s);
      digest.add(s + "=" + (it == target.cluster.settings.end() ? "?" : it->second.value));
    }
    for (const auto& [lib, present] : target.cluster.library_files) {
      digest.add(lib + (present ? (*present ? "+" : "-") : "?"));
    }
    for (const auto& db : target.databases) {
      digest.add("database " + db.name);
      for (const auto& e : db.installed) digest.add(e.name.str() + " " + e.version.str() + " " + e.schema.str());
    }
  }
  return digest.hex();
}

}  // namespace pgparity::planner
