"""Warn when a serving container has no readiness probe; opt-in, give it a TCP check on its port.

Without a readinessProbe a container counts as ready as soon as it runs: the endpoints controller puts
the pod behind its Services at once and a rolling update counts it available and takes the next old
pod away, while the app may still be loading; every request sent before it listens is refused. And
when the app hangs later, nothing takes the pod out of rotation: only a liveness restart ends it. A
startupProbe delays the first of these, not the second. So each main container of a serving workload
that declares a port (not a metrics port) and has no readinessProbe is reported: 4 in the corpus
(argo-cd's applicationset controller, dex and redis, the argo-rollouts dashboard). The 9 to 15 that
kube-score and checkov report there (issue 12) also count containers that take no traffic: controllers
no Service routes to (cert-manager's controller and cainjector in both releases, argo-workflows' and
argo-cd's notifications controller: 6), a log-shipper sidecar, and Jobs and Helm test pods (16).

A chart should check an endpoint that answers only when the app can serve; zdrender cannot know one, so
the fix it can make is opt-in: `readiness-from-port` adds `readinessProbe: {tcpSocket: {port: ...}}` on
the container's first TCP port that is not a metrics port, preferring one a Service in the input sends
traffic to (by name when it has one), with the API's timing (every 10s, 3 failures, 1s timeout, no
delay): a pod then gets traffic once its port accepts connections. It runs before probe-balance, which
then makes any liveness probe slower than the readiness probe just added, in the same render (and warns
when liveness runs the very same check). Sidecars are left to their vendors; Jobs and CronJobs take no
traffic.

Examples (each one run by tests/test_rule_examples.py with this rule alone):

FAIL: a serving container with no readiness probe

    {apiVersion: v1, kind: Service, metadata: {name: web}, spec: {selector: {app: web}, ports: [{port: 80, targetPort: http}]}}
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
            ports: [{name: http, containerPort: 8080}]

PASS: it answers readiness checks

    {apiVersion: v1, kind: Service, metadata: {name: web}, spec: {selector: {app: web}, ports: [{port: 80, targetPort: http}]}}
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
            ports: [{name: http, containerPort: 8080}]
            readinessProbe: {httpGet: {path: /ready, port: http}}
"""

from __future__ import annotations

from ..finding import Finding
from ..policy import metrics_port
from ..settings import Knob
from ..workload import Container
from .base import RuleContext, Workload

TYPE_CHECKING = False  # typing's, without importing typing on the render path (record.py says why)
if TYPE_CHECKING:
    from typing import Any

ID = "readiness"
SUMMARY = "Warn when a serving container has no readinessProbe, so it gets traffic before it listens; opt-in, add a TCP check on its port."
REMEDIATION = "Give each container that serves traffic a readinessProbe, best an httpGet on an endpoint that answers only when the app can serve."
KNOBS = (
    Knob(
        "readiness-from-port",
        False,
        "Give each serving main container without a readinessProbe a tcpSocket readinessProbe on its first TCP port that is not a metrics port (changes the pod template: the pods roll).",
        kind="bool",
        per_workload=True,
    ),
)
KINDS = frozenset({"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Pod", "Rollout"})


def tcp_port(container: Container, targeted: set[int | str]) -> str | int | None:
    """The port a tcpSocket readiness check uses: the first TCP port that is not a metrics port, one a
    Service sends traffic to (`targeted`: numbers and names) first; by name when it has one. None when
    there is none."""
    ports = [p for p in container.ports if not metrics_port(p) and p.get("protocol", "TCP") == "TCP"]
    ports.sort(key=lambda p: not any(isinstance(v, (int, str)) and v in targeted for v in (p.get("name"), p.get("containerPort"))))
    for port in ports:
        number, name = port.get("containerPort"), port.get("name")
        if isinstance(name, str) and name:
            return name
        if isinstance(number, int) and not isinstance(number, bool) and 0 < number < 65536:
            return number
    return None


def plan_container(container: Container, targeted: set[int | str], ctx: RuleContext) -> Finding | None:
    if container.probe("readiness") is not None or all(metrics_port(p) for p in container.ports):
        return None
    start = "its startupProbe passes" if container.probe("startup") is not None else "the container starts"
    message = f'container "{container.name}": no readinessProbe, so the pod gets traffic as soon as {start}, before the app may listen, and keeps it when the app stops answering; '
    path = f"{container.pointer}/readinessProbe"
    port = tcp_port(container, targeted)
    if port is None:
        return Finding(ID, "warning", message + "add a readinessProbe in the chart (no TCP port to check)", path=path)
    if not ctx.settings["readiness-from-port"]:
        message += f"add a readinessProbe on a health endpoint in the chart, or set readiness-from-port=true for a tcpSocket check on port {port}"
        return Finding(ID, "warning", message, path=path)
    probe: dict[str, Any] = {"tcpSocket": {"port": port}}
    return Finding(ID, "warning", message + f"fix: readinessProbe tcpSocket port {port}", ops=[ctx.set(path, probe)], path=path)


def plan(workload: Workload, ctx: RuleContext) -> list[Finding]:
    if workload.kind not in KINDS or not workload.serving:
        return []
    targeted = {port for service in workload.stream.service_details_selecting(workload.namespace, workload.labels) for port in service.target_ports}
    return [f for f in (plan_container(c, targeted, ctx) for c in workload.main_containers) if f is not None]
