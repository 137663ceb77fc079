// pgparity recover: the playbook for one extension in one database — retry the update, recreate it, or
// bring versions back to a run's snapshot — shown first, done with --yes, applied as apply does.
#include <CLI/CLI.hpp>
#include <ctime>
#include <ostream>

#include "core/error.hpp"
#include "planner/planner.hpp"
#include "planner/render.hpp"
#include "reconciler/apply.hpp"
#include "reconciler/commands.hpp"
#include "reconciler/journal.hpp"
#include "reconciler/observation.hpp"
#include "reconciler/pooler.hpp"
#include "state/activity.hpp"
#include "state/connection.hpp"
#include "state/pooler_console.hpp"

namespace pgparity::reconciler {

namespace {

struct RecoverOptions {
  std::string manifest;
  std::string target;
  std::string database;
  std::string extension;
  std::string mode;
  std::string run_id;
  bool yes = false;
  bool allow_data_loss = false;
  bool outside_window = false;
  std::string lock_wait = "0s";
};

/// The manifest narrowed to what recover touches: one managed target, one
/// database, no server settings; the reference stays for `version: reference`.
desired::Manifest narrowed(const desired::Manifest& manifest, const desired::Target& target, const Identifier& database,
                           bool allow_data_loss) {
  desired::Manifest m;
  m.policy = manifest.policy;
  m.policy.allow_data_loss = allow_data_loss;
  desired::Target t = target;
  t.databases = desired::DatabaseSelection{false, {database}, {}, {}};
  m.targets.emplace(t.name, t);
  if (const desired::Target* reference = manifest.reference()) m.targets.emplace(reference->name, *reference);
  return m;
}

/// The manifest's entries for `extension` that apply to `database`.
std::vector<desired::Extension> entries_for(const desired::Manifest& manifest, const std::string& extension,
                                            const Identifier& database) {
  std::vector<desired::Extension> out;
  for (const auto& e : manifest.extensions) {
    if (e.name.str() != extension) continue;
    if (!e.databases.empty() && std::find(e.databases.begin(), e.databases.end(), database) == e.databases.end()) {
      continue;
    }
    desired::Extension copy = e;
    copy.databases.clear();
    out.push_back(copy);
  }
  return out;
}

/// Extensions pinned to a run's snapshot: the recorded versions, and absent for what the run added.
std::vector<desired::Extension> snapshot_entries(const state::RunRecord& run, const state::DatabaseState& now,
                                                 const std::string& only) {
  std::map<std::string, desired::Extension> wanted;
  for (const auto& e : run.snapshot) {
    desired::Extension x;
    x.name = e.name;
    x.version.kind = desired::VersionSpec::Kind::exact;
    x.version.exact = e.version;
    x.schema = e.schema;
    wanted[e.name.str()] = x;
  }
  for (const auto& e : now.installed) {
    if (wanted.count(e.name.str()) > 0) continue;
    desired::Extension x;
    x.name = e.name;
    x.absent = true;
    wanted[e.name.str()] = x;
  }
  std::vector<desired::Extension> out;
  for (auto& [name, e] : wanted) {
    if (only.empty() || only == name) out.push_back(e);
  }
  return out;
}

planner::Plan plan_for(const desired::Manifest& m, const std::string& target, std::set<std::string> force_recreate) {
  planner::PlanInput input = plan_input(m, observe_for_plan(m, target, 1), target);
  input.force_recreate = std::move(force_recreate);
  return planner::make_plan(input);
}

/// RESUME of what a killed run left paused on the target's pooler: the aliases
/// its journal recorded without a RESUME, or, when none is recorded, the
/// aliases that route to the database.
ExitCode resume_pooler_of(Context& context, const desired::Manifest& manifest, const desired::Target& target,
                          const RecoverOptions& o) {
  if (!target.pooler) {
    throw InputError("target '" + o.target + "' has no pooler.admin_dsn: there is no pooler to resume");
  }
  auto session = state::connect(target.dsn, state::Access::read_write, "pgparity", o.database);
  if (state::run_lock_holder(*session) != 0) {
    context.err << "refused: a pgparity run holds the lock of " << o.target << "/" << o.database
                << "; its pause ends with it. hint: wait for it, or see pgparity doctor\n";
    return ExitCode::error;
  }
  Journal journal(*session, manifest.policy.state_schema.str());
  const auto open = journal.open_pauses();
  std::vector<std::string> aliases;
  for (const auto& p : open) {
    if (std::find(aliases.begin(), aliases.end(), p.alias) == aliases.end()) aliases.push_back(p.alias);
  }
  if (aliases.empty()) {
    // Only the journal proves that pgparity paused an alias: a paused alias cannot be followed to its
    // cluster, and one paused by hand, or another cluster's, is not ours to resume.
    context.out << "no pause of " << o.target << "/" << o.database
                << " is journaled: pgparity left nothing paused there; nothing was changed. hint: SHOW DATABASES on "
                << state::mask_dsn(target.pooler->admin_dsn) << " shows what is paused; RESUME it by hand\n";
    return ExitCode::ok;
  }
  for (const auto& a : aliases) {
    context.out << "RESUME " << state::PoolerConsole::quote(a) << " on " << state::mask_dsn(target.pooler->admin_dsn)
                << (open.empty() ? "" : "  (paused by a run that never resumed it)") << "\n";
  }
  if (!o.yes) {
    context.out << "\nThis is what recover would do; nothing was changed. Run again with --yes to do it.\n";
    return ExitCode::changes;
  }
  for (const auto& a : aliases) {
    resume_pooler(target.pooler->admin_dsn, a);
    if (!open.empty()) journal.pause_ended("", a);
    context.out << "resumed " << a << "\n";
  }
  return ExitCode::ok;
}

ExitCode run_recover(Context& context, const RecoverOptions& o) {
  const std::optional<desired::Manifest> loaded = load_manifest(context, o.manifest);
  if (!loaded) return ExitCode::error;
  const desired::Manifest& manifest = *loaded;
  const desired::Target& target = find_target(manifest, o.target);
  if (target.role != desired::Role::managed) {
    throw InputError("target '" + o.target + "' is a reference: pgparity never changes it");
  }
  const auto database = Identifier::parse(o.database);
  if (!database) throw InputError("bad --database '" + o.database + "': not a valid name");
  if (o.mode == "resume-pooler") return resume_pooler_of(context, manifest, target, o);
  if (o.mode != "restore-snapshot" && o.extension.empty()) throw InputError("--mode " + o.mode + " needs --extension");
  if (o.mode == "restore-snapshot" && o.run_id.empty()) {
    throw InputError("--mode restore-snapshot needs the run id: pgparity recover ... --mode restore-snapshot RUN_ID",
                     "", "pgparity history --target " + o.target + " --database " + o.database + " lists the runs");
  }
  const auto lock_wait = Duration::parse(o.lock_wait);
  if (!lock_wait) throw InputError("bad --lock-wait '" + o.lock_wait + "': use e.g. 30s, 5m");

  desired::Manifest m = narrowed(manifest, target, *database, o.allow_data_loss);
  std::set<std::string> force;
  planner::Plan plan;
  if (o.mode == "update" || o.mode == "recreate") {
    m.extensions = entries_for(manifest, o.extension, *database);
    if (m.extensions.empty()) {
      throw InputError("the manifest names no version of " + o.extension + " for " + o.target + "/" + o.database, "",
                       "add it to the manifest: recover brings an extension to the manifest's version");
    }
    if (o.mode == "recreate") {
      m.policy.recreate = desired::RecreatePolicy::always;  // measures the blast radius; the window is checked here
      const bool in_window = in_maintenance_window(manifest.policy, static_cast<long long>(std::time(nullptr)));
      if (!in_window && !o.outside_window) {
        context.err << "refused: recreating " << o.extension << " drops it first; that is done only inside "
                    << (manifest.policy.maintenance_window ? "policy.maintenance_window" : "a maintenance window")
                    << ". hint: --outside-window when you accept it now\n";
        return ExitCode::blocked;
      }
      force.insert(o.database + "/" + o.extension);
    }
    plan = plan_for(m, target.name, force);
  } else {
    m.policy.recreate = desired::RecreatePolicy::never;
    const auto journals = read_journals(manifest, target, o.database);
    const auto& runs = journals.at(o.database);
    auto run = std::find_if(runs.begin(), runs.end(), [&](const state::RunRecord& r) { return r.run_id == o.run_id; });
    if (run == runs.end()) {
      throw InputError("no run " + o.run_id + " in the journal of " + o.target + "/" + o.database, "",
                       "pgparity history --target " + o.target + " --database " + o.database + " lists the runs");
    }
    const state::TargetState now = observe_target(m, m.targets.at(target.name), 1);
    m.extensions = snapshot_entries(*run, now.databases.at(0), o.extension);
    plan = plan_for(m, target.name, {});
    std::vector<std::string> no_path;
    for (const auto& b : plan.blockers) {
      if (b.code == planner::BlockerCode::no_update_path) no_path.push_back(b.extension);
    }
    if (!no_path.empty()) {
      context.out << planner::render_text(plan, context.color);
      m.policy.recreate = desired::RecreatePolicy::always;
      for (const auto& e : no_path) force.insert(o.database + "/" + e);
      const planner::Plan recreate = plan_for(m, target.name, force);
      context.out << "\nNo downgrade path: the extension does not ship a script back to the snapshot's version."
                     "\nThe recreate that would be needed (not done by restore-snapshot; it drops the extension"
                     " and whatever depends on it):\n\n"
                  << planner::render_text(recreate, context.color)
                  << "\nhint: pin that version in the manifest and run pgparity recover --mode recreate in a"
                     " maintenance window\n";
      return ExitCode::blocked;
    }
  }

  context.out << planner::render_text(plan, context.color);
  if (plan.blocked()) {
    context.err << "blocked: nothing was changed\n";
    return ExitCode::blocked;
  }
  if (!plan.has_changes()) {
    context.out << "nothing to recover: " << o.target << "/" << o.database << " already matches\n";
    return ExitCode::ok;
  }
  if (!o.yes) {
    context.out << "\nThis is what recover would do; nothing was changed. Run again with --yes to do it.\n";
    return ExitCode::changes;
  }
  ApplyOptions options;
  options.lock_wait = *lock_wait;
  options.parallel = 1;
  options.plan_digest = planner::digest(planner::render_json(plan));
  options.manifest_digest = planner::digest("recover " + o.mode + " " + o.extension + " " + o.run_id);
  return apply_and_report(context, m, plan, options);
}

}  // namespace

void add_recover_command(CLI::App& app, Context& context) {
  auto o = std::make_shared<RecoverOptions>();
  CLI::App* cmd = app.add_subcommand(
      "recover", "Recover one extension in one database: retry the update, recreate it, or restore a run's snapshot");
  cmd->add_option("-f,--file", o->manifest, "The manifest")->required();
  cmd->add_option("--target", o->target, "The managed target")->required();
  cmd->add_option("--database", o->database, "The database")->required();
  cmd->add_option("--extension", o->extension, "The extension (for restore-snapshot: only this one)");
  cmd->add_option("--mode", o->mode, "update, recreate, restore-snapshot or resume-pooler")
      ->required()
      ->check(CLI::IsMember({"update", "recreate", "restore-snapshot", "resume-pooler"}));
  cmd->add_option("run", o->run_id, "restore-snapshot: the run whose snapshot to return to (see pgparity history)");
  cmd->add_flag("--yes", o->yes, "Do it (without: show what would be done, exit 2)");
  cmd->add_flag("--allow-data-loss", o->allow_data_loss, "Recreate even when the drop takes user data with it");
  cmd->add_flag("--outside-window", o->outside_window, "Recreate outside the maintenance window");
  cmd->add_option("--lock-wait", o->lock_wait, "Wait this long for another run's lock")->capture_default_str();
  cmd->callback([&context, o] { context.run = [&context, o] { return run_recover(context, *o); }; });
}

}  // namespace pgparity::reconciler
