// Over ~500 lines, knowingly: version resolution, placement, create/recreate/drop, settings, preload and
// ratios still share the two planner classes below. Issue 24 ("files with one job each") splits them;
// the standby and pooler checks already live in topology.cpp, the recreate's SQL in keep_config.cpp.
#include "planner/planner.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <unordered_map>

#include "core/setting_list.hpp"
#include "core/spelling.hpp"
#include "desired/writer.hpp"
#include "planner/graph.hpp"
#include "planner/keep_config.hpp"
#include "planner/render.hpp"
#include "planner/schedule.hpp"
#include "planner/settings_sql.hpp"
#include "planner/sql.hpp"
#include "planner/topology.hpp"
#include "planner/words.hpp"
#include "state/settings.hpp"

namespace pgparity::planner {

namespace {

/// The settings that name libraries to load: at server start (shared_preload_libraries), or at every
/// session start (session_ and local_preload_libraries), where a missing file fails every new session.
bool is_library_list(const std::string& name) {
  return name == "shared_preload_libraries" || name == "session_preload_libraries" || name == "local_preload_libraries";
}

using desired::Extension;
using desired::Manifest;
using desired::VersionSpec;

bool applies_to(const Extension& e, const std::string& database) {
  if (e.databases.empty()) return true;
  return std::any_of(e.databases.begin(), e.databases.end(), [&](const Identifier& d) { return d.str() == database; });
}

/// Plans one database of one managed target.
class DatabasePlanner {
 public:
  DatabasePlanner(const PlanInput& input, const state::TargetState& target, const state::DatabaseState& db, Plan& plan)
      : input_(input), manifest_(*input.manifest), target_(target), db_(db), plan_(plan) {
    for (const auto& e : db_.installed) installed_.emplace(e.name.str(), &e);
    steps_.reserve(manifest_.extensions.size());
  }

  /// Adds this database's change steps (with their edges) to `steps`; gates come from the caller.
  void run(std::vector<Step>& steps) {
    for (const auto& e : manifest_.extensions) {
      if (!applies_to(e, db_.name)) continue;
      if (e.absent) {
        absent_.insert(e.name.str());
      } else {
        present_.insert(e.name.str());
      }
    }
    for (const auto& e : manifest_.extensions) {
      if (!applies_to(e, db_.name)) continue;
      if (e.absent) {
        plan_absent(e);
      } else {
        plan_present(e);
      }
    }
    order_drops();
    if (steps.empty()) {
      steps = std::move(steps_);
    } else {
      for (auto& s : steps_) steps.push_back(std::move(s));
    }
  }

 private:
  std::string prefix() const { return target_.target + "/" + db_.name; }

  void block(const std::string& code, const std::string& extension, const std::string& message,
             const std::string& hint = "") {
    plan_.blockers.push_back({code, target_.target, db_.name, extension, message, hint});
  }

  Step& add(StepKind kind, const std::string& extension, std::string id = "") {
    Step s;
    s.kind = kind;
    s.id = id.empty() ? prefix() + "/" + name_of(kind) + "/" + extension : std::move(id);
    s.target = target_.target;
    s.database = db_.name;
    s.extension = extension;
    by_id_.emplace(s.id, steps_.size());
    if (!extension.empty()) by_extension_.emplace(extension, steps_.size());
    steps_.push_back(std::move(s));
    return steps_.back();
  }

  /// Forgets the steps from `first` on (a create whose requirement was blocked).
  void truncate(std::size_t first) {
    for (std::size_t i = first; i < steps_.size(); ++i) {
      if (auto it = by_id_.find(steps_[i].id); it != by_id_.end() && it->second == i) by_id_.erase(it);
      if (auto it = by_extension_.find(steps_[i].extension); it != by_extension_.end() && it->second == i) {
        by_extension_.erase(it);
      }
    }
    steps_.erase(steps_.begin() + static_cast<std::ptrdiff_t>(first), steps_.end());
  }

  /// The first step planned for `extension`, or nullptr.
  Step* find_step(const std::string& extension) {
    auto it = by_extension_.find(extension);
    return it == by_extension_.end() ? nullptr : &steps_[it->second];
  }

  const state::InstalledExtension* installed_extension(const std::string& extension) const {
    auto it = installed_.find(extension);
    return it == installed_.end() ? nullptr : it->second;
  }

  /// The version the manifest wants here, or nullopt (with a blocker) when it cannot be known.
  std::optional<Version> resolve(const Extension& e) {
    const std::string name = e.name.str();
    switch (e.version.kind) {
      case VersionSpec::Kind::exact:
        return e.version.exact;
      case VersionSpec::Kind::latest: {
        const auto* available = target_.cluster.find_available(name);
        if (available == nullptr || !available->default_version) {
          block("extension-not-available", name, "extension " + name + " is not available on this server",
                "install its package on the server");
          return std::nullopt;
        }
        return *available->default_version;
      }
      case VersionSpec::Kind::reference: {
        const desired::Target* reference = manifest_.reference();
        auto it = reference == nullptr ? input_.observed.end() : input_.observed.find(reference->name);
        if (it == input_.observed.end()) {
          block("reference-not-observed", name, "version: reference, but the reference target was not observed");
          return std::nullopt;
        }
        const state::DatabaseState* ref_db = reference_database();
        const state::InstalledExtension* installed = ref_db == nullptr ? nullptr : ref_db->find(name);
        if (installed == nullptr) {
          // Mirroring the reference: absent there means absent here (docs/manifest.md).
          mirror_absent_ = true;
          return std::nullopt;
        }
        return installed->version;
      }
    }
    return std::nullopt;
  }

