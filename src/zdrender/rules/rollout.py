"""Keep an app serving while a rollout replaces its pods, on apps/v1.

A Deployment with one replica and `maxUnavailable: 1` stops its only pod before the new one is ready:
every rollout is an outage. The rule computes maxSurge and maxUnavailable in pods the way the
controllers do (maxSurge rounds up, maxUnavailable rounds down, for the effective replica count: an
HPA's minReplicas when one in the stream targets the workload, else spec.replicas, else 1) and
changes only what must change: one replica of a serving workload gets maxUnavailable 0 and a surge
of at least one pod; maxSurge is capped so a rollout does not need a large share of spare capacity
(never below one pod); percentages stay percentages. A serving DaemonSet surges instead of leaving a
node without its pod (maxSurge is GA since Kubernetes 1.25), unless it binds host ports or writes to a
hostPath the two copies on a node would share (a log agent's positions file). `Recreate`
and host ports on a Deployment get warnings, and so does an HPA that may scale a serving Deployment,
StatefulSet or Rollout down to one pod (minReplicas 1, or unset): a node drain or eviction of that pod
is an outage no PodDisruptionBudget prevents (`maxUnavailable: 1` lets the only pod go,
`minAvailable: 1` blocks the drain for good); the minimum is a capacity decision, so it is not changed. Argo Rollouts get the same rules on `canary` (without
traffic routing, which ignores both fields); blueGreen is left alone. StatefulSets are left alone:
they replace one pod at a time, cannot surge, and their maxUnavailable needs the
MaxUnavailableStatefulSet gate (alpha 1.24, beta 1.35). Workloads still on extensions/v1beta1,
apps/v1beta1 or apps/v1beta2 (not served since 1.16) move to apps/v1 and the finding names the
defaults that change with the move.

Examples (each one run by tests/test_rule_examples.py with this rule alone):

FAIL: one replica, and the rollout may take it away

    {apiVersion: v1, kind: Service, metadata: {name: web}, spec: {selector: {app: web}, ports: [{port: 80}]}}
    ---
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: web}
    spec:
      replicas: 1
      selector: {matchLabels: {app: web}}
      strategy: {rollingUpdate: {maxSurge: 0, maxUnavailable: 1}}
      template:
        metadata:
          labels: {app: web}
        spec:
          containers:
          - name: web
            image: example/web:1

PASS: surge first

    {apiVersion: v1, kind: Service, metadata: {name: web}, spec: {selector: {app: web}, ports: [{port: 80}]}}
    ---
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: web}
    spec:
      replicas: 1
      selector: {matchLabels: {app: web}}
      strategy: {rollingUpdate: {maxSurge: 1, maxUnavailable: 0}}
      template:
        metadata:
          labels: {app: web}
        spec:
          containers:
          - name: web
            image: example/web:1
"""

from __future__ import annotations

from ..finding import Finding
from ..kube import ROLLING_DEFAULTS, Amount, amount, host_binding
from ..settings import Knob
from ..workload import as_dict, as_list
from .base import RuleContext, Workload

TYPE_CHECKING = False  # typing's, without importing typing on the render path (record.py says why)
if TYPE_CHECKING:
    from typing import Any

ID = "rollout"
SUMMARY = "Roll out without dropping capacity: no unavailable pod at one replica, a capped maxSurge, surging DaemonSets, apps/v1."
KINDS = frozenset({"Deployment", "DaemonSet", "ReplicaSet", "StatefulSet", "Rollout"})
REMEDIATION = (
    "Use `maxUnavailable: 0` with a surge of at least one pod for single-replica workloads, keep maxSurge modest, give the HPA of a serving workload `minReplicas: 2`, and move workloads to apps/v1."
)
KNOBS = (
    Knob(
        "max-surge-percent",
        25,
        "Cap on maxSurge of Deployments and Rollouts, in percent of the replicas (never below one pod).",
        minimum=1,
        per_workload=True,
    ),
    Knob(
        "keep-warm",
        False,
        "maxUnavailable 0 for every Deployment and Rollout, not only for single-replica serving ones.",
        kind="bool",
        per_workload=True,
    ),
    Knob(
        "min-ready-seconds",
        0,
        "Set minReadySeconds (when unset) on Deployments, Rollouts and DaemonSets; 0 leaves it alone.",
        minimum=0,
        per_workload=True,
    ),
)
DAEMONSET_SURGE = (1, 25)  # DaemonSet rollingUpdate.maxSurge: beta (on) 1.22, GA 1.25

