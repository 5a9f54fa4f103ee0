"""One scenario per rule: the same chart installed by real Helm 3, without and with `--post-renderer zdrender`,
then rolled (or just loaded) under bounded HTTP load, and what failed counted.

A run installs the chart into a namespace of its own, waits until its Service answers, flushes
conntrack (stale entries to dead pod IPs from an earlier run would fail requests of this one), starts
the load generator on this node (a new connection per request, to the Service's ClusterIP: traffic
never leaves the machine), and `helm upgrade`s to a new version while the load runs. The load stops by
itself after a fixed number of requests; the namespace is deleted after the run.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from . import images, node
from .node import NodeError, Paths, kubectl

ROOT = Path(__file__).resolve().parent.parent
CHART = Path(__file__).resolve().parent / "chart"
RESULTS = ROOT / ".cluster-results"
KUBE_VERSION = "1.34"  # the node's minor: zdrender targets what the node runs


@dataclass(frozen=True)
class Scenario:
    id: str
    title: str
    rule: str  # the zdrender rule the scenario proves
    why: str  # what goes wrong without the rule, in one sentence
    values: dict[str, Any]
    zdrender_args: tuple[str, ...] = ()
    action: str = "upgrade"  # upgrade | steady (load only, no rollout) | delete (delete one pod under load)
    rps: int = 100
    seconds: int = 20
    action_at: float = 3.0
    timeout_s: float = 5.0


@dataclass
class Run:
    scenario: str
    variant: str  # without | with
    sent: int
    ok: int
    failed: int
    by_cause: dict[str, int]
    by_second: list[dict[str, Any]]
    restarts: int
    action_at_s: float
    action_done_s: float
    first_failure_s: float | None
    last_failure_s: float | None
    seconds_without_serving: int  # whole seconds in which no request succeeded
    termination_s: float | None = None  # how long the deleted pod took to go (delete scenarios)
    findings: list[str] = field(default_factory=list)  # what `zdrender check` said about the chart
    patch_paths: list[str] = field(default_factory=list)  # the JSON pointers zdrender changed

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


SCENARIOS: dict[str, Scenario] = {
    s.id: s
    for s in (
        Scenario(
            "prestop-sleep",
            "2 replicas behind a Service, default strategy, rolling update",
            "prestop-sleep",
            "the kubelet sends SIGTERM while kube-proxy still routes new connections to the pod",
            {"replicas": 2},
        ),
        Scenario(
            "ingress-controller",
            "1 replica, maxSurge 0 / maxUnavailable 1 (the talk's ingress controller)",
            "rollout",
            "the only pod is taken away before its replacement is ready",
            {"replicas": 1, "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 0, "maxUnavailable": 1}}},
        ),
        Scenario(
            "probes",
            "3 replicas, liveness identical to readiness (failureThreshold 1), the app stalls 3.5 s under load, replicas in turn; no rollout",
            "probe-balance",
            "a stall fails a readiness check (a breather: the other replicas serve) and the identical liveness check restarts the container",
            {
                "kind": "StatefulSet",  # ordinals give each replica its own stall slot, so they never stall together
                "replicas": 3,
                "app": {
                    "env": {"STALL_EVERY_S": "18", "STALL_SLOT_S": "6", "STALL_FOR_MS": "3500"},
                    "readinessProbe": {"httpGet": {"path": "/healthz", "port": "http"}, "periodSeconds": 2, "timeoutSeconds": 1, "failureThreshold": 1},
                    "livenessProbe": {"httpGet": {"path": "/healthz", "port": "http"}, "periodSeconds": 2, "timeoutSeconds": 1, "failureThreshold": 1},
                },
            },
            action="steady",
            seconds=40,
        ),
        Scenario(
            "sidecar",
            "2 replicas, every request goes through a Cloud SQL proxy-like sidecar that exits on SIGTERM; the app already sleeps 5 s in preStop",
            "sidecars",
            "the proxy exits at SIGTERM while the app still serves and drains through it",
            {"replicas": 2, "proxy": {"enabled": True}, "app": {"lifecycle": {"preStop": {"sleep": {"seconds": 5}}}}},
        ),
        Scenario(
            "native-sidecar",
            "the same proxy moved to a native sidecar by zdrender (sidecar-mode=native)",
            "sidecars",
            "the proxy exits at SIGTERM while the app still serves and drains through it",
            {"replicas": 2, "proxy": {"enabled": True}, "app": {"lifecycle": {"preStop": {"sleep": {"seconds": 5}}}}},
            zdrender_args=("--set", "sidecar-mode=native"),
        ),
        Scenario(
            "stop-signal",
            "an app that drains on SIGQUIT and stops at once on SIGTERM (like nginx), requests 6 s long, 5 s preStop sleep in the chart",
            "signals",
            "SIGTERM makes the app exit with requests in flight",
            {
                "replicas": 2,
                "app": {"env": {"DRAIN_SIGNAL": "SIGQUIT", "DELAY_MS": "6000"}, "os": "linux", "lifecycle": {"preStop": {"sleep": {"seconds": 5}}}},
            },
            zdrender_args=("--set", "stop-signals=zdrender-test/app=SIGQUIT", "--set", "feature-gates=ContainerStopSignals=true"),
            rps=40,
            timeout_s=10.0,
        ),
        Scenario(
            "shell-entrypoint",
            "the app started by `sh -c` that does not exec it: SIGTERM never reaches it; one pod deleted under load",
            "signals",
            "the shell as PID 1 ignores SIGTERM, so the pod always takes its whole grace period and dies by SIGKILL",
            {"replicas": 2, "image": "localhost/zdrender-test/shell-app:1", "app": {"command": ["/bin/sh", "-c", "/web; echo web stopped"]}},
            action="delete",
            seconds=40,
        ),
        Scenario(
            "recreate",
            "1 replica, strategy Recreate",
            "prestop-sleep",
            "Recreate stops every old pod before a new one starts: an outage whatever the hooks",
            {"replicas": 1, "strategy": {"type": "Recreate"}},
            seconds=25,
        ),
        Scenario(
            "recreate-eviction",
            "1 replica, strategy Recreate, its pod deleted as a node drain would (the ReplicaSet replaces it at once)",
            "prestop-sleep",
            "the pod stops serving at once while its replacement is still starting",
            {"replicas": 1, "strategy": {"type": "Recreate"}},
            action="delete",
            seconds=25,
        ),
        Scenario(
            "statefulset",
            "a 1-replica StatefulSet (rolling update deletes the pod before creating its successor); zdrender adds no sleep here",
            "prestop-sleep",
            "the only pod is deleted before its successor exists: an outage whatever the hooks, which a sleep would only postpone",
            {"replicas": 1, "kind": "StatefulSet"},
            seconds=25,
        ),
    )
}


# -- tools -----------------------------------------------------------------------------------------------
def _binary(local: Path, name: str, hint: str) -> str:
    """The project's own copy first, then PATH."""
    found = str(local) if local.exists() else shutil.which(name)
    if not found:
        raise NodeError(f"{name} is not installed: {hint}")
    return found


