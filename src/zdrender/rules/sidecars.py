"""Make proxy and helper sidecars outlive the app they serve.

When a pod is deleted every container gets SIGTERM at once (after its own preStop hook). A Cloud SQL
proxy, Envoy or OAuth2 proxy that exits at once cuts the app's in-flight requests and its database
connections while the app is still draining; a log shipper that exits first loses the last lines.
Mode `stagger` gives each sidecar a preStop sleep as long as the app's preStop sleep plus the drain
budget, so it stops last (the grace-period rule then grows the grace period to cover that sleep plus
a few seconds). Mode `native` (Kubernetes >= 1.29) turns them into native sidecars, init containers
with `restartPolicy: Always`, which Kubernetes starts before and stops after the main containers; it
is also what lets a Job with a sidecar complete. A container counts as a sidecar only when the pod
has another, main container. Mesh proxies (istio-proxy, linkerd-proxy) belong to their injector and
are handled by the mesh rule; metrics exporters carry no traffic for the app and count as main.

Examples (each one run by tests/test_rule_examples.py with this rule alone):

FAIL: a Cloud SQL proxy that exits at SIGTERM, beside the app

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
          - name: cloud-sql-proxy
            image: gcr.io/cloud-sql-connectors/cloud-sql-proxy:2.14.1

PASS: the proxy as a native sidecar, stopped after the app

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
          initContainers:
          - name: cloud-sql-proxy
            image: gcr.io/cloud-sql-connectors/cloud-sql-proxy:2.14.1
            restartPolicy: Always
          containers:
          - name: web
            image: example/web:1
"""

from __future__ import annotations

from typing import Any

from ..finding import Finding
from ..settings import Knob
from ..workload import WORKLOAD_KINDS, Container, Workload, as_list
from .app_drain import app_stop_seconds
from .base import NATIVE_SLEEP, RuleContext

ID = "sidecars"
SUMMARY = "Make proxy and helper sidecars outlive the app: a longer preStop sleep, or native sidecars."
KINDS = WORKLOAD_KINDS
REMEDIATION = "Run proxy sidecars as native sidecars (initContainers with `restartPolicy: Always`, 1.29+), or give them a preStop sleep longer than the app's."
KNOBS = (
    Knob(
        "sidecar-mode",
        "stagger",
        "stagger: sidecars sleep in preStop for the app's sleep + drain budget; native: move them to initContainers with restartPolicy Always (Kubernetes >= 1.29); off: leave them alone.",
        kind="choice",
        choices=("stagger", "native", "off"),
        per_workload=True,
    ),
    Knob(
        "sidecar-names",
        (),
        "More container names to treat as sidecars, besides the known proxies and log shippers (annotation zdrender.io/sidecars or zdrender.io/sidecar-names).",
        kind="list",
        per_workload=True,
        aliases=("sidecars",),
    ),
)
NATIVE_SIDECARS = (1, 29)  # SidecarContainers: alpha 1.28, beta and on by default 1.29, GA 1.33
NAMED_PORTS_OF_NATIVE_SIDECARS = (1, 32)  # before 1.32 a Service cannot target a native sidecar's port by name
MESH_PROXIES = frozenset({"istio-proxy", "linkerd-proxy"})
NO_SLEEP_BINARY = {
    "cloud-sql-proxy": "its default images are distroless: use a -alpine or -bookworm tag, or its own --max-sigterm-delay (v2) / -term_timeout (v1) flag",
    "alloydb-auth-proxy": "its default images are distroless: use a -alpine or -bookworm tag, or its own --max-sigterm-delay flag",
}


def runs_to_completion(workload: Workload) -> bool:
    if workload.kind in ("Job", "CronJob"):
        return True
    return workload.kind == "Pod" and workload.pod_spec.get("restartPolicy", "Always") != "Always"


