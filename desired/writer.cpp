#include "desired/writer.hpp"

#include <yaml-cpp/yaml.h>

#include <charconv>
#include <sstream>

namespace pgparity::desired {

namespace {

const char* const day_names[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

std::string time_of_day(int minutes) {
  const auto two_digits = [](int n) { return std::string(n < 10 ? "0" : "") + std::to_string(n); };
  return two_digits(minutes / 60) + ":" + two_digits(minutes % 60);
}

void quoted(YAML::Emitter& out, const std::string& key, const std::string& value) {
  out << YAML::Key << key << YAML::Value << YAML::DoubleQuoted << value;
}

void plain(YAML::Emitter& out, const std::string& key, const std::string& value) {
  out << YAML::Key << key << YAML::Value << value;
}

void names(YAML::Emitter& out, const std::string& key, const std::vector<std::string>& values) {
  out << YAML::Key << key << YAML::Value << YAML::Flow << YAML::BeginSeq;
  for (const auto& v : values) out << YAML::DoubleQuoted << v;
  out << YAML::EndSeq;
}

std::vector<std::string> strings_of(const std::vector<Identifier>& ids) {
  std::vector<std::string> out;
  for (const auto& id : ids) out.push_back(id.str());
  return out;
}

void write_targets(YAML::Emitter& out, const Manifest& m) {
  out << YAML::Key << "targets" << YAML::Value << YAML::BeginMap;
  for (const auto& [name, t] : m.targets) {
    out << YAML::Key << name << YAML::Value << YAML::BeginMap;
    quoted(out, "dsn", t.dsn_source);
    plain(out, "role", t.role == Role::reference ? "reference" : "managed");
    if (t.databases.all) {
      names(out, "databases", {"*"});
    } else if (!t.databases.names.empty() || !t.databases.patterns.empty()) {
      std::vector<std::string> selected = strings_of(t.databases.names);
      selected.insert(selected.end(), t.databases.patterns.begin(), t.databases.patterns.end());
      names(out, "databases", selected);
    }
    if (!t.databases.exclude.empty()) names(out, "exclude", t.databases.exclude);
    if (!t.replicas.empty()) {
      out << YAML::Key << "replicas" << YAML::Value << YAML::BeginSeq;
      for (const auto& r : t.replicas) out << YAML::DoubleQuoted << r.dsn_source;
      out << YAML::EndSeq;
    }
    if (!t.patroni_url_source.empty()) {
      out << YAML::Key << "patroni" << YAML::Value << YAML::BeginMap;
      quoted(out, "url", t.patroni_url_source);
      if (!t.patroni_username_source.empty()) quoted(out, "username", t.patroni_username_source);
      if (!t.patroni_password_source.empty()) quoted(out, "password", t.patroni_password_source);
      out << YAML::EndMap;
    }
    if (!t.restart_command.empty()) {
      out << YAML::Key << "restart" << YAML::Value << YAML::BeginMap << YAML::Key << "command" << YAML::Value
          << YAML::Flow << YAML::BeginSeq;
      for (const auto& arg : t.restart_command) out << YAML::DoubleQuoted << arg;
      out << YAML::EndSeq << YAML::EndMap;
    }
    if (t.pooler) {
      out << YAML::Key << "pooler" << YAML::Value << YAML::BeginMap;
      quoted(out, "admin_dsn", t.pooler->admin_dsn_source);
      out << YAML::EndMap;
    }
    out << YAML::EndMap;
  }
  out << YAML::EndMap;
}

void write_extensions(YAML::Emitter& out, const Manifest& m) {
  if (m.extensions.empty()) return;
  out << YAML::Key << "extensions" << YAML::Value << YAML::BeginSeq;
  for (const auto& e : m.extensions) {
    out << YAML::BeginMap;
    plain(out, "name", e.name.str());
    if (e.absent) {
      plain(out, "ensure", "absent");
    } else if (e.version.kind == VersionSpec::Kind::exact) {
      quoted(out, "version", e.version.str());
    } else {
      plain(out, "version", e.version.str());
    }
    if (e.schema) plain(out, "schema", e.schema->str());
    if (e.preload) out << YAML::Key << "preload" << YAML::Value << true;
    if (!e.databases.empty()) names(out, "databases", strings_of(e.databases));
    out << YAML::EndMap;
  }
  out << YAML::EndSeq;
}

void write_settings(YAML::Emitter& out, const Manifest& m, const WriteNotes& notes) {
  const Settings& s = m.settings;
  if (s.preload.empty() && s.values.empty() && s.ratios.empty()) return;
  out << YAML::Key << "settings" << YAML::Value << YAML::BeginMap;
  if (!s.preload.empty()) names(out, "preload", s.preload);
  if (!s.values.empty()) {
    out << YAML::Key << "values" << YAML::Value << YAML::BeginMap;
    for (const auto& [name, value] : s.values) quoted(out, name.str(), value);
    out << YAML::EndMap;
  }
  if (!s.ratios.empty()) {
    out << YAML::Key << "ratios" << YAML::Value << YAML::BeginSeq;
    for (const auto& r : s.ratios) {
      out << YAML::BeginMap;
      quoted(out, "expr", r.expr.text());
      if (auto note = notes.ratios.find(r.expr.text()); note != notes.ratios.end()) out << YAML::Comment(note->second);
      if (r.match_reference) {
        plain(out, "match", "reference");
        plain(out, "tolerance", format_number(r.tolerance));
      }
      if (r.min) plain(out, "min", format_number(*r.min));
      if (r.max) plain(out, "max", format_number(*r.max));
      out << YAML::EndMap;
    }
    out << YAML::EndSeq;
  }
  out << YAML::EndMap;
}

void write_policy(YAML::Emitter& out, const Policy& p) {
  if (p == Policy{}) return;
  out << YAML::Key << "policy" << YAML::Value << YAML::BeginMap;
  plain(out, "lock_timeout", p.lock_timeout.str());
  plain(out, "replica_wait", p.replica_wait.str());
  out << YAML::Key << "drain" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "enabled" << YAML::Value << p.drain.enabled;
  plain(out, "quiet_for", p.drain.quiet_for.str());
  plain(out, "timeout", p.drain.timeout.str());
  out << YAML::Key << "terminate_idle" << YAML::Value << p.drain.terminate_idle;
  out << YAML::Key << "terminate_idle_in_transaction" << YAML::Value << p.drain.terminate_idle_in_transaction;
  out << YAML::Key << "never_terminate" << YAML::Value << YAML::Flow << p.drain.never_terminate;
  out << YAML::EndMap;
  plain(out, "recreate",
        p.recreate == RecreatePolicy::never    ? "never"
        : p.recreate == RecreatePolicy::always ? "always"
                                               : "in-window");
  if (p.maintenance_window) {
    const MaintenanceWindow& w = *p.maintenance_window;
    out << YAML::Key << "maintenance_window" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "days" << YAML::Value << YAML::Flow << YAML::BeginSeq;
    for (int d : w.days) out << day_names[d];
    out << YAML::EndSeq;
    quoted(out, "start", time_of_day(w.start_minute));
    quoted(out, "end", time_of_day(w.end_minute));
    plain(out, "timezone", w.timezone);
    out << YAML::EndMap;
  }
  out << YAML::Key << "allow_data_loss" << YAML::Value << p.allow_data_loss;
  out << YAML::Key << "manage_preload" << YAML::Value << p.manage_preload;
  if (p.restart != RestartPolicy{}) {
    out << YAML::Key << "restart" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "allowed" << YAML::Value << p.restart.allowed;
    plain(out, "timeout", p.restart.timeout.str());
    out << YAML::EndMap;
  }
  out << YAML::Key << "rehearse" << YAML::Value << YAML::BeginMap;
  plain(out, "lock_timeout", p.rehearse.lock_timeout.str());
  plain(out, "statement_timeout", p.rehearse.statement_timeout.str());
  out << YAML::EndMap;
  if (p.rollout) {
    out << YAML::Key << "rollout" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "canary" << YAML::Value << p.rollout->canary;
    out << YAML::Key << "waves" << YAML::Value << YAML::Flow << YAML::BeginSeq;
    for (int w : p.rollout->waves) out << YAML::DoubleQuoted << std::to_string(w) + "%";
    out << YAML::EndSeq;
    plain(out, "soak", p.rollout->soak.str());
    out << YAML::Key << "halt_on_failure" << YAML::Value << p.rollout->halt_on_failure;
    out << YAML::EndMap;
  }
  if (!p.health.empty()) {
    out << YAML::Key << "health" << YAML::Value << YAML::BeginMap;
    for (const auto& [ext, sql] : p.health) quoted(out, ext.str(), sql);
    out << YAML::EndMap;
  }
  plain(out, "state_schema", p.state_schema.str());
  out << YAML::EndMap;
}

}  // namespace

std::string format_number(double value) {
  char buffer[32];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  return std::string(buffer, result.ptr);
}

std::string write_manifest(const Manifest& m, const WriteNotes& notes) {
  YAML::Emitter out;
  out.SetBoolFormat(YAML::TrueFalseBool);
  out << YAML::BeginMap;
  plain(out, "apiVersion", api_version);
  if (m.suspend) out << YAML::Key << "suspend" << YAML::Value << true;
  write_targets(out, m);
  write_extensions(out, m);
  write_settings(out, m, notes);
  write_policy(out, m.policy);
  out << YAML::EndMap;

  std::ostringstream text;
  std::istringstream header(notes.header);
  for (std::string line; std::getline(header, line);) text << (line.empty() ? "#" : "# " + line) << '\n';
  text << out.c_str() << '\n';
  return text.str();
}

}  // namespace pgparity::desired