  /// The reference's database of the same name, else the one its DSN names; nullptr when not observed.
  const state::DatabaseState* reference_database() const {
    const desired::Target* reference = manifest_.reference();
    auto it = reference == nullptr ? input_.observed.end() : input_.observed.find(reference->name);
    if (it == input_.observed.end()) return nullptr;
    const state::TargetState& ref = it->second;
    for (const auto& d : ref.databases) {
      if (d.name == db_.name) return &d;
    }
    for (const auto& d : ref.databases) {
      if (d.name == ref.cluster.dsn_database) return &d;
    }
    return nullptr;
  }

  /// Where a CREATE EXTENSION puts the extension. Nothing relies on search_path:
  /// the control file's fixed schema (no SCHEMA clause: PostgreSQL creates that
  /// schema itself), else the manifest's schema, else the schema the reference
  /// has it in, else public. A chosen schema the database lacks gets its own
  /// CREATE SCHEMA step first. nullopt (and a blocker) when it cannot go anywhere.
  struct Placement {
    std::string schema;
    bool fixed = false;       ///< by the control file: no SCHEMA clause
    std::string schema_step;  ///< id of the CREATE SCHEMA step to run first, or ""
    std::string why;          ///< how the schema was chosen, when neither the manifest nor the default
  };
  /// A blocker when an extension script would run in a schema another role can plant objects in.
  bool safe_schema(const std::string& name, const std::string& schema) {
    const auto& unsafe = db_.unsafe_schemas;
    if (!std::binary_search(unsafe.begin(), unsafe.end(), schema)) return true;
    if (!db_.may_create) {
      // Judged against the role that observed: a read-only planning role (a pull request's) is not the role
      // that applies, so this is said, not blocked; the applying role's own plan blocks it.
      plan_.warnings.push_back(prefix() + ": schema " + schema +
                               " is owned by, or open to CREATE for, a role the "
                               "planning role is not; the applying role's plan checks it again");
      return true;
    }
    block("schema-unsafe", name,
          "schema " + schema +
              " is owned by, or open to CREATE for, a role that is neither a superuser nor the "
              "applying role: objects planted there could run inside " +
              name + "'s script (the CVE-2023-39417 class)",
          "use a schema the applying role owns (schema: in the manifest), or REVOKE CREATE ON SCHEMA " +
              quote_ident(schema) + " FROM the other roles and make the applying role its owner");
    return false;
  }

  std::optional<Placement> place(const std::string& name, const Version& version, const std::string& wanted) {
    Placement p;
    const auto* available = target_.cluster.find_available(name);
    const auto* control = available == nullptr ? nullptr : available->find(version);
    if (control != nullptr && control->schema) {
      p.schema = control->schema->str();
      p.fixed = true;
      p.why = "schema " + p.schema + " fixed by its control file";
      if (!wanted.empty() && wanted != p.schema) {
        block("schema-fixed", name,
              name + " can only be installed in schema " + p.schema +
                  " (its control file says so), the manifest wants " + wanted,
              "remove schema: from " + name + "'s manifest entry");
        return std::nullopt;
      }
      if (!safe_schema(name, p.schema)) return std::nullopt;
      return p;
    }
    const state::DatabaseState* ref_db = reference_database();
    const state::InstalledExtension* on_reference = ref_db == nullptr ? nullptr : ref_db->find(name);
    if (!wanted.empty()) {
      p.schema = wanted;  // the manifest's own choice needs no explanation
    } else if (on_reference != nullptr) {
      p.schema = on_reference->schema.str();
      p.why = "schema " + p.schema + " as on the reference";
    } else {
      p.schema = "public";
    }
    if (!db_.has_schema(p.schema)) {
      p.schema_step = plan_schema(p.schema);
    } else if (!safe_schema(name, p.schema)) {
      return std::nullopt;
    }
    return p;
  }

  /// The CREATE SCHEMA step for `schema` (one per database), owned by the applying role.
  std::string plan_schema(const std::string& schema) {
    const std::string id = prefix() + "/" + name_of(StepKind::schema) + "/" + schema;
    if (by_id_.contains(id)) return id;
    Step& s = add(StepKind::schema, "", id);
    s.schema = schema;
    s.reason = "the database has no schema " + schema;
    s.sql.push_back("CREATE SCHEMA " + quote_ident(schema));
    return id;
  }

  /// Whether `version` of `name` can be installed here; a blocker when not.
  bool available(const std::string& name, const Version& version) {
    const auto* available = target_.cluster.find_available(name);
    if (available == nullptr || available->find(version) == nullptr) {
      const std::string suggestion = available == nullptr ? did_you_mean(name, target_.cluster.offered) : std::string();
      block("version-not-available", name,
            name + " " + version.str() + " is not available on this server (available: " + available_list(available) +
                ")" + suggestion,
            suggestion.empty() ? "install the package that ships it, or choose an available version"
                               : "fix the name in the manifest, or install the package that ships " + name);
      return false;
    }
    return true;
  }

  void plan_present(const Extension& e) {
    const std::string name = e.name.str();
    mirror_absent_ = false;
    const auto version = resolve(e);
    if (!version) {
      if (mirror_absent_) plan_absent(e, "version: reference, and the reference does not have it in this database");
      return;
    }
    const state::InstalledExtension* installed = installed_extension(name);
    if (installed == nullptr) {
      if (!available(name, *version)) return;
      plan_create(name, *version, e.schema ? e.schema->str() : "", "", {});
      return;
    }
    if (e.schema && installed->schema != *e.schema) {
      block("schema-differs", name,
            name + " is installed in schema " + installed->schema.str() + ", the manifest wants " + e.schema->str(),
            "move it with ALTER EXTENSION " + quote_ident(name) + " SET SCHEMA " + quote_ident(e.schema->str()) +
                " (relocatable extensions only), or change the manifest");
    }
    const bool forced = input_.force_recreate.count(db_.name + "/" + name) > 0;
    if (installed->version == *version && !forced) return;
    if (!available(name, *version)) return;
    const state::UpdatePath* path = target_.cluster.find_path(name, installed->version, *version);
    if (path != nullptr && !forced) {
      Step& s = add(StepKind::update, name);
      s.from = installed->version.str();
      s.to = version->str();
      for (const auto& v : path->steps) s.path.push_back(v.str());
      s.sql.push_back("ALTER EXTENSION " + quote_ident(name) + " UPDATE TO " + quote_literal(version->str()));
      return;
    }
    plan_recreate(e, *installed, *version);
  }

