#include "reconciler/restart.hpp"

#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <ostream>
#include <pqxx/pqxx>
#include <stdexcept>
#include <thread>

#include "core/error.hpp"
#include "reconciler/server_step.hpp"
#include "state/catalog_sql.hpp"
#include "state/connection.hpp"
#include "state/observe.hpp"

extern char** environ;

namespace pgparity::reconciler {

namespace {

using Clock = std::chrono::steady_clock;

/// What the server shows now: who it is, where it answers, when its postmaster started, whether it is
/// a standby, and which of `settings` still wait for a restart (pg_settings.pending_restart).
struct ServerNow {
  std::string identity;
  std::string address;  ///< inet_server_addr:inet_server_port ("" over a Unix socket)
  std::string started;
  bool standby = false;
  std::vector<std::string> pending;
};

ServerNow read_server(const std::string& dsn, const std::vector<std::string>& settings) {
  auto session = state::connect(dsn, state::Access::read_only, "pgparity restart");
  pqxx::read_transaction tx(*session);
  ServerNow now;
  const auto row = tx.exec1(state::sql::server_now);
  now.identity = row[0].c_str();
  now.address = row[1].c_str();
  now.started = row[2].c_str();
  now.standby = row[3].as<bool>();
  for (const auto& name : settings) {
    const auto r = tx.exec_params(state::sql::setting_now, name);
    if (!r.empty() && r[0][3].as<bool>()) now.pending.push_back(name);
  }
  return now;
}

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ", ") + i;
  return out;
}

/// The environment a restart command gets: enough to find programs and speak the locale, never the
/// DSNs and passwords pgparity was given (PGPASSWORD, PGPARITY_*).
std::vector<std::string> command_environment() {
  std::vector<std::string> out{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"};
  for (const char* name : {"HOME", "LANG", "LC_ALL", "TZ", "TMPDIR"}) {
    if (const char* value = std::getenv(name)) out.push_back(std::string(name) + "=" + value);
  }
  return out;
}

}  // namespace

CommandOutcome run_command(const std::vector<std::string>& argv, Duration timeout) {
  if (argv.empty() || argv.front().empty() || argv.front().front() != '/') {
    throw std::invalid_argument("a restart command starts with the program's absolute path");
  }
  // Output goes to an unlinked file, not a pipe: a server the command starts keeps its stdout and
  // stderr, and a pipe would break under it once pgparity closes its end.
  char path[] = "/tmp/pgparity-restart-XXXXXX";
  const int out = mkostemp(path, O_CLOEXEC);
  if (out < 0) throw std::runtime_error("cannot make a file for the restart command's output");
  unlink(path);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out, STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, out, STDERR_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  // A session of its own: a signal to pgparity (Ctrl-C, systemd stopping it) never reaches a restart
  // halfway, and a timeout can end the command with everything it started.
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSID);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const std::vector<std::string> environment = command_environment();
  std::vector<char*> env;
  for (const auto& e : environment) env.push_back(const_cast<char*>(e.c_str()));
  env.push_back(nullptr);
  pid_t pid = 0;
  const int spawned = posix_spawn(&pid, args.front(), &actions, &attributes, args.data(), env.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  if (spawned != 0) {
    close(out);
    throw std::runtime_error("cannot run " + argv.front() + ": " + std::strerror(spawned));
  }
  CommandOutcome outcome;
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout.ms());
  int status = 0;
  pid_t done = 0;
  while ((done = waitpid(pid, &status, WNOHANG)) == 0) {
    if (Clock::now() > deadline) {
      outcome.timed_out = true;
      kill(-pid, SIGTERM);  // its whole session
      for (int i = 0; i < 100 && (done = waitpid(pid, &status, WNOHANG)) == 0; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
      if (done == 0) {
        kill(-pid, SIGKILL);
        done = waitpid(pid, &status, 0);
      }
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (done != pid) {
    outcome.exit_code = -1;  // lost track of it: never read as success
  } else {
    outcome.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  const off_t size = lseek(out, 0, SEEK_END);
  const off_t from = size > 2000 ? size - 2000 : 0;
  outcome.output.resize(static_cast<std::size_t>(size - from));
  if (pread(out, outcome.output.data(), outcome.output.size(), from) < 0) outcome.output.clear();
  close(out);
  return outcome;
}

DatabaseResult restart_server(const desired::Manifest& manifest, const planner::Step& step, const ApplyOptions& options,
                              std::mutex& output) {
  const auto& restart = step.as<planner::ServerRestart>();
  const desired::Target& target = manifest.targets.at(step.target);
  ServerStep run(manifest, step, options, output, "restart");
  const auto fail = [&](const std::string& message) { return run.fail(message, "restart failed: "); };
  const auto started = Clock::now();
  ServerNow before;
  try {
    before = read_server(target.dsn, restart.settings);
  } catch (const std::exception& e) {
    return fail("before the restart: " + one_line(e.what()) + "; nothing was restarted");
  }
  // Checked before anything is written: the DSN may lead elsewhere since the plan was made.
  if (!options.reference_identifier.empty() && options.reference_identifier == before.identity) {
    return fail("the target's DSN reaches the reference's cluster; nothing was restarted");
  }
  if (before.standby) return fail("the target's DSN reaches a standby now; nothing was restarted");
  if (options.stop != nullptr && options.stop->load()) return fail("stopped by a signal; nothing was restarted");
  if (const std::string why = run.journal_start(); !why.empty()) return fail(why + "; nothing was restarted");
  const auto timeout = manifest.policy.restart.timeout;
  run.say("restarting the server for " + joined(restart.settings));
  CommandOutcome ran;
  try {
    ran = run_command(restart.command, timeout);
  } catch (const std::exception& e) {
    return fail(one_line(e.what()));
  }
  if (ran.timed_out || ran.exit_code != 0) {
    return fail("the restart command " +
                std::string(ran.timed_out ? "did not finish within " + timeout.str()
                                          : "exited " + std::to_string(ran.exit_code)) +
                (ran.output.empty() ? "" : ": " + one_line(ran.output)));
  }
  // The server answers again: the same cluster at the same address, a primary, started anew, nothing
  // of the step still pending.
  std::string last;
  const auto deadline = started + std::chrono::milliseconds(timeout.ms());
  while (true) {
    try {
      const ServerNow after = read_server(target.dsn, restart.settings);
      if (after.identity != before.identity || after.address != before.address || after.standby) {
        return fail("after the restart the DSN reaches another server (system_identifier " + after.identity +
                    (after.standby ? ", a standby" : "") + "), not the one restarted");
      }
      if (after.started == before.started) {
        last = "the server was not restarted (its postmaster started at " + after.started + ", as before)";
      } else if (!after.pending.empty()) {
        return fail("restarted, but " + joined(after.pending) + " still wait for a restart");
      } else {
        break;
      }
    } catch (const std::exception& e) {
      last = one_line(e.what());
    }
    if (Clock::now() > deadline) {
      return fail("the server did not answer as restarted within " + timeout.str() + ": " + last);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count();
  DatabaseResult result = run.pass(ms, "restarted; " + joined(restart.settings) + " in effect");
  run.say("restarted in " + std::to_string(ms) + " ms; " + joined(restart.settings) + " in effect");
  return result;
}

}  // namespace pgparity::reconciler
