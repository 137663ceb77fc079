#include "state/patroni.hpp"

#include <httplib.h>

#include <cstdlib>
#include <nlohmann/json.hpp>

#include "state/connection.hpp"

namespace pgparity::state {

namespace {

constexpr int timeout_seconds = 5;

/// "http://host:port" and the path prefix of `url` (a Patroni URL names no path of its own).
std::pair<std::string, std::string> split_url(const std::string& url) {
  const auto scheme = url.find("://");
  const auto path = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  if (path == std::string::npos) return {url, ""};
  std::string prefix = url.substr(path);
  while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
  return {url.substr(0, path), prefix};
}

/// The host of an http(s):// URL.
std::string host_of(const std::string& url) {
  const auto scheme = url.find("://");
  std::string host = url.substr(scheme == std::string::npos ? 0 : scheme + 3);
  return host.substr(0, host.find_first_of(":/"));
}

/// A client for `base`, with the credentials when they may go there: to the host of patroni.url, or to
/// one PGPARITY_ALLOWED_HOSTS pins (a member's api_url comes from Patroni's DCS, which must not steer
/// the password elsewhere, as dsn_through keeps a DSN's).
httplib::Client client_for(const std::string& base, const PatroniAccess* access = nullptr) {
  httplib::Client client(base);
  client.set_connection_timeout(timeout_seconds, 0);
  client.set_read_timeout(timeout_seconds, 0);
  client.set_write_timeout(timeout_seconds, 0);
  if (access != nullptr && !access->username.empty()) {
    const std::string host = host_of(base);
    const bool pinned = std::getenv("PGPARITY_ALLOWED_HOSTS") != nullptr && host_allowed(host);
    if (host == host_of(access->url) || pinned) client.set_basic_auth(access->username, access->password);
  }
  return client;
}

/// What Patroni said when it answered `status`, on one line and short.
std::string said(int status, const std::string& body) {
  std::string text = body.substr(0, 300);
  for (char& c : text) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return std::to_string(status) + (text.empty() ? "" : ": " + text);
}

/// Why the URL may not be asked: its host is not one PGPARITY_ALLOWED_HOSTS lists (when the runner pins
/// the hosts a manifest may reach, as for DSNs). "" when it may.
std::string refused(const std::string& url) {
  // What Patroni lists as a member's api_url is read from its DCS: only plain http to a host is followed.
  const bool web = url.rfind("http://", 0) == 0 || url.rfind("https://", 0) == 0;
  if (!web || url.find('@') != std::string::npos) {
    return "Patroni at " + mask_url(url) + " was not asked: only an http(s)://host:port URL is followed";
  }
  if (host_allowed(host_of(url))) return "";
  return "Patroni at " + mask_url(url) + " was not asked: its host is not in PGPARITY_ALLOWED_HOSTS";
}

std::string text_of(const nlohmann::json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_boolean()) return value.get<bool>() ? "on" : "off";
  return value.dump();
}

}  // namespace

std::string mask_url(const std::string& url) {
  const auto scheme = url.find("://");
  const auto at = url.find('@', scheme == std::string::npos ? 0 : scheme + 3);
  const auto slash = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  if (scheme == std::string::npos || at == std::string::npos || (slash != std::string::npos && at > slash)) return url;
  return url.substr(0, scheme + 3) + "***@" + url.substr(at + 1);
}

PatroniConfig read_patroni_config(const PatroniAccess& access) {
  const std::string& url = access.url;
  PatroniConfig out;
  if (out.error = refused(url); !out.error.empty()) return out;
  const auto [base, prefix] = split_url(url);
  auto client = client_for(base);
  const auto res = client.Get(prefix + "/config");
  if (!res) {
    out.error = "Patroni at " + mask_url(url) + " does not answer (" + httplib::to_string(res.error()) + ")";
    return out;
  }
  if (res->status != 200) {
    out.error = "Patroni at " + mask_url(url) + " answered GET /config with " + std::to_string(res->status);
    return out;
  }
  try {
    const auto config = nlohmann::json::parse(res->body);
    if (const auto pg = config.find("postgresql"); pg != config.end() && pg->is_object()) {
      if (const auto params = pg->find("parameters"); params != pg->end() && params->is_object()) {
        for (const auto& [name, value] : params->items()) out.parameters[name] = text_of(value);
      }
    }
    out.system_identifier = patroni_system_identifier(url);
    std::string members_error;
    out.members = read_patroni_members(url, members_error);
    if (!members_error.empty()) {
      out.error = members_error;
      return out;
    }
    out.reached = true;
    // Would Patroni take a change with these credentials? `{}` passes its access check and is then
    // refused as an empty request (400), with nothing changed; 401 is its access check failing.
    auto probe = client_for(base, &access);
    if (const auto checked = probe.Patch(prefix + "/config", "{}", "application/json");
        checked && (checked->status == 401 || checked->status == 403)) {
      out.unauthorized = "Patroni answered a PATCH with " + said(checked->status, checked->body);
    }
  } catch (const std::exception& e) {
    out.error = "Patroni at " + mask_url(url) + " sent a /config that is not JSON";
  }
  return out;
}