def helm_binary() -> str:
    return _binary(ROOT / ".tools" / "bin" / "helm3", "helm", "run scripts/install-test-tools.sh")


def zdrender_binary() -> str:
    return _binary(ROOT / ".venv" / "bin" / "zdrender", "zdrender", "pip install -e . (or run .ci/run)")


class Helm:
    """Real Helm 3 against the node, with its own config and cache folders (the user's are left alone)."""

    def __init__(self, paths: Paths, namespace: str) -> None:
        self.paths = paths
        self.namespace = namespace
        self.home = Path(tempfile.mkdtemp(prefix="zdrender-helm-"))

    def __call__(self, *args: str, zdrender: tuple[str, ...] | None = None, timeout: float = 240) -> subprocess.CompletedProcess[str]:
        argv = [helm_binary(), *args, "--kubeconfig", str(self.paths.kubeconfig), "--namespace", self.namespace]
        if zdrender is not None:
            argv += ["--post-renderer", zdrender_binary()]
            for arg in (f"--kube-version={KUBE_VERSION}", *zdrender):
                argv += ["--post-renderer-args", arg]
        env = dict(os.environ, HELM_CONFIG_HOME=str(self.home / "config"), HELM_CACHE_HOME=str(self.home / "cache"), HELM_DATA_HOME=str(self.home / "data"))
        proc = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=timeout, check=False)
        if proc.returncode != 0:
            raise NodeError(f"helm {args[0]} failed: {proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else proc.returncode}")
        return proc

    def close(self) -> None:
        shutil.rmtree(self.home, ignore_errors=True)


@contextlib.contextmanager
def fresh_namespace(paths: Paths, namespace: str) -> Iterator[Helm]:
    """A namespace of the run's own (a leftover of an earlier run is deleted first) and Helm bound to it;
    afterwards its pods go at once (they need not drain) and the namespace is deleted without waiting."""
    helm = Helm(paths, namespace)
    try:
        kubectl(paths, "delete", "namespace", namespace, "--ignore-not-found", "--wait=true", "--timeout=120s", timeout=150)
        kubectl(paths, "create", "namespace", namespace)
        yield helm
    finally:
        helm.close()
        kubectl(paths, "delete", "pods", "--all", "-n", namespace, "--grace-period=0", "--force", "--wait=false", check=False)
        kubectl(paths, "delete", "namespace", namespace, "--wait=false", check=False)


