#include "planner/plan_json.hpp"

#include <stdexcept>
#include <type_traits>
#include <variant>

#include "planner/render.hpp"

namespace pgparity {

void to_json(nlohmann::ordered_json& j, const Version& v) { j = v.str(); }

/// A version read back from a plan file is checked as user input: a plan is a file anyone could edit.
void from_json(const nlohmann::ordered_json& j, Version& v) {
  const auto text = j.get<std::string>();
  const auto parsed = Version::parse(text);
  if (!parsed) throw std::invalid_argument("not a version: \"" + text + "\"");
  v = *parsed;
}

}  // namespace pgparity

namespace pgparity::state {

void to_json(nlohmann::ordered_json& j, const DependentObject& o) {
  j = {{"object", o.description},
       {"kind", name_of(o.kind)},
       {"userData", o.user_data()}};  // userData: derived, for readers
  if (o.rows) j["rows"] = *o.rows;
  if (!o.extension.empty()) j["extension"] = o.extension;
}

void from_json(const nlohmann::ordered_json& j, DependentObject& o) {
  o.description = j.at("object");
  o.kind = object_kind_named(j.at("kind"));
  o.rows = j.contains("rows") ? std::optional<long long>(j.at("rows").get<long long>()) : std::nullopt;
  o.extension = j.value("extension", "");
}

}  // namespace pgparity::state

