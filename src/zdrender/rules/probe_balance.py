"""Give liveness probes more patience than readiness probes.

Readiness takes an overloaded or starting pod out of rotation; liveness restarts it. When liveness
gives up as fast as readiness (or faster), a traffic spike or a slow dependency restarts pods that
only needed a breather, and the restarts pile more load on the survivors. So a container's liveness
probe is made slower than its readiness probe: a longer period, a longer failure window, a timeout
at least as long, and never a restart on a single failed check: from the first failed check to the
restart takes (failureThreshold - 1) x periodSeconds, so with a failureThreshold of 1 one slow answer
restarts the container whatever the period (measured on a real node: with liveness identical to
readiness at failureThreshold 1, 3.5 s stalls under load restarted containers 6 times in 45 s; with
only the period doubled, still 3 times; with failureThreshold 2 as well, never; docs/proof.md, probes).
Values are only ever raised.

Liveness must not judge a starting container before readiness could have given up on it either
(`probe-delay-factor` x (readiness initialDelaySeconds + its window)). Up to `max-liveness-delay`
(60 s) that is a longer liveness initialDelaySeconds; beyond it a long delay costs more than it
saves, since liveness is blind for that long after every start, so a hang early in a container's
life goes unnoticed: bitnami's kafka would go from 10 to 130 s, etcd's from 60 to 220 s (linkerd's
from 10 to 140 s, issue 12). There the container gets a startupProbe instead, with liveness's handler
copied exactly: the kubelet runs liveness and readiness only once it has passed, so the start-up
window is covered without delaying restarts later. It polls at readiness's period (it gates
readiness, so a longer one would add to every start; a second above its timeout if that is longer) for
as long as readiness needed, or as long as the chart's liveness let the container start if that was
longer (it never kills a start the chart allowed). 60 s is what the default probes need (2 x the 30 s
of readiness's default window): those keep the one-number change, and anything longer means readiness
itself expects a slow start, which is what a startupProbe is for. In the corpus 32 containers get a
startupProbe and 14 a longer delay. A container with its own startupProbe is left to it.
`probe-startup` adds a startupProbe whatever the delay.

Warnings without a patch: liveness and readiness running the same check (whatever takes the pod out
of rotation also restarts it, however the timings differ), a liveness that lets a hung container
run for 2 minutes or more before restarting it (periodSeconds x failureThreshold + timeoutSeconds,
as written or as balanced), and a timeoutSeconds not below periodSeconds. Only main containers are
judged: the probes of known sidecars (Envoy, istio-proxy, Cloud SQL proxy, ...) are tuned by their
vendors. Jobs and CronJobs are skipped: their pods take no traffic, so readiness decides nothing there.

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

from ..finding import Finding
from ..kube import PROBE_DEFAULTS
from ..settings import Knob
from ..workload import Container, Probe, as_dict, as_list
from .base import RuleContext, Workload

TYPE_CHECKING = False  # typing's, without importing typing on the render path (record.py says why)
if TYPE_CHECKING:
    from typing import Any

ID = "probe-balance"
SUMMARY = "Make liveness probes slower than readiness probes so overload takes a pod out of rotation instead of restarting it."
REMEDIATION = "Make the liveness probe slower and more tolerant than readiness (longer period, more failures), give it a different handler, and cover a slow start with a startupProbe."
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
        "Without a startupProbe: liveness starts judging no sooner than this x (readiness initialDelaySeconds + periodSeconds x failureThreshold).",
        minimum=1,
        per_workload=True,
    ),
    Knob(
        "max-liveness-delay",
        60,
        "Longest liveness initialDelaySeconds the rule writes; when start-up needs longer, it adds a startupProbe with liveness's handler instead.",
        minimum=0,
        per_workload=True,
    ),
    Knob(
        "probe-startup",
        False,
        "Always cover start-up with an added startupProbe (liveness's handler) instead of raising liveness initialDelaySeconds, whatever max-liveness-delay allows.",
        kind="bool",
        per_workload=True,
    ),
)
KINDS = frozenset({"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Pod", "Rollout"})
MIN_LIVENESS_FAILURES = 2  # a single slow answer must never restart the container
LONG_LIVENESS_SECONDS = 120  # a liveness that lets a hung container run this long (or longer) is warned about


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


def _failures(n: int) -> str:
    return f"{n} failure" + ("" if n == 1 else "s")


def _short_of(what: str, live: int, ready: int, factor: int) -> str:
    """A liveness duration against the `factor` x readiness's it should reach, in words."""
    how = "as readiness does" if live == ready else f"less than readiness's {ready}s" if live < ready else f"less than {factor} x readiness's {ready}s"
    return f"{what} {live}s ({how})"


