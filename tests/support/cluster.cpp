#include "tests/support/cluster.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <fstream>
#include <mutex>
#include <pqxx/pqxx>
#include <sstream>
#include <stdexcept>

extern char** environ;

namespace pgparity::testing {

namespace {

const std::string script = std::string(PGPARITY_SOURCE_DIR) + "/scripts/pgcluster";

/// On SIGINT/SIGTERM/SIGHUP/SIGABRT (a failed assertion of a sanitizer) the test process becomes `pgcluster sweep
/// --owner <its pid>` (execv is async-signal-safe; the pid stays the same), so its clusters go with it.
std::array<std::string, 5> sweep_args;
std::array<char*, 6> sweep_argv{};

extern "C" void sweep_on_signal(int) { execv("/bin/bash", sweep_argv.data()); }

void install_cleanup_handlers() {
  static std::once_flag once;
  std::call_once(once, [] {
    sweep_args = {"bash", script, "sweep", "--owner", std::to_string(getpid())};
    for (std::size_t i = 0; i < sweep_args.size(); ++i) sweep_argv[i] = sweep_args[i].data();
    sweep_argv[sweep_args.size()] = nullptr;
    struct sigaction action {};
    action.sa_handler = sweep_on_signal;
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGABRT}) sigaction(sig, &action, nullptr);
  });
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

/// argv/envp for posix_spawn: pointers into `storage`, null-terminated.
std::vector<char*> c_strings(std::vector<std::string>& storage) {
  std::vector<char*> out;
  for (auto& s : storage) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

/// This process's environment, with `env` added or overriding.
std::vector<std::string> environment_with(const std::map<std::string, std::string>& env) {
  std::vector<std::string> out;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string entry = *e;
    if (!env.contains(entry.substr(0, entry.find('=')))) out.push_back(entry);
  }
  for (const auto& [k, v] : env) out.push_back(k + "=" + v);
  return out;
}

}  // namespace

