"""Give liveness probes more patience than readiness probes.

Readiness takes an overloaded or starting pod out of rotation; liveness restarts it. When liveness
gives up as fast as readiness (or faster), a traffic spike or a slow dependency restarts pods that
only needed a breather, and the restarts pile more load on the survivors. So a container's liveness
probe is made slower than its readiness probe: a longer period, a longer failure window, a timeout
at least as long, and no judging before readiness could have given up at start-up (or a startupProbe
that covers that time), and never a restart on a single failed check: from the first failed check to
the restart takes (failureThreshold - 1) x periodSeconds, so with a failureThreshold of 1 one slow
answer restarts the container whatever the period (measured on a real node: with liveness identical to
readiness at failureThreshold 1, 3.5 s stalls under load restarted containers 6 times in 45 s; with
only the period doubled, still 3 times; with failureThreshold 2 as well, never; docs/proof.md, probes).
Values are only ever raised. Only main containers are judged: the probes of
known sidecars (Envoy, istio-proxy, Cloud SQL proxy, ...) are tuned by their vendors. Jobs and
CronJobs are skipped: their pods take no traffic, so readiness decides nothing there.

Examples (each one run by tests/test_rule_examples.py with this rule alone):

FAIL: liveness identical to readiness

    {apiVersion: v1, kind: Service, metadata: {name: web}, spec: {selector: {app: web}, ports: [{port: 80}]}}
    ---
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: web}
    spec:
      replicas: 2
      selector: {matchLabels: {app: web}}
      template:
        metadata:
          labels: {app: web}
        spec:
          containers:
          - name: web
            image: example/web:1
            readinessProbe: {httpGet: {path: /healthz, port: 8080}}
            livenessProbe: {httpGet: {path: /healthz, port: 8080}}

PASS: liveness slower than readiness

    {apiVersion: v1, kind: Service, metadata: {name: web}, spec: {selector: {app: web}, ports: [{port: 80}]}}
    ---
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: web}
    spec:
      replicas: 2
      selector: {matchLabels: {app: web}}
      template:
        metadata:
          labels: {app: web}
        spec:
          containers:
          - name: web
            image: example/web:1
            readinessProbe: {httpGet: {path: /ready, port: 8080}, periodSeconds: 5}
            livenessProbe: {httpGet: {path: /healthz, port: 8080}, initialDelaySeconds: 30, periodSeconds: 10, failureThreshold: 6}
"""

from __future__ import annotations

import copy
import math
from typing import Any

from ..finding import Finding
from ..kube import PROBE_DEFAULTS
from ..settings import Knob
from ..workload import Container, Probe, as_dict, as_list
from .base import RuleContext, Workload

ID = "probe-balance"
SUMMARY = "Make liveness probes slower than readiness probes so overload takes a pod out of rotation instead of restarting it."
REMEDIATION = "Make the liveness probe slower and more tolerant than readiness (longer period, more failures), or give it a different handler."
KNOBS = (
    Knob(
        "probe-period-factor",
        2,
        "Liveness periodSeconds >= this x readiness periodSeconds.",
        minimum=1,
        per_workload=True,
    ),
    Knob(
        "probe-window-factor",
        2,
        "Liveness periodSeconds x failureThreshold >= this x readiness's.",
        minimum=1,
        per_workload=True,
    ),
    Knob(
        "probe-delay-factor",
        2,
        "Without a startupProbe: liveness initialDelaySeconds >= this x (readiness initialDelaySeconds + periodSeconds x failureThreshold).",
        minimum=1,
        per_workload=True,
    ),
    Knob(
        "probe-startup",
        False,
        "Cover start-up with an added startupProbe (liveness's handler) instead of raising liveness initialDelaySeconds.",
        kind="bool",
        per_workload=True,
    ),
)
KINDS = frozenset({"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Pod", "Rollout"})
MIN_LIVENESS_FAILURES = 2  # a single slow answer must never restart the container


def _port(value: Any, container: Container) -> Any:
    """A named port as its number, so `port: http` and `port: 8080` compare equal."""
    if isinstance(value, str):
        for p in container.ports:
            if p.get("name") == value and isinstance(p.get("containerPort"), int):
                return p["containerPort"]
    return value


def comparable_handler(probe: Probe, container: Container) -> dict[str, Any]:
    """The probe's handler with API defaults filled in (scheme HTTP, path /, host pod IP, no headers)."""
    result: dict[str, Any] = {}
    for key, value in probe.handler.items():
        value = as_dict(value) if key in ("httpGet", "tcpSocket", "grpc", "exec") else value
        if key == "httpGet":
            headers = [h for h in as_list(value.get("httpHeaders")) if isinstance(h, dict)]
            value = {
                "path": value.get("path") or "/",
                "port": _port(value.get("port"), container),
                "scheme": str(value.get("scheme") or "HTTP").upper(),
                "host": value.get("host") or "",
                "headers": sorted((str(h.get("name", "")).lower(), str(h.get("value", ""))) for h in headers),
            }
        elif key == "tcpSocket":
            value = {"port": _port(value.get("port"), container), "host": value.get("host") or ""}
        elif key == "grpc":
            value = {"port": value.get("port"), "service": value.get("service") or ""}
        elif key == "exec":
            value = [str(c) for c in as_list(value.get("command"))]
        result[key] = value
    return result