namespace pgparity::planner {

namespace {

/// Sets `key` when the value is not its type's default, or `always`.
template <typename T>
void put(nlohmann::ordered_json& j, const char* key, const T& value, bool always = false) {
  if (always || !(value == T{})) j[key] = value;
}

template <typename T>
void get(const nlohmann::ordered_json& j, const char* key, T& value) {
  const auto it = j.find(key);
  value = it == j.end() ? T{} : it->template get<T>();
}

}  // namespace

void to_json(nlohmann::ordered_json& j, StepKind kind) { j = name_of(kind); }
void from_json(const nlohmann::ordered_json& j, StepKind& kind) { kind = step_kind_named(j.get<std::string>()); }

void to_json(nlohmann::ordered_json& j, const Rehearsal& r) {
  j = {{"status", name_of(r.status)}, {"durationMs", r.ms}, {"how", r.how},  {"error", r.error},
       {"sqlstate", r.sqlstate},      {"detail", r.detail}, {"hint", r.hint}};
}

void from_json(const nlohmann::ordered_json& j, Rehearsal& r) {
  r = {rehearsal_status_named(j.at("status")),
       j.at("durationMs").get<long long>(),
       j.at("how"),
       j.at("error"),
       j.at("sqlstate"),
       j.at("detail"),
       j.at("hint")};
}

void to_json(nlohmann::ordered_json& j, const Step& s) {
  j = {{"id", s.id}, {"kind", s.kind}, {"target", s.target}, {"database", s.database}};
  put(j, "replica", s.replica);
  put(j, "wave", s.wave);
  std::visit(
      [&j](const auto& p) {
        using T = std::decay_t<decltype(p)>;
        if constexpr (std::is_same_v<T, SchemaCreate>) {
          j["schema"] = p.schema;
        } else if constexpr (std::is_same_v<T, ExtensionCreate>) {
          j["extension"] = p.extension;
          j["to"] = p.to;
          put(j, "schema", p.schema);
        } else if constexpr (std::is_same_v<T, ExtensionUpdate>) {
          j["extension"] = p.extension;
          j["from"] = p.from;
          j["to"] = p.to;
          j["path"] = p.path;
        } else if constexpr (std::is_same_v<T, ExtensionDrop>) {
          j["extension"] = p.extension;
          j["from"] = p.from;
          j["cascade"] = p.cascade;
          j["blastRadius"] = p.blast_radius;
        } else if constexpr (std::is_same_v<T, ExtensionRecreate>) {
          j["extension"] = p.extension;
          j["from"] = p.from;
          j["to"] = p.to;
          put(j, "schema", p.schema);
          j["cascade"] = p.cascade;
          j["blastRadius"] = p.blast_radius;
          put(j, "keeps", p.keeps);
        } else if constexpr (std::is_same_v<T, SettingChange>) {
          j["setting"] = p.setting;
          j["value"] = p.value;
          j["current"] = p.current;
          j["restartRequired"] = p.restart_required;
          j["undoSql"] = p.undo_sql;
        } else if constexpr (std::is_same_v<T, ServerRestart>) {
          j["command"] = p.command;
          j["settings"] = p.settings;
          if (!p.member.empty()) {
            j["member"] = p.member;
            j["leader"] = p.leader;
          }
        } else if constexpr (std::is_same_v<T, PatroniPatch>) {
          j["url"] = p.url;
          j["body"] = p.body;
          j["settings"] = p.settings;
          j["current"] = p.current;
          j["restartOnly"] = p.restart_only;
        }
      },
      s.payload);
  put(j, "reason", s.reason);
  if (s.rehearsal) j["rehearsal"] = *s.rehearsal;
  j["sql"] = s.sql;
  j["after"] = s.after;
}

void from_json(const nlohmann::ordered_json& j, Step& s) {
  s = make_step(j.at("kind").get<StepKind>());
  s.id = j.at("id");
  s.target = j.at("target");
  s.database = j.at("database");
  get(j, "replica", s.replica);
  get(j, "wave", s.wave);
  std::visit(
      [&j](auto& p) {
        using T = std::decay_t<decltype(p)>;
        if constexpr (std::is_same_v<T, SchemaCreate>) {
          p.schema = j.at("schema");
        } else if constexpr (std::is_same_v<T, ExtensionCreate>) {
          p = {j.at("extension"), j.at("to"), j.value("schema", "")};
        } else if constexpr (std::is_same_v<T, ExtensionUpdate>) {
          p = {j.at("extension"), j.at("from"), j.at("to"), j.at("path")};
        } else if constexpr (std::is_same_v<T, ExtensionDrop>) {
          p = {j.at("extension"), j.at("from"), j.at("cascade"), j.at("blastRadius")};
        } else if constexpr (std::is_same_v<T, ExtensionRecreate>) {
          p = {j.at("extension"),
               j.at("from"),
               j.at("to"),
               j.value("schema", ""),
               j.at("cascade"),
               j.at("blastRadius"),
               j.value("keeps", std::vector<std::string>{})};
        } else if constexpr (std::is_same_v<T, SettingChange>) {
          p = {j.at("setting"), j.at("value"), j.at("current"), j.at("restartRequired"), j.at("undoSql")};
        } else if constexpr (std::is_same_v<T, ServerRestart>) {
          p = {j.at("command"), j.at("settings"), j.value("member", ""), j.value("leader", false)};
        } else if constexpr (std::is_same_v<T, PatroniPatch>) {
          p = {j.at("url"), j.at("body"), j.at("settings"), j.at("current"), j.at("restartOnly")};
        }
      },
      s.payload);
  get(j, "reason", s.reason);
  s.rehearsal = j.contains("rehearsal") ? std::optional<Rehearsal>(j.at("rehearsal").get<Rehearsal>()) : std::nullopt;
  s.sql = j.at("sql");
  s.after = j.at("after");
}

void to_json(nlohmann::ordered_json& j, const Blocker& b) {
  j = {{"code", name_of(b.code)},  {"target", b.target},   {"database", b.database},
       {"extension", b.extension}, {"message", b.message}, {"hint", b.hint}};
}

void from_json(const nlohmann::ordered_json& j, Blocker& b) {
  b = {blocker_code_named(j.at("code")),
       j.at("target"),
       j.at("database"),
       j.at("extension"),
       j.at("message"),
       j.at("hint")};
}

void to_json(nlohmann::ordered_json& j, const PendingRestart& p) {
  j = {{"target", p.target}, {"setting", p.setting}, {"running", p.running}, {"written", p.written}};
}

void from_json(const nlohmann::ordered_json& j, PendingRestart& p) {
  p = {j.at("target"), j.at("setting"), j.at("running"), j.at("written")};
}

void to_json(nlohmann::ordered_json& j, const AutoConfDrift& d) {
  j = {{"target", d.target}, {"member", d.member}, {"setting", d.setting}, {"value", d.value}};
}

void from_json(const nlohmann::ordered_json& j, AutoConfDrift& d) {
  d = {j.at("target"), j.at("member"), j.at("setting"), j.at("value")};
}

void to_json(nlohmann::ordered_json& j, const Wave& w) {
  j = {{"target", w.target}, {"name", w.name}, {"databases", w.databases}};
}

void from_json(const nlohmann::ordered_json& j, Wave& w) {
  w = {j.at("target"), j.at("name"), j.at("databases").get<std::vector<std::string>>()};
}

void to_json(nlohmann::ordered_json& j, const Plan& plan) {
  nlohmann::ordered_json unmatched = nlohmann::ordered_json::array();
  for (const auto& [target, pattern] : plan.unmatched_patterns) {
    unmatched.push_back({{"target", target}, {"pattern", pattern}});
  }
  j = {{"apiVersion", "pgparity/v1"},
       {"kind", "Plan"},
       {"formatVersion", plan_format_version},
       {"fingerprint", plan.fingerprint},
       {"summary", {{"text", summary_line(plan)}, {"changes", plan.change_count()}, {"blocked", plan.blocked()}}},
       {"blockers", plan.blockers},
       {"steps", plan.steps},
       {"warnings", plan.warnings},
       {"waves", plan.waves},
       {"pendingRestarts", plan.pending_restarts},
       {"autoConfDrift", plan.auto_conf_drift},
       {"unmatchedPatterns", std::move(unmatched)}};
  if (plan.rehearsed) {
    j["rehearsal"] = {{"rehearsed", true}, {"fingerprint", plan.fingerprint}, {"databases", plan.rehearsals}};
  }
}

void from_json(const nlohmann::ordered_json& j, Plan& plan) {
  plan.fingerprint = j.at("fingerprint");
  plan.steps = j.at("steps");
  plan.blockers = j.at("blockers");
  get(j, "warnings", plan.warnings);
  get(j, "waves", plan.waves);
  get(j, "pendingRestarts", plan.pending_restarts);
  get(j, "autoConfDrift", plan.auto_conf_drift);
  plan.unmatched_patterns.clear();
  for (const auto& u : j.value("unmatchedPatterns", nlohmann::ordered_json::array())) {
    plan.unmatched_patterns.emplace_back(u.at("target"), u.at("pattern"));
  }
  plan.rehearsed = false;
  plan.rehearsals.clear();
  if (const auto r = j.find("rehearsal"); r != j.end()) {
    plan.rehearsed = r->value("rehearsed", false);
    get(*r, "databases", plan.rehearsals);
  }
}

}  // namespace pgparity::planner