  void plan_recreate(const Extension& e, const state::InstalledExtension& installed, const Version& version) {
    const std::string name = e.name.str();
    const std::string change = name + " " + installed.version.str() + " → " + version.str();
    const auto& policy = manifest_.policy;
    const bool forced = input_.force_recreate.count(db_.name + "/" + name) > 0;
    const bool allowed = forced || policy.recreate == desired::RecreatePolicy::always ||
                         (policy.recreate == desired::RecreatePolicy::in_window && input_.in_maintenance_window);
    if (!allowed) {
      std::string hint = "set policy.recreate: in-window (or always) to DROP and CREATE it";
      if (policy.recreate == desired::RecreatePolicy::in_window) hint = "wait for the maintenance window";
      block("no-update-path", name,
            change + ": no update path (available: " + available_list(target_.cluster.find_available(name)) + ")",
            hint + ", or choose a version reachable from " + installed.version.str());
      return;
    }
    const auto& blast = db_.dependents(name);
    // Configuration rows are copied aside and restored, so they are not lost.
    if (!check_blast(name, blast, "recreating", false)) return;
    // Back where it was (or where the manifest wants it); a fixed control-file schema wins. Placed
    // before the step is added: a CREATE SCHEMA step added meanwhile must not move it in memory.
    const auto placement = place(name, version, e.schema ? e.schema->str() : installed.schema.str());
    if (!placement) return;
    Step& s = add(StepKind::recreate, name);
    s.from = installed.version.str();
    s.to = version.str();
    s.schema = placement->schema;
    if (!placement->schema_step.empty()) pending_edges_.push_back({placement->schema_step, s.id});
    s.cascade = needs_cascade(blast);
    s.blast_radius = blast;
    s.reason = forced ? "recreate requested (pgparity recover)"
                      : "no update path from " + installed.version.str() + "; policy.recreate allows DROP + CREATE";
    const KeepConfigSql keep = keep_config_sql(name, db_.configuration(name), manifest_.policy.state_schema.str(),
                                               manifest_.policy.allow_data_loss);
    s.keeps = keep.keeps;
    s.sql = keep.before;
    s.sql.push_back("DROP EXTENSION " + quote_ident(name) + (s.cascade ? " CASCADE" : " RESTRICT"));
    s.sql.push_back(create_sql(name, version.str(), *placement));
    s.sql.insert(s.sql.end(), keep.after.begin(), keep.after.end());
  }

  /// CASCADE only when an object outside the extension depends on it (its own
  /// configuration tables are members and go with RESTRICT too).
  static bool needs_cascade(const std::vector<state::DependentObject>& blast) {
    return std::any_of(blast.begin(), blast.end(), [](const auto& o) { return !o.configuration(); });
  }

  static std::string create_sql(const std::string& name, const std::string& version, const Placement& where) {
    std::string sql = "CREATE EXTENSION " + quote_ident(name);
    if (!where.fixed) sql += " SCHEMA " + quote_ident(where.schema);
    return sql + " VERSION " + quote_literal(version);
  }

  /// Plans CREATE of `name` and, first, of everything it requires that is missing.
  /// When a requirement is blocked, nothing of it is planned and this returns false.
  bool plan_create(const std::string& name, const Version& version, const std::string& schema,
                   const std::string& required_by, std::vector<std::string> chain) {
    chain.push_back(name);
    if (Step* existing = find_step(name)) {
      if (existing->kind == StepKind::create) return true;
    }
    const std::size_t first_step = steps_.size();
    const std::size_t first_blocker = plan_.blockers.size();
    if (const auto* offered = target_.cluster.find_available(name); offered != nullptr && !target_.cluster.superuser) {
      const auto* v = offered->find(version);
      if (v != nullptr && v->superuser && !v->trusted && !db_.may_create) {
        // A role that cannot create anything here only plans (a pull request's read-only role): the role
        // that applies is another, so this is said, not blocked.
        plan_.warnings.push_back(prefix() + ": " + name + " " + version.str() +
                                 " can be created only by a superuser; the role that applies must be one (the role "
                                 "that planned is not)");
      } else if (v != nullptr && v->superuser && !v->trusted) {
        // Known now, not at apply: CREATE EXTENSION of an untrusted extension needs a superuser.
        block("needs-superuser", name,
              name + " " + version.str() +
                  " can be created only by a superuser (its control file says superuser = true, and it is not "
                  "trusted); the role in the DSN is not one",
              "create it once as a superuser (CREATE EXTENSION " + quote_ident(name) +
                  "), or give the target a DSN whose role is a superuser");
        return false;
      }
    }
    const auto placement = place(name, version, schema);
    if (!placement) return false;
    Step& created = add(StepKind::create, name);
    created.to = version.str();
    created.schema = placement->schema;
    created.reason = placement->why;
    if (!required_by.empty()) {
      created.reason = "required by " + required_by + (placement->why.empty() ? "" : "; " + placement->why);
    }
    created.sql.push_back(create_sql(name, version.str(), *placement));
    const std::string id = created.id;
    if (!placement->schema_step.empty()) pending_edges_.push_back({placement->schema_step, id});

    const auto* available = target_.cluster.find_available(name);
    const auto* avail_version = available == nullptr ? nullptr : available->find(version);
    if (avail_version == nullptr) return true;
    for (const auto& req : avail_version->required) {
      const std::string r = req.str();
      if (std::find(chain.begin(), chain.end(), r) != chain.end()) {
        chain.push_back(r);
        block("requires-cycle", name, "requires cycle: " + join(chain, " → "),
              "fix the extensions' control files; PostgreSQL cannot install a cycle");
        continue;
      }
      if (absent_.contains(r)) {
        block("requires-absent", name, name + " requires " + r + ", which the manifest wants absent",
              "keep " + r + ", or make " + name + " absent too");
        continue;
      }
      if (installed_extension(r) == nullptr && find_step(r) == nullptr && !present_.contains(r)) {
        const auto* req_available = target_.cluster.find_available(r);
        if (req_available == nullptr || !req_available->default_version) {
          block("extension-not-available", r, r + " (required by " + name + ") is not available on this server",
                "install its package");
          continue;
        }
        if (!plan_create(r, *req_available->default_version, "", name, chain)) continue;
      }
      // Whatever step r gets (created above or from its own manifest entry) runs first.
      pending_edges_.push_back({r, id});
    }
    if (plan_.blockers.size() == first_blocker) return true;
    truncate(first_step);
    return false;
  }

