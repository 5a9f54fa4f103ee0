"""Keep a workload's replicas off a single node, so one node drain or failure cannot take them all (opt-in).

The scheduler places replicas where they fit best, and without a pod anti-affinity or a topology spread
constraint nothing stops it from putting every replica of a Deployment on the same node: a node drain
(an upgrade, an autoscaler scale-down) or a node failure then takes all of them at once, and a
PodDisruptionBudget only slows a drain down, it cannot help a node that fails. For a Deployment,
StatefulSet or Argo Rollout with 2 or more effective replicas (an HPA's minReplicas counts) whose pods
have neither, the rule adds a *preferred* pod anti-affinity on `kubernetes.io/hostname` (weight 100)
with the workload's own selector, beside any nodeAffinity or podAffinity already there; being
preferred, it never leaves a pod pending on a cluster with fewer nodes than replicas.
`spread-mode=topology-spread` adds a topologySpreadConstraints entry instead (maxSkew 1,
whenUnsatisfiable ScheduleAnyway; on a Deployment from Kubernetes 1.27, where matchLabelKeys is on by
default, `matchLabelKeys: [pod-template-hash]` so each rollout's new pods spread among themselves).
It is opt-in because it changes the pod template: the first render with it rolls the workload's pods.

Examples (each one run by tests/test_rule_examples.py with this rule alone):

FAIL: three replicas the scheduler may put on one node (with --set spread=true)

    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: web}
    spec:
      replicas: 3
      selector: {matchLabels: {app: web}}
      template:
        metadata:
          labels: {app: web}
        spec:
          containers:
          - name: web
            image: example/web:1

PASS: the chart already spreads them

    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: web}
    spec:
      replicas: 3
      selector: {matchLabels: {app: web}}
      template:
        metadata:
          labels: {app: web}
        spec:
          topologySpreadConstraints:
          - maxSkew: 1
            topologyKey: topology.kubernetes.io/zone
            whenUnsatisfiable: ScheduleAnyway
            labelSelector: {matchLabels: {app: web}}
          containers:
          - name: web
            image: example/web:1
"""

from __future__ import annotations

from ..finding import Finding
from ..settings import Knob
from ..workload import as_dict, as_list, selector_matches
from ..yamldoc import copy_data
from .base import RuleContext, Workload

TYPE_CHECKING = False  # typing's, without importing typing on the render path (record.py says why)
if TYPE_CHECKING:
    from typing import Any

ID = "spread"
SUMMARY = "Spread Deployments/StatefulSets with 2+ replicas across nodes: a preferred pod anti-affinity on the hostname (opt-in)."
REMEDIATION = "Add a preferred podAntiAffinity (or a topologySpreadConstraint) on kubernetes.io/hostname selecting the workload's pods."
KNOBS = (
    Knob(
        "spread",
        False,
        "Keep the replicas of each Deployment/StatefulSet/Rollout with 2+ replicas and no pod anti-affinity or topology spread off a single node (changes the pod template: the pods roll).",
        kind="bool",
        per_workload=True,
    ),
    Knob(
        "spread-mode",
        "anti-affinity",
        "How `spread` spreads: anti-affinity (a preferred podAntiAffinity on kubernetes.io/hostname) or topology-spread (a topologySpreadConstraint, maxSkew 1, ScheduleAnyway).",
        kind="choice",
        choices=("anti-affinity", "topology-spread"),
        per_workload=True,
    ),
)
KINDS = frozenset({"Deployment", "StatefulSet", "Rollout"})
EXAMPLE_SETTINGS = ("spread=true",)  # it is opt-in: its examples run with it on
HOSTNAME = "kubernetes.io/hostname"
TEMPLATE_HASH = "pod-template-hash"  # the label a Deployment's ReplicaSets put on their pods
MATCH_LABEL_KEYS = (1, 27)  # MatchLabelKeysInPodTopologySpread: alpha 1.25, beta and on by default 1.27


def plan(workload: Workload, ctx: RuleContext) -> list[Finding]:
    if not ctx.settings["spread"] or workload.replicas < 2:
        return []
    spec = workload.pod_spec
    if as_dict(spec.get("affinity")).get("podAntiAffinity") or spec.get("topologySpreadConstraints"):
        return []  # the chart already says how its pods spread
    selector = workload.selector
    if selector is None:
        message = "not spread across nodes: spec.selector has neither matchLabels nor matchExpressions to select the pods by"
        return [Finding(ID, "info", message, path=f"{workload.pointer}/spec/selector")]
    if not selector_matches(selector, workload.labels):
        message = "not spread across nodes: spec.selector does not select the pod template's labels, which the API server rejects; fix the selector"
        return [Finding(ID, "info", message, path=f"{workload.pointer}/spec/selector")]
    selector = copy_data(selector)  # the op's own value, not the document's mapping
    replicas = f"{workload.replicas} replicas" + (" (the HPA's minReplicas)" if workload.hpa is not None else "")
    why = f"nothing keeps its {replicas} off a single node, so one node drain or failure can take them all down at once"
    rolls = " (a pod template change: the pods roll once)"
    if ctx.settings["spread-mode"] == "topology-spread":
        constraint: dict[str, Any] = {"maxSkew": 1, "topologyKey": HOSTNAME, "whenUnsatisfiable": "ScheduleAnyway", "labelSelector": selector}
        if workload.kind == "Deployment" and ctx.at_least(*MATCH_LABEL_KEYS) and TEMPLATE_HASH not in _keys(selector):
            constraint["matchLabelKeys"] = [TEMPLATE_HASH]
        path = f"{workload.pod_spec_pointer}/topologySpreadConstraints"
        message = f"{why}; fix: a topology spread constraint on {HOSTNAME} (maxSkew 1, ScheduleAnyway){rolls}"
        return [Finding(ID, "warning", message, ops=[ctx.set(path, [constraint])], path=path)]
    term = {"weight": 100, "podAffinityTerm": {"labelSelector": selector, "topologyKey": HOSTNAME}}
    path = f"{workload.pod_spec_pointer}/affinity/podAntiAffinity"
    message = f"{why}; fix: a preferred pod anti-affinity on {HOSTNAME} (weight 100){rolls}"
    return [Finding(ID, "warning", message, ops=[ctx.set(path, {"preferredDuringSchedulingIgnoredDuringExecution": [term]})], path=path)]


def _keys(selector: dict[str, Any]) -> set[str]:
    """The label keys a selector names (matchLabelKeys must not repeat one)."""
    expressions = [str(e.get("key")) for e in as_list(selector.get("matchExpressions")) if isinstance(e, dict)]
    return {str(k) for k in as_dict(selector.get("matchLabels"))} | set(expressions)
