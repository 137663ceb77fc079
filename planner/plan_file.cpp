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
    const StepObject oa = object_of(a);
    const StepObject ob = object_of(b);
    if (std::string_view(oa.key) == "extension" && (oa.from != ob.from || oa.to != ob.to)) {
      return step + "planned " + (oa.from.empty() ? "absent" : oa.from) + " → " + (oa.to.empty() ? "absent" : oa.to) +
             ", now " + (ob.from.empty() ? "absent" : ob.from) + " → " + (ob.to.empty() ? "absent" : ob.to);
    }
    if (!state::same_blast_radius(blast_radius_of(a), blast_radius_of(b))) {
      return step + "the blast radius changed: it was " + objects(blast_radius_of(a)) + "; now it is " +
             objects(blast_radius_of(b));
    }
    const auto* ra = a.get_if<ExtensionRecreate>();
    const auto* rb = b.get_if<ExtensionRecreate>();
    if (ra != nullptr && rb != nullptr && ra->keeps != rb->keeps) {
      return step + "the kept rows changed: " + joined(ra->keeps) + ", now " + joined(rb->keeps);
    }
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
    if (auto* d = std::get_if<ExtensionDrop>(&x.payload)) d->blast_radius = blast_radius_of(y);
    if (auto* r = std::get_if<ExtensionRecreate>(&x.payload)) r->blast_radius = blast_radius_of(y);
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
