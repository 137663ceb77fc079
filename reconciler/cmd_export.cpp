// pgparity export: a baseline manifest written from a live cluster. Never writes to it.
#include <CLI/CLI.hpp>
#include <cctype>
#include <ostream>

#include "core/error.hpp"
#include "desired/writer.hpp"
#include "planner/export.hpp"
#include "reconciler/commands.hpp"
#include "reconciler/files.hpp"
#include "reconciler/observation.hpp"
#include "state/observe.hpp"

namespace pgparity::reconciler {

namespace {

struct ExportOptions {
  std::string manifest;
  std::string target;
  std::string dsn;
  std::string name;
  std::string role = "reference";
  std::vector<std::string> databases;
  std::string output;
  std::string mirror_to;
  unsigned parallel = 4;
};

/// The variable a target's literal password is written as: PGPARITY_<NAME>_PASSWORD.
std::string password_variable(const std::string& target) {
  std::string variable = "PGPARITY_" + target + "_PASSWORD";
  for (char& c : variable) {
    c = std::isalnum(static_cast<unsigned char>(c)) != 0
            ? static_cast<char>(std::toupper(static_cast<unsigned char>(c)))
            : '_';
  }
  return variable;
}

/// export --mirror-to: the managed target observed (read-only, settings only) and a manifest in which it
/// mirrors the exported reference.
planner::Exported mirror(Context& context, const ExportOptions& o, const state::TargetState& reference,
                         const planner::ExportTarget& reference_target) {
  if (o.target.empty()) throw InputError("--mirror-to needs --target REFERENCE -f MANIFEST");
  const std::optional<desired::Manifest> loaded = load_manifest(context, o.manifest);
  if (!loaded) throw InputError("cannot load " + o.manifest);
  if (find_target(*loaded, o.target).role != desired::Role::reference) {
    throw InputError("--mirror-to: --target " + o.target + " is not the manifest's reference", "",
                     "name the reference target (the one staging mirrors) with --target");
  }
  const desired::Target& managed = find_target(*loaded, o.mirror_to);
  if (managed.role != desired::Role::managed) {
    throw InputError("--mirror-to " + managed.name + ": it is not a managed target", "",
                     "name the managed target that should mirror " + reference_target.name);
  }
  state::ObserveRequest request;
  request.access = state::Access::read_only;
  request.target = managed.name;
  request.dsn = managed.dsn;
  const state::TargetState observed = state::observe(request);
  const std::string variable = password_variable(managed.name);
  bool replaced = false;
  const planner::ExportTarget target{managed.name,
                                     state::dsn_with_password_variable(managed.dsn_source, variable, replaced),
                                     managed.databases.all, true};
  planner::Exported out = planner::mirror_manifest(reference, reference_target, observed, target);
  // Both targets select their databases as the manifest says (names, globs, exclude), never wider.
  out.manifest.targets.at(managed.name).databases = managed.databases;
  out.manifest.targets.at(o.target).databases = loaded->targets.at(o.target).databases;
  if (replaced) out.notes.header += "\nthe password in " + managed.name + "'s dsn is written as ${" + variable + "}";
  return out;
}

ExitCode run_export(Context& context, const ExportOptions& o) {
  if (o.dsn.empty() == o.target.empty()) {
    throw InputError("export needs either --target NAME with -f MANIFEST, or --dsn DSN");
  }
  state::ObserveRequest request;
  request.access = state::Access::read_only;
  request.parallel = o.parallel;
  planner::ExportTarget target;
  std::string password_note;
  if (!o.target.empty()) {
    if (o.manifest.empty()) throw InputError("--target needs -f MANIFEST to find the target in");
    const std::optional<desired::Manifest> loaded = load_manifest(context, o.manifest);
    if (!loaded) return ExitCode::error;
    const desired::Target& t = find_target(*loaded, o.target);
    request = observe_request_for(t, o.parallel);
    // A literal password never goes into a file meant to be committed.
    const std::string variable = password_variable(t.name);
    bool replaced = false;
    target = {t.name, state::dsn_with_password_variable(t.dsn_source, variable, replaced), t.databases.all,
              t.role == desired::Role::managed};
    if (replaced) {
      password_note = "the password in " + t.name + "'s dsn is written as ${" + variable +
                      "}: set that variable where pgparity runs (never commit the value)";
    }
  } else {
    if (o.name.empty()) {
      throw InputError("export --dsn needs --name: the target's name in the manifest (e.g. --name production)", "",
                       "the exported target has role: " + o.role + " (--role reference|managed)");
    }
    if (!Identifier::parse(o.name)) throw InputError("bad target name '" + o.name + "' for --name");
    request.target = o.name;
    request.dsn = o.dsn;
    target = {o.name, state::dsn_without_password(o.dsn), false, o.role == "managed"};
  }
  if (!o.databases.empty()) {
    request.all_databases = o.databases == std::vector<std::string>{"*"};
    request.databases = request.all_databases ? std::vector<std::string>{} : o.databases;
    target.all_databases = request.all_databases;
  }

  const state::TargetState observed = state::observe(request);
  planner::Exported exported = planner::export_manifest(observed, target);
  if (!o.mirror_to.empty()) exported = mirror(context, o, observed, target);
  if (!password_note.empty()) {
    exported.notes.header += (exported.notes.header.empty() ? "" : "\n") + password_note;
  }
  const std::string text = desired::write_manifest(exported.manifest, exported.notes);
  if (o.output.empty() || o.output == "-") {
    context.out << text;
  } else {
    write_file_atomically(o.output, text);
  }
  context.err << "exported " << exported.manifest.extensions.size() << " extension entries from "
              << observed.databases.size() << " database" << (observed.databases.size() == 1 ? "" : "s") << " of '"
              << target.name << "'" << (o.output.empty() || o.output == "-" ? "" : " to " + o.output) << "\n";
  return ExitCode::ok;
}

}  // namespace

void add_export_command(CLI::App& app, Context& context) {
  auto o = std::make_shared<ExportOptions>();
  CLI::App* cmd = app.add_subcommand("export", "Write a baseline manifest from a live cluster (reads only)");
  cmd->add_option("-f,--file", o->manifest, "Manifest that defines --target");
  cmd->add_option("--target", o->target, "Target of the manifest to export");
  cmd->add_option("--dsn", o->dsn, "Export this server instead (libpq conninfo or URI)");
  cmd->add_option("--name", o->name, "Target name to write with --dsn (required with --dsn)");
  cmd->add_option("--role", o->role, "Role of the target written with --dsn")
      ->check(CLI::IsMember({"reference", "managed"}))
      ->capture_default_str();
  cmd->add_option("--databases", o->databases, "Databases to export ('*' for all); default: the target's")
      ->delimiter(',');
  cmd->add_option("-o,--output", o->output, "Write here (atomically) instead of stdout");
  cmd->add_option("--mirror-to", o->mirror_to,
                  "Write a manifest in which this managed target of -f mirrors --target, with settings.values that "
                  "keep the reference's ratios at its size");
  cmd->add_option("--parallel", o->parallel, "Databases observed at once")
      ->check(CLI::Range(1u, 64u))
      ->capture_default_str();
  cmd->callback([&context, o] { context.run = [&context, o] { return run_export(context, *o); }; });
}

}  // namespace pgparity::reconciler