# Group versions not served since Kubernetes 1.16, the kinds they held, and the defaults that differ
# from apps/v1's (spec field -> old -> new), from each version's SetDefaults_* in kubernetes/kubernetes.
LEGACY_KINDS = {
    "extensions/v1beta1": frozenset({"Deployment", "DaemonSet", "ReplicaSet"}),
    "apps/v1beta1": frozenset({"Deployment", "StatefulSet"}),
    "apps/v1beta2": frozenset({"Deployment", "DaemonSet", "ReplicaSet", "StatefulSet"}),
}
LEGACY_DEFAULTS = {
    ("extensions/v1beta1", "Deployment"): (
        ("strategy/rollingUpdate/maxUnavailable", "maxUnavailable 1 -> 25%"),
        ("strategy/rollingUpdate/maxSurge", "maxSurge 1 -> 25%"),
        ("revisionHistoryLimit", "revisionHistoryLimit unlimited -> 10"),
        ("progressDeadlineSeconds", "progressDeadlineSeconds none -> 600"),
    ),
    ("apps/v1beta1", "Deployment"): (("revisionHistoryLimit", "revisionHistoryLimit 2 -> 10"),),
    ("extensions/v1beta1", "DaemonSet"): (("updateStrategy/type", "updateStrategy OnDelete -> RollingUpdate"),),
    ("apps/v1beta1", "StatefulSet"): (("updateStrategy/type", "updateStrategy OnDelete -> RollingUpdate"),),
}
SELECTOR_DEFAULTED = frozenset({"extensions/v1beta1", "apps/v1beta1"})  # apps/v1beta2 already required one
REMOVED_FIELDS = {
    "rollbackTo": "use `kubectl rollout undo`",
    "templateGeneration": "apps/v1 tracks revisions itself",
}

# ASCII digits, as the API reads them, and few enough for int() (the API refuses more than an int32 anyway).


def _pods(n: int) -> str:
    return f"{n} pod" if n == 1 else f"{n} pods"


class Fields:
    """Where a workload keeps maxSurge / maxUnavailable, and their defaults."""

    def __init__(self, pointer: str, raw: Any, surge_default: Any, unavailable_default: Any, argo: bool = False) -> None:
        self.pointer = pointer
        self.raw = raw  # the mapping holding them, when the document has one
        self.surge_default = surge_default
        self.unavailable_default = unavailable_default
        self.argo = argo

    @property
    def values(self) -> dict[str, Any]:
        return as_dict(self.raw)

    def get(self, key: str) -> Amount | None:
        return amount(self.values.get(key, self.surge_default if key == "maxSurge" else self.unavailable_default), self.argo)

    def explicit_percent(self, key: str) -> bool:
        found = amount(self.values[key], self.argo) if key in self.values else None
        return bool(found and found.percent)

    def ops(self, ctx: RuleContext, changes: dict[str, Any]) -> list[dict[str, Any]]:
        """Ops setting `changes`; one op for the whole mapping when the document has none yet (ops built
        against the same document would each create it and the last would win)."""
        if not isinstance(self.raw, dict):
            return [ctx.set(self.pointer, changes)]
        return [ctx.set(f"{self.pointer}/{key}", value) for key, value in changes.items()]


def writable_host_paths(workload: Workload) -> list[str]:
    """hostPath volumes a container mounts read-write: two pods on one node would share that state."""
    host = {str(v.get("name")): str(as_dict(v.get("hostPath")).get("path", "?")) for v in as_list(workload.pod_spec.get("volumes")) if isinstance(v, dict) and isinstance(v.get("hostPath"), dict)}
    found = []
    for c in workload.containers + workload.init_containers:
        for mount in as_list(c.raw.get("volumeMounts")):
            if isinstance(mount, dict) and str(mount.get("name")) in host and mount.get("readOnly") is not True:
                found.append(host[str(mount.get("name"))])
    return sorted(set(found))


