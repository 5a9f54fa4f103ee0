"""Cloud load balancer facts, each written once with its source: which controller owns an Ingress or a
Service, the annotations that configure its target group or backend, and their defaults; and which of
these load balancers sends traffic to a workload, read from the stream alone.

Nothing here decides how long a pod should sleep: that judgment is the load-balancer rule's. Sources
(the stored copies read for the project's fact sheet):

- AWS Load Balancer Controller (kubernetes-sigs/aws-load-balancer-controller): docs/guide/ingress/
  ingress_class.md, docs/guide/ingress/annotations.md ("Annotations applied to Service have higher
  priority over annotations applied to Ingress"; target-type default instance; health check 15 s /
  5 s / unhealthy 2), docs/guide/service/annotations.md (NLB: `external` / `nlb-ip`, loadBalancerClass
  service.k8s.aws/nlb, target type default instance, health check 10 s / 10 s / unhealthy 3, the
  healthCheckNodePort when externalTrafficPolicy is Local), docs/deploy/pod_readiness_gate.md.
- AWS ELB user guide, target group attributes: the deregistration delay defaults to 300 s.
- kubernetes/ingress-gce: pkg/annotations/service.go (`cloud.google.com/neg`, the backend-config
  annotations, GA over beta), pkg/apis/backendconfig/v1/types.go (`spec.connectionDraining`).
- Azure/application-gateway-kubernetes-ingress: docs/annotations.md (class `azure/application-gateway`,
  connection-draining default false, connection-draining-timeout default 30), docs/ingress-v1.md
  (ingressClassName `azure-application-gateway`).
"""

from __future__ import annotations

import json

from .kube import as_dict, as_list, whole_seconds

TYPE_CHECKING = False  # typing's, without importing typing on the render path (record.py says why)
if TYPE_CHECKING:
    from typing import Any, NamedTuple

    from .workload import IngressDetail, ServiceDetail, StreamContext, Workload
else:
    from .record import NamedTuple

INGRESS_CLASS_ANNOTATION = "kubernetes.io/ingress.class"  # legacy, still read by both controllers below

# -- AWS Load Balancer Controller --------------------------------------------------------------------
ALB = "ALB"
NLB = "NLB"
ALB_CONTROLLER = "ingress.k8s.aws/alb"  # IngressClass spec.controller
ALB_CLASS = "alb"  # the controller's --ingress-class default: ingressClassName and legacy annotation value
ALB_PREFIX = "alb.ingress.kubernetes.io/"
NLB_PREFIX = "service.beta.kubernetes.io/aws-load-balancer-"
NLB_TYPES = frozenset({"external", "nlb-ip"})  # aws-load-balancer-type values the controller reconciles
NLB_CLASS = "service.k8s.aws/nlb"
# (interval, timeout, unhealthy threshold) the controller sets when no annotation does
ALB_HEALTH_DEFAULTS = (15, 5, 2)
NLB_HEALTH_DEFAULTS = (10, 10, 3)
TRAFFIC_PORT = "traffic-port"
DEREGISTRATION_DELAY = "deregistration_delay.timeout_seconds"
AWS_DEREGISTRATION_DEFAULT = 300  # ELB's own default; the controller never overrides it
READINESS_GATE_LABEL = "elbv2.k8s.aws/pod-readiness-gate-inject"  # = "enabled" on the namespace
READINESS_GATE_PREFIX = "target-health.elbv2.k8s.aws"  # conditionType of the gates the webhook injects

# -- GKE ---------------------------------------------------------------------------------------------
GKE = "GKE"
NEG_ANNOTATION = "cloud.google.com/neg"
BACKEND_CONFIG_ANNOTATIONS = ("cloud.google.com/backend-config", "beta.cloud.google.com/backend-config")  # GA first: it wins

# -- Azure Application Gateway Ingress Controller ------------------------------------------------------
AGIC = "AGIC"
AGIC_CONTROLLER = "azure/application-gateway"  # IngressClass spec.controller and legacy annotation value
AGIC_CLASS = "azure-application-gateway"  # ingressClassName (AGIC >= 1.5.1)
AGIC_DRAINING = "appgw.ingress.kubernetes.io/connection-draining"  # default false
AGIC_DRAINING_TIMEOUT = "appgw.ingress.kubernetes.io/connection-draining-timeout"
AGIC_DRAINING_TIMEOUT_DEFAULT = 30

# Ingress class names and legacy annotation values that name a controller without an IngressClass
KNOWN_CLASSES = {ALB_CLASS: ALB_CONTROLLER, AGIC_CLASS: AGIC_CONTROLLER}
KNOWN_LEGACY_CLASSES = {ALB_CLASS: ALB_CONTROLLER, AGIC_CONTROLLER: AGIC_CONTROLLER}