def balanced_liveness(live: Probe, ready: Probe, has_startup: bool, settings: Any) -> tuple[dict[str, int], list[str], int]:
    """Liveness timing raised to balance readiness, the reasons, and the start-up window to cover."""
    timing = dict(live.timing)
    reasons = []
    period = settings["probe-period-factor"] * ready["periodSeconds"]
    if timing["periodSeconds"] < period:
        reasons.append(f"periodSeconds {timing['periodSeconds']} -> {period} ({settings['probe-period-factor']} x readiness's {ready['periodSeconds']})")
        timing["periodSeconds"] = period
    ready_window = ready["periodSeconds"] * ready["failureThreshold"]
    window = settings["probe-window-factor"] * ready_window
    if timing["periodSeconds"] * timing["failureThreshold"] < window:
        threshold = math.ceil(window / timing["periodSeconds"])
        reasons.append(
            f"failureThreshold {timing['failureThreshold']} -> {threshold} (restarts after {timing['periodSeconds'] * threshold}s of failures, "
            f">= {settings['probe-window-factor']} x readiness's {ready_window}s)"
        )
        timing["failureThreshold"] = threshold
    if timing["failureThreshold"] < MIN_LIVENESS_FAILURES:
        reasons.append(f"failureThreshold {timing['failureThreshold']} -> {MIN_LIVENESS_FAILURES} (one failed check must not restart it)")
        timing["failureThreshold"] = MIN_LIVENESS_FAILURES
    if timing["timeoutSeconds"] < ready["timeoutSeconds"]:
        reasons.append(f"timeoutSeconds {timing['timeoutSeconds']} -> {ready['timeoutSeconds']} (readiness's)")
        timing["timeoutSeconds"] = ready["timeoutSeconds"]
    startup_window = settings["probe-delay-factor"] * (ready["initialDelaySeconds"] + ready_window)
    if has_startup or timing["initialDelaySeconds"] >= startup_window:
        startup_window = 0
    elif not settings["probe-startup"]:
        reasons.append(
            f"initialDelaySeconds {timing['initialDelaySeconds']} -> {startup_window} ({settings['probe-delay-factor']} x readiness's {ready['initialDelaySeconds']}s delay + {ready_window}s to fail)"
        )
        timing["initialDelaySeconds"] = startup_window
        startup_window = 0
    return timing, reasons, startup_window


def startup_probe(live: Probe, ready: Probe, timeout: int, window: int) -> dict[str, Any]:
    """Liveness's handler, polled at readiness's pace for `window` seconds (readiness waits for it)."""
    probe = copy.deepcopy(live.handler)
    period = ready["periodSeconds"]
    probe["periodSeconds"] = period
    probe["failureThreshold"] = math.ceil(window / period)
    if timeout != PROBE_DEFAULTS["timeoutSeconds"]:
        probe["timeoutSeconds"] = timeout
    return probe


def _slow_check(container: Container, which: str, timing: dict[str, int], path: str) -> Finding | None:
    if timing["timeoutSeconds"] < timing["periodSeconds"]:
        return None
    message = (
        f'container "{container.name}": {which} probe timeoutSeconds {timing["timeoutSeconds"]} >= periodSeconds {timing["periodSeconds"]}: '
        "a check that hangs is only judged after the next one was due; keep timeoutSeconds below periodSeconds"
    )
    return Finding(ID, "warning", message, path=path)


def plan_container(container: Container, ctx: RuleContext) -> list[Finding]:
    live, ready, startup = (container.probe(w) for w in ("liveness", "readiness", "startup"))
    findings = []
    live_path = f"{container.pointer}/livenessProbe"
    live_timing = live.timing if live else None
    if live is not None and ready is not None:
        if live.timing == ready.timing and comparable_handler(live, container) == comparable_handler(ready, container):
            findings.append(
                Finding(
                    ID,
                    "warning",
                    f'container "{container.name}": liveness and readiness probes are identical, so whatever takes the pod out of '
                    "rotation (overload, a dependency down) also restarts it; point liveness at a check of the process alone",
                    path=live_path,
                )
            )
        live_timing, reasons, startup_window = balanced_liveness(live, ready, startup is not None, ctx.settings)
        ops = [ctx.set(f"{live_path}/{key}", value) for key, value in live_timing.items() if value != live[key]]
        if ops:
            message = f'container "{container.name}": liveness ' + ", ".join(reasons) + ", so readiness gives up first"
            findings.append(Finding(ID, "warning", message, ops=ops, path=live_path))
        if startup_window:
            probe = startup_probe(live, ready, live_timing["timeoutSeconds"], startup_window)
            path = f"{container.pointer}/startupProbe"
            startup = Probe(probe)
            message = (
                f'container "{container.name}": added a startupProbe (liveness\'s check every {probe["periodSeconds"]}s, '
                f"{probe['failureThreshold']} failures allowed = {probe['periodSeconds'] * probe['failureThreshold']}s) so liveness "
                f"only starts judging after the {startup_window}s readiness may need at start-up"
            )
            findings.append(Finding(ID, "warning", message, ops=[ctx.set(path, probe)], path=path))
    for which, timing in (("liveness", live_timing), ("readiness", ready and ready.timing), ("startup", startup and startup.timing)):
        if timing:
            slow = _slow_check(container, which, timing, f"{container.pointer}/{which}Probe")
            if slow:
                findings.append(slow)
    return findings


def plan(workload: Workload, ctx: RuleContext) -> list[Finding]:
    if workload.kind not in KINDS:
        return []
    return [f for c in workload.main_containers for f in plan_container(c, ctx)]
