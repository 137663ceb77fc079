#!/usr/bin/env python3
"""The integrations in examples/integrations/ run as their CI system, timer or
cluster would run them, against throwaway PostgreSQL clusters.

Each test loads the YAML (or unit) file people copy and executes what it says:
the `run:`/`script:` blocks of the CI jobs in bash with the variables those
systems set, the systemd unit's ExecStart, the Kubernetes containers' args
with their Secrets in the environment. The manifest repository the systemd
and Kubernetes examples fetch is a real one served by `git daemon` on
loopback (their https:// URL is pointed at it). The only stand-ins are the hosting services' own clients (`gh`,
`curl` to GitLab's API), which record what they were asked to post. What
cannot run here is named and skipped by the runner: `uses:` actions, the step
that installs the pgparity package (the binary under test is on PATH), the image build.

Usage: integrations_test.py PGPARITY_BINARY SOURCE_DIR [unittest arguments]
"""
import configparser
import hashlib
import hmac
import os
import random
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

import yaml

PGPARITY = ""
SOURCE = ""
MARKER = "<!-- pgparity-plan -->"


# --- the manifest repository, served over the network ---------------------------

class GitServer:
    """A bare repository served by a real `git daemon` on loopback: the URL the examples name points here."""

    EXAMPLE_URL = "https://git.example.com/dba/fleet.git"
    GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "init.defaultBranch=main"]

    def __init__(self, work):
        self.root = os.path.join(work, "served")
        self.scratch = os.path.join(work, "scratch")
        origin = os.path.join(self.root, "fleet.git")
        subprocess.run(self.GIT + ["init", "-q", "--bare", origin], check=True)
        subprocess.run(self.GIT + ["clone", "-q", origin, self.scratch], check=True, capture_output=True)
        self.process = None
        self.url = ""

    def commit(self, path, text):
        """Commits `text` at `path` on main and pushes it; the revision reconcile names ("main@sha1:...")."""
        os.makedirs(os.path.dirname(os.path.join(self.scratch, path)), exist_ok=True)
        with open(os.path.join(self.scratch, path), "w") as f:
            f.write(text)
        subprocess.run(self.GIT + ["-C", self.scratch, "add", path], check=True)
        subprocess.run(self.GIT + ["-C", self.scratch, "commit", "-qm", "manifest"], check=True)
        subprocess.run(self.GIT + ["-C", self.scratch, "push", "-q", "origin", "HEAD:main"], check=True,
                       capture_output=True)
        head = subprocess.run(["git", "-C", self.scratch, "rev-parse", "HEAD"], check=True, capture_output=True,
                              text=True).stdout.strip()
        return "main@sha1:" + head

    def start(self):
        # Below the ephemeral range (as scripts/pgcluster does), so no outgoing connection holds the port.
        for port in random.sample(range(20000, 32000), 20):
            self.process = subprocess.Popen(
                ["git", "daemon", "--reuseaddr", "--export-all", "--listen=127.0.0.1", f"--port={port}",
                 f"--base-path={self.root}", self.root], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            deadline = time.time() + 10
            while time.time() < deadline and self.process.poll() is None:
                with socket.socket() as probe:
                    if probe.connect_ex(("127.0.0.1", port)) == 0:
                        self.url = f"git://127.0.0.1:{port}/fleet.git"
                        return
                time.sleep(0.05)
            self.stop()
        raise RuntimeError("git daemon did not start")

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


# --- throwaway clusters (scripts/pgcluster, the one implementation) -----------

class Cluster:
    def __init__(self, *settings):
        args = [os.path.join(SOURCE, "scripts", "pgcluster"), "create", "--owner", str(os.getpid())]
        for s in settings:
            args += ["--set", s]
        self.dir = subprocess.run(args, check=True, capture_output=True, text=True).stdout.strip()

    def conninfo(self, dbname="postgres"):
        return subprocess.run([os.path.join(SOURCE, "scripts", "pgcluster"), "conninfo", self.dir, dbname],
                              check=True, capture_output=True, text=True).stdout.strip()

    def sql(self, statement, dbname="postgres"):
        return subprocess.run(["psql", "-XAtq", "-v", "ON_ERROR_STOP=1", self.conninfo(dbname), "-c", statement],
                              check=True, capture_output=True, text=True).stdout.strip()

    def version_of(self, extension, dbname="postgres"):
        return self.sql(f"SELECT extversion FROM pg_extension WHERE extname = '{extension}'", dbname)

    def restart_without_preload(self):
        tool = os.path.join(SOURCE, "scripts", "pgcluster")
        subprocess.run([tool, "set", self.dir, "shared_preload_libraries="], check=True)
        subprocess.run([tool, "restart", self.dir], check=True, capture_output=True)

    def destroy(self):
        subprocess.run([os.path.join(SOURCE, "scripts", "pgcluster"), "destroy", self.dir], check=False)


class PairTest(unittest.TestCase):
    """A production (reference) and a staging (managed) cluster with the same memory ratios."""

    preload = "shared_preload_libraries=pg_stat_statements"

    def setUp(self):
        self.production = Cluster(self.preload, "work_mem=4MB", "shared_buffers=128MB")
        self.addCleanup(self.production.destroy)
        self.staging = Cluster(self.preload, "work_mem=4MB", "shared_buffers=128MB")
        self.addCleanup(self.staging.destroy)
        self.work = tempfile.mkdtemp(prefix="pgparity-integrations-")
        self.addCleanup(shutil.rmtree, self.work, True)
        self.bin = os.path.join(self.work, "bin")
        os.makedirs(self.bin)
        os.symlink(PGPARITY, os.path.join(self.bin, "pgparity"))
        self.dsns = {"production": self.production.conninfo(), "staging": self.staging.conninfo()}
        # What pull-request jobs get (docs/gitops.md, the trust boundary): a role that cannot write.
        for c in (self.production, self.staging):
            c.sql("CREATE ROLE pgparity_plan LOGIN; GRANT pg_monitor TO pgparity_plan")
        self.plan_dsns = {k: v + " user=pgparity_plan" for k, v in self.dsns.items()}

    def production_runs_newer_extensions(self):
        self.production.sql("CREATE EXTENSION hstore; CREATE EXTENSION pg_trgm; CREATE EXTENSION pg_stat_statements")
        self.staging.sql("CREATE EXTENSION hstore VERSION '1.4'; CREATE EXTENSION pg_trgm VERSION '1.3'")

    def assert_staging_mirrors_production(self, extensions=("hstore", "pg_trgm")):
        for e in extensions:
            self.assertEqual(self.staging.version_of(e), self.production.version_of(e), e)

    def environment(self, extra):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PG", "GITHUB_", "CI_"))}
        env["PATH"] = self.bin + os.pathsep + env["PATH"]
        env.update(extra)
        return env

    def fake_client(self, name, body):
        """A stand-in for a hosting service's command-line client: records its arguments and what it posts."""
        path = os.path.join(self.bin, name)
        with open(path, "w") as f:
            f.write("#!/usr/bin/env bash\nset -euo pipefail\nstate=\"$FAKE_STATE\"\n"
                    f"printf '%s\\n' \"{name} $*\" >> \"$state/calls\"\n" + body)
        os.chmod(path, 0o755)
        self.state = os.path.join(self.work, "state")
        os.makedirs(self.state, exist_ok=True)
        return self.state

    def read(self, path):
        with open(path) as f:
            return f.read()

    def ci_file(self, path):
        """A CI file, loaded; its jobs run in self.repo, a checkout holding the example manifest."""
        self.repo = os.path.join(self.work, "repo")
        self.use_example_manifest(self.repo)
        with open(os.path.join(SOURCE, path)) as f:
            return yaml.safe_load(f)

    def use_example_manifest(self, repo, example="staging-mirrors-production.yaml"):
        os.makedirs(os.path.join(repo, "pgparity"), exist_ok=True)
        shutil.copy(os.path.join(SOURCE, "examples", example), os.path.join(repo, "pgparity", "manifest.yaml"))
        # The example's drain waits 30 s for quiet; nobody else uses these clusters.
        with open(os.path.join(repo, "pgparity", "manifest.yaml"), "a") as f:
            f.write("policy:\n  drain:\n    quiet_for: 0s\n")


def bash(script, cwd, env, timeout=300):
    return subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)


