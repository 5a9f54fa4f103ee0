"""Make proxy and helper sidecars outlive the app they serve.

When a pod is deleted every container gets SIGTERM at once (after its own preStop hook). A Cloud SQL
proxy, Envoy or OAuth2 proxy that exits at once cuts the app's in-flight requests and its database
connections while the app is still draining; a log shipper that exits first loses the last lines.
Mode `stagger` gives each sidecar a preStop sleep as long as the app's preStop sleep plus the drain
budget, so it stops last (the grace-period rule then grows the grace period to cover that sleep plus
a few seconds). Mode `native` (Kubernetes >= 1.29) turns them into native sidecars, init containers
with `restartPolicy: Always`, which Kubernetes starts before and stops after the main containers; it
is also what lets a Job with a sidecar complete.

A sidecar is known by its name or image (policy.KNOWN_SIDECARS), and is one only when another
container of the pod is the app it serves: a main container that is not itself a helper (a metrics
exporter, whose every port is a metrics port, or the shutdown manager Contour and Envoy Gateway run
beside Envoy). So Envoy alone, or Envoy beside its exporter or shutdown manager, is a gateway: the app,
not a sidecar. A proxy rendered into the chart is a sidecar like any other: the linkerd-proxy that
Linkerd's own control plane renders beside each controller (Linkerd's injector never adds a proxy to a
pod that has one: pkg/healthcheck HasExistingSidecars), or an `istioctl kube-inject` output. Only an
istio-proxy container that Istio's injector merges with the proxy it injects (the pod asks for
injection, or its image is `auto`) is left to the mesh rule, which sets its drain by annotation.

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

from ..finding import Finding
from ..kube import ISTIO_CONFIG, istio_injected
from ..policy import KNOWN_SIDECARS
from ..settings import Knob
from ..workload import WORKLOAD_KINDS, Container, Workload, as_list
from .app_drain import app_stop_seconds
from .base import NATIVE_SLEEP, RuleContext

TYPE_CHECKING = False  # typing's, without importing typing on the render path (record.py says why)
if TYPE_CHECKING:
    from typing import Any

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
KNOWN_KINDS = frozenset(kind for kind, _ in KNOWN_SIDECARS)
NO_SLEEP_BINARY = {
    "cloud-sql-proxy": "its default images are distroless: use a -alpine or -bookworm tag, or its own --max-sigterm-delay (v2) / -term_timeout (v1) flag",
    "alloydb-auth-proxy": "its default images are distroless: use a -alpine or -bookworm tag, or its own --max-sigterm-delay flag",
}
# What the app loses when a sidecar of this kind stops before it has drained.
LOSS = {
    "cloud-sql-proxy": "the app's last requests lose their database",
    "alloydb-auth-proxy": "the app's last requests lose their database",
    "fluent-bit": "the app's last log lines are lost",
    "fluentd": "the app's last log lines are lost",
    "log-shipper": "the app's last log lines are lost",
    "vault-agent": "the app loses its secrets agent while it drains",
}
PROXY_LOSS = "the requests still passing through {it} fail"  # Envoy, istio-proxy, linkerd-proxy, OAuth2 proxy
OTHER_LOSS = "the app loses {it} while it still drains"  # a sidecar named by the sidecar-names setting


def runs_to_completion(workload: Workload) -> bool:
    if workload.kind in ("Job", "CronJob"):
        return True
    return workload.kind == "Pod" and workload.pod_spec.get("restartPolicy", "Always") != "Always"


def injected_by_mesh(workload: Workload, c: Container) -> bool:
    """An istio-proxy container that Istio's injector merges with the proxy it injects (its
    "customizing injection": pkg/kube/inject RunTemplate): the pod asks for injection, or the image is
    `auto`, which only the injector replaces. A rendered linkerd-proxy never is: Linkerd's injector skips
    a pod that already has one (pkg/healthcheck HasExistingSidecars)."""
    return c.sidecar == "istio-proxy" and (istio_injected(workload.template_metadata) or c.image == "auto")


def loss(c: Container, named: bool = False) -> str:
    """What the app loses when `c` stops first; `named` says which sidecar instead of "it"."""
    if c.sidecar in LOSS:
        return LOSS[c.sidecar]
    return (PROXY_LOSS if c.sidecar in KNOWN_KINDS else OTHER_LOSS).format(it=f'"{c.name}"' if named else "it")


def plan(workload: Workload, ctx: RuleContext) -> list[Finding]:
    mode = ctx.settings["sidecar-mode"]
    if mode == "off" or not workload.sidecars:
        return []
    findings = []
    sidecars = []
    for c in workload.sidecars:
        if injected_by_mesh(workload, c):
            if istio_injected(workload.template_metadata):
                then = f"the mesh rule sets its terminationDrainDuration in {ISTIO_CONFIG}"
            else:
                then = f"set its terminationDrainDuration in {ISTIO_CONFIG} (the pod's injection comes from its namespace, which the mesh rule cannot see)"
            message = f'sidecar "{c.name}" is merged into the proxy Istio injects, so pod annotations set its shutdown, not this container; {then}'
            findings.append(Finding(ID, "info", message, path=c.pointer))
        else:
            sidecars.append(c)
    if not sidecars:
        return findings
    if mode == "native" and not ctx.at_least(*NATIVE_SIDECARS):
        major, minor = ctx.settings.kube_version
        message = (
            f"sidecar-mode native needs Kubernetes 1.29+ but the target is {major}.{minor}, so the sidecars stay in containers and are "
            "staggered instead (below); raise --kube-version to 1.29 once the cluster runs it"
        )
        findings.append(Finding(ID, "warning", message, path=sidecars[0].pointer))
        mode = "stagger"
    if mode == "native":
        staying = [c for c in sidecars if _named_ports(c) and not ctx.at_least(*NAMED_PORTS_OF_NATIVE_SIDECARS)]
        for c in staying:
            message = (
                f'sidecar "{c.name}" declares named ports ({", ".join(_named_ports(c))}), which a Service cannot target on a native sidecar '
                "before Kubernetes 1.32, so it stays in containers and is staggered instead; raise --kube-version to 1.32 once the cluster runs it"
            )
            findings.append(Finding(ID, "warning", message, path=c.pointer))
        moving = [c for c in sidecars if c not in staying]
        if moving:
            findings.append(_make_native(workload, moving, ctx))
        sidecars = staying
    if not sidecars:
        return findings
    if runs_to_completion(workload):
        names = ", ".join(f'"{c.name}"' for c in sidecars)
        message = (
            f"sidecar {names} keeps running after the {workload.kind}'s main container exits, so the pod never completes; "
            "set sidecar-mode=native (Kubernetes 1.29+): Kubernetes stops native sidecars once the main containers are done"
        )
        findings.append(Finding(ID, "warning", message, path=sidecars[0].pointer))
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
    one = len(sidecars) == 1
    who, it = (f"sidecar {names}", "it") if one else (f"sidecars {names}", "them")
    if runs_to_completion(workload):
        why = f"{'keeps' if one else 'keep'} running after the {workload.kind}'s main container exits, so the pod never completes"
        how = "Kubernetes stops native sidecars once the main containers are done"
    else:
        why = f"{'stops' if one else 'stop'} with the app, so {' and '.join(dict.fromkeys(loss(c, named=not one) for c in sidecars))}"
        how = "Kubernetes stops native sidecars after the main containers"
    message = f"{who} {why}; fix: move {it} to initContainers with restartPolicy: Always ({how})"
    return Finding(ID, "warning", message, ops=ops, path=sidecars[0].pointer)


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
        if c.prestop is None and (unable := ctx.no_sleep_reason(c)) is not None:
            hint = NO_SLEEP_BINARY.get(c.sidecar or "", "use an image variant with a shell, or target Kubernetes 1.30+ (--kube-version)")
            findings.append(Finding(ID, "warning", f"{label} stops with the app, so {loss(c)}; no sleep added: {unable}; {hint}", path=path))
        elif c.prestop is None:
            message = f"{label} stops with the app, so {loss(c)}; fix: preStop sleep {need}s ({reason})"
            if not ctx.at_least(*NATIVE_SLEEP):
                hint = NO_SLEEP_BINARY.get(c.sidecar or "", "distroless images have none")
                message += f", which below Kubernetes 1.30 runs `sleep` from the image ({hint})"
            findings.append(Finding(ID, "warning", message, ops=[ctx.set(path, ctx.sleep_handler(need))], path=path))
        elif current is not None and current < need:
            early = f"{label} sleeps {current}s in preStop, less than the {need}s the app takes to stop, so it stops while the app still drains and {loss(c)}"
            op = ctx.raise_sleep(c, need)
            if op is not None:
                findings.append(Finding(ID, "warning", f"{early}; fix: preStop sleep {need}s ({reason})", ops=[op], path=op["path"]))
            else:
                findings.append(Finding(ID, "warning", f"{early}; make its preStop script sleep {need}s ({reason})", path=path))
        elif current is None:
            message = f"{label} has its own preStop hook, which zdrender cannot time; make sure it keeps the sidecar up for {need}s ({reason})"
            findings.append(Finding(ID, "info", message, path=path))
    return findings