  void plan_absent(const Extension& e, const std::string& reason = "") {
    const std::string name = e.name.str();
    const state::InstalledExtension* installed = installed_extension(name);
    if (installed == nullptr) return;
    const auto& blast = db_.dependents(name);
    if (!check_blast(name, blast, "dropping")) return;
    Step& s = add(StepKind::drop, name);
    s.from = installed->version.str();
    s.reason = reason;
    s.cascade = needs_cascade(blast);
    s.blast_radius = blast;
    s.sql.push_back("DROP EXTENSION " + quote_ident(name) + (s.cascade ? " CASCADE" : " RESTRICT"));
  }

  /// Refuses a drop that would take user data (unless allowed) or an extension the manifest keeps.
  /// `configuration_lost`: whether the configuration tables' rows go too (a drop) or are kept (a recreate).
  bool check_blast(const std::string& name, const std::vector<state::DependentObject>& blast, const std::string& verb,
                   bool configuration_lost = true) {
    bool ok = true;
    std::vector<std::string> data;
    for (const auto& o : blast) {
      if (o.user_data() && (configuration_lost || !o.configuration())) {
        data.push_back(o.description +
                       (o.rows ? " (" + std::to_string(*o.rows) + (*o.rows == 1 ? " row)" : " rows)") : ""));
      }
      if (o.kind == "extension") {
        const std::string& other = o.extension;
        if (present_.contains(other) || !absent_.contains(other)) {
          block("drop-takes-extension", name, verb + " " + name + " would also drop extension " + other,
                "make " + other + " absent in the manifest too, so its drop is planned first");
          ok = false;
        }
      }
    }
    if (!data.empty() && !manifest_.policy.allow_data_loss) {
      block("data-loss", name, verb + " " + name + " would drop user data: " + join(data, ", "),
            "move the data off the extension first, or set policy.allow_data_loss: true; it would run DROP EXTENSION " +
                quote_ident(name) + (needs_cascade(blast) ? " CASCADE" : " RESTRICT"));
      ok = false;
    }
    return ok;
  }

  /// Drops run after the drops of what requires them; creates after what they require.
  void order_drops() {
    for (const auto& s : steps_) {
      if (s.kind != StepKind::drop) continue;
      const auto* available = target_.cluster.find_available(s.extension);
      const auto* version = available == nullptr ? nullptr : available->find(Version::from_catalog(s.from));
      if (version == nullptr) continue;
      for (const auto& req : version->required) pending_edges_.push_back({s.id, prefix() + "/drop/" + req.str()});
    }
    for (const auto& [from, to] : pending_edges_) {
      const std::string from_id = from.find('/') == std::string::npos ? step_id_of(from) : from;
      if (from_id.empty()) continue;
      auto to_step = by_id_.find(to);
      if (to_step == by_id_.end() || from_id == to || !by_id_.contains(from_id)) continue;
      auto& after = steps_[to_step->second].after;
      if (std::find(after.begin(), after.end(), from_id) == after.end()) after.push_back(from_id);
    }
  }

  std::string step_id_of(const std::string& extension) {
    const Step* s = find_step(extension);
    return s == nullptr ? "" : s->id;
  }

  const PlanInput& input_;
  const Manifest& manifest_;
  const state::TargetState& target_;
  const state::DatabaseState& db_;
  Plan& plan_;
  std::set<std::string> present_;
  std::set<std::string> absent_;
  bool mirror_absent_ = false;  ///< set by resolve(): version: reference, and the reference lacks it
  std::vector<Step> steps_;
  std::unordered_map<std::string, std::size_t> by_id_;         ///< step id -> index in steps_
  std::unordered_map<std::string, std::size_t> by_extension_;  ///< extension -> its first step's index
  std::unordered_map<std::string, const state::InstalledExtension*> installed_;
  std::vector<std::pair<std::string, std::string>> pending_edges_;  // (extension or step id, step id)
};

/// Settings, preload libraries and ratios of one managed target.
class ClusterPlanner {
 public:
  ClusterPlanner(const PlanInput& input, const state::TargetState& target, Plan& plan)
      : input_(input), manifest_(*input.manifest), target_(target), plan_(plan) {}

