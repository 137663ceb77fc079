#include "reconciler/replica_wait.hpp"

#include <chrono>
#include <map>
#include <memory>
#include <ostream>
#include <pqxx/pqxx>
#include <thread>

#include "core/error.hpp"
#include "reconciler/journal.hpp"
#include "reconciler/run_lock.hpp"
#include "reconciler/verifier.hpp"
#include "state/connection.hpp"
#include "state/observe.hpp"

namespace pgparity::reconciler {

using planner::Step;
using Outcome = DatabaseResult::Outcome;

/// A standby's failure journaled on its primary, in the DSN's database (a standby has no journal of its
/// own): a run row for "@replica-N" with its message, so doctor and history show where it was left.
namespace {

void journal_replica_failure(const desired::Manifest& manifest, const std::string& target_name,
                             const desired::Target& target, DatabaseResult& result, const ApplyOptions& options) {
  try {
    auto session = state::connect(target.dsn, state::Access::read_write, "pgparity", std::nullopt);
    RunLock lock(*session);
    if (lock.acquire(options.lock_wait, options.stop, [](int) {}) >= 0) return;  // another run: not ours to write
    Journal journal(*session, manifest.policy.state_schema.str());
    journal.ensure();
    result.run_id = new_run_id();
    journal.start({result.run_id, target_name, result.database, options.plan_digest, options.manifest_digest,
                   options.wave, options.revision});
    journal.finish(result.run_id, state::RunStatus::failed, 0, result.message);
  } catch (const std::exception& e) {
    result.message += "; it could not be journaled on the primary (" + one_line(e.what()) + ")";
  }
}

}  // namespace

std::vector<DatabaseResult> wait_for_replicas(const desired::Manifest& manifest,
                                              const std::map<std::string, std::vector<Step>>& changed,
                                              const ApplyOptions& options, std::mutex& output) {
  std::vector<DatabaseResult> failures;
  auto tell = [&](const std::string& line) {
    if (options.progress == nullptr) return;
    std::lock_guard lock(output);
    *options.progress << line << std::endl;
  };
  for (const auto& [name, target] : manifest.targets) {
    if (target.replicas.empty()) continue;
    std::map<std::string, std::vector<Step>> databases;
    for (const auto& [key, steps] : changed) {
      if (key.rfind(name + "/", 0) == 0) databases[key.substr(name.size() + 1)] = steps;
    }
    if (databases.empty()) continue;
    std::string wal;
    try {
      auto primary = state::connect(target.dsn, state::Access::read_only, "pgparity", std::nullopt);
      wal = state::wal_insert_lsn(*primary);
    } catch (const std::exception& e) {
      DatabaseResult failure;
      failure.target = name;
      failure.outcome = Outcome::failed;
      failure.message = "cannot read the primary's WAL position to wait for the standbys: " + one_line(e.what());
      failures.push_back(std::move(failure));
      continue;
    }
    for (std::size_t r = 0; r < target.replicas.size(); ++r) {
      const std::string endpoint = state::mask_dsn(target.replicas[r].dsn);
      DatabaseResult result;
      result.target = name;
      result.database = "@replica-" + std::to_string(r + 1);
      result.outcome = Outcome::failed;
      const auto until =
          std::chrono::steady_clock::now() + std::chrono::milliseconds(manifest.policy.replica_wait.ms());
      state::ReplayProgress progress;
      std::string last_error;
      std::unique_ptr<pqxx::connection> session;  // one session for the wait, reopened after an error
      while (true) {
        try {
          if (!session) session = state::connect(target.replicas[r].dsn, state::Access::read_only, "pgparity");
          progress = state::replay_progress(*session, wal);
          if (progress.reached) break;
        } catch (const std::exception& e) {
          last_error = one_line(e.what());
          session.reset();
        }
        if (std::chrono::steady_clock::now() >= until || (options.stop != nullptr && options.stop->load())) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
      }
      session.reset();
      if (!progress.reached) {
        result.message = "standby " + endpoint + " did not replay past " + wal + " within policy.replica_wait " +
                         manifest.policy.replica_wait.str() +
                         (progress.replayed.empty() ? "" : " (it is at " + progress.replayed + ")") +
                         (last_error.empty() ? "" : "; last error: " + last_error) +
                         "; its versions are not verified. hint: check the standby and its replication, then run "
                         "pgparity check";
        tell(name + ": " + result.message);
        journal_replica_failure(manifest, name, target, result, options);
        failures.push_back(std::move(result));
        continue;
      }
      std::string problems;
      for (const auto& [database, steps] : databases) {
        try {
          auto session = state::connect(target.replicas[r].dsn, state::Access::read_only, "pgparity", database);
          const std::string found = verify_database(*session, steps, manifest.policy.health);
          if (!found.empty()) problems += "; " + database + ":" + found.substr(1);
        } catch (const std::exception& e) {
          problems += "; " + database + ": " + one_line(e.what());
        }
      }
      if (!problems.empty()) {
        result.message = "standby " + endpoint + " replayed the change, but verification failed" + problems;
        tell(name + ": " + result.message);
        journal_replica_failure(manifest, name, target, result, options);
        failures.push_back(std::move(result));
        continue;
      }
      tell(name + ": standby " + endpoint + " replayed past " + wal + "; versions verified in " +
           std::to_string(databases.size()) + " database" + (databases.size() == 1 ? "" : "s"));
    }
  }
  return failures;
}

}  // namespace pgparity::reconciler
