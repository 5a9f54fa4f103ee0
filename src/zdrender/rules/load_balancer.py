"""Size the preStop sleep to the cloud load balancer in front of the pods, and say what it still needs.

A cloud load balancer stops sending a terminating pod new requests later than kube-proxy does, so the
preStop sleep must last until it has (EKS best practices: "Ensure Pods are Deregistered from Load
Balancers before Termination"). The stream tells which one is in front: an Ingress of the AWS Load
Balancer Controller (class `alb`, or an IngressClass with controller `ingress.k8s.aws/alb`) or of
AGIC (`azure/application-gateway`) that routes to a Service selecting the pods, a LoadBalancer Service
the controller runs as an NLB (`aws-load-balancer-type: external` or `nlb-ip`, or loadBalancerClass
`service.k8s.aws/nlb`), a Service in GKE network endpoint groups (`cloud.google.com/neg`). ALB
annotations on the Service win over the Ingress's, as in the controller.

How long each takes to stop routing new requests (P, whole seconds); the sleep becomes P, at most
`load-balancer-max-seconds` (a warning says what is left exposed):
- ip targets (ALB, NLB): the controller deregisters the pod when it terminates; P is its reconcile
  plus ELB's propagation, which AWS does not document. zdrender allows 30 s for an ALB (a
  maintainer counts controller time + ELB API propagation, which users put at about 10 s; a 25 s
  sleep gave full availability in aws-load-balancer-controller #1064) and 120 s for an NLB (measured
  in #2366: deregistration takes at least 2 minutes, whatever the delay). Health checks play no part:
  the pod answers them while it sleeps.
- instance targets with externalTrafficPolicy Local: the node stays a target; kube-proxy's health
  check node port fails once only terminating pods are left on it (KEP-1669), and the load balancer
  drops the node after `unhealthy` failed checks `interval` apart, the last one timing out:
  P = interval x unhealthy + timeout (the controller's defaults: ALB 15 x 2 + 5 = 35 s, NLB
  10 x 3 + 10 = 40 s). An NLB checks that port by default; an ALB checks the traffic port, which keeps
  answering from the terminating pod until it stops: that is a warning, as a TCP check is, since no
  sleep helps there. With externalTrafficPolicy Cluster the nodes stay healthy and kube-proxy drops
  the pod: prestop-sleep's sleep covers it.
- GKE NEG: the NEG controller detaches a pod as soon as it terminates (ingress-gce #1574); the
  programming after that is undocumented: zdrender allows 30 s.
- AGIC: the pod leaves the Application Gateway's backend pool "somewhere between a second and a few
  minutes" later; Microsoft's guide asks for a preStop sleep of at least 90 s (AGIC docs,
  minimize-downtime-during-deployments). AGIC's probes and a BackendConfig's health check do not
  change P: they only notice a pod once it stops answering.

The sleep covers P, not the load balancer's deregistration delay or draining timeout: that timeout
is how long the load balancer lets requests already sent finish, and a pod that sleeps P and then
drains for `drain-seconds` has finished them, so the grace period (the grace-period rule, which runs
after this one: sleep + drain) need not reach the timeout. A 300 s default delay therefore never
becomes a 300 s sleep. The timeout must instead be at least the drain budget, or the load balancer
cuts requests the app is still serving: that, a 300 s AWS default (targets stay draining for 5
minutes; EKS best practices lower it), a NEG without connection draining in a BackendConfig, AGIC
without `connection-draining`, and ip targets without the controller's pod readiness gate (namespace
label `elbv2.k8s.aws/pod-readiness-gate-inject: enabled`; without it a rollout removes old pods before
new ones are healthy in the target group) are reported, not patched: they belong to other objects or
to the cluster. Only sleeps zdrender recognises are raised; any other preStop hook is left as it is,
with a warning.

Examples (each one run by tests/test_rule_examples.py with this rule alone):

FAIL: an ALB sending to pod IPs, and a sleep that ends before it stops

    apiVersion: networking.k8s.io/v1
    kind: Ingress
    metadata:
      name: web
      annotations:
        alb.ingress.kubernetes.io/target-type: ip
        alb.ingress.kubernetes.io/target-group-attributes: deregistration_delay.timeout_seconds=50
    spec:
      ingressClassName: alb
      rules:
      - http:
          paths:
          - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
    ---
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

PASS: a sleep as long as the ALB takes

    apiVersion: networking.k8s.io/v1
    kind: Ingress
    metadata:
      name: web
      annotations:
        alb.ingress.kubernetes.io/target-type: ip
        alb.ingress.kubernetes.io/target-group-attributes: deregistration_delay.timeout_seconds=50
    spec:
      ingressClassName: alb
      rules:
      - http:
          paths:
          - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
    ---
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
            lifecycle: {preStop: {sleep: {seconds: 30}}}
"""

