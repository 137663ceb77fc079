#include "planner/cluster_planner.hpp"

#include <cmath>

#include "core/setting_list.hpp"
#include "core/spelling.hpp"
#include "desired/writer.hpp"
#include "planner/keep_config.hpp"
#include "planner/render.hpp"
#include "planner/settings_sql.hpp"
#include "planner/sql.hpp"
#include "planner/words.hpp"

#include <nlohmann/json.hpp>
#include "state/settings.hpp"

namespace pgparity::planner {

void ClusterPlanner::run(std::vector<Step>& steps) {
  plan_values(steps);
  check_preload(steps);
  check_ratios();
}

void ClusterPlanner::block(BlockerCode code, const std::string& message, const std::string& hint) {
  plan_.blockers.push_back({code, target_.target, "", "", message, hint});
}

bool ClusterPlanner::same_written(const std::string& a, const std::string& b, const state::Setting& s) {
  if (state::is_list_setting(s.name)) return split_setting_list(a) == split_setting_list(b);
  if ((s.type == state::SettingType::integer || s.type == state::SettingType::real) && !s.unit.empty()) {
    const auto x = state::normalize_written_value(a, s.unit);
    const auto y = state::normalize_written_value(b, s.unit);
    if (x && y) return std::abs(*x - *y) <= 1e-9 * std::max({1.0, std::abs(*x), std::abs(*y)});
  }
  return state::same_setting_value(a, b, "", s.type);
}

std::string ClusterPlanner::unit_examples(const std::string& number, const std::string& unit) {
  const bool time = unit == "ms" || unit == "s" || unit == "min" || unit == "h" || unit == "d" || unit == "us";
  if (time) return number + "ms, " + number + "s or " + number + "min";
  return number + "kB, " + number + "MB or " + number + "GB";
}

std::string ClusterPlanner::invalid(const std::string& value, const state::Setting& s) {
  if (state::is_list_setting(s.name)) return "";
  if (s.type == state::SettingType::integer || s.type == state::SettingType::real) {
    const auto n = state::normalize_written_value(value, s.unit);
    if (!n) {
      return s.name + " = " + value + " is not a number" +
             (s.unit.empty() ? "" : " with a unit like " + state::display_value(s.reset_value, s.unit));
    }
    // A bare number means the setting's base unit: "statement_timeout: 10" is 10 ms, never what was meant.
    // 0 and -1 (off, or "use the default") need no unit.
    const bool bare = !value.empty() && value.find_first_not_of("0123456789.+-") == std::string::npos;
    if (bare && !s.unit.empty() && *n != 0 && value != "-1") {
      return s.name + " = " + value + " has no unit, and the server would read it as " +
             state::display_value(value, s.unit) + "; write the unit, e.g. " + unit_examples(value, s.unit);
    }
    const auto low = state::normalize_setting(s.min, s.unit);
    const auto high = state::normalize_setting(s.max, s.unit);
    if ((low && *n < *low) || (high && *n > *high)) {
      return s.name + " = " + value + " is out of range (allowed " + state::display_value(s.min, s.unit) + " … " +
             state::display_value(s.max, s.unit) + ")";
    }
  }
  if (s.type == state::SettingType::enumeration && !s.enum_values.empty()) {
    const bool known = std::any_of(s.enum_values.begin(), s.enum_values.end(), [&](const std::string& e) {
      return state::same_setting_value(value, e, "", state::SettingType::enumeration);
    });
    if (!known) return s.name + " = " + value + " is not one of: " + join(s.enum_values, ", ");
  }
  return "";
}

std::string ClusterPlanner::canonical(const std::string& value, const state::Setting& s) {
  if (state::is_list_setting(s.name)) return join_setting_list(split_setting_list(value));
  if ((s.type == state::SettingType::integer || s.type == state::SettingType::real) && !s.unit.empty()) {
    if (const auto n = state::normalize_written_value(value, s.unit)) return state::render_setting(*n, s.unit);
  }
  return value;
}

void ClusterPlanner::plan_setting(const state::Setting& current, const std::string& wanted, std::vector<Step>& steps,
                                  const std::string& reason) {
  if (!target_.cluster.config_errors.empty()) {
    // The reload would not apply the change, and postgresql.auto.conf cannot be read in full: a write
    // could neither be verified nor be put back exactly. Every setting write goes through here.
    if (!config_blocked_) {
      config_blocked_ = true;
      block(BlockerCode::config_file_errors,
            "the server's configuration files have errors (" + join(target_.cluster.config_errors, "; ") +
                "): a reload would not apply a change, and postgresql.auto.conf cannot be read in full to put it "
                "back",
            "fix the file (pg_file_settings lists the errors), then plan again");
    }
    return;
  }
  const std::string& name = current.name;
  if (const std::string why = invalid(wanted, current); !why.empty()) {
    block(BlockerCode::setting_invalid_value, why, "choose a value the server accepts");
    return;
  }
  const bool list = state::is_list_setting(name);
  // What this session shows may be its own (ALTER ROLE … SET, a backend setting): then the file decides.
  const bool bound = state::session_bound(current);
  const bool running = bound  ? current.auto_conf && same_written(*current.auto_conf, wanted, current)
                       : list ? split_setting_list(wanted) == split_setting_list(current.value)
                              : state::same_setting_value(wanted, current.value, current.unit, current.type);
  if (!patroni_url().empty()) {
    plan_through_patroni(current, wanted, running);
    return;
  }
  // A value on the postmaster's command line (how an HA manager such as Patroni passes max_connections and
  // its kin) outranks postgresql.auto.conf: neither ALTER SYSTEM nor a restart changes it. Never a step and
  // never a pending restart, but a blocker that says where the value comes from.
  if (current.source == "command line") {
    if (running) return;
    block(BlockerCode::setting_on_command_line,
          name + " is " + state::display_value(current.value, current.unit) + " from the server's command line" +
              ", which outranks postgresql.auto.conf: ALTER SYSTEM would write " + canonical(wanted, current) +
              " and the server would never run it, not even after a restart",
          "change it where the server is started (under an HA manager such as Patroni, in its configuration: "
          "patronictl edit-config), or leave " +
              name + " out of settings.values");
    return;
  }
  const bool restart = current.context == state::SettingContext::postmaster;
  // Running as wanted, and nothing else waiting in postgresql.auto.conf for the next restart.
  const bool other_pending = restart && current.auto_conf && !same_written(*current.auto_conf, wanted, current);
  if (running && !other_pending) return;
  const std::string value = canonical(wanted, current);
  if (current.auto_conf && same_written(*current.auto_conf, wanted, current) && (restart || current.pending_restart)) {
    plan_.pending_restarts.push_back({target_.target, name, state::display_value(current.value, current.unit), value});
    return;
  }
  if (!target_.cluster.may_reload) {
    block(BlockerCode::setting_privilege,
          "the role may not reload the configuration (pg_reload_conf), so " + name +
              " would be written but not take effect",
          "as a superuser: GRANT EXECUTE ON FUNCTION pg_catalog.pg_reload_conf() TO <the role in the DSN>");
    return;
  }
  if (!target_.cluster.auto_conf_known) {
    // Without the file, a rollback could only write the session's value (which includes ALTER ROLE/DATABASE
    // SET and the DSN's options) into postgresql.auto.conf for the whole cluster, and a written value waiting
    // for a restart could not be told from one never written.
    block(BlockerCode::setting_privilege,
          "the role cannot read postgresql.auto.conf (pg_file_settings), so " + name +
              " could be neither rolled back exactly nor told apart from a value waiting for a restart",
          "as a superuser: GRANT SELECT ON pg_catalog.pg_file_settings TO <the role in the DSN>; GRANT EXECUTE ON "
          "FUNCTION pg_catalog.pg_show_all_file_settings() TO <the role in the DSN>");
    return;
  }
  if (!current.may_alter_system) {
    block(BlockerCode::setting_privilege, "the role may not ALTER SYSTEM " + name,
          "as a superuser: GRANT ALTER SYSTEM ON PARAMETER " + quote_ident(name) +
              " TO <the role in the DSN>; on a managed service without ALTER SYSTEM, set it in the provider's "
              "parameter group");
    return;
  }
  if (!target_.cluster.ha_evidence.empty()) {
    // Patroni writes postgresql.conf and passes its own values on the command line; a value in
    // postgresql.auto.conf would silently shadow every later change made through it.
    if (!ha_blocked_) {
      ha_blocked_ = true;
      block(BlockerCode::settings_owned_by_ha_manager,
            "an HA manager (Patroni) runs this server: " + join(target_.cluster.ha_evidence, "; ") + ". ALTER SYSTEM " +
                name +
                " would shadow its configuration in postgresql.auto.conf, and its later changes would never take "
                "effect",
            "declare the manager on the target (patroni: {url: \"http://<member>:8008\"}) and pgparity changes " +
                name + " through it (PATCH /config), or change it yourself with patronictl edit-config");
    }
    return;
  }
  Step s = make_step(StepKind::set);
  s.id = target_.target + "/set/" + name;
  s.target = target_.target;
  auto& set = s.as<SettingChange>();
  set.setting = name;
  set.value = value;
  set.current = state::display_value(current.value, current.unit);
  set.restart_required = restart;
  s.reason = reason;
  if (restart) {
    s.reason += std::string(s.reason.empty() ? "" : "; ") +
                "takes effect only after a restart (a restart step runs it when policy.restart allows)";
    plan_.warnings.push_back(target_.target + ": " + name + " = " + value + " needs a server restart");
  }
  s.sql.push_back(alter_system_set(name, value));
  set.undo_sql.push_back(alter_system_restore(current, target_.cluster.auto_conf_known));
  if (!list) planned_[name] = state::normalize_written_value(value, current.unit);
  steps.push_back(std::move(s));
}

const std::string& ClusterPlanner::patroni_url() const {
  static const std::string none;
  const auto t = manifest_.targets.find(target_.target);
  return t == manifest_.targets.end() ? none : t->second.patroni_url;
}

void ClusterPlanner::plan_through_patroni(const state::Setting& current, const std::string& wanted, bool running) {
  // Patroni's configuration is the cluster's: the PATCH planned on the leader covers every member.
  if (target_.cluster.in_recovery) return;
  if (!target_.patroni || !target_.patroni->reached) {
    if (!patroni_blocked_) {
      patroni_blocked_ = true;
      block(BlockerCode::patroni_unreachable,
            target_.patroni ? target_.patroni->error : "Patroni was not asked for its configuration",
            "check patroni.url (the REST API of a member, e.g. http://10.0.0.5:8008) and that the member runs");
    }
    return;
  }
  // A PATCH goes to the URL, not to the DSN: the URL must lead to the DSN's own cluster.
  if (target_.patroni->system_identifier.empty() ||
      target_.patroni->system_identifier != target_.cluster.system_identifier) {
    if (!patroni_blocked_) {
      patroni_blocked_ = true;
      block(BlockerCode::patroni_other_cluster,
            "patroni.url reaches a member of cluster " +
                (target_.patroni->system_identifier.empty() ? std::string("(unknown: GET /patroni did not say)")
                                                            : target_.patroni->system_identifier) +
                ", and the target's DSN cluster " + target_.cluster.system_identifier +
                ": a PATCH would change another cluster's configuration",
            "point patroni.url at a member of the target's own Patroni cluster");
    }
    return;
  }
  const std::string& name = current.name;
  const auto in_patroni = target_.patroni->parameters.find(name);
  const bool configured =
      in_patroni != target_.patroni->parameters.end() && same_written(in_patroni->second, wanted, current);
  const bool restart = current.context == state::SettingContext::postmaster;
  if (current.auto_conf) {
    // ALTER SYSTEM's file outranks Patroni's postgresql.conf: whatever Patroni holds, this value wins.
    block(BlockerCode::patroni_shadowed,
          name + " is " + *current.auto_conf + " in postgresql.auto.conf on " + target_.endpoint +
              ", which shadows Patroni's configuration",
          "on that member: ALTER SYSTEM RESET " + quote_ident(name) + "; SELECT pg_reload_conf(); then plan again");
    return;
  }
  if (running && (configured || in_patroni == target_.patroni->parameters.end())) return;
  if (configured) {
    // Patroni holds it and the server does not run it: due after a restart, or something outranks Patroni.
    if (restart || current.pending_restart) {
      plan_.pending_restarts.push_back(
          {target_.target, name, state::display_value(current.value, current.unit), canonical(wanted, current)});
    } else {
      block(BlockerCode::patroni_shadowed,
            name + " is " + canonical(wanted, current) + " in Patroni's configuration, but the server runs " +
                state::display_value(current.value, current.unit) + " (source: " + current.source + ")",
            "find what outranks Patroni there (ALTER ROLE/DATABASE … SET, the DSN's options, a parameter Patroni "
            "controls itself)");
    }
    return;
  }
  patroni_changes_[name] = {canonical(wanted, current), state::display_value(current.value, current.unit)};
  if (restart) patroni_restart_only_.insert(name);
  planned_[name] = state::normalize_written_value(canonical(wanted, current), current.unit);
}

std::optional<Step> ClusterPlanner::patroni_step() const {
  if (patroni_changes_.empty()) return std::nullopt;
  Step s = make_step(StepKind::patroni);
  s.id = target_.target + "/patroni/config";
  s.target = target_.target;
  auto& patch = s.as<PatroniPatch>();
  patch.url = manifest_.targets.at(target_.target).patroni_url_source;
  nlohmann::ordered_json parameters = nlohmann::ordered_json::object();
  for (const auto& [name, change] : patroni_changes_) {
    parameters[name] = change.first;
    patch.settings.push_back(name);
    patch.current.push_back(change.second);
    if (patroni_restart_only_.contains(name)) patch.restart_only.push_back(name);
  }
  patch.body = nlohmann::ordered_json{{"postgresql", {{"parameters", parameters}}}}.dump();
  s.reason =
      "the target's settings belong to Patroni (patroni.url): one PATCH /config, which Patroni applies on "
      "every member; never ALTER SYSTEM";
  if (!patch.restart_only.empty()) s.reason += "; restart-only: " + join(patch.restart_only, ", ");
  return s;
}

void ClusterPlanner::plan_values(std::vector<Step>& steps) {
  std::vector<std::string> names;
  for (const auto& [name, s] : target_.cluster.settings) names.push_back(name);
  for (const auto& [id, value] : manifest_.settings.values) {
    const std::string name = id.str();
    auto it = target_.cluster.settings.find(name);
    if (it == target_.cluster.settings.end()) {
      block(BlockerCode::unknown_setting, "setting " + name + " does not exist on this server",
            "check the name" + did_you_mean(name, names));
      continue;
    }
    if (state::is_secret_setting(name)) {
      // Its value is never shown: the current one could be a standby's password, or a program to run.
      block(BlockerCode::setting_secret,
            name +
                " holds a connection string or a command (it can carry a password or run a program); "
                "pgparity does not manage it and never shows its value",
            "take " + name + " out of settings.values and manage it where its secrets live");
      continue;
    }
    if (is_library_list(name) && !libraries_present(split_setting_list(value))) continue;
    plan_setting(it->second, value, steps);
  }
}

}  // namespace pgparity::planner
