#!/usr/bin/env python3
"""pgparity's metrics and alerts against Debian's real Prometheus.

- the alert rules in examples/integrations/prometheus/ pass `promtool check rules`
  and `promtool test rules` (each alert has a case that fires it and one that does not);
- a live /metrics scrape of `reconcile --metrics` passes `promtool check metrics`;
- a real Prometheus on loopback scrapes that reconcile, and pgparity_drift_steps
  and pgparity_info are read back through its HTTP query API;
- /healthz answers 200 while ticks complete.

Usage: prometheus_test.py PGPARITY_BINARY SOURCE_DIR [unittest arguments]
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request

import integrations_test

PGPARITY = ""
SOURCE = ""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url):
    with urllib.request.urlopen(url, timeout=5) as r:
        return r.status, r.read().decode()


class AlertRules(unittest.TestCase):
    def test_the_alert_rules_are_valid_and_each_fires_only_when_it_should(self):
        folder = os.path.join(SOURCE, "examples", "integrations", "prometheus")
        check = subprocess.run(["promtool", "check", "rules", "pgparity-alerts.yml"], cwd=folder,
                               capture_output=True, text=True)
        self.assertEqual(check.returncode, 0, check.stdout + check.stderr)
        self.assertIn("SUCCESS: 6 rules found", check.stdout)
        test = subprocess.run(["promtool", "test", "rules", "pgparity-alerts.test.yml"], cwd=folder,
                              capture_output=True, text=True)
        self.assertEqual(test.returncode, 0, test.stdout + test.stderr)


class LiveScrape(unittest.TestCase):
    def setUp(self):
        integrations_test.SOURCE = SOURCE
        self.staging = integrations_test.Cluster()
        self.addCleanup(self.staging.destroy)
        self.staging.sql("CREATE EXTENSION hstore VERSION '1.4'")
        self.work = tempfile.mkdtemp(prefix="pgparity-prometheus-")
        self.addCleanup(shutil.rmtree, self.work, True)
        self.manifest = os.path.join(self.work, "manifest.yaml")
        with open(self.manifest, "w") as f:
            f.write('apiVersion: pgparity/v1\ntargets:\n  staging:\n    dsn: "${PGPARITY_STAGING_DSN}"\n'
                    '    role: managed\nextensions:\n  - name: hstore\n    version: "1.8"\n')
        self.metrics_port = free_port()
        env = dict(os.environ, PGPARITY_STAGING_DSN=self.staging.conninfo())
        self.reconcile = subprocess.Popen(
            [PGPARITY, "reconcile", "-f", self.manifest, "--plan-only", "--interval", "1s",
             "--metrics", f"127.0.0.1:{self.metrics_port}"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.addCleanup(self.stop, self.reconcile)

    @staticmethod
    def stop(process):
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.communicate(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.communicate()

    def scrape(self):
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                status, text = get(f"http://127.0.0.1:{self.metrics_port}/metrics")
                if "pgparity_drift_steps{" in text:
                    return text
            except OSError:
                pass
            time.sleep(0.2)
        self.fail("reconcile --metrics never served pgparity_drift_steps")

    def test_a_live_scrape_passes_promtool_check_metrics_and_healthz_is_ok(self):
        text = self.scrape()
        check = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True)
        self.assertEqual(check.returncode, 0, check.stdout + check.stderr + "\n" + text)
        self.assertEqual(check.stdout + check.stderr, "", "promtool has no lint findings either")
        self.assertRegex(text, r'pgparity_info\{version="[0-9][^"]*"\} 1')
        self.assertIn('pgparity_extension_info{database="postgres",desired="1.8",extension="hstore",installed="1.4",'
                      'latest="1.8",target="staging"} 1', text)
        self.assertIn('pgparity_updates_available{target="staging"} 1', text)
        status, body = get(f"http://127.0.0.1:{self.metrics_port}/healthz")
        self.assertEqual((status, body), (200, "ok\n"))

    def test_healthz_turns_unhealthy_when_no_tick_completes_for_three_intervals(self):
        self.scrape()
        self.stop(self.reconcile)
        # The next loop's tick waits 20 s for a quiet window that an open transaction never gives it.
        blocker = subprocess.Popen(["psql", "-XAtq", self.staging.conninfo()], stdin=subprocess.PIPE,
                                   stdout=subprocess.DEVNULL, text=True)
        self.addCleanup(lambda: (blocker.kill(), blocker.wait()))
        blocker.stdin.write("BEGIN; SELECT 1; SELECT pg_sleep(60);\n")
        blocker.stdin.flush()
        with open(self.manifest, "a") as f:
            f.write("policy:\n  drain:\n    quiet_for: 5s\n    timeout: 20s\n")
        env = dict(os.environ, PGPARITY_STAGING_DSN=self.staging.conninfo())
        loop = subprocess.Popen(
            [PGPARITY, "reconcile", "-f", self.manifest, "--interval", "1s",
             "--metrics", f"127.0.0.1:{self.metrics_port}"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.addCleanup(self.stop, loop)
        deadline = time.time() + 15
        status = None
        while time.time() < deadline and status != 503:
            try:
                get(f"http://127.0.0.1:{self.metrics_port}/healthz")
                status = 200
            except urllib.error.HTTPError as e:
                status = e.code
                body = e.read().decode()
            except OSError:
                pass
            time.sleep(0.3)
        self.assertEqual(status, 503, "a tick stuck for more than three 1 s intervals is unhealthy")
        self.assertIn("no tick completed in the last three intervals", body)

    def test_a_real_prometheus_scrapes_reconcile_and_answers_queries_about_drift(self):
        self.scrape()
        web = free_port()
        config = os.path.join(self.work, "prometheus.yml")
        with open(config, "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n"
                    "  - job_name: pgparity\n    static_configs:\n"
                    f"      - targets: ['127.0.0.1:{self.metrics_port}']\n")
        prometheus = subprocess.Popen(
            ["prometheus", f"--config.file={config}", f"--storage.tsdb.path={self.work}/data",
             f"--web.listen-address=127.0.0.1:{web}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.addCleanup(self.stop, prometheus)

        def query(expression):
            url = f"http://127.0.0.1:{web}/api/v1/query?" + urllib.parse.urlencode({"query": expression})
            _, body = get(url)
            return json.loads(body)["data"]["result"]

        deadline = time.time() + 60
        drift = []
        while time.time() < deadline and not drift:
            try:
                drift = query('pgparity_drift_steps{target="staging"}')
            except OSError:
                pass
            if not drift:
                time.sleep(0.5)
        self.assertTrue(drift, "Prometheus never stored pgparity_drift_steps")
        self.assertEqual(drift[0]["metric"]["job"], "pgparity")
        self.assertEqual(drift[0]["value"][1], "1", "one update step pending: hstore 1.4 → 1.8")
        info = query("pgparity_info")
        self.assertEqual(len(info), 1)
        self.assertIn("version", info[0]["metric"])
        self.assertEqual(self.staging.version_of("hstore"), "1.4", "--plan-only changed nothing")


if __name__ == "__main__":
    PGPARITY, SOURCE = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    unittest.main(argv=[sys.argv[0]] + sys.argv[3:], verbosity=2)