def claims(workload: Workload) -> list[str]:
    return [
        str(as_dict(v.get("persistentVolumeClaim")).get("claimName", "?"))
        for v in as_list(workload.pod_spec.get("volumes"))
        if isinstance(v, dict) and isinstance(v.get("persistentVolumeClaim"), dict)
    ]


# -- apps/v1 ----------------------------------------------------------------------------------------
def _set_in(spec: dict[str, Any], path: str) -> bool:
    node: Any = spec
    for part in path.split("/"):
        if not isinstance(node, dict) or node.get(part) is None:
            return False
        node = node[part]
    return True


def plan_api_version(workload: Workload, ctx: RuleContext) -> list[Finding]:
    old, kind, spec = workload.api_version, workload.kind, workload.spec
    if kind not in LEGACY_KINDS.get(old, ()):
        return []
    base = workload.pointer
    ops = [ctx.set(f"{base}/apiVersion", "apps/v1")]
    notes = []
    if not as_dict(spec.get("selector")):
        if not workload.labels:
            message = f"{kind} is on {old}, which Kubernetes no longer serves, and has neither spec.selector nor pod template labels: add both, then move it to apps/v1"
            return [Finding(ID, "warning", message, path=f"{base}/apiVersion")]
        ops.append(ctx.set(f"{base}/spec/selector", {"matchLabels": dict(workload.labels)}))
        why = f"what {old} defaulted it to" if old in SELECTOR_DEFAULTED else "apps/v1 requires one"
        notes.append(f"spec.selector set to the pod template's labels ({why}; it cannot change later)")
    for field, hint in REMOVED_FIELDS.items():
        if field in spec:
            ops.append({"op": "remove", "path": f"{base}/spec/{field}"})
            notes.append(f"spec.{field} dropped (not in apps/v1; {hint})")
    recreate = as_dict(spec.get("strategy")).get("type") == "Recreate"
    changed = [text for path, text in LEGACY_DEFAULTS.get((old, kind), ()) if not _set_in(spec, path) and not (recreate and path.startswith("strategy/rollingUpdate/"))]
    notes.append("defaults that change: " + ", ".join(changed) if changed else "no defaults change")
    message = f"{kind} is on {old}, which Kubernetes has not served since 1.16, so the API refuses it; fix: apps/v1; " + "; ".join(notes)
    return [Finding(ID, "warning", message, ops=ops, path=f"{base}/apiVersion")]


# -- Deployments and Rollouts ------------------------------------------------------------------------
def replicated_fields(workload: Workload) -> Fields | Finding | None:
    strategy = as_dict(workload.spec.get("strategy"))
    base = f"{workload.pointer}/spec/strategy"
    if workload.kind == "Rollout":
        canary = strategy.get("canary")
        if not isinstance(canary, dict) or canary.get("trafficRouting"):
            return None  # blueGreen, or a canary whose traffic router ignores maxSurge / maxUnavailable
        return Fields(f"{base}/canary", canary, *ROLLING_DEFAULTS["Rollout"], argo=True)
    if strategy.get("type") == "Recreate":
        if not workload.serving:
            return None
        volumes = claims(workload)
        if volumes:
            message = (
                f"strategy Recreate stops every pod before starting new ones (downtime on each rollout); probably deliberate: "
                f"the pod mounts PersistentVolumeClaim {', '.join(volumes)}, which a second pod may not be able to attach"
            )
            return Finding(ID, "info", message, path=f"{base}/type")
        message = "strategy Recreate stops every pod before starting new ones: each rollout is an outage; use RollingUpdate unless two versions really cannot run side by side"
        return Finding(ID, "warning", message, path=f"{base}/type")
    return Fields(f"{base}/rollingUpdate", strategy.get("rollingUpdate"), *ROLLING_DEFAULTS["Deployment"])