# --- GitHub Actions ------------------------------------------------------------

class GitHubActions(PairTest):
    workflow_path = os.path.join("examples", "integrations", "github-actions", "pgparity.yml")

    def setUp(self):
        super().setUp()
        self.workflow = self.ci_file(self.workflow_path)
        # gh: listing comments prints the id of ours (if posted); posting or editing records the body.
        self.fake_client("gh", r'''
args=("$@")
for i in "${!args[@]}"; do
  case "${args[$i]}" in
    --jq) [ -f "$state/comment_id" ] && cat "$state/comment_id"; exit 0 ;;
    --body-file) cp "${args[$((i+1))]}" "$state/comment.md"; echo 101 > "$state/comment_id"; exit 0 ;;
    body=@*) cp "${args[$i]#body=@}" "$state/comment.md"; echo edited >> "$state/edits"; exit 0 ;;
  esac
done
exit 1
''')

    def expression(self, text, outputs):
        """Evaluates the ${{ }} expressions this workflow uses; an unknown one fails the test."""
        values = {
            "secrets.PGPARITY_PROD_DSN": self.dsns["production"],
            "secrets.PGPARITY_STAGING_DSN": self.dsns["staging"],
            "secrets.PGPARITY_PROD_PLAN_DSN": self.plan_dsns["production"],
            "secrets.PGPARITY_STAGING_PLAN_DSN": self.plan_dsns["staging"],
            "vars.PGPARITY_ALLOWED_HOSTS": ", ".join(re.search(r"host=(\S+)", d).group(1) for d in self.dsns.values()),
            "github.token": "test-token",
            "github.event.pull_request.number": "7",
            "github.ref": "refs/pull/7/merge",
        }

        def one(match):
            name = match.group(1).strip()
            if name.startswith("steps."):
                _, step, _, key = name.split(".")
                return outputs.get(step, {}).get(key, "")
            self.assertIn(name, values, f"an expression this test does not know: {name}")
            return values[name]

        return re.sub(r"\$\{\{(.*?)\}\}", one, str(text))

    def run_job(self, name, event):
        """Runs a job's steps as the runner would; returns (failed step or None, outputs, logs)."""
        job = self.workflow["jobs"][name]
        self.assertEqual(job["if"], f"github.event_name == '{event}'")
        env = {k: self.expression(v, {}) for k, v in self.workflow["env"].items()}
        env.update({k: self.expression(v, {}) for k, v in job.get("env", {}).items()})
        env.update({"GITHUB_REPOSITORY": "acme/db-fleet", "GITHUB_EVENT_NAME": event, "FAKE_STATE": self.state,
                    "GITHUB_STEP_SUMMARY": os.path.join(self.work, "summary.md")})
        outputs, logs = {}, []
        for step in job["steps"]:
            if "uses" in step or step.get("id") == "install":
                continue  # actions from the marketplace, and the install of the binary under test
            output_file = os.path.join(self.work, "github_output")
            open(output_file, "w").close()
            step_env = dict(env, GITHUB_OUTPUT=output_file)
            step_env.update({k: self.expression(v, outputs) for k, v in step.get("env", {}).items()})
            result = bash(self.expression(step["run"], outputs), self.repo, self.environment(step_env))
            logs.append(f"--- {step.get('name')}: exit {result.returncode}\n{result.stdout}{result.stderr}")
            if "id" in step:
                outputs[step["id"]] = dict(line.split("=", 1) for line in self.read(output_file).split())
            if result.returncode != 0:
                return step.get("name"), outputs, "\n".join(logs)
        return None, outputs, "\n".join(logs)

    def test_the_workflow_plans_pull_requests_and_applies_merges_to_main(self):
        triggers = self.workflow[True]  # YAML 1.1 reads the key `on` as true
        self.assertIn("pgparity/**", triggers["pull_request"]["paths"])
        self.assertEqual(triggers["push"]["branches"], ["main"])
        self.assertEqual(self.workflow["permissions"]["pull-requests"], "write")

    def test_a_pull_request_gets_the_plan_as_one_comment_and_a_merge_applies_it(self):
        self.production.sql("CREATE EXTENSION postgis")
        self.production_runs_newer_extensions()
        failed, outputs, logs = self.run_job("plan", "pull_request")
        self.assertIsNone(failed, logs)
        self.assertEqual(outputs["plan"]["exit"], "2", logs)
        comment = self.read(os.path.join(self.state, "comment.md"))
        self.assertTrue(comment.startswith(MARKER), comment)
        self.assertIn('ALTER EXTENSION "hstore" UPDATE TO', comment)
        self.assertIn('CREATE EXTENSION "postgis"', comment)
        self.assertEqual(self.staging.version_of("hstore"), "1.4", "a pull request changes nothing")
        self.assertIn(MARKER, self.read(os.path.join(self.work, "summary.md")))

        failed, _, logs = self.run_job("apply", "push")
        self.assertIsNone(failed, logs)
        self.assert_staging_mirrors_production(("hstore", "postgis", "pg_stat_statements"))

        # The next push to the pull request edits the same comment instead of adding one.
        failed, outputs, logs = self.run_job("plan", "pull_request")
        self.assertIsNone(failed, logs)
        self.assertEqual(outputs["plan"]["exit"], "0", logs)
        self.assertEqual(self.read(os.path.join(self.state, "edits")).split(), ["edited"])
        self.assertIn("no changes", self.read(os.path.join(self.state, "comment.md")).lower())

    def test_a_blocked_plan_is_posted_and_fails_the_pull_request_check(self):
        self.production_runs_newer_extensions()
        # Staging no longer preloads the library the manifest wants preloaded: a blocker, never applied.
        self.staging.restart_without_preload()
        failed, outputs, logs = self.run_job("plan", "pull_request")
        self.assertEqual(failed, "Fail on blockers", logs)
        self.assertEqual(outputs["plan"]["exit"], "3", logs)
        comment = self.read(os.path.join(self.state, "comment.md"))
        self.assertIn("pg_stat_statements", comment)
        self.assertIn("Blocked", comment)
        self.assertEqual(self.staging.version_of("hstore"), "1.4")