  void run(std::vector<Step>& steps) {
    plan_values(steps);
    check_preload(steps);
    check_ratios();
  }

 private:
  void block(const std::string& code, const std::string& message, const std::string& hint) {
    plan_.blockers.push_back({code, target_.target, "", "", message, hint});
  }

  /// Whether two values in postgresql.conf form mean the same for this setting.
  static bool same_written(const std::string& a, const std::string& b, const state::Setting& s) {
    if (state::is_list_setting(s.name)) return split_setting_list(a) == split_setting_list(b);
    if ((s.type == "integer" || s.type == "real") && !s.unit.empty()) {
      const auto x = state::normalize_written_value(a, s.unit);
      const auto y = state::normalize_written_value(b, s.unit);
      if (x && y) return std::abs(*x - *y) <= 1e-9 * std::max({1.0, std::abs(*x), std::abs(*y)});
    }
    return state::same_setting_value(a, b, "", s.type);
  }

  /// "10ms, 10s or 10min" for a time setting, "10kB, 10MB or 10GB" for memory.
  static std::string unit_examples(const std::string& number, const std::string& unit) {
    const bool time = unit == "ms" || unit == "s" || unit == "min" || unit == "h" || unit == "d" || unit == "us";
    if (time) return number + "ms, " + number + "s or " + number + "min";
    return number + "kB, " + number + "MB or " + number + "GB";
  }

  /// A value the server would refuse, or would read other than written: not a number, a bare number
  /// for a setting with a unit, out of min/max, not one of enumvals. "" when fine.
  static std::string invalid(const std::string& value, const state::Setting& s) {
    if (state::is_list_setting(s.name)) return "";
    if (s.type == "integer" || s.type == "real") {
      const auto n = state::normalize_written_value(value, s.unit);
      if (!n) {
        return s.name + " = " + value + " is not a number" +
               (s.unit.empty() ? "" : " with a unit like " + state::display_value(s.reset_value, s.unit));
      }
      // A bare number means the setting's base unit: "statement_timeout: 10" is 10 ms, never what was meant.
      // 0 and -1 (off, or "use the default") need no unit.
      const bool bare = !value.empty() && value.find_first_not_of("0123456789.+-") == std::string::npos;
      if (bare && !s.unit.empty() && *n != 0 && value != "-1") {
        return s.name + " = " + value + " has no unit, and the server would read it as " +
               state::display_value(value, s.unit) + "; write the unit, e.g. " + unit_examples(value, s.unit);
      }
      const auto low = state::normalize_setting(s.min, s.unit);
      const auto high = state::normalize_setting(s.max, s.unit);
      if ((low && *n < *low) || (high && *n > *high)) {
        return s.name + " = " + value + " is out of range (allowed " + state::display_value(s.min, s.unit) + " … " +
               state::display_value(s.max, s.unit) + ")";
      }
    }
    if (s.type == "enum" && !s.enum_values.empty()) {
      const bool known = std::any_of(s.enum_values.begin(), s.enum_values.end(), [&](const std::string& e) {
        return state::same_setting_value(value, e, "", "enum");
      });
      if (!known) return s.name + " = " + value + " is not one of: " + join(s.enum_values, ", ");
    }
    return "";
  }

  /// The value as it will be written: lists in postgresql.conf form, numbers with a unit in one human unit.
  static std::string canonical(const std::string& value, const state::Setting& s) {
    if (state::is_list_setting(s.name)) return join_setting_list(split_setting_list(value));
    if ((s.type == "integer" || s.type == "real") && !s.unit.empty()) {
      if (const auto n = state::normalize_written_value(value, s.unit)) return state::render_setting(*n, s.unit);
    }
    return value;
  }

  /// A set step for `name` = `value`, or nothing when the server already runs
  /// it, or a pending restart when postgresql.auto.conf already holds it.
  void plan_setting(const state::Setting& current, const std::string& wanted, std::vector<Step>& steps,
                    const std::string& reason = "") {
    const std::string& name = current.name;
    if (const std::string why = invalid(wanted, current); !why.empty()) {
      block("setting-invalid-value", why, "choose a value the server accepts");
      return;
    }
    const bool list = state::is_list_setting(name);
    // What this session shows may be its own (ALTER ROLE … SET, a backend setting): then the file decides.
    const bool bound = state::session_bound(current);
    const bool running = bound  ? current.auto_conf && same_written(*current.auto_conf, wanted, current)
                         : list ? split_setting_list(wanted) == split_setting_list(current.value)
                                : state::same_setting_value(wanted, current.value, current.unit, current.type);
    const bool restart = current.context == "postmaster";
    // Running as wanted, and nothing else waiting in postgresql.auto.conf for the next restart.
    const bool other_pending = restart && current.auto_conf && !same_written(*current.auto_conf, wanted, current);
    if (running && !other_pending) return;
    const std::string value = canonical(wanted, current);
    if (current.auto_conf && same_written(*current.auto_conf, wanted, current) &&
        (restart || current.pending_restart)) {
      plan_.pending_restarts.push_back(
          {target_.target, name, state::display_value(current.value, current.unit), value});
      return;
    }
    if (!target_.cluster.may_reload) {
      block("setting-privilege",
            "the role may not reload the configuration (pg_reload_conf), so " + name +
                " would be written but not take effect",
            "as a superuser: GRANT EXECUTE ON FUNCTION pg_catalog.pg_reload_conf() TO <the role in the DSN>");
      return;
    }
    if (!target_.cluster.auto_conf_known) {
      // Without the file, a rollback could only write the session's value (which includes ALTER ROLE/DATABASE
      // SET and the DSN's options) into postgresql.auto.conf for the whole cluster, and a written value waiting
      // for a restart could not be told from one never written.
      block("setting-privilege",
            "the role cannot read postgresql.auto.conf (pg_file_settings), so " + name +
                " could be neither rolled back exactly nor told apart from a value waiting for a restart",
            "as a superuser: GRANT SELECT ON pg_catalog.pg_file_settings TO <the role in the DSN>; GRANT EXECUTE ON "
            "FUNCTION pg_catalog.pg_show_all_file_settings() TO <the role in the DSN>");
      return;
    }
    if (!current.may_alter_system) {
      block("setting-privilege", "the role may not ALTER SYSTEM " + name,
            "as a superuser: GRANT ALTER SYSTEM ON PARAMETER " + quote_ident(name) +
                " TO <the role in the DSN>; on a managed service without ALTER SYSTEM, set it in the provider's "
                "parameter group");
      return;
    }
    Step s;
    s.kind = StepKind::set;
    s.id = target_.target + "/set/" + name;
    s.target = target_.target;
    s.setting = name;
    s.value = value;
    s.current = state::display_value(current.value, current.unit);
    s.restart_required = restart;
    s.reason = reason;
    if (s.restart_required) {
      s.reason += std::string(s.reason.empty() ? "" : "; ") +
                  "takes effect only after a restart; pgparity never restarts a server";
      plan_.warnings.push_back(target_.target + ": " + name + " = " + value + " needs a server restart");
    }
    s.sql.push_back(alter_system_set(name, value));
    s.undo_sql.push_back(alter_system_restore(current, target_.cluster.auto_conf_known));
    if (!list) planned_[name] = state::normalize_written_value(value, current.unit);
    steps.push_back(std::move(s));
  }

