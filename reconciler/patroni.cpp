#include "reconciler/patroni.hpp"

#include <algorithm>
#include <chrono>
#include <map>
#include <ostream>
#include <pqxx/pqxx>
#include <thread>

#include "core/error.hpp"
#include "reconciler/server_step.hpp"
#include "state/catalog_sql.hpp"
#include "state/connection.hpp"
#include "state/patroni.hpp"
#include "state/settings.hpp"

#include <nlohmann/json.hpp>

namespace pgparity::reconciler {

namespace {

using Clock = std::chrono::steady_clock;

/// Of `wanted` (setting -> value), what the server at `dsn` does not run, as "name shows x".
std::vector<std::string> not_running(const std::string& dsn, const std::map<std::string, std::string>& wanted) {
  auto session = state::connect(dsn, state::Access::read_only, "pgparity patroni");
  pqxx::read_transaction tx(*session);
  std::vector<std::string> out;
  for (const auto& [name, value] : wanted) {
    const auto row = tx.exec_params1(state::sql::setting_now, name);
    if (!state::same_setting_value(value, row[0].c_str(), row[1].c_str(), state::setting_type_named(row[2].c_str()))) {
      out.push_back(name + " shows " + state::display_value(row[0].c_str(), row[1].c_str()));
    }
  }
  return out;
}

/// The DSN that reaches `member`: the target's for the leader, a listed standby's at the member's port
/// for a replica; "" when none is listed.
std::string dsn_of(const desired::Target& target, const state::PatroniMember& member) {
  if (member.leader()) return target.dsn;
  for (const auto& r : target.replicas) {
    if (state::dsn_endpoint(r.dsn).port == member.port) return r.dsn;
  }
  return "";
}

/// Bytes a restarted replica may still be behind its leader when the next member's restart starts.
constexpr long long restart_lag_bound = 16LL * 1024 * 1024;

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

/// The member named `name` as GET /cluster lists it now; nullopt (with `error`) when it is not there.
std::optional<state::PatroniMember> member_now(const std::string& url, const std::string& name, std::string& error) {
  for (auto& m : state::read_patroni_members(url, error)) {
    if (m.name == name) return m;
  }
  if (error.empty()) error = "Patroni does not list member " + name + " any more";
  return std::nullopt;
}

}  // namespace

state::PatroniAccess patroni_access(const desired::Target& target) {
  return {target.patroni_url, target.patroni_username, target.patroni_password};
}

DatabaseResult restart_member(const desired::Manifest& manifest, const planner::Step& step, const ApplyOptions& options,
                              std::mutex& output) {
  const auto& restart = step.as<planner::ServerRestart>();
  const desired::Target& target = manifest.targets.at(step.target);
  ServerStep run(manifest, step, options, output, "restart/" + restart.member);
  const std::string who = "member " + restart.member;
  const auto fail = [&](const std::string& message) { return run.fail(message, "restart of " + who + " failed: "); };
  const auto started = Clock::now();
  std::string cluster;
  try {
    auto session = state::connect(target.dsn, state::Access::read_only, "pgparity restart");
    pqxx::read_transaction tx(*session);
    cluster = tx.exec1(state::sql::identity)[0].c_str();
  } catch (const std::exception& e) {
    return fail("the target does not answer: " + one_line(e.what()) + "; nothing was restarted");
  }
  if (!options.reference_identifier.empty() && options.reference_identifier == cluster) {
    return fail("the target's DSN reaches the reference's cluster; nothing was restarted");
  }
  if (options.stop != nullptr && options.stop->load()) return fail("stopped by a signal; nothing was restarted");
  // Journaled before the member is asked anything: a rollout that stops here says so in the journal.
  if (const std::string why = run.journal_start(); !why.empty()) return fail(why + "; nothing was restarted");
  // The member as Patroni lists it now, through the manifest's URL (never an address the plan carried).
  std::string error;
  const auto member = member_now(target.patroni_url, restart.member, error);
  if (!member) return fail(error + "; nothing was restarted");
  if (member->leader() != restart.leader) {
    return fail(who + " is now " + (member->leader() ? "the leader" : "a replica") +
                ": the cluster switched over since the plan; nothing was restarted (plan again)");
  }
  state::PatroniMemberNow now = state::read_patroni_member(member->api_url);
  if (!now.reached) return fail(now.error + "; nothing was restarted");
  if (now.system_identifier != cluster) {
    return fail(who + " runs cluster " + now.system_identifier + ", not the target's " + cluster +
                "; nothing was restarted");
  }
  const auto timeout = manifest.policy.restart.timeout;
  const auto deadline = started + std::chrono::milliseconds(timeout.ms());
  // Patroni applies a PATCH on its next loop: the restart is asked for once the member knows it is due.
  while (!now.pending_restart) {
    if (Clock::now() > deadline) {
      return fail("Patroni did not report a restart pending on " + who + " within " + timeout.str() +
                  "; nothing was restarted");
    }
    if (options.stop != nullptr && options.stop->load()) return fail("stopped by a signal; nothing was restarted");
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    now = state::read_patroni_member(member->api_url);
    if (!now.reached) return fail(now.error + "; nothing was restarted");
  }
  // The API Patroni lists for the member must answer as that member (a shared connect_address would
  // send every restart to one node, and each would look done).
  const bool answers_as_leader = now.role == "master" || now.role == "primary" || now.role == "standby_leader";
  if ((!now.name.empty() && now.name != restart.member) || answers_as_leader != restart.leader) {
    return fail("the API Patroni lists for " + who + " (" + member->api_url + ") answers as " +
                (now.name.empty() ? std::string("a member") : now.name) + " with role " + now.role +
                "; nothing was restarted");
  }
  const std::string before = now.postmaster_start_time;
  run.say("restarting " + who + (restart.leader ? " (the leader)" : " (a replica)") + " through Patroni" +
          (restart.settings.empty() ? "" : " for " + joined(restart.settings)));
  const auto left = std::chrono::duration_cast<std::chrono::seconds>(deadline - Clock::now()).count();
  bool answered = false;
  const std::string problem =
      state::restart_patroni_member(patroni_access(target), member->api_url, std::max<long long>(left, 1), answered);
  if (answered && !problem.empty()) return fail(problem);
  if (!answered) run.say(problem + "; watching " + who + " come back");
  // Back: running, started anew, nothing pending, the same cluster; a replica close behind its leader.
  std::string last;
  while (true) {
    now = state::read_patroni_member(member->api_url);
    if (!now.reached) {
      last = now.error;
    } else if (now.system_identifier != cluster) {
      return fail("after the restart " + who + " runs cluster " + now.system_identifier + ", not " + cluster);
    } else if (now.state != "running") {
      last = who + " is " + now.state;
    } else if (now.postmaster_start_time == before) {
      last = who + " was not restarted (its postmaster started at " + before + ", as before)";
    } else if (now.pending_restart) {
      return fail("restarted, but Patroni still reports a restart pending on " + who);
    } else if (restart.leader) {
      break;
    } else {
      const auto listed = member_now(target.patroni_url, restart.member, error);
      if (!listed) {
        last = error;
      } else if (!listed->lag || *listed->lag > restart_lag_bound) {
        last = who + " is " + (listed->lag ? std::to_string(*listed->lag) + " bytes" : std::string("an unknown lag")) +
               " behind its leader";
      } else {
        break;
      }
    }
    if (Clock::now() > deadline) {
      return fail(who + " did not come back within " + timeout.str() + ": " + last +
                  "; the members after it were not restarted");
    }
    if (options.stop != nullptr && options.stop->load()) {
      return fail("stopped by a signal while " + who + " restarts; the members after it were not restarted");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  // It runs what Patroni holds for the step's settings (a restart before Patroni wrote a new value
  // would leave the old one running with nothing pending), where a DSN reaches the member.
  if (const std::string dsn = dsn_of(target, *member); !dsn.empty()) {
    const state::PatroniConfig config = state::read_patroni_config(patroni_access(target));
    std::map<std::string, std::string> wanted;
    for (const auto& name : restart.settings) {
      if (const auto p = config.parameters.find(name); p != config.parameters.end()) wanted[name] = p->second;
    }
    try {
      if (const auto off = not_running(dsn, wanted); !off.empty()) {
        return fail("restarted, but " + who + " does not run what Patroni holds: " + joined(off) +
                    " (restart it again once Patroni has written its configuration there)");
      }
    } catch (const std::exception& e) {
      return fail("restarted, but " + who + " does not answer: " + one_line(e.what()));
    }
  }
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count();
  DatabaseResult result = run.pass(ms, who + " restarted through Patroni");
  run.say(who + " restarted in " + std::to_string(ms) + " ms" +
          (restart.settings.empty() ? "" : "; " + joined(restart.settings) + " in effect there"));
  return result;
}

DatabaseResult apply_patroni(const desired::Manifest& manifest, const planner::Step& step, const ApplyOptions& options,
                             std::mutex& output) {
  const auto& patch = step.as<planner::PatroniPatch>();
  const desired::Target& target = manifest.targets.at(step.target);
  ServerStep run(manifest, step, options, output, "patroni");
  const auto fail = [&](const std::string& message) {
    return run.fail(message, "Patroni configuration not changed: ");
  };
  try {
    auto session = state::connect(target.dsn, state::Access::read_only, "pgparity patroni");
    pqxx::read_transaction tx(*session);
    const auto row = tx.exec1(state::sql::server_now);
    if (!options.reference_identifier.empty() && options.reference_identifier == row[0].c_str()) {
      return fail("the target's DSN reaches the reference's cluster; Patroni was not asked to change anything");
    }
    if (row[3].as<bool>()) return fail("the target's DSN reaches a standby now; plan again (after a switchover)");
  } catch (const std::exception& e) {
    return fail("the target does not answer: " + one_line(e.what()));
  }
  if (options.stop != nullptr && options.stop->load()) return fail("stopped by a signal");
  if (const std::string why = run.journal_start(); !why.empty()) return fail(why);
  const auto started = Clock::now();
  // The PATCH goes to the URL: it must still lead to the DSN's cluster (a failover, an edited manifest).
  std::string dsn_cluster;
  try {
    auto session = state::connect(target.dsn, state::Access::read_only, "pgparity patroni");
    pqxx::read_transaction tx(*session);
    dsn_cluster = tx.exec1(state::sql::identity)[0].c_str();
  } catch (const std::exception& e) {
    return fail("the target does not answer: " + one_line(e.what()));
  }
  if (const std::string url_cluster = state::patroni_system_identifier(target.patroni_url);
      url_cluster.empty() || url_cluster != dsn_cluster) {
    return fail("patroni.url reaches cluster " + (url_cluster.empty() ? std::string("(unknown)") : url_cluster) +
                ", not the target's " + dsn_cluster + "; nothing was sent");
  }
  run.say("PATCH /config: " + patch.body);
  if (const std::string problem = state::patch_patroni_config(patroni_access(target), patch.body); !problem.empty()) {
    return fail(problem);
  }
  // Patroni applies it on its next loop (a reload on every member); the leader is checked.
  const auto values = nlohmann::json::parse(patch.body).at("postgresql").at("parameters");
  std::vector<std::string> waiting;
  const auto deadline =
      started + std::chrono::milliseconds(std::max<std::int64_t>(manifest.policy.replica_wait.ms(), 30'000));
  while (true) {
    try {
      std::map<std::string, std::string> wanted;
      for (const auto& name : patch.settings) {
        const bool restart_only =
            std::find(patch.restart_only.begin(), patch.restart_only.end(), name) != patch.restart_only.end();
        if (!restart_only) wanted[name] = values.at(name).get<std::string>();
      }
      waiting = not_running(target.dsn, wanted);
      if (waiting.empty()) break;
    } catch (const std::exception& e) {
      waiting = {one_line(e.what())};
    }
    if (options.stop != nullptr && options.stop->load()) {
      return fail("stopped by a signal after Patroni took the change; it still applies it on every member");
    }
    if (Clock::now() > deadline) {
      std::string shown;
      for (const auto& w : waiting) shown += (shown.empty() ? "" : "; ") + w;
      return fail("Patroni took the change, but the leader does not run it within policy.replica_wait: " + shown);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count();
  DatabaseResult result = run.pass(ms, "Patroni's configuration changed");
  run.say("Patroni's configuration changed in " + std::to_string(ms) + " ms" +
          (patch.restart_only.empty() ? "" : "; restart-only, pending a restart of the members: " + [&] {
            std::string r;
            for (const auto& n : patch.restart_only) r += (r.empty() ? "" : ", ") + n;
            return r;
          }()));
  return result;
}

}  // namespace pgparity::reconciler