# --- GitLab CI -------------------------------------------------------------------

class GitLabCI(PairTest):
    pipeline_path = os.path.join("examples", "integrations", "gitlab-ci", "gitlab-ci.yml")

    def setUp(self):
        super().setUp()
        self.pipeline = self.ci_file(self.pipeline_path)
        # curl to GitLab's notes API: records the URL and the note's body.
        self.fake_client("curl", r'''
for a in "$@"; do
  case "$a" in
    body@*) cp "${a#body@}" "$state/note.md" ;;
    http*) echo "$a" > "$state/url" ;;
  esac
done
''')

    def run_job(self, name, source, branch=None):
        job = self.pipeline[name]
        rule = job["rules"][0]["if"]
        self.assertIn(f'$CI_PIPELINE_SOURCE == "{source}"', rule)
        env = dict(self.pipeline["variables"])
        env.update({"CI_PIPELINE_SOURCE": source, "CI_DEFAULT_BRANCH": "main", "CI_COMMIT_BRANCH": branch or "",
                    "CI_API_V4_URL": "https://gitlab.example.com/api/v4", "CI_PROJECT_ID": "42",
                    "CI_MERGE_REQUEST_IID": "5", "PGPARITY_NOTE_TOKEN": "test-token", "FAKE_STATE": self.state,
                    "PGPARITY_PROD_DSN": self.dsns["production"], "PGPARITY_STAGING_DSN": self.dsns["staging"],
                    "PGPARITY_PROD_PLAN_DSN": self.plan_dsns["production"],
                    "PGPARITY_STAGING_PLAN_DSN": self.plan_dsns["staging"]})
        result = bash("\n".join(job["script"]), self.repo, self.environment(env))
        for artifact in job.get("artifacts", {}).get("paths", []):
            self.assertTrue(os.path.exists(os.path.join(self.repo, artifact)), f"artifact {artifact} of {name}")
        return result

    def test_a_merge_request_gets_the_plan_as_a_note_and_the_default_branch_applies_it(self):
        self.production_runs_newer_extensions()
        self.production.sql("CREATE EXTENSION postgis")
        plan = self.run_job("pgparity:plan", "merge_request_event")
        self.assertEqual(plan.returncode, 0, plan.stdout + plan.stderr)
        self.assertIn("changes planned", plan.stdout)
        self.assertEqual(self.read(os.path.join(self.state, "url")).strip(),
                         "https://gitlab.example.com/api/v4/projects/42/merge_requests/5/notes")
        self.assertTrue(self.read(os.path.join(self.state, "note.md")).startswith(MARKER))
        self.assertEqual(self.staging.version_of("hstore"), "1.4")

        apply = self.run_job("pgparity:apply", "push", branch="main")
        self.assertEqual(apply.returncode, 0, apply.stdout + apply.stderr)
        self.assertIn("every managed database matches the manifest", apply.stdout)
        self.assert_staging_mirrors_production(("hstore", "postgis", "pg_stat_statements"))

    def test_a_scheduled_pipeline_corrects_drift_and_leaves_its_metrics(self):
        self.production_runs_newer_extensions()
        self.production.sql("CREATE EXTENSION postgis")
        result = self.run_job("pgparity:reconcile", "schedule")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assert_staging_mirrors_production(("hstore", "postgis", "pg_stat_statements"))
        metrics = self.read(os.path.join(self.repo, "pgparity.prom"))
        self.assertIn('pgparity_reconcile_runs_total{result="applied"} 1', metrics)

    def test_a_blocked_merge_request_fails_its_job(self):
        self.production_runs_newer_extensions()
        self.production.sql("CREATE EXTENSION postgis")
        self.staging.restart_without_preload()
        plan = self.run_job("pgparity:plan", "merge_request_event")
        self.assertNotEqual(plan.returncode, 0)
        self.assertIn("the plan has blockers", plan.stdout)
        self.assertIn("pg_stat_statements", self.read(os.path.join(self.state, "note.md")))