int run_program(const std::string& program, const std::vector<std::string>& args, std::string* out, std::string* err,
                const std::map<std::string, std::string>& env) {
  std::array<int, 2> out_pipe{};
  std::array<int, 2> err_pipe{};
  if (pipe2(out_pipe.data(), O_CLOEXEC) != 0 || pipe2(err_pipe.data(), O_CLOEXEC) != 0) {
    throw std::runtime_error("pipe: " + std::string(std::strerror(errno)));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);

  std::vector<std::string> argv_storage{program};
  argv_storage.insert(argv_storage.end(), args.begin(), args.end());
  auto argv = c_strings(argv_storage);
  auto env_storage = environment_with(env);
  auto envp = c_strings(env_storage);

  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, program.c_str(), &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  close(out_pipe[1]);
  close(err_pipe[1]);
  if (rc != 0) {
    close(out_pipe[0]);
    close(err_pipe[0]);
    throw std::runtime_error("cannot run " + program + ": " + std::strerror(rc));
  }

  std::string out_text;
  std::string err_text;
  std::array<pollfd, 2> fds{{{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}}};
  int open_fds = 2;
  std::array<char, 4096> buffer{};
  while (open_fds > 0) {
    if (poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (std::size_t i = 0; i < fds.size(); ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      const ssize_t n = read(fds[i].fd, buffer.data(), buffer.size());
      if (n > 0) {
        (i == 0 ? out_text : err_text).append(buffer.data(), static_cast<std::size_t>(n));
      } else {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (out != nullptr) *out = std::move(out_text);
  if (err != nullptr) *err = std::move(err_text);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string pgcluster(const std::vector<std::string>& args) {
  std::string out;
  std::string err;
  const int rc = run_program(script, args, &out, &err);
  if (rc != 0) {
    std::string command = "pgcluster";
    for (const auto& a : args) command += " " + a;
    throw std::runtime_error(command + " failed (" + std::to_string(rc) + "): " + err);
  }
  return trimmed(out);
}

CommandResult run_pgparity(const std::vector<std::string>& args, const std::map<std::string, std::string>& env) {
  CommandResult result{};
  result.exit_code = run_program(PGPARITY_BIN, args, &result.out, &result.err, env);
  return result;
}

Process::Process(const std::string& program, const std::vector<std::string>& args,
                 const std::map<std::string, std::string>& env) {
  static int counter = 0;
  const std::string base = "/tmp/pgparity-process-" + std::to_string(getpid()) + "-" + std::to_string(++counter);
  out_path_ = base + ".out";
  err_path_ = base + ".err";
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::vector<std::string> argv_storage{program};
  argv_storage.insert(argv_storage.end(), args.begin(), args.end());
  auto argv = c_strings(argv_storage);
  auto env_storage = environment_with(env);
  auto envp = c_strings(env_storage);
  const int rc = posix_spawnp(&pid_, program.c_str(), &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error("cannot run " + program + ": " + std::strerror(rc));
}

Process::~Process() {
  if (!exit_code_) {
    kill(pid_, SIGKILL);
    wait(10'000);
  }
  std::remove(out_path_.c_str());
  std::remove(err_path_.c_str());
}

void Process::signal(int sig) const { kill(pid_, sig); }

std::optional<int> Process::wait(int timeout_ms) {
  for (int waited = 0; !exit_code_; waited += 20) {
    int status = 0;
    const pid_t done = waitpid(pid_, &status, WNOHANG);
    if (done == pid_) {
      exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      break;
    }
    if (waited >= timeout_ms) break;
    usleep(20'000);
  }
  return exit_code_;
}

std::string Process::out() const {
  std::ifstream in(out_path_);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::string Process::err() const {
  std::ifstream in(err_path_);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::unique_ptr<Process> start_pgparity(const std::vector<std::string>& args,
                                        const std::map<std::string, std::string>& env) {
  return std::make_unique<Process>(PGPARITY_BIN, args, env);
}

Cluster::Cluster(const std::map<std::string, std::string>& settings) {
  install_cleanup_handlers();
  std::vector<std::string> args{"create", "--owner", std::to_string(getpid())};
  for (const auto& [name, value] : settings) {
    args.push_back("--set");
    args.push_back(name + "=" + value);
  }
  dir_ = pgcluster(args);
}

std::unique_ptr<Cluster> Cluster::standby_of(const Cluster& primary) {
  install_cleanup_handlers();
  return std::unique_ptr<Cluster>(
      new Cluster(Existing{}, pgcluster({"standby", primary.dir(), "--owner", std::to_string(getpid())})));
}

Cluster::~Cluster() {
  try {
    pgcluster({"destroy", dir_});
  } catch (const std::exception& e) {
    ADD_FAILURE() << "cluster " << dir_ << " was not destroyed: " << e.what();
  }
}

PatroniCluster::PatroniCluster(int members, const std::string& rest_auth) {
  install_cleanup_handlers();
  std::vector<std::string> args = {"patroni", "--members", std::to_string(members), "--owner",
                                   std::to_string(getpid())};
  if (!rest_auth.empty()) args.insert(args.end(), {"--rest-auth", rest_auth});
  dir_ = pgcluster(args);
}

PatroniCluster::~PatroniCluster() {
  try {
    pgcluster({"destroy", dir_});
  } catch (const std::exception& e) {
    ADD_FAILURE() << "Patroni cluster " << dir_ << " was not destroyed: " << e.what();
  }
}

std::string PatroniCluster::conninfo(int n, const std::string& dbname) const {
  return "host=" + member(n) + " port=" + trimmed(read_text(member(n) + "/port")) + " user=postgres dbname=" + dbname;
}

std::string PatroniCluster::query_value(int n, const std::string& sql) const {
  pqxx::connection connection(conninfo(n));
  pqxx::nontransaction tx(connection);
  const pqxx::result rows = tx.exec(sql);
  if (rows.empty() || rows[0][0].is_null()) return "";
  return rows[0][0].c_str();
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  return {(std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>()};
}

std::optional<double> sample(const std::string& metrics, const std::string& series) {
  std::istringstream lines(metrics);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  }
  return std::nullopt;
}

std::string write_pair_manifest(const std::string& path, const std::string& body, const std::string& staging_extra) {
  std::ofstream(path) << "apiVersion: pgparity/v1\ntargets:\n  production:\n    dsn: \"${PGPARITY_PROD_DSN}\"\n"
                         "    role: reference\n  staging:\n    dsn: \"${PGPARITY_STAGING_DSN}\"\n    role: managed\n"
                      << staging_extra << body;
  return path;
}

int Cluster::port() const { return std::stoi(read_file(dir_ + "/port")); }

std::string Cluster::conninfo(const std::string& dbname) const {
  return "host=" + dir_ + " port=" + std::to_string(port()) + " user=postgres dbname=" + dbname;
}

std::string Cluster::extension_dir() const {
  return dir_ + "/install" + pgcluster({"paths", dir_, "sharedir"}) + "/extension";
}

std::string Cluster::library_dir() const { return dir_ + "/install" + pgcluster({"paths", dir_, "pkglibdir"}); }

pid_t Cluster::postmaster_pid() const {
  const std::string text = read_file(dir_ + "/data/postmaster.pid");
  if (text.empty()) return 0;
  return static_cast<pid_t>(std::stol(text.substr(0, text.find('\n'))));
}

int Cluster::start_bouncer(const std::string& pool_mode) { return std::stoi(pgcluster({"bouncer", dir_, pool_mode})); }

int Cluster::start_bouncer(const std::string& pool_mode, const std::vector<std::string>& options) {
  std::vector<std::string> args{"bouncer", dir_, pool_mode};
  args.insert(args.end(), options.begin(), options.end());
  return std::stoi(pgcluster(args));
}

void Cluster::set(const std::string& name, const std::string& value) { pgcluster({"set", dir_, name + "=" + value}); }
void Cluster::reload() { pgcluster({"reload", dir_}); }
void Cluster::restart(const std::vector<std::string>& command_line) {
  std::vector<std::string> args{"restart", dir_};
  args.insert(args.end(), command_line.begin(), command_line.end());
  pgcluster(args);
}
void Cluster::stop() { pgcluster({"stop", dir_}); }
void Cluster::start() { pgcluster({"start", dir_}); }

std::string Cluster::query_value(const std::string& sql, const std::string& dbname) const {
  pqxx::connection connection(conninfo(dbname));
  pqxx::nontransaction tx(connection);
  const pqxx::result rows = tx.exec(sql);
  if (rows.empty() || rows[0][0].is_null()) return "";
  return rows[0][0].c_str();
}

void Cluster::exec(const std::string& sql, const std::string& dbname) const {
  pqxx::connection connection(conninfo(dbname));
  pqxx::nontransaction tx(connection);
  tx.exec(sql);
}

}  // namespace pgparity::testing
