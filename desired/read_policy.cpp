#include "desired/manifest_loader.hpp"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <regex>
#include <tuple>

#include "core/setting_list.hpp"
#include "core/spelling.hpp"
#include "desired/dsn_text.hpp"

namespace pgparity::desired {

namespace {

const std::vector<std::string> policy_keys{"lock_timeout",    "drain",   "recreate",     "maintenance_window",
                                           "allow_data_loss", "health",  "state_schema", "manage_preload",
                                           "rehearse",        "rollout", "replica_wait", "restart"};
const std::vector<std::string> rollout_keys{"canary", "waves", "soak", "halt_on_failure"};
const std::vector<std::string> rehearse_keys{"lock_timeout", "statement_timeout"};
const std::vector<std::string> drain_keys{
    "enabled", "quiet_for", "timeout", "terminate_idle", "terminate_idle_in_transaction", "never_terminate"};
const std::vector<std::string> window_keys{"days", "start", "end", "timezone"};
const std::vector<std::string> day_names{"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

}  // namespace

void Loader::read_rollout(const YAML::Node& node, Policy& p) {
  reader_.check_keys(node, rollout_keys, "policy rollout");
  Rollout r;
  if (const YAML::Node canary = node["canary"]; canary) {
    const auto text = reader_.scalar_text(canary, "rollout canary");
    if (text && (text->empty() || text->size() > 6 || text->find_first_not_of("0123456789") != std::string::npos)) {
      reader_.error(canary, "rollout canary must be a number of databases, e.g. 1");
    } else if (text) {
      r.canary = std::stoi(*text);
    }
  }
  if (const YAML::Node waves = node["waves"]; waves) {
    if (auto items = reader_.strings(waves, "rollout waves")) {
      std::size_t index = 0;
      for (const auto& item : *items) {
        const YAML::Node at = waves[index++];
        const std::string digits = item.empty() || item.back() != '%' ? "" : item.substr(0, item.size() - 1);
        if (digits.empty() || digits.size() > 3 || digits.find_first_not_of("0123456789") != std::string::npos ||
            std::stoi(digits) < 1 || std::stoi(digits) > 100) {
          reader_.error(at, "bad rollout wave '" + item + "': write a percentage of the databases, e.g. \"10%\"");
          continue;
        }
        const int percent = std::stoi(digits);
        if (!r.waves.empty() && percent <= r.waves.back()) {
          reader_.error(at, "rollout waves must grow: " + item + " after " + std::to_string(r.waves.back()) + "%");
        }
        r.waves.push_back(percent);
      }
      if (!r.waves.empty() && r.waves.back() != 100) {
        reader_.error(waves, "the last rollout wave must be \"100%\", or some databases would never converge");
      }
    }
  }
  if (r.waves.empty()) r.waves.push_back(100);
  if (node["soak"]) r.soak = duration(node["soak"], "rollout soak").value_or(r.soak);
  if (node["halt_on_failure"]) {
    r.halt_on_failure = reader_.boolean(node["halt_on_failure"], "rollout halt_on_failure").value_or(true);
  }
  p.rollout = r;
}

std::optional<Duration> Loader::duration(const YAML::Node& node, const std::string& what) {
  auto text = reader_.string(node, what);
  if (!text) return std::nullopt;
  auto d = Duration::parse(*text);
  if (!d) reader_.error(node, "bad duration '" + *text + "' for " + what + ": use e.g. 500ms, 30s, 5m, 1h30m");
  return d;
}

void Loader::read_policy(const YAML::Node& node, Policy& p) {
  if (!reader_.expect_map(node, "policy")) return;
  reader_.check_keys(node, policy_keys, "policy");
  if (node["lock_timeout"])
    p.lock_timeout = duration(node["lock_timeout"], "policy lock_timeout").value_or(p.lock_timeout);
  if (node["replica_wait"])
    p.replica_wait = duration(node["replica_wait"], "policy replica_wait").value_or(p.replica_wait);
  if (const YAML::Node restart = node["restart"]; restart && reader_.expect_map(restart, "policy restart")) {
    reader_.check_keys(restart, {"allowed", "timeout"}, "policy restart");
    if (restart["allowed"]) p.restart.allowed = reader_.boolean(restart["allowed"], "restart allowed").value_or(false);
    if (restart["timeout"]) {
      p.restart.timeout = duration(restart["timeout"], "restart timeout").value_or(p.restart.timeout);
      if (p.restart.timeout < Duration::seconds(10)) {
        reader_.error(restart["timeout"],
                      "policy restart timeout must be at least 10s: a restart killed midway "
                      "leaves the server down");
      }
    }
  }
  if (const YAML::Node drain = node["drain"]; drain && reader_.expect_map(drain, "policy drain")) {
    reader_.check_keys(drain, drain_keys, "policy drain");
    if (drain["enabled"]) p.drain.enabled = reader_.boolean(drain["enabled"], "drain enabled").value_or(true);
    if (drain["quiet_for"]) {
      p.drain.quiet_for = duration(drain["quiet_for"], "drain quiet_for").value_or(p.drain.quiet_for);
    }
    if (drain["timeout"]) p.drain.timeout = duration(drain["timeout"], "drain timeout").value_or(p.drain.timeout);
    if (drain["terminate_idle"]) {
      p.drain.terminate_idle = reader_.boolean(drain["terminate_idle"], "drain terminate_idle").value_or(false);
    }
    if (drain["terminate_idle_in_transaction"]) {
      p.drain.terminate_idle_in_transaction =
          reader_.boolean(drain["terminate_idle_in_transaction"], "drain terminate_idle_in_transaction")
              .value_or(false);
    }
    if (drain["never_terminate"]) {
      if (auto names = reader_.strings(drain["never_terminate"], "drain never_terminate"))
        p.drain.never_terminate = *names;
    }
  }
  if (const YAML::Node recreate = node["recreate"]; recreate) {
    if (auto text = reader_.string(recreate, "policy recreate")) {
      if (*text == "never") {
        p.recreate = RecreatePolicy::never;
      } else if (*text == "in-window") {
        p.recreate = RecreatePolicy::in_window;
      } else if (*text == "always") {
        p.recreate = RecreatePolicy::always;
      } else {
        reader_.error(recreate, "unknown recreate '" + *text + "': use never, in-window or always" +
                                    did_you_mean(*text, {"never", "in-window", "always"}));
      }
    }
  }
  if (const YAML::Node window = node["maintenance_window"]; window) read_window(window, p);
  if (p.recreate == RecreatePolicy::in_window && !p.maintenance_window && node["recreate"]) {
    reader_.error(node["recreate"], "recreate: in-window needs a policy maintenance_window");
  }
  if (const YAML::Node rehearse = node["rehearse"]; rehearse && reader_.expect_map(rehearse, "policy rehearse")) {
    reader_.check_keys(rehearse, rehearse_keys, "policy rehearse");
    if (rehearse["lock_timeout"]) {
      p.rehearse.lock_timeout =
          duration(rehearse["lock_timeout"], "rehearse lock_timeout").value_or(p.rehearse.lock_timeout);
    }
    if (rehearse["statement_timeout"]) {
      p.rehearse.statement_timeout =
          duration(rehearse["statement_timeout"], "rehearse statement_timeout").value_or(p.rehearse.statement_timeout);
    }
  }
  if (const YAML::Node rollout = node["rollout"]; rollout && reader_.expect_map(rollout, "policy rollout")) {
    read_rollout(rollout, p);
  }
  if (node["manage_preload"]) {
    p.manage_preload = reader_.boolean(node["manage_preload"], "policy manage_preload").value_or(false);
  }
  if (node["allow_data_loss"]) {
    p.allow_data_loss = reader_.boolean(node["allow_data_loss"], "policy allow_data_loss").value_or(false);
  }
  if (const YAML::Node health = node["health"]; health && reader_.expect_map(health, "policy health")) {
    reader_.check_duplicates(health, "policy health");
    for (const auto& pair : health) {
      auto id = identifier(pair.first, pair.first.Scalar(), "policy health");
      auto sql = reader_.string(pair.second, "health query for '" + pair.first.Scalar() + "'");
      if (id && sql) p.health[*id] = *sql;
    }
  }
  if (const YAML::Node schema = node["state_schema"]; schema) {
    if (auto text = reader_.string(schema, "policy state_schema")) {
      if (auto id = identifier(schema, *text, "policy state_schema")) p.state_schema = *id;
    }
  }
}

std::optional<int> Loader::time_of_day(const YAML::Node& node, const std::string& what) {
  auto text = reader_.string(node, what);
  if (!text) return std::nullopt;
  static const std::regex hhmm("([01][0-9]|2[0-3]):([0-5][0-9])|24:00");
  std::smatch match;
  if (!std::regex_match(*text, match, hhmm)) {
    reader_.error(node, "bad time '" + *text + "' for " + what + ": use \"HH:MM\" (24-hour)");
    return std::nullopt;
  }
  if (*text == "24:00") return 24 * 60;
  return std::stoi(match[1]) * 60 + std::stoi(match[2]);
}

void Loader::read_window(const YAML::Node& node, Policy& p) {
  const std::string what = "policy maintenance_window";
  if (!reader_.expect_map(node, what)) return;
  reader_.check_keys(node, window_keys, what);
  MaintenanceWindow w;
  const std::size_t errors_before = reader_.diagnostics().size();
  if (const YAML::Node days = reader_.required(node, "days", what); days.IsDefined()) {
    if (auto names = reader_.strings(days, what + " days")) {
      std::size_t index = 0;
      for (const auto& day : *names) {
        const auto it = std::find(day_names.begin(), day_names.end(), day);
        if (it == day_names.end()) {
          reader_.error(days[index], "unknown day '" + day + "': use mon, tue, wed, thu, fri, sat, sun" +
                                         did_you_mean(day, day_names));
        } else {
          w.days.push_back(static_cast<int>(it - day_names.begin()));
        }
        ++index;
      }
      std::sort(w.days.begin(), w.days.end());
      w.days.erase(std::unique(w.days.begin(), w.days.end()), w.days.end());
    }
  }
  if (const YAML::Node start = reader_.required(node, "start", what); start.IsDefined()) {
    w.start_minute = time_of_day(start, what + " start").value_or(0);
  }
  if (const YAML::Node end = reader_.required(node, "end", what); end.IsDefined()) {
    w.end_minute = time_of_day(end, what + " end").value_or(0);
  }
  if (const YAML::Node tz = node["timezone"]; tz) {
    if (auto text = reader_.string(tz, what + " timezone")) {
      // The shape of an IANA name, as the JSON Schema says it: the same verdict on every machine. Whether
      // the zone exists is the time zone database's word, asked where the window is evaluated.
      static const std::regex tz_re("[A-Za-z_]+(/[A-Za-z0-9_+-]+)*");
      if (!std::regex_match(*text, tz_re)) {
        reader_.error(tz, "not a timezone name '" + *text + "': use an IANA name such as UTC or Europe/Berlin");
      } else {
        w.timezone = *text;
      }
    }
  }
  if (w.start_minute == w.end_minute && reader_.diagnostics().size() == errors_before) {
    reader_.error(node, what + " start and end are equal: the window would be empty");
  }
  p.maintenance_window = w;
}

}  // namespace pgparity::desired