def string_map(value: Any) -> dict[str, str]:
    """An LBC stringMap annotation (`k=v,k=v`), as its parser splits it."""
    pairs = {}
    for item in str(value).split(",") if value is not None else []:
        key, sep, found = item.partition("=")
        if sep and key.strip():
            pairs[key.strip()] = found.strip()
    return pairs


def json_annotation(value: Any) -> dict[str, Any]:
    """A JSON object annotation (GKE's); {} when it is none."""
    try:
        return as_dict(json.loads(str(value))) if value is not None else {}
    except ValueError:
        return {}


def ingress_controller(ingress: IngressDetail, classes: list[tuple[str, str, bool]]) -> str | None:
    """The controller an Ingress belongs to: the IngressClass its ingressClassName names (one in the
    stream, else the class a controller creates by default), else its legacy annotation, else the
    stream's default IngressClass."""
    if ingress.class_name is not None:
        named = [controller for name, controller, _ in classes if name == ingress.class_name]
        return named[0] if named else KNOWN_CLASSES.get(ingress.class_name)
    legacy = ingress.annotations.get(INGRESS_CLASS_ANNOTATION)
    if legacy is not None:
        return KNOWN_LEGACY_CLASSES.get(str(legacy).strip())
    defaults = [controller for _, controller, default in classes if default]
    return defaults[0] if len(defaults) == 1 else None


class HealthCheck(NamedTuple):
    """The health check a load balancer runs against its targets, as its annotations and defaults set it."""

    interval: int
    timeout: int
    unhealthy: int
    port: str  # TRAFFIC_PORT, or a port number as written
    port_key: str  # the annotation that sets the port
    protocol: str  # upper case; "" when the controller picks

    @property
    def seconds_to_fail(self) -> int:
        """From the first failing check to the target marked unhealthy, worst case: `unhealthy` checks
        `interval` apart, the first up to one interval away, the last waiting out its timeout."""
        return self.interval * self.unhealthy + self.timeout


class FrontEnd(NamedTuple):
    """A cloud load balancer that sends traffic to the pods of `service`, through `ingress` for L7 ones."""

    provider: str  # ALB | NLB | GKE | AGIC
    service: ServiceDetail
    ingress: IngressDetail | None = None

    @property
    def label(self) -> str:
        return self.label_with()

    def label_with(self, detail: str = "") -> str:
        """How messages name it: 'the ALB of Ingress "web" (ip targets{detail})'."""
        if self.provider == ALB and self.ingress is not None:
            return f'the ALB of Ingress "{self.ingress.name}" ({self.target_type} targets{detail})'
        if self.provider == NLB:
            return f'the NLB of Service "{self.service.name}" ({self.target_type} targets{detail})'
        if self.provider == GKE:
            return f'the GKE load balancer of Service "{self.service.name}" (NEG)'
        name = self.ingress.name if self.ingress is not None else self.service.name
        return f'the Application Gateway of Ingress "{name}"'

    def annotation(self, key: str) -> tuple[Any, str] | None:
        """(value, "Service x" / "Ingress y") of an annotation: for an ALB the Service's wins over the
        Ingress's; an NLB and a NEG read the Service's, AGIC the Ingress's."""
        places: list[tuple[dict[str, Any], str]] = []
        if self.provider in (ALB, NLB, GKE):
            places.append((self.service.annotations, f'Service "{self.service.name}"'))
        if self.ingress is not None and self.provider in (ALB, AGIC):
            places.append((self.ingress.annotations, f'Ingress "{self.ingress.name}"'))
        for values, where in places:
            if key in values:
                return values[key], where
        return None

    def value(self, key: str) -> Any:
        found = self.annotation(key)
        return found[0] if found is not None else None

    @property
    def prefix(self) -> str:
        return ALB_PREFIX if self.provider == ALB else NLB_PREFIX

    # -- AWS ---------------------------------------------------------------------------------------
    @property
    def target_type(self) -> str:
        """ip or instance (the controller's default)."""
        if self.provider == ALB:
            key = ALB_PREFIX + "target-type"
        elif self.provider == NLB:
            if str(self.service.annotations.get(NLB_PREFIX + "type", "")).strip() == "nlb-ip":
                return "ip"
            key = NLB_PREFIX + "nlb-target-type"
        else:
            return "ip"  # a NEG and AGIC's backend pool hold pod IPs
        return "ip" if str(self.value(key) or "").strip().lower() == "ip" else "instance"

    @property
    def attributes_key(self) -> str:
        return self.prefix + "target-group-attributes"

    def deregistration_delay(self) -> tuple[int | None, str | None]:
        """(seconds, where it is set) of the target group's deregistration delay; (None, None) when no
        annotation sets it (ELB's 300 s default)."""
        found = self.annotation(self.attributes_key)
        if found is None:
            return None, None
        seconds = whole_seconds(string_map(found[0]).get(DEREGISTRATION_DELAY))
        return (seconds, found[1]) if seconds is not None else (None, None)

    def health_check(self) -> HealthCheck:
        if self.provider == ALB:
            keys = ("healthcheck-interval-seconds", "healthcheck-timeout-seconds", "unhealthy-threshold-count")
            defaults, port_key, protocol_key = ALB_HEALTH_DEFAULTS, "healthcheck-port", "healthcheck-protocol"
        else:
            keys = ("healthcheck-interval", "healthcheck-timeout", "healthcheck-unhealthy-threshold")
            defaults, port_key, protocol_key = NLB_HEALTH_DEFAULTS, "healthcheck-port", "healthcheck-protocol"
        interval, timeout, unhealthy = (_positive(self.value(self.prefix + key), default) for key, default in zip(keys, defaults))
        port = self.value(self.prefix + port_key)
        protocol = self.value(self.prefix + protocol_key)
        return HealthCheck(interval, timeout, unhealthy, str(port).strip() if port is not None else "", self.prefix + port_key, str(protocol or "").strip().upper())

    def checks_node_port(self, check: HealthCheck) -> bool:
        """Whether the health check goes to kube-proxy's health check node port (the Service's
        healthCheckNodePort) rather than the traffic port: an NLB's does by default when
        externalTrafficPolicy is Local; an ALB's only when its healthcheck-port names that port."""
        if check.port == "":
            return self.provider == NLB
        declared = self.service.health_check_node_port
        return declared is not None and check.port == str(declared)

    def checks_kube_proxy(self, check: HealthCheck) -> bool:
        """Whether the health check fails once only terminating pods are left on the node (KEP-1669):
        an HTTP check of kube-proxy's health check node port. The traffic port keeps answering from a
        terminating pod; a TCP check of the health check port passes while kube-proxy listens."""
        return self.checks_node_port(check) and check.protocol != "TCP"

    # -- GKE ---------------------------------------------------------------------------------------
    def backend_config_names(self) -> list[str]:
        """The BackendConfigs the Service names (default and per port), GA annotation over beta."""
        for key in BACKEND_CONFIG_ANNOTATIONS:
            if key in self.service.annotations:
                config = json_annotation(self.service.annotations[key])
                names = [config.get("default"), *as_dict(config.get("ports")).values()]
                return list(dict.fromkeys(str(n) for n in names if isinstance(n, str) and n))
        return []

    @property
    def neg_for_ingress(self) -> bool:
        return json_annotation(self.service.annotations.get(NEG_ANNOTATION)).get("ingress") is True