def balanced_liveness(live: Probe, ready: Probe, settings: Any) -> tuple[dict[str, int], list[str]]:
    """Liveness timing raised so readiness gives up first under load, and what was wrong with it."""
    timing = dict(live.timing)
    wrong = []
    period_factor, window_factor = settings["probe-period-factor"], settings["probe-window-factor"]
    period, live_period, ready_period = period_factor * ready["periodSeconds"], live["periodSeconds"], ready["periodSeconds"]
    if live_period < period:
        wrong.append(_short_of("checks every", live_period, ready_period, period_factor))
        timing["periodSeconds"] = period
    ready_window = ready["periodSeconds"] * ready["failureThreshold"]
    window = window_factor * ready_window
    if timing["periodSeconds"] * timing["failureThreshold"] < window:
        wrong.append(_short_of("gives up after", live["periodSeconds"] * live["failureThreshold"], ready_window, window_factor))
        timing["failureThreshold"] = math.ceil(window / timing["periodSeconds"])
    if timing["failureThreshold"] < MIN_LIVENESS_FAILURES:
        wrong.append("restarts the container on a single failed check")
        timing["failureThreshold"] = MIN_LIVENESS_FAILURES
    if timing["timeoutSeconds"] < ready["timeoutSeconds"]:
        wrong.append(_short_of("times out after", timing["timeoutSeconds"], ready["timeoutSeconds"], 1))
        timing["timeoutSeconds"] = ready["timeoutSeconds"]
    return timing, wrong


def start_window(ready: Probe, settings: Any) -> int:
    """How long readiness may take to give up on a starting container, times probe-delay-factor."""
    return settings["probe-delay-factor"] * (ready["initialDelaySeconds"] + ready["periodSeconds"] * ready["failureThreshold"])


def startup_probe(live: Probe, ready: Probe, timeout: int, window: int) -> dict[str, Any]:
    """Liveness's handler, polled at readiness's pace (it gates readiness) for `window` seconds; a
    period above the timeout, so a hung check is judged before the next is due."""
    probe = copy.deepcopy(live.handler)
    period = max(ready["periodSeconds"], timeout + 1)
    probe["periodSeconds"] = period
    probe["failureThreshold"] = max(1, math.ceil(window / period))
    if timeout != PROBE_DEFAULTS["timeoutSeconds"]:
        probe["timeoutSeconds"] = timeout
    return probe


