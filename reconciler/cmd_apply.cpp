// pgparity apply: observe, plan (or load a saved plan and refuse it if stale), confirm, execute, verify.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <limits>
#include <set>
#include <sstream>

#include "core/error.hpp"
#include "planner/plan_file.hpp"
#include "planner/planner.hpp"
#include "planner/render.hpp"
#include "reconciler/apply.hpp"
#include "reconciler/commands.hpp"
#include "reconciler/logging.hpp"
#include "reconciler/observation.hpp"
#include "reconciler/revision.hpp"
#include "reconciler/signals.hpp"
#include "state/session_cache.hpp"

namespace pgparity::reconciler {

namespace {

struct ApplyCommandOptions {
  std::string manifest;
  std::string target;
  std::string plan_file;
  bool auto_approve = false;
  std::string lock_wait = "0s";
  unsigned parallel = 4;
  unsigned drain_parallel = 16;
  std::string format = "text";
  std::string revision;  ///< --revision; else the git HEAD of the manifest's work tree
};

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw InputError("cannot read " + path + ": " + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

enum class Answer { yes, no, no_terminal };

/// At a terminal: "yes" or "y" (any case) goes on; anything else is said back and stops.
Answer confirm(Context& context, std::size_t changes) {
  if (isatty(STDIN_FILENO) == 0) return Answer::no_terminal;
  context.err << "\napply " << changes << " change" << (changes == 1 ? "" : "s")
              << "? type yes (or y) to go on: " << std::flush;
  std::string answer;
  std::getline(std::cin, answer);
  for (char& c : answer) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  while (!answer.empty() && answer.back() == ' ') answer.pop_back();
  if (answer == "yes" || answer == "y") return Answer::yes;
  context.err << "not applied: the answer was '" << answer << "', not yes or y; nothing was changed\n";
  return Answer::no;
}

ExitCode run_apply(Context& context, const ApplyCommandOptions& o) {
  const auto lock_wait = Duration::parse(o.lock_wait);
  if (!lock_wait) throw InputError("bad --lock-wait '" + o.lock_wait + "': use e.g. 30s, 5m");
  std::string manifest_text;
  const std::optional<desired::Manifest> loaded = load_manifest(context, o.manifest, &manifest_text);
  if (!loaded) return ExitCode::error;
  const desired::Manifest& manifest = *loaded;
  if (const std::string why = o.revision.empty() ? "" : revision_problem(o.revision); !why.empty()) {
    throw InputError("bad --revision: " + why, "", "e.g. --revision main@sha1:<40 hex digits>");
  }
  const std::string revision = o.revision.empty() ? manifest_revision(o.manifest) : o.revision;
  bool any_managed = false;
  for (const auto& [name, t] : manifest.targets) any_managed = any_managed || t.role == desired::Role::managed;
  if (!any_managed) {
    (o.format == "json" ? context.err : context.out)
        << "nothing to apply: the manifest has no managed target (reference targets are never written)\n";
    if (o.format == "json") context.out << render_apply_json(ApplyResult{}, planner::Plan{}, revision);
    return ExitCode::ok;
  }

  // What runs is always a plan made now; a saved plan only has to equal it. Without a person to wait
  // for (--auto-approve), a managed database's observation session is kept for its change (within half
  // of the server's max_connections), so the change costs no second connection.
  state::SessionCache sessions(o.auto_approve ? std::numeric_limits<unsigned>::max() : 0, 2);
  const planner::Plan plan = o.auto_approve
                                 ? plan_now(manifest, o.target, o.parallel, &sessions, state::Access::read_write)
                                 : plan_now(manifest, o.target, o.parallel);
  if (!o.plan_file.empty()) {
    planner::Plan saved;
    try {
      saved = planner::parse_plan(read_file(o.plan_file));
    } catch (const std::invalid_argument& e) {
      throw InputError(o.plan_file + ": " + e.what());
    }
    if (const std::string difference = planner::first_difference(saved, plan); !difference.empty()) {
      context.err << "error: " << o.plan_file
                  << " is stale or was edited: it is not what pgparity would run now; nothing was changed\n  "
                  << difference << "\nhint: run pgparity plan again and review the new plan\n";
      return ExitCode::error;
    }
  }

  // With --format json, stdout carries only the result document; people read the plan on stderr.
  const bool json = o.format == "json";
  std::ostream& people = json ? context.err : context.out;
  people << planner::render_text(plan, context.color && !json);
  if (plan.blocked()) {
    context.err << "blocked: nothing was changed\n";
    if (json) context.out << render_apply_json(ApplyResult{}, plan, revision);
    return ExitCode::blocked;
  }
  if (!plan.has_changes()) {
    people << "nothing to apply: every managed database matches the manifest\n";
    if (json) context.out << render_apply_json(ApplyResult{}, plan, revision);
    return ExitCode::ok;
  }
  if (!o.auto_approve) {
    const Answer answer = confirm(context, plan.change_count());
    if (answer == Answer::no_terminal) {
      context.err << "not applied: there is no terminal to confirm at (pipelines: pass --auto-approve); nothing was "
                     "changed\n";
    }
    if (answer != Answer::yes) return ExitCode::error;
  }

  ApplyOptions options;
  options.lock_wait = *lock_wait;
  options.parallel = o.parallel;
  options.drain_parallel = o.drain_parallel;
  options.plan_digest = planner::digest(planner::render_json(plan));
  options.manifest_digest = planner::digest(manifest_text);
  options.revision = revision;
  if (o.auto_approve) {
    // Only the sessions of databases with a change stay open while the changes run, and none when the
    // plan rolls out in waves: a soak between waves may last hours, no session idles through it.
    std::set<std::pair<std::string, std::string>> changing;
    bool waves = false;
    for (const auto& s : plan.steps) {
      waves = waves || !s.wave.empty();
      if (!s.database.empty()) changing.emplace(manifest.targets.at(s.target).dsn, s.database);
    }
    sessions.retain([&](const std::string& dsn, const std::string& database) {
      return !waves && changing.contains({dsn, database});
    });
    options.sessions = &sessions;
  }
  return apply_and_report(context, manifest, plan, options, o.format);
}

}  // namespace

ExitCode apply_and_report(Context& context, const desired::Manifest& manifest, const planner::Plan& plan,
                          ApplyOptions options, const std::string& format) {
  LogStream log;  // with --log-format json, progress lines are log events too
  options.progress = logging_as_json() ? static_cast<std::ostream*>(&log) : &context.err;
  options.stop = &stop_on_signals();
  const ApplyResult result = apply_plan(manifest, plan, options);
  if (format == "json") {
    context.err << "\n" << summarize(result);
    context.out << render_apply_json(result, plan, options.revision);
  } else {
    context.out << "\n" << summarize(result);
  }
  if (result.failed() || result.skipped()) return ExitCode::error;
  if (result.blocked()) return ExitCode::blocked;
  return ExitCode::ok;
}

void add_apply_command(CLI::App& app, Context& context) {
  auto o = std::make_shared<ApplyCommandOptions>();
  CLI::App* cmd = app.add_subcommand("apply", "Observe, plan, confirm, then change the managed databases and verify");
  cmd->add_option("-f,--file", o->manifest, "The manifest")->required();
  cmd->add_option("--target", o->target, "Apply only to this managed target");
  cmd->add_option("--plan", o->plan_file, "Apply this saved plan (refused if the databases changed since)");
  cmd->add_option("--revision", o->revision,
                  "The manifest's revision to record (journal, the databases, JSON); default: the git HEAD of the "
                  "work tree that holds the manifest, as branch@sha1:<hex>");
  cmd->add_flag("--auto-approve", o->auto_approve, "Do not ask for confirmation");
  cmd->add_option("--format", o->format, "text, or json: the result as one document on stdout (docs/cli.md)")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  cmd->add_option("--lock-wait", o->lock_wait, "Wait this long for another run's lock, then skip")
      ->capture_default_str();
  cmd->add_option("--drain-parallel", o->drain_parallel,
                  "Databases that may wait for their quiet window at once (one connection each); --parallel "
                  "still bounds how many change at once")
      ->check(CLI::Range(1u, 256u))
      ->capture_default_str();
  cmd->add_option("--parallel", o->parallel, "Databases observed and changed at once")
      ->check(CLI::Range(1u, 64u))
      ->capture_default_str();
  cmd->callback([&context, o] { context.run = [&context, o] { return run_apply(context, *o); }; });
}

}  // namespace pgparity::reconciler
