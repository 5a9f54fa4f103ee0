"""A small, deterministic model of how one pod of a workload shuts down, and of how a rolling update
moves its ready capacity: the numbers behind `zdrender timeline`.

It reads a `workload.Workload` view (API defaults already applied there) and a few numbers; it does no
I/O and knows nothing of the CLI or the pipeline. Times are seconds; t = 0 is the deletion of the pod
(termination) or the start of the update (rollout).

Termination of one pod, and the assumptions behind it:
- Endpoints, kube-proxy, ingress controllers and load balancers keep sending new requests to the pod
  from t = 0 until the end of the propagation window (`propagation`, 5 s by default). Deleting a pod
  is asynchronous: nothing waits for them.
- Every regular container runs its preStop hook from t = 0 (all containers at once), then gets SIGTERM.
  A sleep hook (native `sleep`, `exec: [sleep, N]`, `sh -c "sleep N"`) lasts N seconds. Any other hook
  (an exec script, httpGet) has a duration the model cannot know: it is timed as 0 s, the worst case
  for the risks below, and a note says so.
- An app whose command is a shell script that does not `exec` it (the signals rule's warning) never
  gets SIGTERM: the shell as PID 1 ignores it. It keeps serving until SIGKILL at the grace period, when
  no traffic arrives any more, so it drops nothing but always takes the whole grace period (measured on
  a real node: the shell-entrypoint scenario of docs/proof.md).
- An app whose image the `stop-signals` setting maps to another signal (nginx drains on SIGQUIT)
  stops at once when it gets SIGTERM instead: its in-flight requests are dropped then, unless its
  `lifecycle.stopSignal` is that signal (measured: the stop-signal scenario of docs/proof.md).
- An app stops accepting new connections at SIGTERM and then drains its in-flight requests for the
  drain budget (`drain`, the `drain-seconds` setting) before it exits.
- A sidecar in `containers` (a known proxy or helper, see policy.KNOWN_SIDECARS) exits at its SIGTERM:
  Envoy stops, the Cloud SQL proxy closes its listeners and connections. With its own drain flag
  (`--max-sigterm-delay`, v1 `-term_timeout`) the proxy keeps open connections that long, which is
  taken to serve the app (apps reuse pooled database connections); it exits then.
- A native sidecar (an init container with `restartPolicy: Always`) runs its preStop hook from t = 0
  like every container, but gets SIGTERM only once every regular container and every native sidecar
  defined after it has exited: in reverse order of definition, one after the other, each at the later
  of its turn and the end of its own preStop (the kubelet's killContainer: preStop hook, then
  terminationOrdering.waitForTurn, then stop; KEP-753). It exits at SIGTERM, or after its own drain flag.
- SIGKILL comes at the grace period (terminationGracePeriodSeconds, default 30), counted from t = 0 and
  shared by preStop hooks, drains and sidecars. Whatever still runs then is killed; the kubelet's
  2-second extension for a preStop hook that overruns is left out.
- Dropped-request risk windows:
  * not accepting: a container that receives traffic (it declares a port, or no app container of the
    pod does) gets SIGTERM before the propagation window ends: new requests still arrive and are refused;
  * sidecar gone: a proxy sidecar (anything but a log shipper or the Vault agent) stops before an app
    has exited: the app's in-flight and new requests lose their way out;
  * killed: SIGKILL comes before an app has finished draining.
  Windows are half-open [start, end); one that would last 0 s is no risk. Sidecars injected at admission
  (Istio, Linkerd) are not in the manifest and are not modelled; a note says when a pod asks for them.

Rolling update, and its assumptions:
- Desired replicas: `Workload.replicas` (an HPA's minReplicas when one targets it). A DaemonSet is drawn
  for one node: its pods are per node, and a node's traffic there has only that pod.
- Deployment and Argo Rollout canary: maxSurge and maxUnavailable default to 25%; percentages are scaled
  by the desired count, surge rounded up and unavailable rounded down; when both come out 0,
  maxUnavailable becomes 1 (Kubernetes' fenceposts). The controller acts instantly: it creates new pods
  while old + new <= desired + surge, and deletes old pods while the available ones stay >= desired -
  maxUnavailable. Argo blueGreen is a surge of the whole set. Recreate deletes every old pod and creates
  the new ones once the old are gone (the termination model's end).
- DaemonSet: maxUnavailable 1 and maxSurge 0 by default, percentages rounded up. Without surge the new pod
  is created when the old one is gone; with surge, the old pod is deleted once the new one is available.
- StatefulSet RollingUpdate: one pod at a time, from the highest ordinal: delete, wait until gone, create,
  wait until available. OnDelete never rolls by itself.
- A new pod is ready `initialDelaySeconds + periodSeconds x successThreshold` after it is created (each
  container's readiness probe, after its startup probe's `initialDelaySeconds + periodSeconds`; the
  slowest container wins; no probe: ready at once); image pulls and scheduling take no time. It is
  available to the controller `minReadySeconds` later. Ready capacity counts ready pods that are not
  terminating: a pod leaves it the moment the controller deletes it. When no pod is ready, kube-proxy
  sends traffic to terminating pods that still accept it, so a Recreate update or a 1-replica
  StatefulSet serves nothing only from the old pod's SIGTERM until the new pod is ready: a preStop sleep
  moves that window later without making it longer (measured on a real node, docs/proof.md).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from ..kube import ROLLING_DEFAULTS, go_duration_seconds, host_binding, istio_injected, linkerd_injected, scaled, signal_name
from ..policy import carries_traffic, image_matches
from ..shell import swallowed
from ..workload import Container, Workload, as_dict, as_list

DEFAULT_PROPAGATION = 5.0
# A proxy's own drain after SIGTERM: Cloud SQL / AlloyDB proxy v2 --max-sigterm-delay, v1 -term_timeout.
_OWN_DRAIN = re.compile(r"^--?(?:max-sigterm-delay|term_timeout)(?:=(\S+))?$")
ROLLING_KINDS = frozenset({"Deployment", "Rollout", "DaemonSet", "StatefulSet"})
# The controllers' loops are simulated pod by pod; past this many replicas (the API allows 2^31 - 1)
# the rollout is not drawn rather than simulated for minutes.
MAX_REPLICAS = 1000


# -- termination -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Life:
    """One container's shutdown."""

    name: str
    role: str  # "app" | "sidecar" | "native sidecar"
    receives_traffic: bool
    hook: str  # "none" | "sleep" | "unknown"
    prestop_end: float  # when its preStop hook ends (every hook starts at 0); a native sidecar then waits for its turn
    sigterm: float
    exit: float  # when it is gone (SIGKILL included)
    done: float  # when it would be gone without SIGKILL
    proxy: bool = False  # a sidecar the apps' requests depend on

    @property
    def killed(self) -> bool:
        return self.done > self.exit

    @property
    def is_sidecar(self) -> bool:
        return self.role != "app"


