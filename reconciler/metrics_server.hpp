#pragma once

#include <functional>
#include <memory>
#include <string>

#include "reconciler/metrics.hpp"
#include "reconciler/status_page.hpp"

namespace pgparity::reconciler {

/// Whether `signature` is GitHub's X-Hub-Signature-256 of `body` under `secret`: "sha256=" and the
/// HMAC-SHA256 in hex (OpenSSL), compared in constant time.
bool signed_by(const std::string& secret, const std::string& body, const std::string& signature);

/// reconcile's HTTP server on host:port, until destroyed: /metrics, /healthz, the read-only status page
/// (/, /status.json, /plan.svg) and, with a webhook secret, POST /hook, which asks for a tick now
/// (docs/cli.md, "Metrics"; docs/gitops.md, "The status page").
class MetricsServer {
 public:
  MetricsServer(const std::string& address, Metrics& metrics, std::function<bool()> healthy,
                std::function<StatusView()> view, const std::string& hook_secret = "", std::function<void()> hook = {});
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace pgparity::reconciler
