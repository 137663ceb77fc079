// The reconcile loop and check, as a scheduler or a pipeline runs them, against real clusters.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <pqxx/pqxx>
#include <thread>

#include "tests/support/cluster.hpp"

namespace pgparity::testing {
namespace {

using namespace std::chrono_literals;

/// A free loopback port for the metrics endpoint.
int free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  bind(fd, reinterpret_cast<sockaddr*>(&address), length);
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  close(fd);
  return ntohs(address.sin_port);
}

/// Reads the metrics endpoint over HTTP: the body, or "" while it does not answer.
struct Scraper {
  explicit Scraper(int port) : client("127.0.0.1", port) {
    client.set_connection_timeout(1);
    client.set_read_timeout(2);
  }
  std::string operator()() {
    auto res = client.Get("/metrics");
    return res && res->status == 200 ? res->body : "";
  }
  httplib::Client client;
};

/// Polls `condition` every 100 ms for up to `seconds`.
bool eventually(const std::function<bool()>& condition, int seconds) {
  for (int i = 0; i < seconds * 10; ++i) {
    if (condition()) return true;
    std::this_thread::sleep_for(100ms);
  }
  return condition();
}

class Reconcile : public ::testing::Test {
 protected:
  std::string write_manifest(const std::string& body) {
    std::ofstream(path_) << "apiVersion: pgparity/v1\ntargets:\n  staging:\n    dsn: \"${PGPARITY_STAGING_DSN}\"\n"
                            "    role: managed\n"
                         << body;
    return path_;
  }
  std::map<std::string, std::string> env() const { return {{"PGPARITY_STAGING_DSN", staging_.conninfo()}}; }
  std::string version_of(const std::string& extension) {
    return staging_.query_value("SELECT extversion FROM pg_extension WHERE extname = '" + extension + "'");
  }

  Cluster staging_;
  std::string path_ = staging_.dir() + "/manifest.yaml";
};

const std::string quick = "policy:\n  drain:\n    quiet_for: 0s\n";

TEST_F(Reconcile, CorrectsDriftInjectedBehindItsBackAndTheMetricsShowIt) {
  staging_.exec("CREATE EXTENSION hstore VERSION '1.4'");
  write_manifest("extensions:\n  - name: hstore\n    version: \"1.8\"\n" + quick);
  const int port = free_port();
  auto loop = start_pgparity(
      {"reconcile", "-f", path_, "--interval", "2s", "--metrics", "127.0.0.1:" + std::to_string(port)}, env());
  Scraper scrape(port);
  ASSERT_TRUE(eventually([&] { return version_of("hstore") == "1.8"; }, 20)) << loop->err();
  ASSERT_TRUE(eventually([&] { return sample(scrape(), "pgparity_drift_steps{target=\"staging\"}") == 0.0; }, 10))
      << scrape();
  auto health = scrape.client.Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->body, "ok\n");

  // Drift behind its back: someone puts the old version back.
  staging_.exec("DROP EXTENSION hstore; CREATE EXTENSION hstore VERSION '1.4'");
  const auto injected = std::chrono::steady_clock::now();
  bool drift_seen = false;
  ASSERT_TRUE(eventually(
      [&] {
        const std::string m = scrape();
        drift_seen = drift_seen ||
                     sample(m, "pgparity_drift{database=\"postgres\",object=\"hstore\",target=\"staging\"}") == 1.0;
        return drift_seen && version_of("hstore") == "1.8";
      },
      15))
      << scrape() << loop->err();
  EXPECT_LE(std::chrono::steady_clock::now() - injected, 6s) << "within two ticks of 2 s (and a tick's own time)";
  // The next tick reports the recovery.
  ASSERT_TRUE(eventually([&] { return sample(scrape(), "pgparity_drift_steps{target=\"staging\"}") == 0.0; }, 10));
  const std::string m = scrape();
  EXPECT_GE(sample(m, "pgparity_reconcile_runs_total{result=\"applied\"}").value_or(0), 2.0) << m;
  EXPECT_GE(
      sample(m, "pgparity_steps_applied_total{database=\"postgres\",kind=\"update\",target=\"staging\"}").value_or(0),
      2.0)
      << m;
  EXPECT_GT(sample(m, "pgparity_last_success_timestamp_seconds").value_or(0), 1.7e9);
  EXPECT_NE(m.find("# TYPE pgparity_reconcile_duration_seconds histogram"), std::string::npos);