@dataclass(frozen=True)
class Risk:
    """A window in which requests may be dropped."""

    kind: str  # "not accepting" | "sidecar gone" | "killed"
    container: str
    start: float
    end: float
    reason: str

    @property
    def seconds(self) -> float:
        return self.end - self.start


@dataclass
class Termination:
    propagation: float
    grace: int
    lives: list[Life]
    risks: list[Risk]
    notes: list[str] = field(default_factory=list)

    @property
    def sigkill(self) -> float:
        return float(self.grace)

    @property
    def accepting(self) -> float:
        """Until when the pod takes new requests: its first traffic-receiving app stops at SIGTERM."""
        return min([life.sigterm for life in self.lives if life.receives_traffic and life.role == "app"], default=0.0)

    @property
    def end(self) -> float:
        """When the pod is gone."""
        return max([life.exit for life in self.lives], default=0.0)

    @property
    def horizon(self) -> float:
        """The latest moment worth drawing."""
        return max([self.sigkill, self.propagation] + [life.done for life in self.lives])

    @property
    def risk_seconds(self) -> float:
        return _covered([(r.start, r.end) for r in self.risks])


def terminate(workload: Workload, *, drain: float, propagation: float = DEFAULT_PROPAGATION, stop_signals: Mapping[str, str] | None = None) -> Termination:
    """The shutdown of one pod of `workload`, deleted at t = 0; `stop_signals` maps image patterns to
    the signal those images drain on (the signals rule's setting)."""
    grace = workload.grace_period
    notes: list[str] = []
    apps = workload.main_containers
    any_app_port = any(c.ports for c in apps)
    lives: list[Life] = []
    abrupt: list[Risk] = []
    for c in workload.containers:
        hook, prestop = _hook(c, notes, grace)
        sigterm = min(prestop, grace)
        role = "sidecar" if c.sidecar else "app"
        done = sigterm + (drain if role == "app" else own_drain(c))
        if role == "app" and swallowed(c.command, c.args):
            notes.append(f"{c.name}: a shell as PID 1 ignores SIGTERM: it serves until SIGKILL at {grace}s")
            sigterm = done = float(grace)
        elif role == "app" and (wanted := _drain_signal(c, stop_signals or {})):
            notes.append(f"{c.name}: drains on {wanted}, but gets SIGTERM, which stops it at once")
            abrupt.append(Risk("killed", c.name, sigterm, sigterm + drain, f"SIGTERM at {_s(sigterm)} stops {c.name} at once: it drains only on {wanted}"))
            done = sigterm
        receives = bool(c.ports) or (role == "app" and not any_app_port)
        lives.append(Life(c.name, role, receives, hook, sigterm, sigterm, min(done, grace), done, role != "app" and _is_proxy(c)))
    turn = max([life.exit for life in lives], default=0.0)  # every regular container is gone
    for c in reversed([i for i in workload.init_containers if i.is_restartable_init]):
        hook, prestop = _hook(c, notes, grace)
        done = max(turn, prestop) + own_drain(c)
        lives.append(Life(c.name, "native sidecar", bool(c.ports), hook, min(prestop, grace), min(max(turn, prestop), grace), min(done, grace), done, _is_proxy(c)))
        turn = min(done, grace)  # the next one's turn: this one is gone, or the grace period is over
    for life in lives:
        if life.killed and life.is_sidecar:
            notes.append(f"{life.name}: SIGKILL at {grace}s ends it {_s(life.done - grace)} before it is done")
    _mesh_notes(workload, notes)
    return Termination(propagation, grace, lives, _risks(lives, propagation, grace) + abrupt, notes)


