#include "planner/database_planner.hpp"

#include <cmath>

#include "core/setting_list.hpp"
#include "core/spelling.hpp"
#include "desired/writer.hpp"
#include "planner/keep_config.hpp"
#include "planner/render.hpp"
#include "planner/settings_sql.hpp"
#include "planner/sql.hpp"
#include "planner/words.hpp"
#include "state/settings.hpp"

namespace pgparity::planner {

bool applies_to(const Extension& e, const std::string& database) {
  if (e.databases.empty()) return true;
  return std::any_of(e.databases.begin(), e.databases.end(), [&](const Identifier& d) { return d.str() == database; });
}

void DatabasePlanner::run(std::vector<Step>& steps) {
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

void DatabasePlanner::block(BlockerCode code, const std::string& extension, const std::string& message,
                            const std::string& hint) {
  plan_.blockers.push_back({code, target_.target, db_.name, extension, message, hint});
}

Step& DatabasePlanner::add(StepKind kind, const std::string& extension, std::string id) {
  Step s = make_step(kind);
  s.id = id.empty() ? prefix() + "/" + name_of(kind) + "/" + extension : std::move(id);
  s.target = target_.target;
  s.database = db_.name;
  std::visit(
      [&extension](auto& p) {
        if constexpr (requires { p.extension; }) p.extension = extension;
      },
      s.payload);
  by_id_.emplace(s.id, steps_.size());
  if (!extension.empty()) by_extension_.emplace(extension, steps_.size());
  steps_.push_back(std::move(s));
  return steps_.back();
}

void DatabasePlanner::truncate(std::size_t first) {
  for (std::size_t i = first; i < steps_.size(); ++i) {
    if (auto it = by_id_.find(steps_[i].id); it != by_id_.end() && it->second == i) by_id_.erase(it);
    if (auto it = by_extension_.find(extension_of(steps_[i])); it != by_extension_.end() && it->second == i) {
      by_extension_.erase(it);
    }
  }
  steps_.erase(steps_.begin() + static_cast<std::ptrdiff_t>(first), steps_.end());
}

Step* DatabasePlanner::find_step(const std::string& extension) {
  auto it = by_extension_.find(extension);
  return it == by_extension_.end() ? nullptr : &steps_[it->second];
}

const state::InstalledExtension* DatabasePlanner::installed_extension(const std::string& extension) const {
  auto it = installed_.find(extension);
  return it == installed_.end() ? nullptr : it->second;
}

std::optional<Version> DatabasePlanner::resolve(const Extension& e) {
  const std::string name = e.name.str();
  switch (e.version.kind) {
    case VersionSpec::Kind::exact:
      return e.version.exact;
    case VersionSpec::Kind::latest: {
      const auto* available = target_.cluster.find_available(name);
      if (available == nullptr || !available->default_version) {
        block(BlockerCode::extension_not_available, name, "extension " + name + " is not available on this server",
              "install its package on the server");
        return std::nullopt;
      }
      return *available->default_version;
    }
    case VersionSpec::Kind::reference: {
      const desired::Target* reference = manifest_.reference();
      auto it = reference == nullptr ? input_.observed.end() : input_.observed.find(reference->name);
      if (it == input_.observed.end()) {
        block(BlockerCode::reference_not_observed, name,
              "version: reference, but the reference target was not observed");
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

const state::DatabaseState* DatabasePlanner::reference_database() const {
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

bool DatabasePlanner::available(const std::string& name, const Version& version) {
  const auto* available = target_.cluster.find_available(name);
  if (available == nullptr || available->find(version) == nullptr) {
    const std::string suggestion = available == nullptr ? did_you_mean(name, target_.cluster.offered) : std::string();
    block(BlockerCode::version_not_available, name,
          name + " " + version.str() + " is not available on this server (available: " + available_list(available) +
              ")" + suggestion,
          suggestion.empty() ? "install the package that ships it, or choose an available version"
                             : "fix the name in the manifest, or install the package that ships " + name);
    return false;
  }
  return true;
}

void DatabasePlanner::plan_present(const Extension& e) {
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
    block(BlockerCode::schema_differs, name,
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
    auto& update = s.as<ExtensionUpdate>();
    update.from = installed->version;
    update.to = *version;
    update.path = path->steps;
    s.sql.push_back("ALTER EXTENSION " + quote_ident(name) + " UPDATE TO " + quote_literal(version->str()));
    return;
  }
  plan_recreate(e, *installed, *version);
}

std::string DatabasePlanner::create_sql(const std::string& name, const std::string& version, const Placement& where) {
  std::string sql = "CREATE EXTENSION " + quote_ident(name);
  if (!where.fixed) sql += " SCHEMA " + quote_ident(where.schema);
  return sql + " VERSION " + quote_literal(version);
}

bool DatabasePlanner::plan_create(const std::string& name, const Version& version, const std::string& schema,
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
      block(BlockerCode::needs_superuser, name,
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
  created.as<ExtensionCreate>().to = version;
  created.as<ExtensionCreate>().schema = placement->schema;
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
      block(BlockerCode::requires_cycle, name, "requires cycle: " + join(chain, " → "),
            "fix the extensions' control files; PostgreSQL cannot install a cycle");
      continue;
    }
    if (absent_.contains(r)) {
      block(BlockerCode::requires_absent, name, name + " requires " + r + ", which the manifest wants absent",
            "keep " + r + ", or make " + name + " absent too");
      continue;
    }
    if (installed_extension(r) == nullptr && find_step(r) == nullptr && !present_.contains(r)) {
      const auto* req_available = target_.cluster.find_available(r);
      if (req_available == nullptr || !req_available->default_version) {
        block(BlockerCode::extension_not_available, r,
              r + " (required by " + name + ") is not available on this server", "install its package");
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

void DatabasePlanner::order_drops() {
  for (const auto& s : steps_) {
    if (s.kind != StepKind::drop) continue;
    const auto& drop = s.as<ExtensionDrop>();
    const auto* available = target_.cluster.find_available(drop.extension);
    const auto* version = available == nullptr ? nullptr : available->find(drop.from);
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

std::string DatabasePlanner::step_id_of(const std::string& extension) {
  const Step* s = find_step(extension);
  return s == nullptr ? "" : s->id;
}

}  // namespace pgparity::planner