# --- systemd -----------------------------------------------------------------------

class Systemd(PairTest):
    folder = os.path.join("examples", "integrations", "systemd")

    def unit(self, name):
        parser = configparser.ConfigParser(strict=False, interpolation=None)
        parser.optionxform = str
        parser.read(os.path.join(SOURCE, self.folder, name))
        return parser

    def test_the_timer_starts_the_service_every_five_minutes(self):
        timer = self.unit("pgparity-reconcile.timer")
        self.assertEqual(timer["Timer"]["Unit"], "pgparity-reconcile.service")
        self.assertEqual(timer["Install"]["WantedBy"], "timers.target")
        if shutil.which("systemd-analyze"):
            out = subprocess.run(["systemd-analyze", "calendar", "--iterations=2", timer["Timer"]["OnCalendar"]],
                                 capture_output=True, text=True)
            self.assertEqual(out.returncode, 0, out.stderr)
            self.assertIn("Next elapse", out.stdout)

    def test_each_start_fetches_the_manifest_from_git_and_keeps_the_last_good_when_the_repository_is_gone(self):
        self.production_runs_newer_extensions()
        service = self.unit("pgparity-reconcile.service")["Service"]
        self.assertEqual(service["Type"], "oneshot")
        self.assertEqual(service["StateDirectory"], "pgparity")
        # The repository the unit names, served over the network; systemd's folders are temporary ones.
        server = GitServer(self.work)
        self.addCleanup(server.stop)
        server.start()
        state = os.path.join(self.work, "var-lib-pgparity")
        os.makedirs(state, mode=0o700)  # StateDirectoryMode=0700
        textfiles = os.path.join(self.work, "node-exporter")
        os.makedirs(textfiles)
        paths = {"/usr/bin/pgparity": PGPARITY, "/var/lib/pgparity": state,
                 "/var/lib/prometheus/node-exporter": textfiles, GitServer.EXAMPLE_URL: server.url}
        words = shlex.split(service["ExecStart"])
        for real, here in paths.items():
            words = [here + w[len(real):] if w.startswith(real) else w for w in words]
        self.assertIn(server.url, words, "the unit fetches the manifest from git")
        manifest_path = words[words.index("--path") + 1]

        # EnvironmentFile: KEY=VALUE lines, as an operator writes them; the deploy token is never printed.
        self.assertEqual(service["EnvironmentFile"], "/etc/pgparity/env")
        token = "deploy-token-5f1e0c9a"
        env = self.environment({"PGPARITY_PROD_DSN": self.dsns["production"], "PGPARITY_STAGING_DSN": self.dsns["staging"],
                                "PGPARITY_GIT_USERNAME": "pgparity", "PGPARITY_GIT_PASSWORD": token,
                                "STATE_DIRECTORY": state})
        successes = {0} | {int(c) for c in service.get("SuccessExitStatus", "").split()}
        outputs = []

        def start():
            result = subprocess.run(words, env=env, capture_output=True, text=True, timeout=300)
            self.assertIn(result.returncode, successes, result.stderr)
            outputs.extend([result.stdout, result.stderr])
            return result

        base = ("apiVersion: pgparity/v1\ntargets:\n  production:\n    dsn: \"${PGPARITY_PROD_DSN}\"\n    role: reference\n"
                "  staging:\n    dsn: \"${PGPARITY_STAGING_DSN}\"\n    role: managed\n"
                "policy:\n  drain:\n    quiet_for: 0s\nextensions:\n  - name: hstore\n    version: reference\n")
        server.commit(manifest_path, base)
        start()
        self.assert_staging_mirrors_production(("hstore",))
        self.assertEqual(self.staging.version_of("pg_trgm"), "1.3", "not in the manifest yet")

        merged = server.commit(manifest_path, base + "  - name: pg_trgm\n    version: reference\n")
        start()
        self.assert_staging_mirrors_production()
        self.assertEqual(self.staging.sql("SELECT revision FROM pgparity.converged WHERE database = 'postgres'"), merged)
        metrics = self.read(os.path.join(textfiles, "pgparity.prom"))
        self.assertIn('pgparity_reconcile_runs_total{result="applied"} 1', metrics)
        self.assertIn(f'pgparity_last_applied_revision_info{{revision="{merged}"}} 1', metrics)
        self.assertFalse([f for f in os.listdir(textfiles) if f != "pgparity.prom"], "written atomically: no temp left")

        # The repository unreachable: the next start enforces the last good revision from the cache.
        server.stop()
        self.staging.sql("DROP EXTENSION pg_trgm; CREATE EXTENSION pg_trgm VERSION '1.3'")
        gone = start()
        self.assertIn(f"git: fetching main from {server.url} failed", gone.stderr)
        self.assertIn(f"enforcing the last good revision {merged}", gone.stderr)
        self.assert_staging_mirrors_production()
        outputs.append(self.read(os.path.join(textfiles, "pgparity.prom")))
        self.assertFalse([o for o in outputs if token in o], "the deploy token appears in no output")