def _drain_signal(c: Container, stop_signals: Mapping[str, str]) -> str | None:
    """The signal c's image drains on when the kubelet would send it SIGTERM instead, else None."""
    for pattern, value in stop_signals.items():
        if image_matches(pattern, c.image):
            try:
                wanted = signal_name(str(value), pattern)
            except ValueError:
                return None
            stop = str(c.lifecycle.get("stopSignal") or "SIGTERM")
            return wanted if wanted not in ("SIGTERM", stop) else None
    return None


def _hook(c: Container, notes: list[str], grace: int) -> tuple[str, float]:
    if c.prestop is None:
        return "none", 0.0
    seconds = c.prestop_sleep
    if seconds is None:
        action = next(iter(c.prestop), "hook")
        notes.append(f"{c.name}: preStop {action} hook of unknown duration, timed as 0s (the worst case)")
        return "unknown", 0.0
    if seconds > grace:
        notes.append(f"{c.name}: preStop sleeps {seconds}s, longer than the {grace}s grace period")
    return "sleep", float(seconds)


def own_drain(c: Container) -> float:
    """Seconds a sidecar keeps its open connections after SIGTERM by its own flag (0 without one)."""
    words = [str(w) for w in as_list(c.raw.get("command")) + as_list(c.raw.get("args"))]
    for i, word in enumerate(words):
        match = _OWN_DRAIN.match(word)
        if match:
            value = match.group(1) if match.group(1) is not None else (words[i + 1] if i + 1 < len(words) else "")
            return go_duration_seconds(value) or 0.0
    return 0.0


def _is_proxy(c: Container) -> bool:
    return carries_traffic(c)


def _risks(lives: list[Life], propagation: float, grace: int) -> list[Risk]:
    risks = []
    for life in lives:
        if life.receives_traffic and life.sigterm < propagation:
            why = {
                "none": "it has no preStop hook",
                "unknown": "its preStop hook's length is unknown (timed as 0s)",
                "sleep": f"its preStop sleep of {_s(life.prestop_end)} ends first",
            }[life.hook]
            if life.sigterm > life.prestop_end:
                why = "the containers it waits for are gone by then"
            risks.append(
                Risk(
                    "not accepting",
                    life.name,
                    life.sigterm,
                    propagation,
                    f"traffic arrives until {_s(propagation)} but {life.name} stops accepting at SIGTERM ({_s(life.sigterm)}): {why}",
                )
            )
    for app in (life for life in lives if life.role == "app"):
        for proxy in (life for life in lives if life.is_sidecar and life.proxy):
            gone = proxy.exit
            if gone < app.exit:
                risks.append(
                    Risk(
                        "sidecar gone",
                        app.name,
                        gone,
                        app.exit,
                        f"{proxy.name} stops at {_s(gone)} while {app.name} serves until {_s(app.exit)}",
                    )
                )
        if app.killed:
            risks.append(Risk("killed", app.name, app.exit, app.done, f"SIGKILL at {grace}s cuts {app.name}'s drain short by {_s(app.done - app.exit)}"))
    return risks