def plan_replicated(workload: Workload, ctx: RuleContext) -> list[Finding]:
    fields = replicated_fields(workload)
    if fields is None or isinstance(fields, Finding):
        return [fields] if fields else []
    n = workload.replicas
    surge, unavailable = fields.get("maxSurge"), fields.get("maxUnavailable")
    if n < 1 or surge is None or unavailable is None:
        return []  # nothing to roll, or values the API server rejects anyway
    cap = ctx.settings["max-surge-percent"]
    cap_pods = Amount(cap, True).pods(n, round_up=True)
    hpa = workload.hpa_min_replicas is not None
    replicas = f"{n} replica{'s' if n != 1 else ''}" + (" (the HPA's minReplicas)" if hpa else "")
    new_surge, new_unavailable = surge, unavailable
    reasons: list[str] = []  # what is wrong
    fixes: list[str] = []  # the values that fix it
    if surge.pods(n, True) > cap_pods or (hpa and surge.percent and surge.number > cap):
        new_surge = Amount(cap, True) if surge.percent else Amount(cap_pods, False)
        reasons.append(
            f"maxSurge {surge} ({_pods(surge.pods(n, True))} at {replicas}) needs more than {cap}% spare capacity for a rollout" + (" at counts the HPA scales to" if hpa and surge.percent else "")
        )
        fixes.append(f"maxSurge {new_surge} ({_pods(new_surge.pods(n, True))})")
    single = n == 1 and workload.serving
    warm = ctx.settings["keep-warm"]
    if single or warm:
        warm_changes = []
        if new_surge.pods(n, True) < 1:
            new_surge = Amount(cap, True) if surge.percent else Amount(1, False)
            warm_changes.append(f"maxSurge {surge} (0 pods)")
            fixes.append(f"maxSurge {new_surge} ({_pods(new_surge.pods(n, True))})")
        # keep-warm holds at any replica count the HPA may pick; otherwise judge the count we know
        if unavailable.pods(n, False) > 0 or (warm and hpa and unavailable.number > 0):
            new_unavailable = Amount(0, fields.explicit_percent("maxUnavailable"))
            scaled = _pods(unavailable.pods(n, False)) + (", more as the HPA scales up" if hpa and unavailable.percent else "")
            warm_changes.append(f"maxUnavailable {unavailable} ({scaled})")
            fixes.append(f"maxUnavailable {new_unavailable}")
        if warm_changes:
            if single:
                why = f"at {replicas} the only old pod stops before the new one is ready, an outage on every rollout"
            else:
                why = "a pod may stop before its replacement is ready (keep-warm asks for none to)"
            reasons.append(", ".join(warm_changes) + ": " + why)
    findings = []
    changes = {key: new.value for key, old, new in (("maxSurge", surge, new_surge), ("maxUnavailable", unavailable, new_unavailable)) if new != old}
    ops = fields.ops(ctx, changes) if changes else []
    if ops:
        findings.append(Finding(ID, "warning", "; ".join(reasons) + "; fix: " + ", ".join(fixes), ops=ops, path=fields.pointer))
    down = new_unavailable.pods(n, False)
    if n >= 2 and down >= n:
        message = f"maxUnavailable {new_unavailable} lets all {n} pods be down at once during a rollout; keep it below the replica count"
        findings.append(Finding(ID, "warning", message, path=f"{fields.pointer}/maxUnavailable"))
    bound = host_binding(workload)
    if bound and new_surge.pods(n, True) >= 1:
        why, path = bound
        message = (
            f"{why}: a surge pod can only start on a node that does not already run one of these pods; without such a node the "
            "rollout waits forever (old pods keep serving). Keep a spare schedulable node, or move off host ports"
        )
        findings.append(Finding(ID, "warning", message, path=path))
    return findings


