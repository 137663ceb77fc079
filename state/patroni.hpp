#pragma once

#include <string>

#include "state/observed.hpp"

namespace pgparity::state {

/// Where a target's Patroni answers, and the REST API's basic-auth credentials for what changes something
/// (empty: none). The credentials go with PATCH and POST only, never with a GET.
struct PatroniAccess {
  std::string url;
  std::string username;
  std::string password;
};

/// GET <url>/config: Patroni's dynamic configuration, its postgresql.parameters as text values; GET
/// /patroni and /cluster; and whether Patroni would take a change with these credentials (a PATCH
/// /config of `{}`, which Patroni refuses with 400 after its access check and changes nothing; 401 is
/// `unauthorized`). On failure `reached` is false and `error` says why.
PatroniConfig read_patroni_config(const PatroniAccess& access);

/// GET <url>/patroni: the database_system_identifier of the member the URL reaches ("" when it cannot
/// be read): which cluster a PATCH to this URL would change.
std::string patroni_system_identifier(const std::string& url);

/// GET <url>/cluster: the members, as Patroni lists them. On failure `error` says why.
std::vector<PatroniMember> read_patroni_members(const std::string& url, std::string& error);

/// What a member's own GET /patroni says of it now.
struct PatroniMemberNow {
  bool reached = false;
  std::string error;  ///< why not, when not reached
  std::string name;   ///< patroni.name, when this Patroni reports it (newer versions)
  std::string state;  ///< "running", "restarting", "starting", ...
  std::string role;   ///< "master"/"primary" for a leader, "replica"
  std::string postmaster_start_time;
  bool pending_restart = false;
  std::string system_identifier;
};
PatroniMemberNow read_patroni_member(const std::string& api_url);

/// POST <member api>/restart {"restart_pending": true, "timeout": …}: Patroni restarts the member now, if
/// a restart is pending there. "" when Patroni says it restarted, else what it answered; `answered` is
/// false when no answer came within `timeout_seconds` (the restart may still be under way).
std::string restart_patroni_member(const PatroniAccess& access, const std::string& api_url, long long timeout_seconds,
                                   bool& answered);

/// PATCH <url>/config with `body` (JSON). "" when Patroni took it, else why not (status and body).
std::string patch_patroni_config(const PatroniAccess& access, const std::string& body);

/// The URL with any user:password@ masked, for messages.
std::string mask_url(const std::string& url);

}  // namespace pgparity::state