def set_args(values: dict[str, Any]) -> list[str]:
    """Chart values as `--set-json` arguments (one per top-level key)."""
    out = []
    for key, value in values.items():
        out += ["--set-json", f"{key}={json.dumps(value)}"]
    return out


def merged(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        out[key] = merged(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


# -- one run -------------------------------------------------------------------------------------------------
def wait_serving(url: str, request_timeout: float, timeout: float = 60) -> None:
    """Until the Service answers through kube-proxy's rules (they trail the endpoints by up to a second)."""
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=request_timeout) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise NodeError(f"{url} did not answer within {timeout:.0f}s")


def pods(paths: Paths, namespace: str, selector: str = "app.kubernetes.io/name=proof") -> list[dict[str, Any]]:
    out = kubectl(paths, "get", "pods", "-n", namespace, "-l", selector, "-o", "json").stdout
    return list(json.loads(out)["items"])


def restarts(paths: Paths, namespace: str) -> int:
    return sum(int(cs.get("restartCount", 0)) for p in pods(paths, namespace) for cs in p.get("status", {}).get("containerStatuses", []) or [])


def zdrender_view(scenario: Scenario, values: dict[str, Any], helm: Helm) -> tuple[list[str], list[str]]:
    """What `zdrender check` says about the rendered chart, and the paths its patch changes (each
    finding's JSON carries its share of the patch, so one run gives both)."""
    rendered = helm("template", "web", str(CHART), *set_args(values)).stdout
    argv = [zdrender_binary(), "check", "--format", "json", f"--kube-version={KUBE_VERSION}", *scenario.zdrender_args, "-"]
    check = subprocess.run(argv, input=rendered, capture_output=True, text=True, timeout=60, check=False)
    try:
        found = json.loads(check.stdout).get("findings", [])
    except (json.JSONDecodeError, AttributeError):
        return [check.stdout.strip() or check.stderr.strip()], []
    findings = [f"{f.get('severity')} {f.get('rule')}: {f.get('message')}" for f in found]
    patch_paths = [f"{f.get('kind')}/{f.get('name')} {op['op']} {op['path']}" for f in found for op in f.get("patch") or []]
    return findings, patch_paths


def run_once(paths: Paths, scenario: Scenario, variant: str) -> Run:
    namespace = f"zd-{scenario.id}-{variant}"[:63]
    zd = scenario.zdrender_args if variant == "with" else None
    values = dict(scenario.values)
    with fresh_namespace(paths, namespace) as helm:
        findings, patch_paths = zdrender_view(scenario, values, helm)
        helm("install", "web", str(CHART), "--wait", "--timeout", "120s", *set_args(values), zdrender=zd)
        ip = kubectl(paths, "get", "svc", "web", "-n", namespace, "-o", "jsonpath={.spec.clusterIP}").stdout
        url = f"http://{ip}/"
        wait_serving(url, scenario.timeout_s)
        node.sh("conntrack", "-F", check=False)
        time.sleep(0.5)
        before_restarts = restarts(paths, namespace)

        action_times: dict[str, float] = {}
        errors: list[BaseException] = []
        start = time.monotonic()

        def act() -> None:
            try:
                time.sleep(scenario.action_at)
                action_times["at"] = time.monotonic() - start
                if scenario.action == "upgrade":
                    helm("upgrade", "web", str(CHART), "--wait", "--timeout", "180s", *set_args(merged(values, {"version": "2"})), zdrender=zd)
                elif scenario.action == "delete":
                    victim = min(p["metadata"]["name"] for p in pods(paths, namespace))
                    t0 = time.monotonic()
                    kubectl(paths, "delete", "pod", victim, "-n", namespace, "--wait=true", "--timeout=180s", timeout=200)
                    action_times["termination"] = time.monotonic() - t0
                action_times["done"] = time.monotonic() - start
            except BaseException as exc:
                errors.append(exc)

        actor = threading.Thread(target=act, daemon=True)
        load = subprocess.Popen(
            [str(images.load_generator(paths)), "-url", url, "-rps", str(scenario.rps), "-duration", f"{scenario.seconds}s", "-timeout", f"{scenario.timeout_s}s"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        if scenario.action != "steady":
            actor.start()
        try:
            out, err = load.communicate(timeout=scenario.seconds + scenario.timeout_s + 30)
        except subprocess.TimeoutExpired:
            load.kill()
            raise NodeError(f"the load generator did not stop by itself within {scenario.seconds + scenario.timeout_s + 30:.0f}s") from None
        if actor.is_alive():
            actor.join(timeout=240)
        if errors:
            raise errors[0]
        if load.returncode != 0:
            raise NodeError(f"the load generator exited {load.returncode}: {err.strip()[-300:]}")
        report = json.loads(out)
        by_second = report.get("by_second") or []
        return Run(
            scenario=scenario.id,
            variant=variant,
            sent=report["sent"],
            ok=report["ok"],
            failed=report["failed"],
            by_cause={k: v for k, v in (report.get("by_cause") or {}).items() if v},
            by_second=by_second,
            restarts=restarts(paths, namespace) - before_restarts,
            action_at_s=round(action_times.get("at", 0.0), 2),
            action_done_s=round(action_times.get("done", 0.0), 2),
            first_failure_s=report.get("first_failure_s"),
            last_failure_s=report.get("last_failure_s"),
            seconds_without_serving=sum(1 for s in by_second if s.get("sent") and not s.get("ok")),
            termination_s=round(action_times["termination"], 1) if "termination" in action_times else None,
            findings=findings,
            patch_paths=patch_paths,
        )


def save(run: Run) -> Path:
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"{run.scenario}.{run.variant}.json"
    out.write_text(json.dumps(run.as_dict(), indent=1))
    return out


def run_scenarios(ids: list[str] | None = None) -> list[Run]:
    paths = node.default_paths()
    if not node.is_up(paths):
        node.up(paths)
    results = []
    for sid in ids or list(SCENARIOS):
        if sid not in SCENARIOS:
            raise NodeError(f"no scenario {sid!r}; known: {', '.join(SCENARIOS)}")
        for variant in ("without", "with"):
            run = run_once(paths, SCENARIOS[sid], variant)
            save(run)
            results.append(run)
            print(summary_line(run), flush=True)
    return results


def summary_line(run: Run) -> str:
    causes = ", ".join(f"{k} {v}" for k, v in sorted(run.by_cause.items())) or "-"
    extra = f", pod gone after {run.termination_s}s" if run.termination_s is not None else ""
    return (
        f"{run.scenario:<18} {run.variant:<7} sent {run.sent:>5}  failed {run.failed:>4} ({causes})  restarts {run.restarts}  "
        f"seconds without a serving pod {run.seconds_without_serving}  action {run.action_at_s}-{run.action_done_s}s{extra}"
    )


# -- helm upgrade of an installed release -------------------------------------------------------------
@dataclass
class UpgradeStep:
    name: str
    post_renderer: bool
    template_hash: str  # the Deployment's current pod-template-hash
    generation: int
    replica_sets: int
    job_template: dict[str, Any]  # the plain Job's pod template as the API server holds it
    hook_ran: bool


def upgrade_sequence(paths: Paths) -> list[UpgradeStep]:
    """Install without zdrender, then `helm upgrade` with it twice: the second must change nothing."""
    namespace = "zd-helm-upgrade"
    values = set_args({"replicas": 2, "hook": True, "job": True})
    steps = []
    with fresh_namespace(paths, namespace) as helm:
        for name, command, zd in (
            ("install without zdrender", "install", None),
            ("upgrade with zdrender", "upgrade", ()),
            ("upgrade with zdrender again", "upgrade", ()),
        ):
            helm(command, "web", str(CHART), "--wait", "--wait-for-jobs", "--timeout", "180s", *values, zdrender=zd)
            deploy = json.loads(kubectl(paths, "get", "deployment", "web", "-n", namespace, "-o", "json").stdout)
            sets = json.loads(kubectl(paths, "get", "replicasets", "-n", namespace, "-l", "app.kubernetes.io/name=proof", "-o", "json").stdout)["items"]
            current = [s for s in sets if int(s["spec"].get("replicas") or 0) > 0]
            job = json.loads(kubectl(paths, "get", "job", "web-once", "-n", namespace, "-o", "json").stdout)
            hook = kubectl(paths, "get", "job", "web-migrate", "-n", namespace, "-o", "name", check=False)
            steps.append(
                UpgradeStep(
                    name=name,
                    post_renderer=zd is not None,
                    template_hash=current[0]["metadata"]["labels"].get("pod-template-hash", "") if len(current) == 1 else "",
                    generation=int(deploy["metadata"]["generation"]),
                    replica_sets=len(sets),
                    job_template=job["spec"]["template"],
                    hook_ran=hook.returncode == 0,
                )
            )
        return steps
