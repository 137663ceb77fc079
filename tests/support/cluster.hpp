#pragma once

#include <sys/types.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace pgparity::testing {

/// Runs `program` with `args` (no shell) and returns its exit status; stdout in `out`,
/// stderr in `err` when given.
int run_program(const std::string& program, const std::vector<std::string>& args, std::string* out = nullptr,
                std::string* err = nullptr, const std::map<std::string, std::string>& env = {});

/// The whole text of a file, as it is ("" when it cannot be read).
std::string read_text(const std::string& path);
/// The value of one series (`name{labels}` as written) in Prometheus text, or nullopt when absent.
std::optional<double> sample(const std::string& metrics, const std::string& series);

/// Writes a manifest at `path` with the two targets most tests use —
/// production (reference, "${PGPARITY_PROD_DSN}") and staging (managed,
/// "${PGPARITY_STAGING_DSN}", then `staging_extra`) — followed by `body`; returns the path.
std::string write_pair_manifest(const std::string& path, const std::string& body,
                                const std::string& staging_extra = "");

/// Runs scripts/pgcluster with `args`; throws with its stderr when it fails. Returns stdout.
std::string pgcluster(const std::vector<std::string>& args);

/// Runs the pgparity binary of this build; its exit code, stdout and stderr.
struct CommandResult {
  int exit_code;
  std::string out;
  std::string err;
};
CommandResult run_pgparity(const std::vector<std::string>& args, const std::map<std::string, std::string>& env = {});

/// A program running in the background, its output going to files that can be read at any time.
/// Killed (SIGKILL) when the object goes, if still running.
class Process {
 public:
  Process(const std::string& program, const std::vector<std::string>& args,
          const std::map<std::string, std::string>& env = {});
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  void signal(int sig) const;
  /// Its exit code (128 + signal when killed), or nullopt when still running after `timeout_ms`.
  std::optional<int> wait(int timeout_ms);
  std::string out() const;
  std::string err() const;

 private:
  pid_t pid_ = 0;
  std::optional<int> exit_code_;
  std::string out_path_;
  std::string err_path_;
};

/// pgparity of this build in the background.
std::unique_ptr<Process> start_pgparity(const std::vector<std::string>& args,
                                        const std::map<std::string, std::string>& env = {});

/// A throwaway PostgreSQL cluster (scripts/pgcluster), started on creation and
/// destroyed with the object. If the test process is interrupted (SIGINT,
/// SIGTERM, SIGHUP), every cluster it owns is destroyed before it exits.
class Cluster {
 public:
  /// Settings for postgresql.conf, e.g. {{"work_mem", "4MB"}}.
  explicit Cluster(const std::map<std::string, std::string>& settings = {});
  /// A physical standby of `primary` (pg_basebackup -R), with its own private
  /// installation, started; destroyed with the object.
  static std::unique_ptr<Cluster> standby_of(const Cluster& primary);
  ~Cluster();
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;

  const std::string& dir() const { return dir_; }
  int port() const;
  /// A libpq conninfo string for `dbname` as the bootstrap superuser.
  std::string conninfo(const std::string& dbname = "postgres") const;
  /// The private extension folder the server reads control files and scripts from.
  std::string extension_dir() const;
  /// The private library folder ($libdir) the server loads modules from.
  std::string library_dir() const;
  /// The postmaster's pid, or 0 when the server is stopped.
  pid_t postmaster_pid() const;

  /// Starts a PgBouncer in front of the server (destroyed with the cluster); returns its port.
  int start_bouncer(const std::string& pool_mode = "transaction");
  /// The same, with routes and settings a test chooses: {"--route", "orders=" + other.dir(), "--set",
  /// "default_pool_size=5"} (scripts/pgcluster bouncer).
  int start_bouncer(const std::string& pool_mode, const std::vector<std::string>& options);

  /// Writes a setting into the cluster's configuration; effective after reload() or restart().
  void set(const std::string& name, const std::string& value);
  void reload();
  /// Restarts the server; `command_line` settings ({"work_mem=1MB"}) go on the postmaster's command
  /// line, where they outrank postgresql.auto.conf (as an HA manager such as Patroni puts them).
  void restart(const std::vector<std::string>& command_line = {});
  void stop();
  void start();

  /// Runs SQL on `dbname` in its own session and returns the first column of the first row ("" if none).
  std::string query_value(const std::string& sql, const std::string& dbname = "postgres") const;
  /// Runs SQL (one or more statements) on `dbname` in its own session.
  void exec(const std::string& sql, const std::string& dbname = "postgres") const;

 private:
  struct Existing {};
  Cluster(Existing, std::string dir) : dir_(std::move(dir)) {}
  std::string dir_;
};

/// A throwaway Patroni cluster (scripts/pgcluster patroni): etcd and `members` members on loopback,
/// m1 the leader, the others streaming from it; destroyed with the object. With `rest_auth`
/// ("user:password"), its REST API asks for those credentials on PATCH and POST.
class PatroniCluster {
 public:
  explicit PatroniCluster(int members = 2, const std::string& rest_auth = "");
  ~PatroniCluster();
  PatroniCluster(const PatroniCluster&) = delete;
  PatroniCluster& operator=(const PatroniCluster&) = delete;

  const std::string& dir() const { return dir_; }
  /// Member N (from 1): its directory, holding port, rest_port, data/ and patroni.log.
  std::string member(int n) const { return dir_ + "/m" + std::to_string(n); }
  std::string conninfo(int n, const std::string& dbname = "postgres") const;
  std::string query_value(int n, const std::string& sql) const;

 private:
  std::string dir_;
};

}  // namespace pgparity::testing
