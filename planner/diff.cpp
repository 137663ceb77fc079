#include "planner/diff.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <tuple>

#include "desired/writer.hpp"
#include "planner/export.hpp"

namespace pgparity::planner {

namespace {

std::map<std::string, const state::DatabaseState*> by_name(const state::TargetState& t) {
  std::map<std::string, const state::DatabaseState*> out;
  for (const auto& db : t.databases) out[db.name] = &db;
  return out;
}

std::string describe(const state::InstalledExtension* e) {
  if (e == nullptr) return "";
  return e->version.str() +
         (e->schema.str() == "public" || e->schema.str() == "pg_catalog" ? "" : " in " + e->schema.str());
}

void compare_databases(const state::DatabaseState& a, const state::DatabaseState& b, const std::string& label,
                       std::vector<ParityDifference>& out) {
  std::set<std::string> names;
  for (const auto& e : a.installed) names.insert(e.name.str());
  for (const auto& e : b.installed) names.insert(e.name.str());
  for (const auto& name : names) {
    const auto* x = a.find(name);
    const auto* y = b.find(name);
    if (x && y && x->version == y->version && x->schema == y->schema) continue;
    out.push_back({"extension", label, name, describe(x), describe(y)});
  }
}

/// What makes two PgBouncers behave alike: the pool settings, and each alias's pool mode and size.
void compare_poolers(const state::PoolerState& a, const state::PoolerState& b, std::vector<ParityDifference>& out) {
  if (!a.error.empty() || !b.error.empty()) {
    out.push_back({"pooler", "", "observed", a.error.empty() ? "yes" : "no: " + a.error,
                   b.error.empty() ? "yes" : "no: " + b.error});
    return;
  }
  static const char* keys[] = {
      "pool_mode",          "max_client_conn",          "default_pool_size", "min_pool_size",
      "reserve_pool_size",  "max_db_connections",       "server_lifetime",   "server_idle_timeout",
      "query_wait_timeout", "ignore_startup_parameters"};
  auto value = [](const state::PoolerState& p, const std::string& key) {
    auto it = p.config.find(key);
    return it == p.config.end() ? std::string() : it->second;
  };
  for (const char* key : keys) {
    if (value(a, key) != value(b, key)) out.push_back({"pooler", "", key, value(a, key), value(b, key)});
  }
  std::map<std::string, const state::PoolerRoute*> x;
  std::map<std::string, const state::PoolerRoute*> y;
  for (const auto& r : a.routes) x[r.alias] = &r;
  for (const auto& r : b.routes) y[r.alias] = &r;
  for (const auto& [alias, r] : x) {
    auto other = y.find(alias);
    if (other == y.end()) continue;
    // An alias without its own pool_mode runs the pooler's.
    const std::string mode_a = r->pool_mode.empty() ? value(a, "pool_mode") : r->pool_mode;
    const std::string mode_b = other->second->pool_mode.empty() ? value(b, "pool_mode") : other->second->pool_mode;
    if (mode_a != mode_b) out.push_back({"pooler-alias", alias, "pool_mode", mode_a, mode_b});
    if (r->pool_size != other->second->pool_size) {
      out.push_back({"pooler-alias", alias, "pool_size", r->pool_size, other->second->pool_size});
    }
  }
}

}  // namespace

ParityReport compare_targets(const state::TargetState& left, const state::TargetState& right,
                             const std::vector<desired::Ratio>& manifest_ratios) {
  ParityReport report;
  report.left = left.target;
  report.right = right.target;
  auto& diffs = report.differences;

  const auto a = by_name(left);
  const auto b = by_name(right);
  if (a.size() == 1 && b.size() == 1 && a.begin()->first != b.begin()->first) {
    // Each side's own database: compare them with each other.
    compare_databases(*a.begin()->second, *b.begin()->second, a.begin()->first + " ↔ " + b.begin()->first, diffs);
  } else {
    std::set<std::string> names;
    for (const auto& [n, db] : a) names.insert(n);
    for (const auto& [n, db] : b) names.insert(n);
    for (const auto& n : names) {
      auto x = a.find(n);
      auto y = b.find(n);
      if (x == a.end() || y == b.end()) {
        diffs.push_back({"database", n, n, x == a.end() ? "" : "present", y == b.end() ? "" : "present"});
        continue;
      }
      compare_databases(*x->second, *y->second, n, diffs);
    }
  }

  const auto& pa = left.cluster.preload_libraries;
  const auto& pb = right.cluster.preload_libraries;
  std::set<std::string> libs(pa.begin(), pa.end());
  libs.insert(pb.begin(), pb.end());
  for (const auto& lib : libs) {
    const bool in_a = std::find(pa.begin(), pa.end(), lib) != pa.end();
    const bool in_b = std::find(pb.begin(), pb.end(), lib) != pb.end();
    if (in_a != in_b) diffs.push_back({"preload", "", lib, in_a ? "preloaded" : "", in_b ? "preloaded" : ""});
    auto file = [&](const state::TargetState& t) -> std::string {
      auto it = t.cluster.library_files.find(lib);
      if (it == t.cluster.library_files.end() || !it->second) return "unknown";
      return *it->second ? "present" : "missing";
    };
    const std::string fa = file(left);
    const std::string fb = file(right);
    if (fa == "missing" || fb == "missing") diffs.push_back({"library-file", "", lib, fa, fb});
  }

  if (left.pooler && right.pooler) compare_poolers(*left.pooler, *right.pooler, diffs);

  std::vector<desired::Ratio> ratios = manifest_ratios;
  if (ratios.empty()) {
    for (const char* text : exported_ratios) {
      desired::Ratio r;
      r.expr = std::get<desired::RatioExpr>(desired::RatioExpr::parse(text));
      r.match_reference = true;
      ratios.push_back(r);
    }
  }
  for (const auto& r : ratios) {
    report.ratios_compared.push_back(r.expr.text());
    const auto x = r.expr.evaluate([&](const std::string& s) { return left.cluster.normalized(s); });
    const auto y = r.expr.evaluate([&](const std::string& s) { return right.cluster.normalized(s); });
    const std::string sx = x ? desired::format_number(*x) : "unknown";
    const std::string sy = y ? desired::format_number(*y) : "unknown";
    const double tolerance = r.match_reference ? r.tolerance : 0.05;
    if (!x || !y || std::abs(*x - *y) > tolerance * std::abs(*x)) diffs.push_back({"ratio", "", r.expr.text(), sx, sy});
  }
  std::stable_sort(diffs.begin(), diffs.end(), [](const auto& p, const auto& q) {
    return std::tie(p.category, p.database, p.subject) < std::tie(q.category, q.database, q.subject);
  });
  return report;
}

std::string render_parity_text(const ParityReport& report) {
  std::ostringstream out;
  if (report.matches()) {
    out << report.left << " and " << report.right << " match (extensions, preload libraries, library files, "
        << report.ratios_compared.size() << " ratios)\n";
    return out.str();
  }
  out << report.left << " and " << report.right << " differ in " << report.differences.size() << " place"
      << (report.differences.size() == 1 ? "" : "s") << ":\n";
  auto side = [](const std::string& s) { return s.empty() ? std::string("(none)") : s; };
  for (const auto& d : report.differences) {
    out << "  " << d.category << "  " << (d.database.empty() ? "" : d.database + ": ") << d.subject << "  "
        << report.left << "=" << side(d.left) << "  " << report.right << "=" << side(d.right) << "\n";
  }
  return out.str();
}

std::string render_parity_json(const ParityReport& report) {
  nlohmann::ordered_json diffs = nlohmann::ordered_json::array();
  for (const auto& d : report.differences) {
    diffs.push_back({{"category", d.category},
                     {"database", d.database},
                     {"subject", d.subject},
                     {"left", d.left},
                     {"right", d.right}});
  }
  nlohmann::ordered_json doc{
      {"apiVersion", "pgparity/v1"}, {"kind", "ParityReport"},           {"left", report.left}, {"right", report.right},
      {"matches", report.matches()}, {"ratios", report.ratios_compared}, {"differences", diffs}};
  return doc.dump(2) + "\n";
}

}  // namespace pgparity::planner