# --- Kubernetes --------------------------------------------------------------------

class Kubernetes(PairTest):
    folder = os.path.join("examples", "integrations", "kubernetes")

    def setUp(self):
        super().setUp()
        self.objects = []
        for name in ("cronjob.yaml", "deployment.yaml"):
            with open(os.path.join(SOURCE, self.folder, name)) as f:
                self.objects += [o for o in yaml.safe_load_all(f) if o]
        self.secrets = {"pgparity-dsns": {"production": self.dsns["production"], "staging": self.dsns["staging"]},
                        "pgparity-git": {"username": "pgparity", "password": "deploy-token-5f1e0c9a",
                                         "webhook": "webhook-secret-0123456789"}}
        # The repository the containers name, served over the network, holding the fleet's manifest.
        self.server = GitServer(self.work)
        self.addCleanup(self.server.stop)
        self.server.start()
        self.manifest = ("apiVersion: pgparity/v1\ntargets:\n  production:\n    dsn: \"${PGPARITY_PROD_DSN}\"\n"
                         "    role: reference\n    databases: [\"*\"]\n  staging:\n    dsn: \"${PGPARITY_STAGING_DSN}\"\n"
                         "    role: managed\n    databases: [\"*\"]\nsettings:\n  ratios:\n"
                         "    - expr: \"work_mem / shared_buffers\"\n      match: reference\n      tolerance: 0.05\n"
                         "policy:\n  drain:\n    quiet_for: 0s\nextensions:\n  - name: hstore\n    version: reference\n")

    def find(self, kind, name):
        found = [o for o in self.objects if o["kind"] == kind and o["metadata"]["name"] == name]
        self.assertEqual(len(found), 1, f"{kind}/{name}")
        return found[0]

    def container(self, pod):
        """The pod's container as a command here: emptyDir volumes become folders, secretKeyRefs variables,
        and the repository's URL the local git daemon's."""
        (container,) = pod["containers"]
        mounts = {}
        for volume in pod["volumes"]:
            self.assertIn("emptyDir", volume, "the manifest comes from git, not from a volume")
            folder = os.path.join(self.work, "volume-" + volume["name"])
            os.makedirs(folder, exist_ok=True)
            os.chmod(folder, 0o777)  # as the kubelet makes an emptyDir
            mounts[volume["name"]] = folder
        paths = {m["mountPath"]: mounts[m["name"]] for m in container["volumeMounts"]}
        paths[GitServer.EXAMPLE_URL] = self.server.url
        args = []
        for a in container["args"]:
            for real, here in paths.items():
                a = here + a[len(real):] if a.startswith(real) else a
            args.append(a)
        self.assertIn(self.server.url, args, "the container fetches the manifest from git")
        env = {}
        for e in container["env"]:
            ref = e["valueFrom"]["secretKeyRef"]
            env[e["name"]] = self.secrets[ref["name"]][ref["key"]]
        return [PGPARITY] + args, self.environment(env)

    def push(self, args, text):
        """Commits `text` at the --path the container fetches; its revision."""
        return self.server.commit(args[args.index("--path") + 1], text)

    def test_the_cronjob_reconciles_once_and_never_overlaps(self):
        self.production_runs_newer_extensions()
        cronjob = self.find("CronJob", "pgparity-reconcile")
        self.assertEqual(cronjob["spec"]["concurrencyPolicy"], "Forbid")
        pod = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]
        self.assertEqual(pod["restartPolicy"], "Never")
        args, env = self.container(pod)
        self.push(args, self.manifest)
        result = subprocess.run(args, env=env, capture_output=True, text=True, timeout=300)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assert_staging_mirrors_production(("hstore",))
        merged = self.push(args, self.manifest + "  - name: pg_trgm\n    version: reference\n")
        result = subprocess.run(args, env=env, capture_output=True, text=True, timeout=300)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assert_staging_mirrors_production()
        self.assertEqual(self.staging.sql("SELECT revision FROM pgparity.converged WHERE database = 'postgres'"), merged)
        # A second scheduled run finds nothing to do.
        again = subprocess.run(args, env=env, capture_output=True, text=True, timeout=300)
        self.assertEqual(again.returncode, 0, again.stderr)
        self.assertIn('"message":"tick: converged"', again.stderr)

    def test_the_deployment_serves_its_probes_and_metrics_and_stops_on_sigterm(self):
        self.production_runs_newer_extensions()
        deployment = self.find("Deployment", "pgparity")
        pod = deployment["spec"]["template"]["spec"]
        args, env = self.container(pod)
        self.push(args, self.manifest)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        address = next(a for a in args if a.startswith("0.0.0.0:"))
        self.assertEqual(int(address.split(":")[1]), pod["containers"][0]["ports"][0]["containerPort"])
        args[args.index(address)] = f"127.0.0.1:{port}"  # loopback only in tests
        process = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            probe = pod["containers"][0]["livenessProbe"]["httpGet"]["path"]
            deadline = time.time() + 30
            metrics = ""
            while time.time() < deadline and 'result="applied"' not in metrics:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}{probe}", timeout=2) as r:
                        self.assertEqual(r.status, 200)
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as r:
                        metrics = r.read().decode()
                except OSError:
                    time.sleep(0.2)
            self.assertIn('pgparity_reconcile_runs_total{result="applied"} 1', metrics)
            self.assert_staging_mirrors_production(("hstore",))
            # A merge, and the repository's webhook: applied at once, not at the next 5-minute tick.
            merged = self.push(args, self.manifest + "  - name: pg_trgm\n    version: reference\n")
            body = b'{"ref":"refs/heads/main"}'
            signature = "sha256=" + hmac.new(env["PGPARITY_WEBHOOK_SECRET"].encode(), body, hashlib.sha256).hexdigest()
            hook = urllib.request.Request(f"http://127.0.0.1:{port}/hook", data=body, method="POST",
                                          headers={"X-Hub-Signature-256": signature})
            with urllib.request.urlopen(hook, timeout=5) as r:
                self.assertEqual(r.status, 202)
            deadline = time.time() + 60
            while time.time() < deadline and 'result="applied"} 2' not in metrics:
                time.sleep(0.2)
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as r:
                    metrics = r.read().decode()
            self.assertIn(f'pgparity_last_applied_revision_info{{revision="{merged}"}} 1', metrics)
            self.assert_staging_mirrors_production()
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as r:
                self.assertIn(merged, r.read().decode(), "the status page names the commit in force")
        finally:
            process.send_signal(signal.SIGTERM)
            _, err = process.communicate(timeout=pod["terminationGracePeriodSeconds"])
        self.assertEqual(process.returncode, 0, err)


if __name__ == "__main__":
    PGPARITY, SOURCE = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    unittest.main(argv=[sys.argv[0]] + sys.argv[3:], verbosity=2)