def plan(workload: Workload, ctx: RuleContext) -> list[Finding]:
    mode = ctx.settings["sidecar-mode"]
    if mode == "off" or not workload.sidecars:
        return []
    findings = []
    sidecars = []
    for c in workload.sidecars:
        if c.sidecar in MESH_PROXIES:
            findings.append(Finding(ID, "info", f'sidecar "{c.name}" belongs to the mesh\'s injector; left to the mesh rule', path=c.pointer))
        else:
            sidecars.append(c)
    if not sidecars:
        return findings
    if mode == "native" and not ctx.at_least(*NATIVE_SIDECARS):
        major, minor = ctx.settings.kube_version
        findings.append(
            Finding(
                ID,
                "warning",
                f"native sidecars need Kubernetes 1.29+ and the target is {major}.{minor}: staggering the sidecars instead; raise --kube-version once the cluster is upgraded",
                path=sidecars[0].pointer,
            )
        )
        mode = "stagger"
    if mode == "native":
        staying = [c for c in sidecars if _named_ports(c) and not ctx.at_least(*NAMED_PORTS_OF_NATIVE_SIDECARS)]
        for c in staying:
            findings.append(
                Finding(ID, "warning", f'sidecar "{c.name}" declares named ports, which a Service cannot target on a native sidecar before Kubernetes 1.32: staggered instead of moved', path=c.pointer)
            )
        moving = [c for c in sidecars if c not in staying]
        if moving:
            findings.append(_make_native(workload, moving, ctx))
        sidecars = staying
    if not sidecars:
        return findings
    if runs_to_completion(workload):
        names = ", ".join(f'"{c.name}"' for c in sidecars)
        findings.append(
            Finding(
                ID,
                "warning",
                f"{workload.kind} never completes: sidecar {names} keeps running after the main container exits, so the pod never "
                "finishes; set sidecar-mode=native (Kubernetes 1.29+), and Kubernetes stops native sidecars once the main containers are done",
                path=sidecars[0].pointer,
            )
        )
        return findings
    return findings + _stagger(workload, sidecars, ctx)


def _named_ports(c: Container) -> list[str]:
    return [str(p["name"]) for p in c.ports if p.get("name")]


def _make_native(workload: Workload, sidecars: list[Container], ctx: RuleContext) -> Finding:
    """Move the sidecars, in their order, to the end of initContainers with restartPolicy Always.

    Removed highest index first so the earlier indexes stay valid; `move` is not used because the text
    patcher edits add/replace/remove only. The end of initContainers keeps today's start order: the
    sidecars still start after the existing init containers, as they did as regular containers.
    """
    spec = workload.pod_spec_pointer
    moved = [_restartable(c.raw) for c in sidecars]
    existing = as_list(workload.pod_spec.get("initContainers"))
    if existing:
        ops = [{"op": "add", "path": f"{spec}/initContainers/-", "value": value} for value in moved]
    else:
        ops = [ctx.set(f"{spec}/initContainers", moved)]
    ops += [{"op": "remove", "path": c.pointer} for c in sorted(sidecars, key=lambda c: c.index, reverse=True)]
    names = ", ".join(f'"{c.name}"' for c in sidecars)
    why = "so the Job can complete once its main container exits" if runs_to_completion(workload) else "so Kubernetes starts them before and stops them after the main containers"
    return Finding(ID, "warning", f"sidecar {names} moved to initContainers with restartPolicy: Always (native sidecar) {why}", ops=ops, path=sidecars[0].pointer)


def _restartable(raw: dict[str, Any]) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for key, item in raw.items():
        if key == "restartPolicy":
            continue
        value[key] = item
        if key == "name":
            value["restartPolicy"] = "Always"
    value.setdefault("restartPolicy", "Always")
    return value


def _stagger(workload: Workload, sidecars: list[Container], ctx: RuleContext) -> list[Finding]:
    need, reason = app_stop_seconds(workload, ctx.settings)
    cap = ctx.sleep_cap(workload)
    if cap is not None and need > cap:
        need, reason = cap, f"{reason}, capped at the grace period of {cap}s, which the skipped grace-period rule does not raise"
    if need < 1:
        return []
    findings = []
    for c in sidecars:
        path = f"{c.pointer}/lifecycle/preStop"
        label = f'sidecar "{c.name}" ({c.sidecar})' if c.sidecar != c.name else f'sidecar "{c.name}"'
        current = c.prestop_sleep
        if c.prestop is None:
            message = f"{label}: added a preStop sleep of {need}s ({reason}) so it outlives the app"
            if not ctx.at_least(*NATIVE_SLEEP):
                hint = NO_SLEEP_BINARY.get(c.sidecar or "", "distroless images have none")
                message += f"; below Kubernetes 1.30 the hook runs `sleep` from the image ({hint})"
            findings.append(Finding(ID, "warning", message, ops=[ctx.set(path, ctx.sleep_handler(need))], path=path))
        elif current is not None and current < need:
            op = ctx.raise_sleep(c, need)
            if op is not None:
                findings.append(Finding(ID, "warning", f"{label}: preStop sleep raised from {current}s to {need}s ({reason}) so it outlives the app", ops=[op], path=op["path"]))
            else:
                findings.append(Finding(ID, "warning", f"{label}: its preStop script sleeps {current}s, less than the app needs ({reason}): make it sleep {need}s", path=path))
        elif current is None:
            findings.append(Finding(ID, "info", f"{label}: has its own preStop hook, left as is; it must keep the sidecar up for {need}s ({reason})", path=path))
    return findings
