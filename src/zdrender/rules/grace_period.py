"""Give the pod a termination grace period that covers its preStop sleeps and the drain after them.

The grace period counts from the deletion, preStop included: a 10 s sleep in a 30 s grace period
leaves 20 s to drain before SIGKILL. A native `sleep` longer than the grace period is rejected by the
API server. Sidecars that must outlive the app, and the Istio or Linkerd proxy's drain, need room
past their own delay too. The grace period is only ever raised.

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
SUMMARY = "Raise terminationGracePeriodSeconds to cover the longest preStop sleep plus the drain budget."
KINDS = WORKLOAD_KINDS
REMEDIATION = "Set `terminationGracePeriodSeconds` to at least the longest preStop sleep plus the app's drain."
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


def required_seconds(workload: Workload, drain: int, sidecar_exit: int) -> tuple[int, str] | None:
    """The grace period this pod needs, and why; None when nothing in it sleeps."""
    needs: list[tuple[int, str]] = []
    for c in workload.main_containers:
        if c.prestop_sleep is not None:
            needs.append((c.prestop_sleep + drain, f'container "{c.name}" sleeps {c.prestop_sleep}s + {drain}s drain'))
    for c in workload.sidecars + [i for i in workload.init_containers if i.is_restartable_init]:
        if c.prestop_sleep is not None:
            needs.append((c.prestop_sleep + sidecar_exit, f'sidecar "{c.name}" sleeps {c.prestop_sleep}s + {sidecar_exit}s to exit'))
    for stays, what in workload.mesh_proxy_stays:
        needs.append((math.ceil(stays) + sidecar_exit, f"{what} + {sidecar_exit}s to exit"))
    return max(needs) if needs else None


def plan(workload: Workload, ctx: RuleContext) -> list[Finding]:
    need = required_seconds(workload, ctx.settings["drain-seconds"], ctx.settings["sidecar-exit-seconds"])
    if need is None:
        return []
    seconds, reason = need
    current = workload.grace_period
    if current >= seconds:
        return []
    path = f"{workload.pod_spec_pointer}/terminationGracePeriodSeconds"
    message = f"terminationGracePeriodSeconds raised from {current} to {seconds}: {reason}"
    return [Finding(ID, "warning", message, ops=[ctx.set(path, seconds)], path=path)]
