"""Give an injected mesh proxy its own drain time, as long as the app's sleep plus drain budget.

A pod that asks for Istio or Linkerd injection gets its proxy at admission time, so the proxy is not
in the manifest and its shutdown is configured by annotations. Istio's proxy drains for
`terminationDrainDuration` (5 s by default) after SIGTERM and then exits, cutting the app's outbound
connections while the app is still draining: `proxy.istio.io/config` gets a longer one, merged into the
ProxyConfig already there. Linkerd's proxy exits at SIGTERM unless
`config.alpha.linkerd.io/proxy-wait-before-exit-seconds` delays it; the grace-period rule keeps the grace
period above that wait. Pods that run the proxy as a native sidecar need neither: Kubernetes stops it
after the app. A pod asks for Istio's proxy with the label `sidecar.istio.io/inject: "true"` or the
revision label `istio.io/rev: <revision>` (Istio's revision webhooks select pods by it), unless
`sidecar.istio.io/inject` says otherwise, label before annotation (kube.istio_injected, after Istio's
MutatingWebhookConfiguration and its injector's injectRequired); for Linkerd's with the pod template's
`linkerd.io/inject: enabled` or `ingress` annotation. Only what the manifest shows counts; injection
enabled by a namespace label is invisible.

Examples (each one run by tests/test_rule_examples.py with this rule alone):

FAIL: Istio injection with the proxy's default drain

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
          annotations: {sidecar.istio.io/inject: "true"}
        spec:
          containers:
          - name: web
            image: example/web:1

PASS: a drain that covers the app's

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
          annotations: {sidecar.istio.io/inject: "true", proxy.istio.io/config: "terminationDrainDuration: 60s"}
        spec:
          containers:
          - name: web
            image: example/web:1
"""

from __future__ import annotations

from ..finding import Finding
from ..kube import ISTIO_CONFIG, ISTIO_NATIVE, LINKERD_INJECT, LINKERD_NATIVE, LINKERD_WAIT, go_duration_seconds, is_true, istio_injected, linkerd_asked, linkerd_injected, whole_seconds
from ..policy import yaml_annotation, yaml_annotation_with
from ..settings import Knob
from ..workload import WORKLOAD_KINDS, Workload, as_dict, escape
from .app_drain import app_stop_seconds
from .base import RuleContext

ID = "mesh"
SUMMARY = "Set the Istio / Linkerd proxy's drain time to the app's sleep + drain budget."
KINDS = WORKLOAD_KINDS
REMEDIATION = "Set `proxy.istio.io/config: {terminationDrainDuration: ...}` or `config.alpha.linkerd.io/proxy-wait-before-exit-seconds` on the pod template to the app's sleep plus drain."
KNOBS = (
    Knob(
        "mesh",
        True,
        "Set Istio's terminationDrainDuration and Linkerd's proxy-wait-before-exit-seconds on pods that ask for injection.",
        kind="bool",
        per_workload=True,
    ),
)


def wants_istio(workload: Workload) -> bool:
    return istio_injected(workload.template_metadata)


def wants_linkerd(workload: Workload) -> bool:
    return linkerd_injected(workload.template_metadata)


def _linkerd_on_workload(workload: Workload) -> Finding | None:
    if workload.kind == "Pod" or wants_linkerd(workload) or not linkerd_asked(workload.metadata.get("annotations")):
        return None
    message = (
        f"{LINKERD_INJECT} is on the {workload.kind}'s own metadata, where Linkerd does not read it (its webhook sees the pod "
        "and the namespace): move it to spec.template.metadata.annotations for the proxy to be injected"
    )
    return Finding(ID, "info", message, path=f"{workload.pointer}/metadata/annotations/{escape(LINKERD_INJECT)}")


def plan(workload: Workload, ctx: RuleContext) -> list[Finding]:
    if not ctx.settings["mesh"]:
        return []
    istio, linkerd = wants_istio(workload), wants_linkerd(workload)
    misplaced = _linkerd_on_workload(workload)
    if not (istio or linkerd):
        return [misplaced] if misplaced else []
    if workload.kind in ("Job", "CronJob"):
        return [_job_advice(istio, f"{workload.template_pointer}/metadata")]
    seconds, reason = app_stop_seconds(workload, ctx.settings)
    annotations = as_dict(workload.template_metadata.get("annotations"))
    base = f"{workload.template_pointer}/metadata/annotations/"
    findings = []
    if istio and not is_true(annotations.get(ISTIO_NATIVE)):
        findings += _istio(annotations, seconds, reason, base + escape(ISTIO_CONFIG), ctx)
    if linkerd and not any(is_true(annotations.get(key)) for key in LINKERD_NATIVE):
        findings += _linkerd(annotations, seconds, reason, base + escape(LINKERD_WAIT), ctx)
    return findings


def _job_advice(istio: bool, path: str) -> Finding:
    if istio:
        how = f'annotate the pod template with {ISTIO_NATIVE}: "true" (Istio 1.24+, Kubernetes 1.29+)'
    else:
        how = f'annotate it with {LINKERD_NATIVE[0]}: "true" (Linkerd 2.19+, Kubernetes 1.29+; {LINKERD_NATIVE[1]} on Linkerd 2.15 to 2.18)'
    mesh = "Istio" if istio else "Linkerd"
    return Finding(ID, "warning", f"the injected {mesh} proxy keeps running after the Job's container exits, so the Job never completes; {how} to inject it as a native sidecar", path=path)


def _istio(annotations: dict, seconds: int, reason: str, path: str, ctx: RuleContext) -> list[Finding]:
    current = annotations.get(ISTIO_CONFIG)
    text = "" if current is None else str(current)
    config, problem = yaml_annotation(text)
    if problem is not None:
        return [Finding(ID, "warning", f"{ISTIO_CONFIG} is not valid YAML ({problem}); left as is: set terminationDrainDuration: {seconds}s in it", path=path)]
    if not isinstance(config, dict):
        return [Finding(ID, "warning", f"{ISTIO_CONFIG} is not a mapping; left as is: set terminationDrainDuration: {seconds}s in it", path=path)]
    drain = config.get("terminationDrainDuration")
    have = go_duration_seconds(drain)
    if drain is not None and have is None:
        return [Finding(ID, "warning", f"{ISTIO_CONFIG} has terminationDrainDuration {drain!r}, not a duration; left as is", path=path)]
    if have is not None and have >= seconds:
        return []
    value = yaml_annotation_with(text, config, "terminationDrainDuration", f"{seconds}s")
    was = f"is {drain}" if drain is not None else "is unset (Istio's default is 5s)"
    message = f"Istio proxy: terminationDrainDuration {was}, so the proxy stops before the app has drained ({reason}); fix: terminationDrainDuration {seconds}s in {ISTIO_CONFIG}"
    return [Finding(ID, "warning", message, ops=[ctx.set(path, value)], path=path)]


def _linkerd(annotations: dict, seconds: int, reason: str, path: str, ctx: RuleContext) -> list[Finding]:
    current = annotations.get(LINKERD_WAIT)
    have = whole_seconds(current)
    if current is not None and have is None:
        return [Finding(ID, "warning", f"{LINKERD_WAIT} is {current!r}, not a whole number of seconds; left as is", path=path)]
    if have is not None and have >= seconds:
        return []
    was = f"is {current}" if current is not None else "is unset (Linkerd's default is 0)"
    message = f"Linkerd proxy: {LINKERD_WAIT} {was}, so the proxy stops before the app has drained ({reason}); fix: {LINKERD_WAIT} {seconds}"
    return [Finding(ID, "warning", message, ops=[ctx.set(path, str(seconds))], path=path)]
