#include "reconciler/restart.hpp"

#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>

#include <chrono>
#include <cstring>
#include <ostream>
#include <pqxx/pqxx>
#include <stdexcept>
#include <thread>

#include "core/error.hpp"
#include "reconciler/journal.hpp"
#include "state/connection.hpp"
#include "state/observe.hpp"

extern char** environ;

namespace pgparity::reconciler {

namespace {

using Clock = std::chrono::steady_clock;

/// What the server shows now: who it is, when its postmaster started, and which of `settings` still
/// wait for a restart (pg_settings.pending_restart).
struct ServerNow {
  std::string identity;
  std::string started;
  std::vector<std::string> pending;
};

ServerNow read_server(const std::string& dsn, const std::vector<std::string>& settings) {
  auto session = state::connect(dsn, state::Access::read_only, "pgparity restart");
  pqxx::read_transaction tx(*session);
  ServerNow now;
  now.identity = tx.exec1("SELECT (pg_catalog.pg_control_system()).system_identifier::text")[0].c_str();
  now.started = tx.exec1("SELECT pg_catalog.pg_postmaster_start_time()::text")[0].c_str();
  for (const auto& name : settings) {
    const auto row = tx.exec_params("SELECT pending_restart FROM pg_catalog.pg_settings WHERE name = $1", name);
    if (!row.empty() && row[0][0].as<bool>()) now.pending.push_back(name);
  }
  return now;
}

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ", ") + i;
  return out;
}

}  // namespace

CommandOutcome run_command(const std::vector<std::string>& argv, Duration timeout) {
  if (argv.empty() || argv.front().empty() || argv.front().front() != '/') {
    throw std::invalid_argument("a restart command starts with the program's absolute path");
  }
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) throw std::runtime_error("cannot make a pipe for the restart command");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDERR_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  const int spawned = posix_spawn(&pid, args.front(), &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(pipe_fds[1]);
  if (spawned != 0) {
    close(pipe_fds[0]);
    throw std::runtime_error("cannot run " + argv.front() + ": " + std::strerror(spawned));
  }
  CommandOutcome outcome;
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout.ms());
  const auto take = [&](int wait_ms) {  // what it printed so far; false once the pipe is closed
    pollfd p{pipe_fds[0], POLLIN, 0};
    if (poll(&p, 1, wait_ms) <= 0) return true;
    char buffer[4096];
    const ssize_t n = read(pipe_fds[0], buffer, sizeof buffer);
    if (n <= 0) return false;
    outcome.output.append(buffer, static_cast<std::size_t>(n));
    if (outcome.output.size() > 2000) outcome.output.erase(0, outcome.output.size() - 2000);
    return true;
  };
  int status = 0;
  bool open = true;
  // Until the command exits; a server it started may keep the pipe open for good, so the pipe's end
  // is not waited for.
  while (waitpid(pid, &status, WNOHANG) == 0) {
    if (Clock::now() > deadline) {
      outcome.timed_out = true;
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      break;
    }
    if (open) {
      open = take(100);
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  while (open && take(0)) {
    pollfd p{pipe_fds[0], POLLIN, 0};
    if (poll(&p, 1, 0) <= 0) break;
  }
  close(pipe_fds[0]);
  outcome.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return outcome;
}

DatabaseResult restart_server(const desired::Manifest& manifest, const planner::Step& step,
                              const ApplyOptions& options, std::mutex& output) {
  const auto& restart = step.as<planner::ServerRestart>();
  const desired::Target& target = manifest.targets.at(step.target);
  DatabaseResult result;
  result.target = step.target;
  result.database = "@restart";
  const auto say = [&](const std::string& line) {
    if (options.progress == nullptr) return;
    std::lock_guard lock(output);
    *options.progress << step.target << ": " << line << std::endl;
  };
  const auto started = Clock::now();
  ServerNow before;
  {
    auto session = state::connect(target.dsn, state::Access::read_write, "pgparity restart");
    Journal journal(*session, manifest.policy.state_schema.str());
    journal.ensure();
    result.run_id = new_run_id();
    journal.start(result.run_id, step.target, "@restart", options.plan_digest, options.manifest_digest,
                  options.wave);
  }
  const auto finish = [&](state::RunStatus status, const std::string& message) {
    try {
      auto session = state::connect(target.dsn, state::Access::read_write, "pgparity restart");
      Journal(*session, manifest.policy.state_schema.str()).finish(result.run_id, status, result.steps_done, message);
    } catch (const std::exception& e) {
      result.message += "; the journal could not be written (" + one_line(e.what()) + ")";
    }
  };
  const auto fail = [&](const std::string& message) {
    result.outcome = DatabaseResult::Outcome::failed;
    result.message = message;
    finish(state::RunStatus::failed, message);
    say("restart failed: " + message);
    return result;
  };
  try {
    before = read_server(target.dsn, restart.settings);
  } catch (const std::exception& e) {
    return fail("before the restart: " + one_line(e.what()) + "; nothing was restarted");
  }
  if (options.reference_identifier == before.identity) {
    return fail("the target's DSN reaches the reference's cluster; nothing was restarted");
  }
  if (options.stop != nullptr && options.stop->load()) return fail("stopped by a signal; nothing was restarted");
  const auto timeout = manifest.policy.restart.timeout;
  say("restarting the server for " + joined(restart.settings));
  CommandOutcome ran;
  try {
    ran = run_command(restart.command, timeout);
  } catch (const std::exception& e) {
    return fail(one_line(e.what()));
  }
  if (ran.timed_out || ran.exit_code != 0) {
    return fail("the restart command " + std::string(ran.timed_out ? "did not finish within " + timeout.str()
                                                                    : "exited " + std::to_string(ran.exit_code)) +
                (ran.output.empty() ? "" : ": " + one_line(ran.output)));
  }
  // The server answers again: the same cluster, started anew, nothing of the step still pending.
  std::string last;
  const auto deadline = started + std::chrono::milliseconds(timeout.ms());
  while (true) {
    try {
      const ServerNow after = read_server(target.dsn, restart.settings);
      if (after.identity != before.identity) {
        return fail("after the restart the DSN reaches another cluster (system_identifier " + after.identity +
                    ", was " + before.identity + ")");
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
    if (Clock::now() > deadline) return fail("the server did not answer as restarted within " + timeout.str() + ": " + last);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count();
  result.steps_done = 1;
  result.steps.push_back({step.id, "restart", "", "", ms});
  result.outcome = DatabaseResult::Outcome::applied;
  result.message = "restarted; " + joined(restart.settings) + " in effect";
  finish(state::RunStatus::succeeded, "");
  say("restarted in " + std::to_string(ms) + " ms; " + joined(restart.settings) + " in effect");
  return result;
}

}  // namespace pgparity::reconciler