def _mesh_notes(workload: Workload, notes: list[str]) -> None:
    for injected, proxy in ((istio_injected, "istio-proxy"), (linkerd_injected, "linkerd-proxy")):
        if injected(workload.template_metadata):
            notes.append(f"{proxy} is injected at admission: it is not in the manifest, so it is not drawn")


def _covered(spans: list[tuple[float, float]]) -> float:
    """Seconds covered by the union of spans."""
    total, reach = 0.0, -math.inf
    for start, end in sorted(spans):
        start = max(start, reach)
        if end > start:
            total += end - start
            reach = end
    return total


def _s(seconds: float) -> str:
    return f"{seconds:g}s"


# -- rolling update ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Step:
    """The state from time `t` until the next step."""

    t: float
    ready: int  # ready pods that are not terminating
    pods: int  # pods that are not terminating (ready or not)
    # Pods that receive traffic: the ready ones, or, when none is ready, terminating pods that still
    # accept (kube-proxy falls back to serving terminating endpoints; its ProxyTerminatingEndpoints).
    serving: int = -1  # -1: the same as ready

    def __post_init__(self) -> None:
        if self.serving < 0:
            object.__setattr__(self, "serving", self.ready)  # frozen: set once, here


@dataclass
class Rollout:
    strategy: str
    desired: int
    surge: int
    unavailable: int
    ready_after: float  # seconds from a new pod's creation to ready
    min_ready: int  # minReadySeconds
    steps: list[Step]
    notes: list[str] = field(default_factory=list)
    per_node: bool = False  # a DaemonSet, drawn for one node

    def __post_init__(self) -> None:
        self.steps = _compact(self.steps)

    @property
    def duration(self) -> float:
        return self.steps[-1].t if self.steps else 0.0

    @property
    def lowest(self) -> int:
        return min((s.ready for s in self.steps), default=self.desired)

    @property
    def peak(self) -> int:
        return max((s.pods for s in self.steps), default=self.desired)

    def seconds_below(self, level: int) -> float:
        """Seconds during which fewer than `level` pods are ready."""
        return sum(b.t - a.t for a, b in zip(self.steps, self.steps[1:]) if a.ready < level)

    @property
    def dip_seconds(self) -> float:
        return self.seconds_below(self.desired)

    @property
    def empty_seconds(self) -> float:
        """Seconds in which no pod receives traffic: requests fail (ready or still-accepting terminating pods count)."""
        return sum(b.t - a.t for a, b in zip(self.steps, self.steps[1:]) if a.serving < 1)

    def verdict(self, sep: str = ", ") -> str:
        """How the update went, in words: lowest ready count, time below desired and at zero, duration."""
        parts = [f"lowest {self.lowest}/{self.desired} ready"]
        if self.empty_seconds:
            parts.append(f"NONE serving for {_s(self.empty_seconds)}")
        elif self.dip_seconds:
            parts.append(f"below desired for {_s(self.dip_seconds)}")
        return sep.join(parts) + f"{sep}done in {_s(self.duration)}"

    def ready_at(self, t: float) -> int:
        ready = self.steps[0].ready if self.steps else self.desired
        for step in self.steps:
            if step.t <= t:
                ready = step.ready
        return ready


def ready_delay(workload: Workload) -> float:
    """Seconds from a new pod's creation until it is ready: the slowest container's probes."""
    delays = [0.0]
    for c in workload.containers:
        delay = 0.0
        startup = c.probe("startup")
        if startup is not None:
            delay += startup["initialDelaySeconds"] + startup["periodSeconds"]
        readiness = c.probe("readiness")
        if readiness is not None:
            delay += readiness["initialDelaySeconds"] + readiness["periodSeconds"] * readiness["successThreshold"]
        delays.append(delay)
    return float(max(delays))