  loop->signal(SIGTERM);
  EXPECT_EQ(loop->wait(10'000), 0) << loop->err();
}

TEST_F(Reconcile, KeptSessionsAreReusedSeeDriftBetweenTicksAndSurviveAServerRestart) {
  for (const char* db : {"app_1", "app_2", "app_3"}) {
    staging_.exec(std::string("CREATE DATABASE ") + db);
    staging_.exec("CREATE EXTENSION hstore VERSION '1.8'", db);
  }
  write_manifest("    databases: [\"app_*\"]\nextensions:\n  - name: hstore\n    version: \"1.8\"\n" + quick);
  const int port = free_port();
  auto loop = start_pgparity({"reconcile", "-f", path_, "--interval", "1s", "--plan-only", "--keep-sessions", "8",
                              "--metrics", "127.0.0.1:" + std::to_string(port)},
                             env());
  Scraper scrape(port);
  auto backends = [&] {
    return staging_.query_value(
        "SELECT string_agg(pid || '@' || backend_start, ',' ORDER BY pid) FROM pg_stat_activity "
        "WHERE application_name = 'pgparity' AND backend_type = 'client backend'");
  };
  // The cluster-wide session (postgres) and one per selected database are kept between ticks.
  ASSERT_TRUE(eventually([&] { return sample(scrape(), "pgparity_kept_sessions") == 4.0; }, 15))
      << scrape() << loop->err();
  const std::string kept = backends();
  const double converged = sample(scrape(), "pgparity_reconcile_runs_total{result=\"converged\"}").value_or(0);
  ASSERT_TRUE(eventually(
      [&] {
        return sample(scrape(), "pgparity_reconcile_runs_total{result=\"converged\"}").value_or(0) >= converged + 2;
      },
      10));
  EXPECT_EQ(backends(), kept) << "two more ticks ran on the same backends: no session was opened";
  EXPECT_EQ(std::count(kept.begin(), kept.end(), ','), 3) << kept;

  // Drift injected between ticks is seen on the kept sessions.
  staging_.exec("DROP EXTENSION hstore; CREATE EXTENSION hstore VERSION '1.4'", "app_2");
  const std::string drift = "pgparity_drift{database=\"app_2\",object=\"hstore\",target=\"staging\"}";
  ASSERT_TRUE(eventually([&] { return sample(scrape(), drift) == 1.0; }, 10)) << scrape() << loop->err();
  EXPECT_EQ(backends(), kept);

  // A restart ends every kept session; once the server is back, the loop reopens them and counts
  // no error for it (a tick that runs while the server is down fails, as without kept sessions).
  staging_.restart();
  std::this_thread::sleep_for(1500ms);  // a tick that started while the server was down has ended
  const double failed_before = sample(scrape(), "pgparity_reconcile_runs_total{result=\"failed\"}").value_or(0);
  const double drift_after_restart = sample(scrape(), "pgparity_reconcile_runs_total{result=\"drift\"}").value_or(0);
  ASSERT_TRUE(eventually(
      [&] {
        return sample(scrape(), "pgparity_reconcile_runs_total{result=\"drift\"}").value_or(0) >=
               drift_after_restart + 3;
      },
      15))
      << scrape() << loop->err();
  const std::string m = scrape();
  EXPECT_EQ(sample(m, "pgparity_reconcile_runs_total{result=\"failed\"}").value_or(0), failed_before) << m;
  EXPECT_EQ(sample(m, drift), 1.0) << m;
  EXPECT_EQ(sample(m, "pgparity_kept_sessions"), 4.0) << m;
  const std::string reopened = backends();
  EXPECT_NE(reopened, kept);
  EXPECT_EQ(std::count(reopened.begin(), reopened.end(), ','), 3) << reopened;

  loop->signal(SIGTERM);
  EXPECT_EQ(loop->wait(10'000), 0) << loop->err();
}

TEST_F(Reconcile, SigtermWhileDrainingChangesNothingResumesThePoolerAndExitsZero) {
  staging_.exec("CREATE EXTENSION hstore VERSION '1.4'");
  const int bouncer = staging_.start_bouncer("transaction");
  const std::string admin = "host=127.0.0.1 port=" + std::to_string(bouncer) + " dbname=pgbouncer user=postgres";
  std::ofstream(path_) << "apiVersion: pgparity/v1\ntargets:\n  staging:\n    dsn: \"${PGPARITY_STAGING_DSN}\"\n"
                          "    role: managed\n    pooler:\n      admin_dsn: \""
                       << admin << "\"\n"
                       << "extensions:\n  - name: hstore\n    version: \"1.8\"\n"
                          "policy:\n  drain:\n    quiet_for: 1s\n    timeout: 5m\n";
  pqxx::connection other(staging_.conninfo() + " application_name=long-report");
  pqxx::work open(other);
  open.exec("SELECT 1");

  auto loop = start_pgparity({"reconcile", "-f", path_, "--interval", "1m"}, env());
  ASSERT_TRUE(eventually([&] { return loop->err().find("draining") != std::string::npos; }, 20)) << loop->err();
  const auto signalled = std::chrono::steady_clock::now();
  loop->signal(SIGTERM);
  const auto code = loop->wait(15'000);
  ASSERT_TRUE(code.has_value()) << "the loop did not stop";
  EXPECT_EQ(*code, 0) << loop->err();
  EXPECT_LE(std::chrono::steady_clock::now() - signalled, 5s);
  EXPECT_EQ(version_of("hstore"), "1.4");
  EXPECT_NE(loop->err().find("pausing postgres on the pooler"), std::string::npos) << "it was paused";
  // Resumed: a client gets through PgBouncer to the database (a paused pool would hold the query).
  std::string out;
  EXPECT_EQ(run_program("timeout",
                        {"5", "psql", "-XAtc", "SELECT 42",
                         "host=127.0.0.1 port=" + std::to_string(bouncer) + " dbname=postgres user=postgres"},
                        &out),
            0);
  EXPECT_EQ(out, "42\n");
}

TEST_F(Reconcile, FollowsEditsOfTheManifestAndKeepsTheLastGoodOneWhenAnEditIsInvalid) {
  staging_.exec("CREATE EXTENSION hstore VERSION '1.4'");
  write_manifest("extensions:\n  - name: hstore\n    version: \"1.5\"\n" + quick);
  auto loop = start_pgparity({"reconcile", "-f", path_, "--interval", "1s"}, env());
  ASSERT_TRUE(eventually([&] { return version_of("hstore") == "1.5"; }, 20)) << loop->err();

  write_manifest("extensions:\n  - name: hstore\n    version: \"1.6\"\n" + quick);
  ASSERT_TRUE(eventually([&] { return version_of("hstore") == "1.6"; }, 20)) << loop->err();

  write_manifest("extensions:\n  - name: hstore\n    verison: \"1.8\"\n" + quick);
  ASSERT_TRUE(eventually([&] { return loop->err().find("unknown key 'verison'") != std::string::npos; }, 10))
      << loop->err();
  EXPECT_NE(loop->err().find("the last good one stays in force"), std::string::npos);
  // The last good manifest still rules: drift away from 1.6 is corrected back to 1.6.
  staging_.exec("DROP EXTENSION hstore; CREATE EXTENSION hstore VERSION '1.4'");
  EXPECT_TRUE(eventually([&] { return version_of("hstore") == "1.6"; }, 20)) << "version " << version_of("hstore");
  loop->signal(SIGTERM);
  EXPECT_EQ(loop->wait(10'000), 0);
}

TEST_F(Reconcile, PlanOnlyReportsDriftAndChangesNothing) {
  staging_.exec("CREATE EXTENSION hstore VERSION '1.4'");
  write_manifest("extensions:\n  - name: hstore\n    version: \"1.8\"\n" + quick);
  const std::string metrics_file = staging_.dir() + "/pgparity.prom";
  const CommandResult r =
      run_pgparity({"reconcile", "-f", path_, "--once", "--plan-only", "--metrics-file", metrics_file}, env());
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("drift: staging/postgres: hstore 1.4 → 1.8"), std::string::npos)
      << "the log names each drifted object\n"
      << r.err;
  EXPECT_EQ(version_of("hstore"), "1.4");
  std::ifstream in(metrics_file);
  const std::string m((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(sample(m, "pgparity_reconcile_runs_total{result=\"drift\"}"), 1.0) << m;
  EXPECT_EQ(sample(m, "pgparity_drift_steps{target=\"staging\"}"), 1.0) << m;

  write_manifest("suspend: true\nextensions:\n  - name: hstore\n    version: \"1.8\"\n" + quick);
  const CommandResult suspended = run_pgparity({"reconcile", "-f", path_, "--once"}, env());
  EXPECT_EQ(suspended.exit_code, 2);
  EXPECT_NE(suspended.err.find("drift: staging/postgres: hstore 1.4 → 1.8"), std::string::npos) << suspended.err;
  EXPECT_EQ(version_of("hstore"), "1.4") << "suspended: nothing changes";
}

TEST_F(Reconcile, ADatabaseThatKeepsFailingBacksOffWithoutHoldingTheOthersBack) {
  staging_.exec("CREATE DATABASE broken");
  staging_.exec("CREATE DATABASE healthy");
  staging_.exec("CREATE EXTENSION pgparity_test_fails VERSION '1.0'", "broken");
  staging_.exec("CREATE EXTENSION hstore VERSION '1.4'", "healthy");
  std::ofstream(path_) << "apiVersion: pgparity/v1\ntargets:\n  staging:\n    dsn: \"${PGPARITY_STAGING_DSN}\"\n"
                          "    role: managed\n    databases: [broken, healthy]\n"
                          "extensions:\n  - name: pgparity_test_fails\n    version: \"1.1\"\n    databases: [broken]\n"
                          "  - name: hstore\n    version: \"1.8\"\n    databases: [healthy]\n"
                       << quick;
  const int port = free_port();
  auto loop = start_pgparity(
      {"reconcile", "-f", path_, "--interval", "1s", "--metrics", "127.0.0.1:" + std::to_string(port)}, env());
  Scraper scrape(port);
  EXPECT_TRUE(eventually(
      [&] {
        return staging_.query_value("SELECT extversion FROM pg_extension WHERE extname = 'hstore'", "healthy") == "1.8";
      },
      15))
      << loop->err();
  // Let it run for several intervals: the failing database is retried after 1 s, 2 s, 4 s ... not every tick.
  std::this_thread::sleep_for(7s);
  const std::string m = scrape();
  const double failures =
      sample(m, "pgparity_database_failures_total{database=\"broken\",target=\"staging\"}").value_or(0);
  const double ticks = sample(m, "pgparity_reconcile_duration_seconds_count").value_or(0);
  EXPECT_GE(failures, 2.0) << m;
  EXPECT_LT(failures, ticks - 1) << "a backed-off database is skipped on some ticks\n" << m;
  EXPECT_EQ(staging_.query_value("SELECT extversion FROM pg_extension WHERE extname = 'pgparity_test_fails'", "broken"),
            "1.0")
      << "every failed try was rolled back";
  loop->signal(SIGTERM);
  EXPECT_EQ(loop->wait(10'000), 0) << loop->err();
  EXPECT_NE(loop->err().find("next try in"), std::string::npos) << loop->err();
}

TEST_F(Reconcile, LogsAreJsonLinesWhenAsked) {
  staging_.exec("CREATE EXTENSION hstore VERSION '1.4'");
  write_manifest("extensions:\n  - name: hstore\n    version: \"1.8\"\n" + quick);
  // A password in the DSN (trust authentication ignores it) must never reach a log line.
  const auto began = std::chrono::steady_clock::now();
  const CommandResult r =
      run_pgparity({"--log-format", "json", "--log-level", "debug", "reconcile", "-f", path_, "--once"},
                   {{"PGPARITY_STAGING_DSN", staging_.conninfo() + " password=s3cret-value"}});
  const auto whole_run =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - began).count();
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::istringstream lines(r.err);
  int events = 0;
  int step_events = 0;
  for (std::string line; std::getline(lines, line);) {
    const auto event = nlohmann::json::parse(line);  // throws (fails the test) when a line is not JSON
    EXPECT_TRUE(event.contains("time") && event.contains("level") && event.contains("message")) << line;
    if (event.value("step", "") == "update") {
      ++step_events;
      EXPECT_EQ(event["target"], "staging");
      EXPECT_EQ(event["database"], "postgres");
      EXPECT_EQ(event["extension"], "hstore");
      EXPECT_EQ(event["from"], "1.4");
      EXPECT_EQ(event["to"], "1.8");
      // The step's own time: a number, and within the time the whole command took.
      const long long ms = std::stoll(event["duration_ms"].get<std::string>());
      EXPECT_GE(ms, 0);
      EXPECT_LE(ms, whole_run) << line;
      EXPECT_EQ(event["run_id"], staging_.query_value("SELECT run_id FROM pgparity.runs"))
          << "the run_id of apply --format json and of the journal";
    }
    EXPECT_EQ(line.find("s3cret-value"), std::string::npos) << "no secret in a log line";
    ++events;
  }
  EXPECT_GE(events, 3);
  EXPECT_EQ(step_events, 1) << r.err;
  EXPECT_NE(r.err.find("update hstore 1.4 → 1.8"), std::string::npos) << r.err;
}

TEST_F(Reconcile, CheckExitsTwoWithTheDeviationsAndZeroWhenConverged) {
  staging_.exec("CREATE EXTENSION hstore VERSION '1.4'; CREATE EXTENSION citext");
  write_manifest(
      "extensions:\n  - name: hstore\n    version: \"1.8\"\n  - name: citext\n    ensure: absent\n"
      "  - name: pg_trgm\n    version: \"1.6\"\n" +
      quick);
  const CommandResult drifted = run_pgparity({"check", "-f", path_}, env());
  EXPECT_EQ(drifted.exit_code, 2) << drifted.err;
  EXPECT_NE(drifted.out.find("3 deviations from the manifest:"), std::string::npos) << drifted.out;
  EXPECT_NE(drifted.out.find("staging/postgres: hstore is 1.4, the manifest wants 1.8"), std::string::npos);
  EXPECT_NE(drifted.out.find("staging/postgres: citext is 1.6, the manifest wants absent"), std::string::npos);
  EXPECT_NE(drifted.out.find("staging/postgres: pg_trgm is absent, the manifest wants 1.6"), std::string::npos);
  const CommandResult json = run_pgparity({"check", "-f", path_, "--format", "json"}, env());
  EXPECT_NE(json.out.find("\"converged\": false"), std::string::npos);

  ASSERT_EQ(run_pgparity({"apply", "-f", path_, "--auto-approve"}, env()).exit_code, 0);
  const CommandResult converged = run_pgparity({"check", "-f", path_}, env());
  EXPECT_EQ(converged.exit_code, 0) << converged.out;
  EXPECT_EQ(converged.out, "every managed database matches the manifest\n");
}

/// GitHub's X-Hub-Signature-256 of `body` under `secret`.
std::string hub_signature(const std::string& secret, const std::string& body) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(body.data()), body.size(), mac, &length);
  std::string out = "sha256=";
  for (unsigned int i = 0; i < length; ++i) {
    char hex[3];
    std::snprintf(hex, sizeof hex, "%02x", mac[i]);
    out += hex;
  }
  return out;
}

TEST_F(Reconcile, ASignedWebhookTriggersATickNowAndABadSignatureGets401AndRunsNothing) {
  staging_.exec("CREATE EXTENSION hstore VERSION '1.4'");
  write_manifest("extensions:\n  - name: hstore\n    version: \"1.4\"\n" + quick);
  const int port = free_port();
  auto with_secret = env();
  with_secret["PGPARITY_WEBHOOK_SECRET"] = "hook-s3cret-of-the-fleet";
  auto loop = start_pgparity(
      {"reconcile", "-f", path_, "--interval", "1h", "--metrics", "127.0.0.1:" + std::to_string(port)}, with_secret);
  Scraper scrape(port);
  const auto ticks = [&] {
    return sample(scrape(), "pgparity_reconcile_runs_total{result=\"converged\"}").value_or(0) +
           sample(scrape(), "pgparity_reconcile_runs_total{result=\"applied\"}").value_or(0);
  };
  ASSERT_TRUE(eventually([&] { return ticks() == 1; }, 20)) << loop->err();
  write_manifest("extensions:\n  - name: hstore\n    version: \"1.8\"\n" + quick);  // merged: the next tick applies it

  const std::string body = R"({"ref": "refs/heads/main"})";
  for (const std::string& signature : {std::string(), hub_signature("not-the-secret", body)}) {
    httplib::Headers headers;
    if (!signature.empty()) headers.emplace("X-Hub-Signature-256", signature);
    const auto refused = scrape.client.Post("/hook", headers, body, "application/json");
    ASSERT_TRUE(refused);
    EXPECT_EQ(refused->status, 401) << signature;
  }
  std::this_thread::sleep_for(1500ms);
  EXPECT_EQ(ticks(), 1) << "no tick ran";
  EXPECT_EQ(version_of("hstore"), "1.4");

  // A burst of signed calls: a tick now (within the hour's interval), and the burst is not a tick per call.
  for (int i = 0; i < 3; ++i) {
    const auto accepted = scrape.client.Post(
        "/hook", {{"X-Hub-Signature-256", hub_signature("hook-s3cret-of-the-fleet", body)}}, body, "application/json");
    ASSERT_TRUE(accepted);
    EXPECT_EQ(accepted->status, 202);
  }
  ASSERT_TRUE(eventually([&] { return version_of("hstore") == "1.8"; }, 20)) << loop->err();
  std::this_thread::sleep_for(1500ms);
  EXPECT_LE(ticks(), 3) << "three calls coalesce into at most two ticks";
  EXPECT_EQ(sample(scrape(), "pgparity_webhook_requests_total{result=\"unauthorized\"}"), 2.0);
  EXPECT_EQ(loop->err().find("hook-s3cret-of-the-fleet"), std::string::npos);
}

TEST_F(Reconcile, AHeadlessBrowserReadsEachDatabasesStateAndTheBlockersHintOnTheStatusPageAndAPlantedScriptIsText) {
  const std::string planted = "x<script>alert(1)</script>";
  for (const std::string db : {"conv", "drifted"}) staging_.exec("CREATE DATABASE " + db);
  staging_.exec("CREATE DATABASE \"" + planted + "\"");
  staging_.exec("CREATE EXTENSION hstore VERSION '1.8'", "conv");
  staging_.exec("CREATE EXTENSION hstore VERSION '1.4'", "drifted");
  staging_.exec(
      "CREATE EXTENSION hstore VERSION '1.8'; CREATE EXTENSION citext; CREATE TABLE t (c citext); "
      "INSERT INTO t VALUES ('kept')",
      planted);
  write_manifest(
      "    databases: [\"*\"]\nextensions:\n  - name: hstore\n    version: \"1.8\"\n  - name: citext\n    ensure: "
      "absent\n" +
      quick);
  const int port = free_port();
  auto loop = start_pgparity(
      {"reconcile", "-f", path_, "--interval", "1h", "--plan-only", "--metrics", "127.0.0.1:" + std::to_string(port)},
      env());
  Scraper scrape(port);
  ASSERT_TRUE(eventually([&] { return sample(scrape(), "pgparity_blocked{target=\"staging\"}").value_or(0) > 0; }, 30))
      << loop->err();
  const auto json = nlohmann::json::parse(scrape.client.Get("/status.json")->body);
  EXPECT_EQ(json["result"], "blocked") << json.dump();
  const auto svg = scrape.client.Get("/plan.svg");
  ASSERT_TRUE(svg);
  EXPECT_NE(svg->body.find("<svg"), std::string::npos) << "Graphviz laid the plan out";

  const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/";
  const std::string profile = staging_.dir() + "/chromium";
  const std::vector<std::string> browser = {"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                                            "--user-data-dir=" + profile};
  std::string dom;
  std::string err;
  auto args = browser;
  args.insert(args.end(), {"--dump-dom", url});
  // A browser starting on a loaded machine can give up on the page: it is asked again, a few times.
  for (int attempt = 0; attempt < 3 && dom.find("<h1>pgparity reconcile</h1>") == std::string::npos; ++attempt) {
    ASSERT_EQ(run_program("/usr/bin/chromium", args, &dom, &err, {{"HOME", staging_.dir()}}), 0) << err;
  }
  for (const std::string shown : {"<td>conv</td><td>converged</td>", "<td>drifted</td><td>drifted</td>",
                                  "<td>blocked</td>", "hint:", "(server settings)", "Waiting for: the next tick at"}) {
    EXPECT_NE(dom.find(shown), std::string::npos) << shown << "\n" << dom;
  }
  EXPECT_NE(dom.find("x&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos) << dom;
  EXPECT_EQ(dom.find("<script"), std::string::npos) << "the planted name is text, never an element\n" << dom;

  // A screenshot for people, kept with the test's output.
  const std::string shot = std::filesystem::current_path().string() + "/status-page.png";
  args = {"--headless",
          "--no-sandbox",
          "--disable-gpu",
          "--disable-dev-shm-usage",
          "--user-data-dir=" + profile + "-shot",
          "--window-size=1280,1024",
          "--screenshot=" + shot,
          url};
  ASSERT_EQ(run_program("/usr/bin/chromium", args, &dom, &err, {{"HOME", staging_.dir()}}), 0) << err;
  ASSERT_TRUE(std::filesystem::exists(shot)) << dom << err << loop->err();
  EXPECT_GT(std::filesystem::file_size(shot), 1000u);
}

}  // namespace
}  // namespace pgparity::testing
