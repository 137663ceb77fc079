#pragma once

#include <string>

#include "state/observed.hpp"

namespace pgparity::state {

/// GET <url>/config: Patroni's dynamic configuration, its postgresql.parameters as text values. On
/// failure `reached` is false and `error` says why (the URL's password masked).
PatroniConfig read_patroni_config(const std::string& url);

/// GET <url>/patroni: the database_system_identifier of the member the URL reaches ("" when it cannot
/// be read): which cluster a PATCH to this URL would change.
std::string patroni_system_identifier(const std::string& url);

/// PATCH <url>/config with `body` (JSON). "" when Patroni took it, else why not (status and body).
std::string patch_patroni_config(const std::string& url, const std::string& body);

/// The URL with any user:password@ masked, for messages.
std::string mask_url(const std::string& url);

}  // namespace pgparity::state
