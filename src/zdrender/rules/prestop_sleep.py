"""Sleep in a preStop hook so a terminating pod keeps serving while the rest of the cluster catches up.

Deleting a pod is asynchronous: the kubelet sends SIGTERM while endpoints, kube-proxy, ingress
controllers and cloud load balancers still route traffic to it. A short sleep before SIGTERM keeps
the app serving until they have caught up ("don't stop receiving connections: start draining them").
Kubernetes >= 1.30 has a native `sleep` action; below it the hook runs `sleep` from the image, which
distroless and scratch images do not have: there the exec hook would fail at once (the kubelet records
FailedPreStopHook and sends SIGTERM without waiting), so for images known to ship no `sleep`
(distroless, Chainguard static, cloud-sql-proxy's and alloydb-auth-proxy's default tags) no hook is
added and a warning says why.

Measured on a real node (docs/proof.md): a 2-replica rolling update dropped 106 of 2,000 requests
without the sleep, 0 with it. A Recreate Deployment keeps the sleep: its rollout outage (every old pod
goes before a new one starts) is as long with it, only later, because kube-proxy keeps sending traffic
to a terminating pod while none is ready; but when its pod is evicted (a node drain) the ReplicaSet
starts the replacement at once, and the sleep bridged that (106 dropped without, 0 with). A 1-replica
StatefulSet gets no sleep: its successor (same name, same volumes) starts only after the pod is gone,
in a rollout and in an eviction alike, so nothing can take over while the pod sleeps; the sleep only
postpones the outage by its length, and on the node the outage was 1 s without it and 1-4 s with it.

Only serving workloads sleep: a Service in the input selects their pods (Ingress and Gateway routes
reach pods through Services) on a port that is not metrics only, or they bind host ports. Controllers,
queue workers and exporters declare ports too (metrics, health), but no client's request reaches them
through endpoints, so a sleep would only slow their shutdown: a failed scrape is retried at the next
interval. In the corpus, 10 of 80 workloads are such (argo-cd's and cert-manager's controllers,
promtail). When the input holds no Service with a selector at all, a declared port still counts (the
Services are elsewhere); `assume-serving` says the same for one workload.

Examples (each one run by tests/test_rule_examples.py with this rule alone):

FAIL: a serving container with no preStop hook

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

PASS: it sleeps before SIGTERM

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
            lifecycle: {preStop: {sleep: {seconds: 10}}}
"""

from __future__ import annotations

from ..finding import Finding
from ..settings import Knob
from .base import NATIVE_SLEEP, RuleContext, Workload

ID = "prestop-sleep"
SUMMARY = "Add a preStop sleep to each main container of a serving workload."
REMEDIATION = (
    "Give each serving container a preStop hook that sleeps (`lifecycle.preStop.sleep.seconds`, or `exec: [sleep, N]` below 1.30) for as long as endpoints and load balancers take to drop the pod."
)
KNOBS = (
    Knob(
        "prestop-seconds",
        10,
        "Seconds each main container sleeps in its preStop hook before SIGTERM.",
        minimum=1,
        per_workload=True,
    ),
)
KINDS = frozenset({"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Rollout"})


def plan(workload: Workload, ctx: RuleContext) -> list[Finding]:
    if workload.kind not in KINDS or not workload.serving:
        return []
    if workload.kind == "StatefulSet" and workload.replicas == 1:
        message = "no preStop sleep for a 1-replica StatefulSet: its successor starts only after the pod is gone, so a sleep would only postpone the outage; run 2+ replicas to roll without one"
        return [Finding(ID, "info", message, path=f"{workload.template_pointer}/spec")]
    seconds = ctx.settings["prestop-seconds"]
    cap = ctx.sleep_cap(workload)
    capped = ""
    if cap is not None and seconds > cap:
        seconds = cap
        capped = f" (capped at the grace period of {cap}s, which the skipped grace-period rule does not raise)"
    if seconds < 1:
        return []
    findings = []
    for container in workload.main_containers:
        if container.prestop is not None:
            continue
        path = f"{container.pointer}/lifecycle/preStop"
        problem = f'container "{container.name}": no preStop sleep, so it stops serving while endpoints and load balancers still send it requests'
        reason = ctx.no_sleep_reason(container)
        if reason is not None:
            message = f"{problem}; none added: {reason}; target Kubernetes 1.30+ (--kube-version) or use an image variant with a shell (e.g. a -alpine tag)"
            findings.append(Finding(ID, "warning", message, path=path))
            continue
        if ctx.at_least(*NATIVE_SLEEP):
            message = f"{problem}; fix: preStop sleep {seconds}s{capped}"
        else:
            major, minor = ctx.settings.kube_version
            message = (
                f"{problem}; fix: preStop exec `sleep {seconds}`{capped} (Kubernetes {major}.{minor} has no native sleep action, "
                "so the image must ship a sleep binary: target 1.30+ with --kube-version)"
            )
        findings.append(Finding(ID, "warning", message, ops=[ctx.set(path, ctx.sleep_handler(seconds))], path=path))
    return findings
