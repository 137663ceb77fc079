#include <openssl/evp.h>

#include <memory>
#include <set>
#include <stdexcept>

#include "desired/writer.hpp"
#include "planner/planner.hpp"

namespace pgparity::planner {

namespace {

/// SHA-256 (OpenSSL's libcrypto) over a sequence of fields, each ended by a
/// byte that cannot occur in catalog text, so ("ab","c") and ("a","bc") differ.
class Sha256 {
 public:
  Sha256() : context_(EVP_MD_CTX_new(), EVP_MD_CTX_free) {
    if (!context_ || EVP_DigestInit_ex(context_.get(), EVP_sha256(), nullptr) != 1) {
      throw std::runtime_error("OpenSSL cannot start a SHA-256 digest");
    }
  }
  void add(const std::string& field) {
    static const unsigned char separator = 0xff;
    bytes(field);
    EVP_DigestUpdate(context_.get(), &separator, 1);
  }
  void bytes(const std::string& text) { EVP_DigestUpdate(context_.get(), text.data(), text.size()); }
  std::string hex() {
    unsigned char bytes[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    EVP_DigestFinal_ex(context_.get(), bytes, &length);
    static const char* digits = "0123456789abcdef";
    std::string out;
    for (unsigned int i = 0; i < length; ++i) {
      out += digits[bytes[i] >> 4];
      out += digits[bytes[i] & 0xf];
    }
    return out;
  }

 private:
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> context_;
};

}  // namespace

std::string digest(const std::string& text) {
  Sha256 d;
  d.bytes(text);
  return d.hex();
}

std::string fingerprint(const PlanInput& input) {
  const desired::Manifest& manifest = *input.manifest;
  std::set<std::string> settings;
  for (const auto& [name, value] : manifest.settings.values) settings.insert(name.str());
  for (const auto& r : manifest.settings.ratios) {
    for (const auto& s : r.expr.settings()) settings.insert(s);
  }
  settings.insert("shared_preload_libraries");

  Sha256 digest;
  digest.add("pgparity " + input.tool_version);
  // The manifest as the canonical writer prints it: DSNs as written (${VAR}), never their secrets.
  digest.add(desired::write_manifest(manifest));
  for (const auto& f : input.force_recreate) digest.add("force " + f);
  for (const auto& [name, target] : input.observed) {
    digest.add("target " + name);
    for (const auto& s : settings) {
      auto it = target.cluster.settings.find(s);
      digest.add(s + "=" + (it == target.cluster.settings.end() ? "?" : it->second.value + it->second.unit));
    }
    for (const auto& [lib, present] : target.cluster.library_files) {
      digest.add(lib + (present ? (*present ? "+" : "-") : "?"));
    }
    for (const auto& [ext, available] : target.cluster.available) {
      digest.add("available " + ext + " default " +
                 (available.default_version ? available.default_version->str() : ""));
      for (const auto& v : available.versions) {
        std::string requires_;
        for (const auto& r : v.required) requires_ += r.str() + ",";
        digest.add(v.version.str() + " requires " + requires_ + (v.superuser ? " su" : "") +
                   (v.trusted ? " trusted" : "") + (v.relocatable ? " reloc" : "") + " schema " +
                   (v.schema ? v.schema->str() : ""));
      }
    }
    for (const auto& [ext, paths] : target.cluster.paths) {
      for (const auto& p : paths) {
        std::string via;
        for (const auto& v : p.steps) via += v.str() + "--";
        digest.add("path " + ext + " " + via);
      }
    }
    if (target.patroni) {
      // Patroni's configuration and its members' roles: a switchover since the plan changes the order of
      // the restarts, and an edit of the configuration what the PATCH would overwrite.
      digest.add(std::string("patroni ") + (target.patroni->reached ? "reached " : "not reached ") +
                 target.patroni->system_identifier);
      for (const auto& [name, value] : target.patroni->parameters) digest.add("patroni " + name + "=" + value);
      for (const auto& m : target.patroni->members) {
        digest.add("member " + m.name + " " + m.role + " " + m.state + (m.pending_restart ? " pending" : ""));
      }
    }
    for (const auto& replica : target.replicas) {
      digest.add("replica " + replica.endpoint + " " + replica.error +
                 (replica.cluster.in_recovery ? " standby " : " ") + replica.cluster.system_identifier);
      for (const auto& s : settings) {
        auto it = replica.cluster.settings.find(s);
        digest.add(s + "=" + (it == replica.cluster.settings.end() ? "?" : it->second.value + it->second.unit));
      }
      for (const auto& [ext, available] : replica.cluster.available) {
        for (const auto& v : available.versions) digest.add("replica available " + ext + " " + v.version.str());
      }
      for (const auto& [ext, paths] : replica.cluster.paths) {
        for (const auto& p : paths) digest.add("replica path " + ext + " " + p.from.str() + " " + p.to.str());
      }
    }
    for (const auto& db : target.databases) {
      digest.add("database " + db.name);
      for (const auto& e : db.installed) digest.add(e.name.str() + " " + e.version.str() + " " + e.schema.str());
      for (const auto& [ext, objects] : db.blast_radius) {
        for (const auto& o : objects) {
          digest.add("blast " + ext + " " + state::name_of(o.kind) + " " + o.description +
                     (o.user_data() ? " data" : ""));
        }
      }
      for (const auto& [ext, tables] : db.config_tables) {
        for (const auto& t : tables)
          digest.add("config " + ext + " " + t.schema.str() + "." + t.name.str() + " " + t.condition);
      }
    }
  }
  return digest.hex();
}

}  // namespace pgparity::planner