def rollout(workload: Workload, *, pod_gone: float, accepting: float = 0.0) -> Rollout | None:
    """Ready capacity over a rolling update of `workload`; `pod_gone` is when a deleted pod is gone
    (Termination.end), which Recreate, StatefulSets and surge-less DaemonSets wait for; `accepting` is
    how long a deleted pod still takes requests (Termination.accepting). None for kinds that do not
    roll (Pod, ReplicaSet, Job, CronJob), and past MAX_REPLICAS."""
    kind, spec = workload.kind, workload.spec
    if kind not in ROLLING_KINDS:
        return None
    ready_after = ready_delay(workload)
    min_ready = spec.get("minReadySeconds")
    min_ready = min_ready if isinstance(min_ready, int) and not isinstance(min_ready, bool) else 0
    notes: list[str] = []
    if kind == "DaemonSet":
        return _daemonset(workload, ready_after, min_ready, pod_gone, notes)
    desired = max(workload.replicas, 0)  # a negative count is rejected by the API: nothing to roll
    if desired > MAX_REPLICAS:
        return None
    if kind == "StatefulSet":
        strategy = str(as_dict(spec.get("updateStrategy")).get("type") or "RollingUpdate")
        if strategy == "OnDelete":
            notes.append("updateStrategy OnDelete: pods are replaced only when someone deletes them")
            return Rollout(strategy, desired, 0, 0, ready_after, min_ready, [Step(0.0, desired, desired)], notes)
        return _one_by_one(desired, ready_after, min_ready, pod_gone, accepting, notes)
    if kind == "Rollout":
        strategy_spec = as_dict(spec.get("strategy"))
        if "blueGreen" in strategy_spec:
            notes.append("blueGreen: the whole new set comes up before the switch")
            return _rolling("blueGreen", desired, desired, 0, ready_after, min_ready, notes)
        params, strategy = as_dict(strategy_spec.get("canary")), "canary"
    else:
        strategy_spec = as_dict(spec.get("strategy"))
        strategy = str(strategy_spec.get("type") or "RollingUpdate")
        if strategy == "Recreate":
            return _recreate(desired, ready_after, min_ready, pod_gone, accepting, notes)
        params = as_dict(strategy_spec.get("rollingUpdate"))
    default_surge, default_unavailable = ROLLING_DEFAULTS[kind]
    surge = scaled(params.get("maxSurge"), desired, default_surge, round_up=True)
    unavailable = scaled(params.get("maxUnavailable"), desired, default_unavailable, round_up=False)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    if host_binding(workload) is not None and surge:
        notes.append("hostPort/hostNetwork: a surge pod needs another node than the pod it replaces")
    return _rolling(strategy, desired, surge, unavailable, ready_after, min_ready, notes)


def _rolling(strategy: str, desired: int, surge: int, unavailable: int, ready_after: float, min_ready: int, notes: list[str]) -> Rollout:
    """The Deployment controller's loop, run on a clock that jumps to the next pod becoming ready."""
    old = desired
    created: list[float] = []  # creation time of each new pod
    steps: list[Step] = []
    t = 0.0
    for _ in range(4 * desired + 8):  # each pass creates, deletes or readies a pod: bounded
        while True:
            available = sum(1 for c in created if c + ready_after + min_ready <= t)
            total = old + len(created)
            grow = min(desired + surge - total, desired - len(created))
            created.extend([t] * max(grow, 0))
            unready = len(created) - available
            shrink = min(old, old + len(created) - (desired - unavailable) - unready)
            old -= max(shrink, 0)
            if grow <= 0 and shrink <= 0:
                break
        ready = old + sum(1 for c in created if c + ready_after <= t)
        _record(steps, Step(t, ready, old + len(created)))
        upcoming = [m for c in created for m in (c + ready_after, c + ready_after + min_ready) if m > t]
        if old == 0 and not upcoming:
            break
        t = min(upcoming)
    return Rollout(strategy, desired, surge, unavailable, ready_after, min_ready, steps, notes)


def _recreate(desired: int, ready_after: float, min_ready: int, pod_gone: float, accepting: float, notes: list[str]) -> Rollout:
    notes.append("Recreate: every old pod goes before any new one starts")
    steps = [Step(0.0, 0, 0, desired)]  # the old pods serve until they stop accepting
    _record(steps, Step(accepting, 0, 0))
    _record(steps, Step(pod_gone, 0, desired))
    _record(steps, Step(pod_gone + ready_after, desired, desired))
    _record(steps, Step(pod_gone + ready_after + min_ready, desired, desired))
    return Rollout("Recreate", desired, 0, desired, ready_after, min_ready, steps, notes)