  void plan_values(std::vector<Step>& steps) {
    std::vector<std::string> names;
    for (const auto& [name, s] : target_.cluster.settings) names.push_back(name);
    for (const auto& [id, value] : manifest_.settings.values) {
      const std::string name = id.str();
      auto it = target_.cluster.settings.find(name);
      if (it == target_.cluster.settings.end()) {
        block("unknown-setting", "setting " + name + " does not exist on this server",
              "check the name" + did_you_mean(name, names));
        continue;
      }
      if (state::is_secret_setting(name)) {
        // Its value is never shown: the current one could be a standby's password, or a program to run.
        block("setting-secret",
              name +
                  " holds a connection string or a command (it can carry a password or run a program); "
                  "pgparity does not manage it and never shows its value",
              "take " + name + " out of settings.values and manage it where its secrets live");
        continue;
      }
      if (is_library_list(name) && !libraries_present(split_setting_list(value))) continue;
      plan_setting(it->second, value, steps);
    }
  }

  /// Whether every library has its file in the server's library folder (or that cannot be told);
  /// a blocker for each one that does not: the server would not start again with it in the list.
  bool libraries_present(const std::vector<std::string>& libraries) {
    bool ok = true;
    for (const auto& lib : libraries) {
      auto file = target_.cluster.library_files.find(lib);
      if (file == target_.cluster.library_files.end() || (file->second.has_value() && *file->second)) continue;
      if (!file->second.has_value()) {
        plan_.warnings.push_back(target_.target + ": whether library " + lib +
                                 " has its file cannot be told (the role needs superuser or pg_read_server_files)");
        continue;
      }
      ok = false;
      block("library-file-missing",
            "library " + lib + " has no file in " + target_.cluster.library_dir +
                " (the server would not start again with it in shared_preload_libraries)",
            "install the package that ships " + lib + " on the server, or take it out of the list");
    }
    return ok;
  }

  /// The preload libraries the manifest needs: settings.preload, then
  /// extensions with preload: true, in that order, each once.
  std::vector<std::string> required_preload() const {
    std::vector<std::string> required(manifest_.settings.preload.begin(), manifest_.settings.preload.end());
    for (const auto& e : manifest_.extensions) {
      if (e.preload && !e.absent && std::find(required.begin(), required.end(), e.name.str()) == required.end()) {
        required.push_back(e.name.str());
      }
    }
    return required;
  }

  void check_preload(std::vector<Step>& steps) {
    const auto& loaded = target_.cluster.preload_libraries;
    std::vector<std::string> missing;
    const std::vector<std::string> required = required_preload();
    const bool files_missing = !libraries_present(required);
    for (const auto& lib : required) {
      if (std::find(loaded.begin(), loaded.end(), lib) == loaded.end()) missing.push_back(lib);
    }
    if (missing.empty()) return;
    auto setting = target_.cluster.settings.find("shared_preload_libraries");
    if (manifest_.policy.manage_preload && setting != target_.cluster.settings.end()) {
      if (files_missing) return;  // never write a list the server could not start with
      // Nothing is removed or reordered: what is loaded (or already written and waiting for a restart)
      // stays first, the missing ones follow in the manifest's order.
      std::vector<std::string> wanted =
          setting->second.auto_conf ? split_setting_list(*setting->second.auto_conf) : loaded;
      for (const auto& lib : loaded) {
        if (std::find(wanted.begin(), wanted.end(), lib) == wanted.end()) wanted.push_back(lib);
      }
      missing.erase(std::remove_if(missing.begin(), missing.end(),
                                   [&](const std::string& lib) {
                                     return std::find(wanted.begin(), wanted.end(), lib) != wanted.end();
                                   }),
                    missing.end());
      wanted.insert(wanted.end(), missing.begin(), missing.end());
      plan_setting(setting->second, join_setting_list(wanted), steps,
                   "policy.manage_preload: adds " + join(missing, ", "));
      return;
    }
    for (const auto& lib : missing) {
      block("preload-missing",
            lib + " must be in shared_preload_libraries (it is: " +
                (loaded.empty() ? std::string("empty") : join(loaded, ", ")) + ")",
            "set policy.manage_preload: true to have pgparity write it (a restart is then needed), or add it to "
            "shared_preload_libraries in postgresql.conf and restart the server; pgparity never restarts a server");
    }
  }

