"""Add a PodDisruptionBudget so that node drains take replicas down one at a time (opt-in).

Node upgrades, autoscaler scale-downs and maintenance evict pods through the eviction API, which only
holds back when a PodDisruptionBudget covers the pods: without one a drain may take every replica of a
Deployment down at once. `maxUnavailable: 1` lets drains proceed one pod at a time; it never uses
`minAvailable: 1`, which blocks drains for good when a single replica is running. Only workloads with
2 or more effective replicas (an HPA's minReplicas counts) that no PDB in the stream selects get one.
It is opt-in because a PDB is a new object in the release, not a change to one.

Examples (each one run by tests/test_rule_examples.py with this rule alone):

FAIL: three replicas and no PodDisruptionBudget (with --set disruption-budget=true)

    {apiVersion: v1, kind: Service, metadata: {name: web}, spec: {selector: {app: web}, ports: [{port: 80}]}}
    ---
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

PASS: a budget already selects them

    {apiVersion: v1, kind: Service, metadata: {name: web}, spec: {selector: {app: web}, ports: [{port: 80}]}}
    ---
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
    ---
    apiVersion: policy/v1
    kind: PodDisruptionBudget
    metadata: {name: web}
    spec:
      maxUnavailable: 1
      selector: {matchLabels: {app: web}}
"""

from __future__ import annotations

from ..finding import Finding
from ..settings import Knob
from ..workload import Workload, as_dict, selector_matches
from .base import RuleContext

TYPE_CHECKING = False  # typing's, without importing typing on the render path (record.py says why)
if TYPE_CHECKING:
    from typing import Any

ID = "disruption-budget"
SUMMARY = "Add a PodDisruptionBudget (maxUnavailable 1) for Deployments/StatefulSets with 2+ replicas that have none (opt-in)."
REMEDIATION = "Add a PodDisruptionBudget (maxUnavailable: 1) selecting the workload's pods."
KNOBS = (
    Knob(
        "disruption-budget",
        False,
        "Add a policy/v1 PodDisruptionBudget with maxUnavailable 1 next to each Deployment/StatefulSet with 2+ replicas that no PDB in the stream selects.",
        kind="bool",
        per_workload=True,
    ),
)
KINDS = frozenset({"Deployment", "StatefulSet"})
EXAMPLE_SETTINGS = ("disruption-budget=true",)  # it is opt-in: its examples run with it on
FILENAME_ANNOTATION = "postrenderer.helm.sh/postrender-filename"  # Helm 4 re-splits its output by it
SUFFIX = "-zdrender"


def plan(workload: Workload, ctx: RuleContext) -> list[Finding]:
    if not ctx.settings["disruption-budget"] or workload.kind not in KINDS or workload.replicas < 2:
        return []
    if ctx.stream.pdbs_selecting(workload.namespace, workload.labels):
        return []
    selector = _selector(workload)
    if selector is None:
        return [Finding(ID, "info", "no PodDisruptionBudget added: the pod template has no labels to select its pods by", path=f"{workload.template_pointer}/metadata")]
    if not selector_matches(selector, workload.labels):  # a PDB with it would not cover the pods: one more each run
        message = "no PodDisruptionBudget added: spec.selector does not select the pod template's labels, which the API server rejects; fix the selector"
        return [Finding(ID, "info", message, path=f"{workload.pointer}/spec/selector")]
    inside = ctx.stream.pdbs_within(workload.namespace, selector)
    if inside:
        message = (
            f"no PodDisruptionBudget added: its selector would also select the pods of PodDisruptionBudget {', '.join(inside)}, "
            "and the eviction API refuses to evict a pod that two PDBs select (node drains would stall)"
        )
        return [Finding(ID, "info", message, path=f"{workload.pointer}/spec/selector")]
    name = budget_name(workload.name)
    # Later workloads see it: a pod under two PDBs cannot be evicted at all, so none gets a second one.
    ctx.stream.add_pdb(workload.namespace, selector, name)
    message = f"{workload.replicas} replicas and no PodDisruptionBudget selects them, so a node drain could evict them all at once; fix: PodDisruptionBudget {name} (maxUnavailable 1) after it"
    return [Finding(ID, "warning", message, path=f"{workload.pointer}/spec/selector", new_object=pdb(workload, name, selector))]


def budget_name(workload_name: str) -> str:
    # Names are DNS subdomains (253 characters); the suffix says who added it and avoids the chart's own names.
    # A cut name must still end in an alphanumeric before the suffix ("a.-zdrender" is no DNS name).
    return workload_name[: 253 - len(SUFFIX)].rstrip(".-") + SUFFIX


def _selector(workload: Workload) -> dict[str, Any] | None:
    """The workload's own selector (it selects exactly its pods), else its template labels."""
    if workload.selector is not None:
        return workload.selector
    return {"matchLabels": dict(workload.labels)} if workload.labels else None


def pdb(workload: Workload, name: str, selector: dict[str, Any]) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name}
    if workload.namespace is not None:
        metadata["namespace"] = workload.namespace
    filename = as_dict(workload.metadata.get("annotations")).get(FILENAME_ANNOTATION)
    if filename:
        metadata["annotations"] = {FILENAME_ANNOTATION: str(filename)}
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": metadata,
        "spec": {"maxUnavailable": 1, "selector": selector},
    }