from __future__ import annotations

from .. import cloud
from ..cloud import AGIC, ALB, GKE, NLB, FrontEnd
from ..finding import Finding
from ..kube import as_dict, whole_seconds
from ..settings import Knob
from ..workload import Container
from .base import RuleContext, Workload

TYPE_CHECKING = False  # typing's, without importing typing on the render path (record.py says why)
if TYPE_CHECKING:
    from typing import NamedTuple
else:
    from ..record import NamedTuple

ID = "load-balancer"
SUMMARY = "Raise the preStop sleep to the time the cloud load balancer in front (AWS ALB/NLB, GKE NEG, Azure AGIC) takes to stop routing to the pod."
REMEDIATION = "Make the preStop sleep at least as long as the load balancer takes to stop routing to a terminating pod, and give the load balancer a draining timeout of at least the app's drain."
KNOBS = (
    Knob(
        "load-balancer",
        True,
        "Size the preStop sleep to the cloud load balancer the stream shows in front of the pods (AWS Load Balancer Controller ALB/NLB, GKE NEG, Azure AGIC), and warn about what it needs besides.",
        kind="bool",
        per_workload=True,
    ),
    Knob(
        "load-balancer-max-seconds",
        120,
        "The longest preStop sleep this rule sets; a load balancer that takes longer to stop routing gets this and a warning.",
        minimum=1,
        per_workload=True,
    ),
)
KINDS = frozenset({"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Rollout"})

# zdrender's allowances where the providers document no number (the docstring gives the evidence)
IP_TARGET_SECONDS = {ALB: 30, NLB: 120}
GKE_NEG_SECONDS = 30
AGIC_SECONDS = 90  # Microsoft: "preStop ... with a delay (sleep) of at least 90 seconds"


class Need(NamedTuple):
    """A load balancer keeps sending new requests for `seconds` after the pod starts terminating."""

    seconds: int
    subject: str  # 'the ALB of Ingress "web" (ip targets)'
    action: str  # 'to stop routing to a deregistered pod'


def plan(workload: Workload, ctx: RuleContext) -> list[Finding]:
    if workload.kind not in KINDS or not ctx.settings["load-balancer"]:
        return []
    if workload.kind == "StatefulSet" and workload.replicas == 1:
        return []  # its successor starts only after the pod is gone (see prestop-sleep): no sleep bridges that
    fronts = cloud.front_ends(workload, ctx.stream)
    if not fronts:
        return []
    where = f"{workload.template_pointer}/metadata/labels"
    needs: list[Need] = []
    notes: list[Finding] = []
    for front in fronts:
        need, said = _routing(front, where)
        if need is not None:
            needs.append(need)
        notes.extend(said)
    findings: list[Finding] = []
    sleep = 0
    if needs:
        need = max(needs, key=lambda n: n.seconds)
        findings, sleep = _size(workload, need, ctx)
    sleep = max([sleep] + [c.prestop_sleep for c in workload.main_containers if c.prestop_sleep is not None])  # the longest, once planned
    drain = ctx.settings["drain-seconds"]
    for front in fronts:
        notes.extend(_draining(front, workload, drain, sleep, where, ctx))
    seen: set[str] = set()
    for note in notes:
        if note.message not in seen:
            seen.add(note.message)
            findings.append(note)
    return findings