  std::optional<double> value_after(const state::ClusterState& cluster, const std::string& name) const {
    if (auto it = planned_.find(name); it != planned_.end() && it->second) return it->second;
    return cluster.normalized(name);
  }

  /// For "a / b": the value of a that makes the ratio `wanted` here, rounded to
  /// a's unit and kept within its min/max, with the arithmetic shown:
  /// "set work_mem: 2MB on staging (0.03125 × shared_buffers 64MB = 2MB), e.g. in settings.values".
  std::string suggest(const desired::Ratio& ratio, double wanted, const std::string& otherwise) const {
    const auto parts = ratio.expr.simple_ratio();
    if (!parts) return otherwise;
    const auto a = target_.cluster.settings.find(parts->first);
    const auto b = target_.cluster.settings.find(parts->second);
    const auto divisor = value_after(target_.cluster, parts->second);
    if (a == target_.cluster.settings.end() || b == target_.cluster.settings.end() || !divisor) return otherwise;
    const auto unit = state::normalize_setting("1", a->second.unit);
    if (!unit || *unit <= 0) return otherwise;
    double count = std::round(wanted * *divisor / *unit);
    if (const auto low = state::normalize_setting(a->second.min, "")) count = std::max(count, *low);
    if (const auto high = state::normalize_setting(a->second.max, "")) count = std::min(count, *high);
    const std::string value = state::render_setting(count * *unit, a->second.unit);
    const std::string divisor_shown = state::render_setting(*divisor, b->second.unit);
    return "set " + parts->first + ": " + value + " on " + target_.target + " (" + desired::format_number(wanted) +
           " × " + parts->second + " " + divisor_shown + " = " + value + "), e.g. in settings.values";
  }

  void check_ratios() {
    const desired::Target* reference = manifest_.reference();
    const state::TargetState* ref = nullptr;
    if (reference != nullptr) {
      auto it = input_.observed.find(reference->name);
      if (it != input_.observed.end()) ref = &it->second;
    }
    for (const auto& ratio : manifest_.settings.ratios) {
      const std::string text = ratio.expr.text();
      const auto value = ratio.expr.evaluate([&](const std::string& s) { return value_after(target_.cluster, s); });
      if (!value) {
        block("ratio-unknown", text + " cannot be computed (a setting is unknown or a divisor is zero)",
              "check the setting names: " + join(ratio.expr.settings(), ", "));
        continue;
      }
      const std::string shown = desired::format_number(*value);
      if (ratio.min && *value < *ratio.min) {
        block("ratio-out-of-bounds", text + " is " + shown + ", below its min " + desired::format_number(*ratio.min),
              suggest(ratio, *ratio.min, "change the settings in it, e.g. with settings.values"));
      }
      if (ratio.max && *value > *ratio.max) {
        block("ratio-out-of-bounds", text + " is " + shown + ", above its max " + desired::format_number(*ratio.max),
              suggest(ratio, *ratio.max, "change the settings in it, e.g. with settings.values"));
      }
      if (ratio.match_reference) {
        if (ref == nullptr) {
          block("reference-not-observed", text + ": match: reference, but the reference target was not observed", "");
          continue;
        }
        const auto expected = ratio.expr.evaluate([&](const std::string& s) { return ref->cluster.normalized(s); });
        if (!expected) {
          block("ratio-unknown", text + " cannot be computed on the reference " + ref->target, "");
          continue;
        }
        const double allowed = ratio.tolerance * std::abs(*expected);
        if (std::abs(*value - *expected) > allowed) {
          block("ratio-off-reference",
                text + " is " + shown + " on " + target_.target + ", " + desired::format_number(*expected) + " on " +
                    ref->target + " (tolerance " + desired::format_number(ratio.tolerance * 100) + " %)",
                suggest(ratio, *expected, "set the settings in it to match the reference, e.g. with settings.values"));
        }
      }
    }
  }