std::string patroni_system_identifier(const std::string& url) {
  if (!refused(url).empty()) return "";
  const auto [base, prefix] = split_url(url);
  auto client = client_for(base);
  const auto res = client.Get(prefix + "/patroni");
  if (!res || (res->status != 200 && res->status != 503)) return "";  // 503: a member that is not running
  try {
    const auto member = nlohmann::json::parse(res->body);
    return member.value("database_system_identifier", "");
  } catch (const std::exception&) {
    return "";
  }
}

std::vector<PatroniMember> read_patroni_members(const std::string& url, std::string& error) {
  std::vector<PatroniMember> out;
  if (error = refused(url); !error.empty()) return out;
  const auto [base, prefix] = split_url(url);
  auto client = client_for(base);
  const auto res = client.Get(prefix + "/cluster");
  if (!res || res->status != 200) {
    error = "Patroni at " + mask_url(url) + " does not list its members (GET /cluster: " +
            (res ? std::to_string(res->status) : httplib::to_string(res.error())) + ")";
    return out;
  }
  try {
    const auto cluster = nlohmann::json::parse(res->body);
    for (const auto& m : cluster.at("members")) {
      PatroniMember member;
      member.name = m.value("name", "");
      member.role = m.value("role", "");
      member.state = m.value("state", "");
      member.api_url = m.value("api_url", "");
      member.host = m.value("host", "");
      if (const auto port = m.find("port"); port != m.end()) member.port = text_of(*port);
      member.pending_restart = m.value("pending_restart", false);
      if (const auto lag = m.find("lag"); lag != m.end() && lag->is_number_integer())
        member.lag = lag->get<long long>();
      out.push_back(std::move(member));
    }
  } catch (const std::exception&) {
    error = "Patroni at " + mask_url(url) + " sent a /cluster that is not what Patroni sends";
    out.clear();
  }
  return out;
}

PatroniMemberNow read_patroni_member(const std::string& api_url) {
  PatroniMemberNow out;
  if (out.error = refused(api_url); !out.error.empty()) return out;
  const auto [base, prefix] = split_url(api_url);
  auto client = client_for(base);
  const auto res = client.Get("/patroni");
  if (!res) {
    out.error = "its Patroni at " + mask_url(base) + " does not answer (" + httplib::to_string(res.error()) + ")";
    return out;
  }
  try {
    const auto member = nlohmann::json::parse(res->body);
    out.state = member.value("state", "");
    if (const auto p = member.find("patroni"); p != member.end() && p->is_object()) out.name = p->value("name", "");
    out.role = member.value("role", "");
    out.postmaster_start_time = member.value("postmaster_start_time", "");
    out.pending_restart = member.value("pending_restart", false);
    out.system_identifier = member.value("database_system_identifier", "");
    out.reached = true;
  } catch (const std::exception&) {
    out.error = "its Patroni at " + mask_url(base) + " answered GET /patroni with " + std::to_string(res->status);
  }
  return out;
}

std::string restart_patroni_member(const PatroniAccess& access, const std::string& api_url, long long timeout_seconds,
                                   bool& answered) {
  answered = true;
  if (const std::string why = refused(api_url); !why.empty()) return why;
  const auto [base, prefix] = split_url(api_url);
  auto client = client_for(base, &access);
  // Patroni answers once the member's PostgreSQL is up again (or the restart failed): within the step's
  // timeout, which Patroni is told too.
  client.set_read_timeout(static_cast<time_t>(timeout_seconds), 0);
  const std::string body =
      R"({"restart_pending": true, "timeout": )" + std::to_string(std::max(timeout_seconds - 1, 1LL)) + "}";
  const auto res = client.Post("/restart", body, "application/json");
  if (!res) {
    answered = res.error() != httplib::Error::Read;
    return "its Patroni at " + mask_url(base) + " does not answer (" + httplib::to_string(res.error()) + ")";
  }
  if (res->status == 200) return "";
  return "Patroni answered POST /restart with " + said(res->status, res->body);
}

std::string patch_patroni_config(const PatroniAccess& access, const std::string& body) {
  const std::string& url = access.url;
  if (const std::string why = refused(url); !why.empty()) return why;
  const auto [base, prefix] = split_url(url);
  auto client = client_for(base, &access);
  const auto res = client.Patch(prefix + "/config", body, "application/json");
  if (!res) return "Patroni at " + mask_url(url) + " does not answer (" + httplib::to_string(res.error()) + ")";
  if (res->status == 200) return "";
  if (res->status == 409) {
    return "Patroni answered PATCH /config with 409: someone changed its configuration at the same moment; "
           "nothing was overwritten (plan again)";
  }
  return "Patroni answered PATCH /config with " + said(res->status, res->body);
}

}  // namespace pgparity::state