def _routing(front: FrontEnd, where: str) -> tuple[Need | None, list[Finding]]:
    """How long `front` keeps routing new requests to a terminating pod; or why no sleep can help."""
    if front.provider == GKE:
        return Need(GKE_NEG_SECONDS, front.label, "to stop routing to a pod the NEG controller detached"), []
    if front.provider == AGIC:
        return Need(AGIC_SECONDS, front.label, "to drop a terminating pod from its backend pool"), []
    if front.target_type == "ip":
        return Need(IP_TARGET_SECONDS[front.provider], front.label, "to stop routing to a deregistered pod"), []
    if front.service.external_traffic_policy != "Local":
        message = (
            f"{front.label} sends to node ports with externalTrafficPolicy Cluster: the nodes stay healthy targets and kube-proxy drops the pod, which prestop-sleep's sleep covers; nothing to add"
        )
        return None, [Finding(ID, "info", message, path=where)]
    check = front.health_check()
    timing = f"{check.unhealthy} failed health checks {check.interval}s apart + {check.timeout}s timeout"
    subject = front.label_with(", externalTrafficPolicy Local")
    if front.checks_kube_proxy(check):
        return Need(check.seconds_to_fail, subject, f"to mark the node unhealthy ({timing})"), []
    if front.checks_node_port(check):  # over TCP
        message = (
            f"{subject} health-checks kube-proxy's health check port over TCP, which passes while kube-proxy listens, whatever pods the node has: "
            f"the node stays in rotation after the pod is gone and no sleep helps; fix: set {check.port_key.replace('-port', '-protocol')} to HTTP "
            "(the controller's docs: with externalTrafficPolicy Local, do not use TCP)"
        )
    else:
        probe = "the traffic port" if check.port in ("", cloud.TRAFFIC_PORT) else f"port {check.port}"
        message = (
            f"{subject} health-checks {probe}, which keeps answering from the terminating pod (kube-proxy sends it traffic while it is the node's last), so the node "
            f"leaves rotation only after the pod stops and requests fail for up to {check.seconds_to_fail}s ({timing}); no sleep helps; "
            f"fix: set {check.port_key} to the Service's healthCheckNodePort with an HTTP check, or use ip targets"
        )
    return None, [Finding(ID, "warning", message, path=where)]


def _size(workload: Workload, need: Need, ctx: RuleContext) -> tuple[list[Finding], int]:
    """Findings that raise (or add) the main containers' preStop sleeps to `need`, and the sleep planned."""
    target, note = need.seconds, ""
    limit = ctx.settings["load-balancer-max-seconds"]
    if target > limit:
        target, note = limit, f" (capped by load-balancer-max-seconds: the load balancer may still send it requests for {need.seconds - limit}s after that)"
    cap = ctx.sleep_cap(workload)
    if cap is not None and target > cap:
        target, note = cap, f" (capped at the grace period of {cap}s, which the skipped grace-period rule does not raise)"
    if target < 1:
        return [], 0
    takes = f"the {need.seconds}s {need.subject} takes {need.action}"
    findings = []
    for c in workload.main_containers:
        findings.extend(_sleep_finding(c, target, takes, note, ctx))
    return findings, target


def _sleep_finding(c: Container, target: int, takes: str, note: str, ctx: RuleContext) -> list[Finding]:
    path = f"{c.pointer}/lifecycle/preStop"
    label = f'container "{c.name}"'
    if c.prestop is None:
        reason = ctx.no_sleep_reason(c)
        if reason is not None:
            return [Finding(ID, "warning", f"{label}: no preStop sleep to cover {takes}; none added: {reason}; target Kubernetes 1.30+ (--kube-version)", path=path)]
        message = f"{label}: no preStop sleep to cover {takes}; fix: sleep {target}s{note}"
        return [Finding(ID, "warning", message, ops=[ctx.set(path, ctx.sleep_handler(target))], path=path)]
    current = c.prestop_sleep
    if current is None:
        message = f"{label}: its preStop hook is no sleep zdrender can read, so it may end before {takes}; fix: make the hook wait {target}s before the app stops (zdrender leaves it as it is)"
        return [Finding(ID, "warning", message, path=path)]
    if current >= target:
        return []
    op = ctx.raise_sleep(c, target)
    if op is None:
        message = f"{label}: its preStop script sleeps {current}s, shorter than {takes}; fix: make it sleep {target}s{note}"
        return [Finding(ID, "warning", message, path=path)]
    message = f"{label}: preStop sleep {current}s is shorter than {takes}; fix: sleep {target}s{note}"
    return [Finding(ID, "warning", message, ops=[op], path=op["path"])]


def _draining(front: FrontEnd, workload: Workload, drain: int, sleep: int, where: str, ctx: RuleContext) -> list[Finding]:
    """What the load balancer itself, or the cluster, must also have: reported, never patched."""
    if front.provider in (ALB, NLB):
        return _aws(front, workload, drain, sleep, where, ctx) if front.target_type == "ip" else []
    if front.provider == GKE:
        return _gke(front, drain, where, ctx)
    return _agic(front, drain, where)