def _positive(value: Any, default: int) -> int:
    seconds = whole_seconds(value)
    return seconds if seconds else default


def is_lbc_nlb(service: ServiceDetail) -> bool:
    """A LoadBalancer Service the AWS Load Balancer Controller reconciles as an NLB."""
    if service.type != "LoadBalancer":
        return False
    return str(service.annotations.get(NLB_PREFIX + "type", "")).strip() in NLB_TYPES or service.load_balancer_class == NLB_CLASS


def in_neg(service: ServiceDetail) -> bool:
    """Pods of the Service are endpoints of GKE network endpoint groups (container-native load balancing)."""
    neg = json_annotation(service.annotations.get(NEG_ANNOTATION))
    return neg.get("ingress") is True or bool(as_dict(neg.get("exposed_ports")))


def front_ends(workload: Workload, stream: StreamContext) -> list[FrontEnd]:
    """The cloud load balancers the stream shows sending traffic to the workload's pods: through a Service
    that selects them (an NLB, a NEG), or an Ingress that routes to such a Service (an ALB, AGIC)."""
    found: list[FrontEnd] = []
    for service in stream.service_details_selecting(workload.namespace, workload.labels):
        if is_lbc_nlb(service):
            found.append(FrontEnd(NLB, service))
        if in_neg(service):
            found.append(FrontEnd(GKE, service))
        for ingress in stream.ingresses_routing_to(service):
            controller = ingress_controller(ingress, stream.ingress_classes)
            if controller == ALB_CONTROLLER:
                found.append(FrontEnd(ALB, service, ingress))
            elif controller == AGIC_CONTROLLER:
                found.append(FrontEnd(AGIC, service, ingress))
    return found


def has_readiness_gate(workload: Workload) -> bool:
    """The pod template already carries an LBC target-health readiness gate (written by hand)."""
    gates = as_list(workload.pod_spec.get("readinessGates"))
    return any(str(as_dict(g).get("conditionType", "")).startswith(READINESS_GATE_PREFIX) for g in gates)