def _join(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _slow_check(container: Container, which: str, timing: dict[str, int], path: str) -> Finding | None:
    if timing["timeoutSeconds"] < timing["periodSeconds"]:
        return None
    message = (
        f'container "{container.name}": {which} timeoutSeconds {timing["timeoutSeconds"]} is not below periodSeconds {timing["periodSeconds"]}, '
        f"so a check that hangs is judged only after the next one was due; lower timeoutSeconds below {timing['periodSeconds']} or raise periodSeconds"
    )
    return Finding(ID, "warning", message, path=path)


def _long_liveness(container: Container, timing: dict[str, int], ready: Probe | None, settings: Any, path: str) -> Finding | None:
    """A liveness that lets a hung container run for minutes: a warning saying what keeps it so long."""
    hung = timing["periodSeconds"] * timing["failureThreshold"] + timing["timeoutSeconds"]
    if hung < LONG_LIVENESS_SECONDS:
        return None
    message = (
        f'container "{container.name}": liveness lets a hung container run up to {hung}s before restarting it '
        f"(every {timing['periodSeconds']}s, {_failures(timing['failureThreshold'])}, {timing['timeoutSeconds']}s timeout), "
        "so a deadlocked container is restarted only minutes later; "
    )
    if ready is None:
        return Finding(ID, "warning", message + "lower its failureThreshold or periodSeconds", path=path)
    ready_window = ready["periodSeconds"] * ready["failureThreshold"]
    need = max(settings["probe-window-factor"] * ready_window, settings["probe-period-factor"] * ready["periodSeconds"] * MIN_LIVENESS_FAILURES)
    if need + timing["timeoutSeconds"] >= LONG_LIVENESS_SECONDS:
        message += (
            f"outlasting {settings['probe-window-factor']} x readiness's {ready_window}s (every {ready['periodSeconds']}s, "
            f"{_failures(ready['failureThreshold'])}) takes {need}s of failures: shorten readiness's window, then liveness's"
        )
    else:
        message += f"lower its failureThreshold or periodSeconds: {need}s of failures outlasts readiness's {ready_window}s"
    return Finding(ID, "warning", message, path=path)


def _cover_start(container: Container, live: Probe, ready: Probe, live_timing: dict[str, int], ctx: RuleContext) -> tuple[Finding | None, Probe | None]:
    """Liveness must not judge a start before readiness could have given up on it: a longer liveness
    initialDelaySeconds up to max-liveness-delay, else a startupProbe with liveness's handler (which
    sets `live_timing`'s delay when it raises it). The finding, and the startupProbe it adds."""
    settings = ctx.settings
    needed, delay = start_window(ready, settings), live["initialDelaySeconds"]
    if delay >= needed:
        return None, None
    ready_window = ready["periodSeconds"] * ready["failureThreshold"]
    when = f"{delay}s after the container starts" if delay else "as soon as the container starts"
    late = (
        f'container "{container.name}": liveness starts checking {when}, before readiness could have given up on a slow start '
        f"({needed}s: {settings['probe-delay-factor']} x ({ready['initialDelaySeconds']}s delay + {ready_window}s of failures)), "
        "so a slow start is restarted"
    )
    cap = settings["max-liveness-delay"]
    if not settings["probe-startup"] and needed <= cap:
        live_timing["initialDelaySeconds"] = needed
        path = f"{container.pointer}/livenessProbe"
        return Finding(ID, "warning", f"{late}; fix: liveness initialDelaySeconds {needed}", ops=[ctx.set(f"{path}/initialDelaySeconds", needed)], path=path), None
    allowed = delay + live["periodSeconds"] * live["failureThreshold"]  # how long the chart's liveness let a start take
    probe = startup_probe(live, ready, live_timing["timeoutSeconds"], max(needed, allowed))
    why = (
        "probe-startup asks for a startupProbe"
        if settings["probe-startup"]
        else f"initialDelaySeconds {needed} would be more than the {cap}s cap (max-liveness-delay), leaving a hang after each start unnoticed that long"
    )
    start = f"{probe['periodSeconds'] * probe['failureThreshold']}s to start" + (", as long as the chart's liveness allowed" if allowed > needed else "")
    message = f"{late}; {why}; fix: startupProbe with liveness's handler, periodSeconds {probe['periodSeconds']}, failureThreshold {probe['failureThreshold']} ({start})"
    path = f"{container.pointer}/startupProbe"
    return Finding(ID, "warning", message, ops=[ctx.set(path, probe)], path=path), Probe(probe)


def plan_container(container: Container, ctx: RuleContext) -> list[Finding]:
    live, ready, startup = (container.probe(w) for w in ("liveness", "readiness", "startup"))
    settings = ctx.settings
    findings = []
    name = f'container "{container.name}"'
    live_path = f"{container.pointer}/livenessProbe"
    live_timing = live.timing if live else None
    if live is not None and ready is not None:
        handler = comparable_handler(live, container)
        if handler and handler == comparable_handler(ready, container):
            message = (
                f"{name}: liveness and readiness run the same check, so whatever takes the pod out of rotation (overload, a dependency down) "
                "also restarts it once liveness gives up; point liveness at a check of the process alone"
            )
            findings.append(Finding(ID, "warning", message, path=live_path))
        live_timing, wrong = balanced_liveness(live, ready, settings)
        changed = {key: value for key, value in live_timing.items() if value != live[key]}
        if changed:
            fix = ", ".join(f"{key} {value}" for key, value in changed.items())
            message = f"{name}: liveness {_join(wrong)}, so a slow or overloaded pod is restarted instead of taken out of rotation; fix: liveness {fix}"
            ops = [ctx.set(f"{live_path}/{key}", value) for key, value in changed.items()]
            findings.append(Finding(ID, "warning", message, ops=ops, path=live_path))
        if startup is None:
            start, startup = _cover_start(container, live, ready, live_timing, ctx)
            findings.extend([start] if start else [])
    if live_timing:
        long = _long_liveness(container, live_timing, ready, settings, live_path)
        if long:
            findings.append(long)
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