def _aws(front: FrontEnd, workload: Workload, drain: int, sleep: int, where: str, ctx: RuleContext) -> list[Finding]:
    findings = []
    delay, set_on = front.deregistration_delay()
    place = set_on or (f'Ingress "{front.ingress.name}"' if front.ingress is not None else f'Service "{front.service.name}"')
    lives = sleep + drain
    attribute = f"{cloud.DEREGISTRATION_DELAY}={lives} in {front.attributes_key} on {place}"
    if delay is None:
        message = (
            f"{front.label} keeps AWS's default deregistration delay of {cloud.AWS_DEREGISTRATION_DEFAULT}s: a deregistered pod can stay a draining target for 5 minutes "
            f"although it is gone after its {lives}s of sleep and drain (EKS best practices lower the delay, e.g. to 30s); fix: {attribute}"
        )
        findings.append(Finding(ID, "info", message, path=where))
    elif delay < drain:
        message = f"{front.label} ends its deregistration delay after {delay}s, before the app's {drain}s drain budget: requests still running then get a 5xx; fix: {attribute}"
        findings.append(Finding(ID, "warning", message, path=where))
    if cloud.has_readiness_gate(workload):
        return findings
    namespace = workload.namespace or front.service.namespace or (front.ingress.namespace if front.ingress is not None else None)
    label = f"{cloud.READINESS_GATE_LABEL}=enabled"
    risk = f"a rollout can stop old pods before the new ones are healthy targets of {front.label}"
    labels = ctx.stream.namespace_labels.get(namespace) if namespace is not None else None
    if labels is None:
        whose = f'namespace "{namespace}"' if namespace is not None else "the release's namespace"
        message = f"the controller injects its pod readiness gate only in namespaces labelled {label}, and {whose} is not in the stream: without the gate {risk}; fix: label {whose} {label}"
        findings.append(Finding(ID, "info", message, path=where))
    elif str(labels.get(cloud.READINESS_GATE_LABEL, "")).strip() != "enabled":
        message = f'namespace "{namespace}" lacks the label {label}, so its pods get no readiness gate from the controller and {risk}; fix: label namespace "{namespace}" {label}'
        findings.append(Finding(ID, "warning", message, path=where))
    return findings


def _gke(front: FrontEnd, drain: int, where: str, ctx: RuleContext) -> list[Finding]:
    names = front.backend_config_names()
    fix = f"spec.connectionDraining.drainingTimeoutSec: {max(drain, 1)} (the drain budget)"
    if not names:
        if not front.neg_for_ingress:
            return []  # a standalone NEG: its load balancer is configured outside the stream
        message = (
            f"{front.label} has no BackendConfig, so the Ingress sets no connection draining and requests still running when the pod leaves the NEG are cut; "
            f"fix: a BackendConfig with {fix}, named in the Service's {cloud.BACKEND_CONFIG_ANNOTATIONS[0]} annotation"
        )
        return [Finding(ID, "warning", message, path=where)]
    findings = []
    for name in names:
        spec = ctx.stream.backend_config(front.service.namespace, name)
        if spec is None:
            message = f'{front.label} uses BackendConfig "{name}", which is not in the stream; fix: make sure it sets {fix}'
            findings.append(Finding(ID, "info", message, path=where))
            continue
        draining = spec.get("connectionDraining")
        seconds = whole_seconds(as_dict(draining).get("drainingTimeoutSec"))
        if draining is None or seconds is None or seconds < drain:
            what = "sets no connection draining" if draining is None or seconds is None else f"drains for {seconds}s, less than the app's {drain}s drain budget"
            message = f'{front.label}: BackendConfig "{name}" {what}, so requests still running when the pod leaves the NEG are cut; fix: {fix}'
            findings.append(Finding(ID, "warning", message, path=where))
    return findings


def _agic(front: FrontEnd, drain: int, where: str) -> list[Finding]:
    assert front.ingress is not None, "AGIC is found through an Ingress"
    enabled = str(front.value(cloud.AGIC_DRAINING) or "").strip().lower() == "true"
    timeout = whole_seconds(front.value(cloud.AGIC_DRAINING_TIMEOUT))
    timeout = cloud.AGIC_DRAINING_TIMEOUT_DEFAULT if timeout is None else timeout
    fix = f'fix: annotate Ingress "{front.ingress.name}" {cloud.AGIC_DRAINING}: "true"'
    if drain > cloud.AGIC_DRAINING_TIMEOUT_DEFAULT or timeout < drain:
        fix += f' and {cloud.AGIC_DRAINING_TIMEOUT}: "{drain}"'
    if not enabled:
        message = f"{front.label} has no connection draining: requests still running when the pod leaves the backend pool are cut; {fix}"
        return [Finding(ID, "warning", message, path=where)]
    if timeout < drain:
        message = f"{front.label} drains connections for {timeout}s, less than the app's {drain}s drain budget: longer requests are cut; {fix}"
        return [Finding(ID, "warning", message, path=where)]
    return []
