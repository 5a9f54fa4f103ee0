"""Give the pod a termination grace period that covers its preStop sleeps and the drain after them.

The grace period counts from the deletion, preStop included: a 10 s sleep in a 30 s grace period
leaves 20 s to drain before SIGKILL. A native `sleep` longer than the grace period is rejected by the
API server. Sidecars that must outlive the app, and the Istio or Linkerd proxy's drain, need room
past their own delay too (`sidecar-exit-seconds` each). The grace period is only ever raised.

Native sidecars (init containers with `restartPolicy: Always`, Kubernetes 1.29+) come last, one after
the other. Every container's preStop hook starts at the deletion, native sidecars' included; the
kubelet then holds each native sidecar's SIGTERM until every regular container has exited and every
native sidecar defined after it has exited (pkg/kubelet/kuberuntime: killContainer runs the preStop
hook, then terminationOrdering.waitForTurn, then stops the container; KEP-753 "sidecar containers
... PreStop hook ... at the same time as regular containers", "the last started sidecar container is
notified by sending a SIGTERM signal"; kubernetes.io "Pod shutdown and sidecar containers"). All of it
shares the one grace period: what is left when a sidecar's turn comes is all it gets (at least 2 s).
So the pod needs the longest regular container's time (sleep + drain, or a sidecar's sleep + exit),
then, for each native sidecar from the last defined to the first, the later of that clock and the end
of its own preStop sleep, plus its time to exit.

Examples (each one run by tests/test_rule_examples.py with this rule alone):

FAIL: a grace period shorter than the sleep plus the drain

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
          terminationGracePeriodSeconds: 15
          containers:
          - name: web
            image: example/web:1
            lifecycle: {preStop: {sleep: {seconds: 10}}}

PASS: one that covers both

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
          terminationGracePeriodSeconds: 60
          containers:
          - name: web
            image: example/web:1
            lifecycle: {preStop: {sleep: {seconds: 10}}}
"""

from __future__ import annotations

import math

from ..finding import Finding
from ..settings import Knob
from ..workload import WORKLOAD_KINDS
from .base import RuleContext, Workload

ID = "grace-period"
SUMMARY = "Raise terminationGracePeriodSeconds to cover the longest preStop sleep plus the drain budget, then native sidecars' shutdown."
KINDS = WORKLOAD_KINDS
REMEDIATION = (
    "Set `terminationGracePeriodSeconds` to at least the longest preStop sleep plus the app's drain, plus a few seconds for each native sidecar, "
    "which Kubernetes stops one after the other once the main containers are gone."
)
COVERS_SLEEPS = True  # it raises the grace period over every preStop sleep: rules before it need not cap theirs
KNOBS = (
    Knob(
        "drain-seconds",
        20,
        "Seconds an app needs after SIGTERM to finish in-flight requests (the drain budget).",
        minimum=0,
        per_workload=True,
    ),
    Knob(
        "sidecar-exit-seconds",
        5,
        "Seconds a sidecar gets after its own preStop sleep, before SIGKILL.",
        minimum=1,
    ),
)


def required_seconds(workload: Workload, drain: int, sidecar_exit: int) -> tuple[int, str, str] | None:
    """The grace period this pod needs, what takes it and who would be killed without it; None when
    nothing in the pod sleeps (no preStop sleep, no mesh proxy delay)."""
    needs: list[tuple[int, str, str]] = []  # (seconds, what takes them, who is cut short)
    mains = workload.main_containers
    for c in mains:
        if c.prestop_sleep is not None:
            needs.append((c.prestop_sleep + drain, f'"{c.name}"\'s {c.prestop_sleep}s sleep + {drain}s drain', "it"))
    for c in workload.sidecars:
        if c.prestop_sleep is not None:
            needs.append((c.prestop_sleep + sidecar_exit, f'sidecar "{c.name}"\'s {c.prestop_sleep}s sleep + {sidecar_exit}s to exit', "it"))
    for stays, what in workload.mesh_proxy_stays:
        needs.append((math.ceil(stays) + sidecar_exit, f"{what} + {sidecar_exit}s to exit", "it"))
    natives = [c for c in workload.init_containers if c.is_restartable_init]
    if not needs and not any(c.prestop_sleep is not None for c in natives):
        return None
    if natives and mains:  # their turn comes once the main containers have drained, sleep or not
        needs.append((drain, f"the main containers' {drain}s drain", "it"))
    # No main container at all (the API refuses such a pod; it must not crash us): only the natives count.
    clock, what, who = max(needs, key=lambda need: need[0]) if needs else (0, "", "it")
    for c in reversed(natives):  # the kubelet stops native sidecars last defined first, each after the one before
        sleep = c.prestop_sleep or 0
        label = f'native sidecar "{c.name}"'
        if sleep > clock:
            clock, what = sleep + sidecar_exit, f"{label}'s {sleep}s sleep + {sidecar_exit}s to exit"
        else:
            clock, what = clock + sidecar_exit, (f"{what}, then " if what else "") + f"{label}'s {sidecar_exit}s to exit"
        who = label
    return clock, what, who


def plan(workload: Workload, ctx: RuleContext) -> list[Finding]:
    need = required_seconds(workload, ctx.settings["drain-seconds"], ctx.settings["sidecar-exit-seconds"])
    if need is None:
        return []
    seconds, what, who = need
    current = workload.grace_period
    if current >= seconds:
        return []
    path = f"{workload.pod_spec_pointer}/terminationGracePeriodSeconds"
    message = f"terminationGracePeriodSeconds {current} is shorter than {what}, so the kubelet kills {who} mid-drain; fix: terminationGracePeriodSeconds {seconds}"
    return [Finding(ID, "warning", message, ops=[ctx.set(path, seconds)], path=path)]