def _one_by_one(desired: int, ready_after: float, min_ready: int, pod_gone: float, accepting: float, notes: list[str]) -> Rollout:
    notes.append("StatefulSet: one pod at a time, each deleted and gone before its replacement starts")
    steps: list[Step] = []
    t = 0.0
    for _ in range(desired):
        if desired == 1:  # the deleted pod is the only one: it serves until it stops accepting
            _record(steps, Step(t, 0, 0, 1))
            _record(steps, Step(t + accepting, 0, 0))
        else:
            _record(steps, Step(t, desired - 1, desired - 1))
        _record(steps, Step(t + pod_gone, desired - 1, desired))
        _record(steps, Step(t + pod_gone + ready_after, desired, desired))
        t += pod_gone + ready_after + min_ready
    _record(steps, Step(t, desired, desired))
    return Rollout("RollingUpdate", desired, 0, 1, ready_after, min_ready, steps, notes)


def _daemonset(workload: Workload, ready_after: float, min_ready: int, pod_gone: float, notes: list[str]) -> Rollout:
    strategy_spec = as_dict(workload.spec.get("updateStrategy"))
    strategy = str(strategy_spec.get("type") or "RollingUpdate")
    if strategy == "OnDelete":
        notes.append("updateStrategy OnDelete: pods are replaced only when someone deletes them")
        return Rollout(strategy, 1, 0, 0, ready_after, min_ready, [Step(0.0, 1, 1)], notes, per_node=True)
    params = as_dict(strategy_spec.get("rollingUpdate"))
    default_surge, default_unavailable = ROLLING_DEFAULTS["DaemonSet"]
    surge = scaled(params.get("maxSurge"), 1, default_surge, round_up=True)
    unavailable = scaled(params.get("maxUnavailable"), 1, default_unavailable, round_up=True)
    if surge and host_binding(workload) is not None:
        notes.append("hostPort/hostNetwork with maxSurge: the surge pod cannot start beside the old one, the update stalls")
    if surge:
        steps = [Step(0.0, 1, 2)]
        _record(steps, Step(ready_after, 2, 2))
        _record(steps, Step(ready_after + min_ready, 1, 1))
        return Rollout(strategy, 1, surge, unavailable, ready_after, min_ready, steps, notes, per_node=True)
    steps = [Step(0.0, 0, 0)]
    _record(steps, Step(pod_gone, 0, 1))
    _record(steps, Step(pod_gone + ready_after, 1, 1))
    _record(steps, Step(pod_gone + ready_after + min_ready, 1, 1))
    return Rollout(strategy, 1, surge, max(unavailable, 1), ready_after, min_ready, steps, notes, per_node=True)


def _record(steps: list[Step], step: Step) -> None:
    """Append a step; a later state at the same moment replaces the earlier one."""
    if steps and steps[-1].t == step.t:
        steps[-1] = step
    else:
        steps.append(step)


def _compact(steps: list[Step]) -> list[Step]:
    """Drop steps that change nothing, but keep the last one: it marks when the update ends."""
    kept = steps[:1]
    for step in steps[1:-1]:
        if (step.ready, step.pods, step.serving) != (kept[-1].ready, kept[-1].pods, kept[-1].serving):
            kept.append(step)
    if len(steps) > 1:
        kept.append(steps[-1])
    return kept


# -- both together -----------------------------------------------------------------------------------
@dataclass
class Timeline:
    """What the model says about one workload."""

    ref: str
    termination: Termination
    rollout: Rollout | None


def model(workload: Workload, *, drain: float, propagation: float = DEFAULT_PROPAGATION, stop_signals: Mapping[str, str] | None = None) -> Timeline:
    termination = terminate(workload, drain=drain, propagation=propagation, stop_signals=stop_signals)
    return Timeline(workload.ref, termination, rollout(workload, pod_gone=termination.end, accepting=termination.accepting))


__all__ = ["DEFAULT_PROPAGATION", "Life", "Risk", "Rollout", "Step", "Termination", "Timeline", "model", "rollout", "scaled", "terminate"]
