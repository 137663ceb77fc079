#include "reconciler/metrics_server.hpp"

#include <httplib.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <thread>

#include "core/error.hpp"

namespace pgparity::reconciler {

struct MetricsServer::State {
  httplib::Server server;
  std::string host;
  int port = 0;
  std::thread thread;
};

bool signed_by(const std::string& secret, const std::string& body, const std::string& signature) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
           reinterpret_cast<const unsigned char*>(body.data()), body.size(), mac, &length) == nullptr) {
    return false;
  }
  static const char* digits = "0123456789abcdef";
  std::string expected = "sha256=";
  for (unsigned int i = 0; i < length; ++i) {
    expected += digits[mac[i] >> 4];
    expected += digits[mac[i] & 0xf];
  }
  return signature.size() == expected.size() && CRYPTO_memcmp(signature.data(), expected.data(), expected.size()) == 0;
}

MetricsServer::MetricsServer(const std::string& address, Metrics& metrics, std::function<bool()> healthy,
                             std::function<StatusView()> view, const std::string& hook_secret,
                             std::function<void()> hook)
    : state_(std::make_unique<State>()) {
  const auto colon = address.rfind(':');
  if (colon == std::string::npos)
    throw InputError("bad --metrics '" + address + "': use HOST:PORT, e.g. 127.0.0.1:9187");
  state_->host = address.substr(0, colon);
  const std::string port = address.substr(colon + 1);
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
      std::stoi(port) > 65535) {
    throw InputError("bad --metrics '" + address + "': the port must be a number up to 65535");
  }
  state_->port = std::stoi(port);
  state_->server.Get("/metrics", [&metrics](const httplib::Request&, httplib::Response& res) {
    res.set_content(metrics.render(), "text/plain; version=0.0.4");
  });
  state_->server.Get("/healthz", [healthy](const httplib::Request&, httplib::Response& res) {
    if (healthy()) {
      res.set_content("ok\n", "text/plain");
    } else {
      res.status = 503;
      res.set_content("unhealthy: no tick completed in the last three intervals\n", "text/plain");
    }
  });
  // The status page: read-only, and these three paths are all it serves.
  state_->server.Get("/", [view](const httplib::Request&, httplib::Response& res) {
    res.set_header("Content-Security-Policy", "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'");
    res.set_content(status_html(view()), "text/html; charset=utf-8");
  });
  state_->server.Get("/status.json", [view](const httplib::Request&, httplib::Response& res) {
    res.set_content(status_json(view()), "application/json");
  });
  state_->server.Get("/plan.svg", [view](const httplib::Request&, httplib::Response& res) {
    res.set_header("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'");
    res.set_content(dot_to_svg(view().dot), "image/svg+xml");
  });
  state_->server.set_payload_max_length(1024 * 1024);  // a delivery is a few kB: nothing larger is read
  if (!hook_secret.empty()) {
    // A push to the repository: GitHub (and Gitea, GitLab's compatible mode) signs the body with the
    // shared secret. A wrong or missing signature runs nothing.
    state_->server.Post("/hook", [hook_secret, hook, &metrics](const httplib::Request& req, httplib::Response& res) {
      if (!signed_by(hook_secret, req.body, req.get_header_value("X-Hub-Signature-256"))) {
        metrics.add("pgparity_webhook_requests_total", {{"result", "unauthorized"}});
        res.status = 401;
        res.set_content("bad or missing X-Hub-Signature-256\n", "text/plain");
        return;
      }
      metrics.add("pgparity_webhook_requests_total", {{"result", "accepted"}});
      hook();
      res.status = 202;
      res.set_content("a tick is on its way\n", "text/plain");
    });
  }
  if (!state_->server.bind_to_port(state_->host.c_str(), state_->port)) throw InputError("cannot listen on " + address);
  state_->thread = std::thread([state = state_.get()] { state->server.listen_after_bind(); });
}

MetricsServer::~MetricsServer() {
  state_->server.stop();
  if (state_->thread.joinable()) state_->thread.join();
}

}  // namespace pgparity::reconciler