  const PlanInput& input_;
  const Manifest& manifest_;
  const state::TargetState& target_;
  Plan& plan_;
  std::map<std::string, std::optional<double>> planned_;  // settings after the planned set steps
};

/// Gates around a group of changes: pre-flight → drain → snapshot → changes → verify.
void append_with_gates(std::vector<Step>& steps, std::vector<Step> changes, const std::string& target,
                       const std::string& database, const std::string& replica = "") {
  if (changes.empty()) return;
  const std::string base = target + (replica.empty() ? "" : "@" + replica) + (database.empty() ? "" : "/" + database);
  auto gate = [&](StepKind kind, const std::string& reason) {
    Step s;
    s.kind = kind;
    s.id = base + "/" + name_of(kind);
    s.target = target;
    s.database = database;
    s.replica = replica;
    s.reason = reason;
    return s;
  };
  const std::size_t first_gate = steps.size();
  steps.push_back(gate(StepKind::preflight, "server answers, privileges suffice, nothing blocks"));
  if (!database.empty()) {
    steps.push_back(gate(StepKind::drain, "no other session active or idle in transaction for policy.drain.quiet_for"));
    steps.push_back(gate(StepKind::snapshot, "pg_extension rows saved, in the same transaction as the changes"));
  }
  for (std::size_t i = first_gate + 1; i < steps.size(); ++i) steps[i].after.push_back(steps[i - 1].id);
  const std::string last_gate = steps.back().id;
  Step verify = gate(StepKind::verify, database.empty() ? "one reload, then the settings read back"
                                                        : "versions re-observed; health queries run");
  if (database.empty()) verify.sql.push_back("SELECT pg_catalog.pg_reload_conf()");
  verify.after.reserve(changes.size());
  for (auto& change : changes) {
    change.after.insert(change.after.begin(), last_gate);
    verify.after.push_back(change.id);
    steps.push_back(std::move(change));
  }
  steps.push_back(std::move(verify));
}

}  // namespace

Plan make_plan(const PlanInput& input) {
  Plan plan;
  const Manifest& manifest = *input.manifest;
  plan.fingerprint = fingerprint(input);
  std::vector<Step> steps;
  for (const auto& [name, target] : manifest.targets) {
    if (target.role != desired::Role::managed) continue;
    if (!input.only_target.empty() && input.only_target != name) continue;
    auto it = input.observed.find(name);
    if (it == input.observed.end()) continue;
    const state::TargetState& observed = it->second;
    if (!isolated(input, name, observed, plan)) continue;
    // A pattern that selects nothing is worth saying: a typo, or a fleet that is not there yet.
    for (const auto& pattern : target.databases.patterns) {
      const auto& all = observed.cluster.connectable_databases;
      if (std::none_of(all.begin(), all.end(),
                       [&](const std::string& db) { return desired::DatabaseSelection::matches(pattern, db); })) {
        plan.unmatched_patterns.push_back({name, pattern});
        plan.warnings.push_back(name + ": databases pattern '" + pattern +
                                "' matches no connectable database (templates and datallowconn = false are skipped)");
      }
    }

    if (observed.pooler) check_pooler_routes(input, name, observed, plan);
    const std::size_t target_first = steps.size();
    std::vector<Step> changes;
    ClusterPlanner(input, observed, plan).run(changes);
    append_with_gates(steps, std::move(changes), name, "");
    for (const auto& db : observed.databases) {
      if (!db.name.empty() && db.name.front() == '@') {
        // "@replica-N" names a standby's group of steps: a database named so would be taken for one.
        plan.blockers.push_back({"database-name-reserved", name, db.name, "",
                                 "database " + db.name + " starts with '@', which pgparity reserves for standbys",
                                 "rename the database, or leave it out with exclude"});
        continue;
      }
      changes.clear();
      DatabasePlanner(input, observed, db, plan).run(changes);
      append_with_gates(steps, std::move(changes), name, db.name);
    }
    // Standbys: what the changes need there, and their own settings (ALTER SYSTEM is not replicated).
    for (std::size_t r = 0; r < observed.replicas.size(); ++r) {
      const state::ReplicaState& replica = observed.replicas[r];
      if (!replica_usable(name, observed, replica, plan)) continue;
      check_replica_versions(name, steps, target_first, observed, replica, plan);
      check_replica_installed(manifest, name, observed, replica, plan);
      state::TargetState view;
      view.target = name;
      view.endpoint = replica.endpoint;
      view.cluster = replica.cluster;
      // The pooler is the target's: ratios naming pooler.* use its values on the standby too.
      for (const auto& [setting, value] : observed.cluster.settings) {
        if (setting.rfind("pooler.", 0) == 0) view.cluster.settings.emplace(setting, value);
      }
      const std::size_t first_blocker = plan.blockers.size();
      changes.clear();
      ClusterPlanner(input, view, plan).run(changes);
      for (std::size_t b = first_blocker; b < plan.blockers.size(); ++b) {
        plan.blockers[b].message = "standby " + replica.endpoint + ": " + plan.blockers[b].message;
      }
      const std::string label = replica_label(r);
      for (auto& c : changes) {
        c.replica = label;
        c.id = name + "@" + label + "/" + name_of(c.kind) + "/" + c.setting;
        c.reason = "standby " + replica.endpoint + (c.reason.empty() ? "" : "; " + c.reason);
      }
      append_with_gates(steps, std::move(changes), name, "", label);
    }
  }
  schedule(manifest, std::move(steps), plan);
  return plan;
}

std::vector<std::string> extensions_to_observe(const desired::Manifest& manifest) {
  std::set<std::string> names;
  for (const auto& e : manifest.extensions) names.insert(e.name.str());
  return {names.begin(), names.end()};
}

std::vector<std::string> extensions_to_measure_for_drop(const desired::Manifest& manifest) {
  std::set<std::string> names;
  const bool recreate = manifest.policy.recreate != desired::RecreatePolicy::never;
  for (const auto& e : manifest.extensions) {
    // version: reference may mirror an absence on the reference: a drop.
    if (e.absent || recreate || e.version.kind == desired::VersionSpec::Kind::reference) names.insert(e.name.str());
  }
  return {names.begin(), names.end()};
}

std::vector<std::string> libraries_to_check(const desired::Manifest& manifest) {
  std::set<std::string> names(manifest.settings.preload.begin(), manifest.settings.preload.end());
  for (const auto& e : manifest.extensions) {
    if (e.preload && !e.absent) names.insert(e.name.str());
  }
  // Every way of writing the list the server loads at start is checked the same way.
  for (const auto& lib : preload_values(manifest)) names.insert(lib);
  // An extension's own module (a library named like it), so a standby that lacks it is found.
  for (const auto& e : manifest.extensions) {
    if (!e.absent) names.insert(e.name.str());
  }
  return {names.begin(), names.end()};
}

std::vector<std::string> preload_values(const desired::Manifest& manifest) {
  std::vector<std::string> out;
  for (const auto& [id, value] : manifest.settings.values) {
    if (is_library_list(id.str())) {
      for (auto& lib : split_setting_list(value)) out.push_back(std::move(lib));
    }
  }
  return out;
}

}  // namespace pgparity::planner