# -- DaemonSets --------------------------------------------------------------------------------------
def plan_daemonset(workload: Workload, ctx: RuleContext) -> list[Finding]:
    update = as_dict(workload.spec.get("updateStrategy"))
    if not workload.serving or (update.get("type") or "RollingUpdate") != "RollingUpdate":
        return []
    fields = Fields(f"{workload.pointer}/spec/updateStrategy/rollingUpdate", update.get("rollingUpdate"), *ROLLING_DEFAULTS["DaemonSet"])
    surge, unavailable = fields.get("maxSurge"), fields.get("maxUnavailable")
    if surge is None or unavailable is None:
        return []
    bound = host_binding(workload)
    if bound:
        if surge.number == 0:
            return []  # a surge pod would need the node's ports the old pod holds
        why, _path = bound
        message = f"{why}, but maxSurge is {surge}: the new pod cannot bind the port while the old one runs on the node, so the rollout stalls; use maxSurge 0"
        return [Finding(ID, "warning", message, path=f"{fields.pointer}/maxSurge")]
    if not ctx.at_least(*DAEMONSET_SURGE):
        return []
    changes: dict[str, Any] = {}
    if surge.number == 0:
        changes["maxSurge"] = 1
    if unavailable.number > 0:
        changes["maxUnavailable"] = Amount(0, fields.explicit_percent("maxUnavailable")).value
    if not changes:
        return []
    shared = writable_host_paths(workload)
    if shared and surge.number == 0:
        # A log agent's positions file or a CSI plugin's socket: two copies on one node may fight over it.
        message = (
            f"writes to the node's {', '.join(shared)} (hostPath), which a surge pod would share with the old one "
            "on the same node; left without surge. If both copies can share it, set maxSurge 1 and maxUnavailable 0 in the chart"
        )
        return [Finding(ID, "info", message, path=fields.pointer)]
    old = {"maxSurge": surge, "maxUnavailable": unavailable}
    message = (
        ", ".join(f"{key} {old[key]}" for key in changes)
        + ": each node stops its old pod before the new one starts, so it serves nothing meanwhile; fix: "
        + ", ".join(f"{key} {value}" for key, value in changes.items())
    )
    return [Finding(ID, "warning", message, ops=fields.ops(ctx, changes), path=fields.pointer)]


def plan_min_ready(workload: Workload, ctx: RuleContext) -> list[Finding]:
    seconds = ctx.settings["min-ready-seconds"]
    if seconds <= 0 or workload.kind not in ("Deployment", "Rollout", "DaemonSet") or "minReadySeconds" in workload.spec:
        return []
    path = f"{workload.pointer}/spec/minReadySeconds"
    message = f"no minReadySeconds, so a rollout moves on as soon as a new pod is ready once; fix: minReadySeconds {seconds} (the min-ready-seconds setting)"
    return [Finding(ID, "info", message, ops=[ctx.set(path, seconds)], path=path)]


# -- HorizontalPodAutoscalers ------------------------------------------------------------------------
def plan_hpa_minimum(workload: Workload) -> list[Finding]:
    """An HPA that may leave a serving workload one pod. Not the one-replica rollout fix (that is about
    the rollout, and is patched): this is about drains, and the HPA's minimum is the owner's to raise."""
    hpa = workload.hpa
    if hpa is None or hpa.min_replicas != 1 or workload.kind not in ("Deployment", "StatefulSet", "Rollout") or not workload.serving:
        return []  # minReplicas 0 is scale to zero (HPAScaleToZero): having no pod at times is the point
    minimum = "has minReplicas 1" if hpa.min_set else "sets no minReplicas (so 1)"
    message = (
        f"HorizontalPodAutoscaler {hpa.name} {minimum}, so it may leave this serving {workload.kind} one pod: a node drain or "
        "eviction of that pod is an outage no PodDisruptionBudget can prevent (maxUnavailable 1 lets the only pod go, "
        "minAvailable 1 blocks the drain for good); set the HPA's minReplicas to 2"
    )
    return [Finding(ID, "warning", message, path=workload.pointer)]


def plan(workload: Workload, ctx: RuleContext) -> list[Finding]:
    findings = plan_api_version(workload, ctx)
    if workload.kind in ("Deployment", "Rollout"):
        findings += plan_replicated(workload, ctx)
    elif workload.kind == "DaemonSet":
        findings += plan_daemonset(workload, ctx)
    return findings + plan_hpa_minimum(workload) + plan_min_ready(workload, ctx)
