#include "planner/plan_file.hpp"

#include <nlohmann/json.hpp>

#include <stdexcept>
#include "planner/plan_json.hpp"

#include "planner/render.hpp"

namespace pgparity::planner {

Plan parse_plan(const std::string& json) {
  nlohmann::ordered_json doc;
  try {
    doc = nlohmann::ordered_json::parse(json);
  } catch (const nlohmann::json::exception& e) {
    throw std::invalid_argument(std::string("not JSON: ") + e.what());
  }
  if (!doc.is_object() || doc.value("kind", "") != "Plan" || doc.value("apiVersion", "") != "pgparity/v1") {
    throw std::invalid_argument("not a pgparity plan (kind Plan, apiVersion pgparity/v1)");
  }
  if (doc.value("formatVersion", 0) != plan_format_version) {
    throw std::invalid_argument("plan format version " + std::to_string(doc.value("formatVersion", 0)) +
                                " is not the " + std::to_string(plan_format_version) + " this build reads");
  }
  try {
    return doc.get<Plan>();
  } catch (const nlohmann::json::exception& e) {
    throw std::invalid_argument(std::string("bad plan field: ") + e.what());
  }
}

namespace {

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : "; ") + i;
  return out.empty() ? "nothing" : out;
}

std::string objects(const std::vector<state::DependentObject>& blast) {
  std::vector<std::string> out;
  for (const auto& o : blast) out.push_back(describe(o));
  return joined(out);
}

}  // namespace

std::string first_difference(const Plan& saved, const Plan& fresh) {
  const std::size_t common = std::min(saved.steps.size(), fresh.steps.size());
  for (std::size_t i = 0; i < common; ++i) {
    const Step& a = saved.steps[i];
    const Step& b = fresh.steps[i];
    if (a.id != b.id || a.kind != b.kind)
      return "step " + std::to_string(i + 1) + " was " + a.id + ", now it is " + b.id;
    const std::string step = "step " + a.id + ": ";
    if (a.from != b.from || a.to != b.to) {
      return step + "planned " + (a.from.empty() ? "absent" : a.from) + " → " + (a.to.empty() ? "absent" : a.to) +
             ", now " + (b.from.empty() ? "absent" : b.from) + " → " + (b.to.empty() ? "absent" : b.to);
    }
    if (!state::same_blast_radius(a.blast_radius, b.blast_radius)) {
      return step + "the blast radius changed: it was " + objects(a.blast_radius) + "; now it is " +
             objects(b.blast_radius);
    }
    if (a.keeps != b.keeps) return step + "the kept rows changed: " + joined(a.keeps) + ", now " + joined(b.keeps);
    if (a.sql != b.sql) {
      for (std::size_t k = 0; k < std::max(a.sql.size(), b.sql.size()); ++k) {
        const std::string x = k < a.sql.size() ? a.sql[k] : "(nothing)";
        const std::string y = k < b.sql.size() ? b.sql[k] : "(nothing)";
        if (x != y) return step + "its SQL differs: the file says " + x + ", pgparity would run " + y;
      }
    }
    // Every other field, through the plan's codec: the first one that differs (a rehearsal's result,
    // and row counts within the same blast radius, aside).
    Step x = a;
    Step y = b;
    x.rehearsal.reset();
    y.rehearsal.reset();
    x.blast_radius = y.blast_radius;
    if (x == y) continue;
    const nlohmann::ordered_json jx = x;
    const nlohmann::ordered_json jy = y;
    for (const auto& [key, value] : jx.items()) {
      if (!jy.contains(key) || jy.at(key) != value) return step + "its " + key + " changed";
    }
    for (const auto& [key, value] : jy.items()) {
      if (!jx.contains(key)) return step + "its " + key + " changed";
    }
    return step + "the step itself changed";
  }
  if (saved.steps.size() > common) return "step " + saved.steps[common].id + " is in the file but not needed now";
  if (fresh.steps.size() > common) return "step " + fresh.steps[common].id + " is needed now but not in the file";
  if (saved.blockers != fresh.blockers) return "the blockers changed";
  if (saved.fingerprint != fresh.fingerprint) {
    return "it was made from another manifest, pgparity version or database state (fingerprint " +
           saved.fingerprint.substr(0, 12) + "…, now " + fresh.fingerprint.substr(0, 12) + "…)";
  }
  return "";
}

}  // namespace pgparity::planner
