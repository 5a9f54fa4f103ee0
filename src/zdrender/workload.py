"""Views of the workloads in a stream: their pod templates with Kubernetes API defaults applied,
their containers (main or sidecar), and the stream around them (Services, HPAs, PDBs, and the
Ingresses, IngressClasses, BackendConfigs and Namespaces that tell which cloud load balancer fronts them).

Rules judge these views, never raw YAML: an offline tool that forgets the API defaults misfires
(no `periodSeconds` means 10, no grace period means 30). Views are rebuilt from the working copy of
the document before each rule, so a rule sees what the rules before it planned.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import cached_property

from .kube import DEFAULT_GRACE_SECONDS, PROBE_DEFAULTS, PROBE_TIMING, PROBE_ZERO_IS_DEFAULT, as_dict, as_list, host_binding
from .policy import can_be_app, mesh_proxy_stays, metrics_port, sidecar_kind, sleep_seconds

TYPE_CHECKING = False  # typing's, without importing typing on the render path (record.py says why)
if TYPE_CHECKING:
    from typing import Any, NamedTuple
else:
    from .record import NamedTuple

# kind -> JSON pointer of the pod template inside the object ("" for a Pod: the object is the pod)
TEMPLATE_POINTERS = {
    "Deployment": "/spec/template",
    "StatefulSet": "/spec/template",
    "DaemonSet": "/spec/template",
    "ReplicaSet": "/spec/template",
    "Job": "/spec/template",
    "CronJob": "/spec/jobTemplate/spec/template",
    "Pod": "",
    "Rollout": "/spec/template",  # Argo Rollouts, argoproj.io/v1alpha1
}
WORKLOAD_KINDS = frozenset(TEMPLATE_POINTERS)
# The API rejects changes to these pod templates once the object exists (a CronJob's is mutable).
IMMUTABLE_TEMPLATE_KINDS = frozenset({"Job", "Pod"})
# What tells which cloud load balancer fronts a workload (cloud.py, the load-balancer rule).
LOAD_BALANCER_KINDS = frozenset({"Ingress", "IngressClass", "BackendConfig", "Namespace"})
CONTEXT_KINDS = frozenset({"Service", "HorizontalPodAutoscaler", "PodDisruptionBudget"}) | LOAD_BALANCER_KINDS
# Objects whose `items` are resources: a `kind: List`, and a KRM function's ResourceList (krm.py).
RESOURCE_LIST = "ResourceList"
LIST_KINDS = frozenset({"List", RESOURCE_LIST})
HOOK_ANNOTATION = "helm.sh/hook"


def escape(part: str | int) -> str:
    return str(part).replace("~", "~0").replace("/", "~1")


def pointer(*parts: str | int) -> str:
    return "".join("/" + escape(p) for p in parts)


class Probe:
    """A container's probe, read with the API's defaults."""

    def __init__(self, raw: dict[str, Any]) -> None:
        self.raw = raw

    def __getitem__(self, key: str) -> Any:
        value = self.raw.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and not (value == 0 and key in PROBE_ZERO_IS_DEFAULT):
            return value
        return PROBE_DEFAULTS[key]

    @property
    def handler(self) -> dict[str, Any]:
        return {k: v for k, v in self.raw.items() if k not in PROBE_TIMING}

    @property
    def timing(self) -> dict[str, int]:
        return {k: self[k] for k in PROBE_DEFAULTS}


class Container:
    """A container of the pod template (an init container too), with what the rules read of it."""

    def __init__(self, index: int, pointer: str, raw: dict[str, Any], init: bool = False, sidecar: str | None = None) -> None:
        self.index = index
        self.pointer = pointer  # JSON pointer of the container in the document
        self.raw = raw
        self.init = init
        self.sidecar = sidecar  # which known helper this is, when it is one

    @property
    def name(self) -> str:
        return str(self.raw.get("name", f"#{self.index}"))

    @property
    def image(self) -> str:
        return str(self.raw.get("image") or "")

    @property
    def command(self) -> list[str]:
        return [str(a) for a in as_list(self.raw.get("command"))]

    @property
    def args(self) -> list[str]:
        return [str(a) for a in as_list(self.raw.get("args"))]

    @property
    def ports(self) -> list[dict[str, Any]]:
        return [p for p in as_list(self.raw.get("ports")) if isinstance(p, dict)]

    @property
    def lifecycle(self) -> dict[str, Any]:
        return as_dict(self.raw.get("lifecycle"))

    @property
    def prestop(self) -> dict[str, Any] | None:
        hook = self.lifecycle.get("preStop")
        return hook if isinstance(hook, dict) and hook else None

    @property
    def prestop_sleep(self) -> int | None:
        return sleep_seconds(self.prestop) if self.prestop else None

    @property
    def is_restartable_init(self) -> bool:
        return self.init and self.raw.get("restartPolicy") == "Always"

    def probe(self, which: str) -> Probe | None:
        raw = self.raw.get(f"{which}Probe")
        return Probe(raw) if isinstance(raw, dict) else None


def selector_matches(selector: Mapping[str, Any], labels: Mapping[str, Any]) -> bool:
    """A metav1.LabelSelector (matchLabels + matchExpressions) against labels; empty selects nothing."""
    match_labels = as_dict(selector.get("matchLabels"))
    expressions = [e for e in as_list(selector.get("matchExpressions")) if isinstance(e, dict)]
    if not match_labels and not expressions:
        return False
    if any(str(labels.get(k)) != str(v) or k not in labels for k, v in match_labels.items()):
        return False
    for expr in expressions:
        key, op, values = str(expr.get("key")), expr.get("operator"), [str(v) for v in as_list(expr.get("values"))]
        present = key in labels
        if op == "In" and not (present and str(labels[key]) in values):
            return False
        if op == "NotIn" and present and str(labels[key]) in values:
            return False
        if op == "Exists" and not present:
            return False
        if op == "DoesNotExist" and present:
            return False
    return True


def same_namespace(a: str | None, b: str | None) -> bool:
    # Rendered charts often leave the namespace to `helm -n`: an unset one matches any.
    return a is None or b is None or a == b


class Autoscaler(NamedTuple):
    """A HorizontalPodAutoscaler of the stream, as far as rules need it."""

    namespace: str | None
    target_kind: str
    target_name: str
    min_replicas: int  # 1 when unset (the API default) or not a whole number
    name: str
    min_set: bool  # minReplicas is written in the manifest


def _annotations(meta: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in as_dict(meta.get("annotations")).items() if isinstance(k, str)}


def _name(meta: Mapping[str, Any]) -> str:
    return str(meta.get("name", ""))


def _namespace(meta: Mapping[str, Any]) -> str | None:
    namespace = meta.get("namespace")
    return str(namespace) if namespace is not None else None


class ServiceDetail(NamedTuple):
    """A Service of the stream: which pods it selects, whether it carries traffic (a port that is not
    metrics only, or none: a headless Service for pod DNS reaches every port), and what the load
    balancers in front of it read (cloud.py)."""

    namespace: str | None
    name: str
    selector: dict[str, Any]
    traffic: bool
    type: str  # ClusterIP unless set
    annotations: dict[str, Any]
    load_balancer_class: str | None
    external_traffic_policy: str  # Cluster unless set
    health_check_node_port: int | None
    target_ports: tuple[int | str, ...] = ()  # the pod ports it sends to: each port's targetPort (its port when unset), a number or a name

    @classmethod
    def of(cls, obj: Mapping[str, Any]) -> ServiceDetail:
        meta, spec = as_dict(obj.get("metadata")), as_dict(obj.get("spec"))
        lb_class, port = spec.get("loadBalancerClass"), spec.get("healthCheckNodePort")
        ports = as_list(spec.get("ports"))
        targets = [as_dict(p).get("targetPort", as_dict(p).get("port")) for p in ports]
        return cls(
            namespace=_namespace(meta),
            name=_name(meta),
            selector={str(k): v for k, v in as_dict(spec.get("selector")).items()},
            traffic=not ports or not all(metrics_port(p) for p in ports),
            type=str(spec.get("type") or "ClusterIP"),
            annotations=_annotations(meta),
            load_balancer_class=str(lb_class) if lb_class is not None else None,
            external_traffic_policy=str(spec.get("externalTrafficPolicy") or "Cluster"),
            health_check_node_port=port if isinstance(port, int) and not isinstance(port, bool) else None,
            target_ports=tuple(t for t in targets if isinstance(t, (int, str)) and not isinstance(t, bool)),
        )


def _backend_service(backend: Any) -> str | None:
    """The Service an Ingress backend names: networking.k8s.io/v1 `service.name`, v1beta1 `serviceName`."""
    backend = as_dict(backend)
    name = as_dict(backend.get("service")).get("name", backend.get("serviceName"))
    return str(name) if isinstance(name, (str, int)) and not isinstance(name, bool) and str(name) else None


class IngressDetail(NamedTuple):
    """An Ingress: its class (field and legacy annotation) and the Services its rules and default backend name."""

    namespace: str | None
    name: str
    class_name: str | None  # spec.ingressClassName
    annotations: dict[str, Any]
    services: tuple[str, ...]

    @classmethod
    def of(cls, obj: Mapping[str, Any]) -> IngressDetail:
        meta, spec = as_dict(obj.get("metadata")), as_dict(obj.get("spec"))
        backends = [spec.get("defaultBackend"), spec.get("backend")]
        for rule in as_list(spec.get("rules")):
            for path in as_list(as_dict(as_dict(rule).get("http")).get("paths")):
                backends.append(as_dict(path).get("backend"))
        names = [n for n in map(_backend_service, backends) if n is not None]
        class_name = spec.get("ingressClassName")
        return cls(_namespace(meta), _name(meta), str(class_name) if isinstance(class_name, str) and class_name else None, _annotations(meta), tuple(dict.fromkeys(names)))


class StreamContext:
    """What rules may know about the rest of the stream."""

    def __init__(self) -> None:
        self.services: list[ServiceDetail] = []  # ExternalName ones get no endpoints: left out
        self.hpas: list[Autoscaler] = []
        self.pdbs: list[tuple[str | None, dict[str, Any] | None, str]] = []  # None: every pod
        # What the load-balancer rule reads besides Services (cloud.py): Ingresses, IngressClasses
        # (name, controller, is the default), GKE BackendConfigs (namespace, name, spec), Namespace labels.
        self.ingresses: list[IngressDetail] = []
        self.ingress_classes: list[tuple[str, str, bool]] = []
        self.backend_configs: list[tuple[str | None, str, dict[str, Any]]] = []
        self.namespace_labels: dict[str, dict[str, Any]] = {}

    def add(self, obj: Mapping[str, Any]) -> None:
        kind = obj.get("kind")
        self.add_for_load_balancers(obj)
        meta = as_dict(obj.get("metadata"))
        namespace = meta.get("namespace")
        spec = as_dict(obj.get("spec"))
        if kind == "Service":
            service = ServiceDetail.of(obj)
            if service.type != "ExternalName":  # the endpoint controllers give it no endpoints, selector or not
                self.services.append(service)
        elif kind == "HorizontalPodAutoscaler":
            target = as_dict(spec.get("scaleTargetRef"))
            minimum = spec.get("minReplicas")
            whole = minimum if isinstance(minimum, int) and not isinstance(minimum, bool) else None
            self.hpas.append(Autoscaler(namespace, str(target.get("kind", "")), str(target.get("name", "")), 1 if whole is None else whole, str(meta.get("name", "")), whole is not None))
        elif kind == "PodDisruptionBudget":
            self.add_pdb(namespace, spec.get("selector"), str(meta.get("name", "")), str(obj.get("apiVersion", "")))

    def add_for_load_balancers(self, obj: Mapping[str, Any]) -> None:
        """Record what tells which cloud load balancer fronts a workload (the load-balancer rule)."""
        kind = obj.get("kind")
        meta = as_dict(obj.get("metadata"))
        if kind == "Ingress":
            self.ingresses.append(IngressDetail.of(obj))
        elif kind == "IngressClass":
            default = str(_annotations(meta).get("ingressclass.kubernetes.io/is-default-class", "")).strip().lower() == "true"
            self.ingress_classes.append((_name(meta), str(as_dict(obj.get("spec")).get("controller", "")), default))
        elif kind == "BackendConfig" and str(obj.get("apiVersion", "")).startswith("cloud.google.com/"):
            self.backend_configs.append((_namespace(meta), _name(meta), as_dict(obj.get("spec"))))
        elif kind == "Namespace":
            self.namespace_labels[_name(meta)] = as_dict(meta.get("labels"))

    def service_details_selecting(self, namespace: str | None, labels: Mapping[str, Any]) -> list[ServiceDetail]:
        return [s for s in self.services if s.selector and same_namespace(s.namespace, namespace) and selector_matches({"matchLabels": s.selector}, labels)]

    def ingresses_routing_to(self, service: ServiceDetail) -> list[IngressDetail]:
        return [i for i in self.ingresses if same_namespace(i.namespace, service.namespace) and service.name in i.services]

    def backend_config(self, namespace: str | None, name: str) -> dict[str, Any] | None:
        return next((spec for ns, n, spec in self.backend_configs if n == name and same_namespace(ns, namespace)), None)

    def services_selecting(self, namespace: str | None, labels: Mapping[str, Any], *, traffic_only: bool = True) -> list[str]:
        """Services that select pods with `labels`; by default only those with a port that is not metrics only."""
        return [s.name for s in self.service_details_selecting(namespace, labels) if s.traffic or not traffic_only]

    def hpa_targeting(self, namespace: str | None, kind: str, name: str) -> Autoscaler | None:
        for hpa in self.hpas:
            if same_namespace(hpa.namespace, namespace) and hpa.target_kind == kind and hpa.target_name == name:
                return hpa
        return None

    def add_pdb(self, namespace: str | None, selector: Any, name: str, api_version: str = "policy/v1") -> None:
        """A PDB's selector is kept as None when it selects every pod of its namespace: in policy/v1 an
        empty selector ({}) does, a null one selects none; in policy/v1beta1 both select none."""
        empty = isinstance(selector, dict) and not selector.get("matchLabels") and not selector.get("matchExpressions")
        self.pdbs.append((namespace, None if empty and api_version == "policy/v1" else as_dict(selector), name))

    def pdbs_within(self, namespace: str | None, selector: Mapping[str, Any]) -> list[str]:
        """PDBs all of whose pods `selector` (matchLabels only) selects too: each of their matchLabels
        pins every label `selector` asks for. A PDB over every pod of the namespace counts."""
        wanted = as_dict(selector.get("matchLabels"))
        if selector.get("matchExpressions") or not wanted:
            return []
        return [name for ns, sel, name in self.pdbs if same_namespace(ns, namespace) and (sel is None or all(str(as_dict(sel.get("matchLabels")).get(k)) == str(v) for k, v in wanted.items()))]

    def pdbs_selecting(self, namespace: str | None, labels: Mapping[str, Any]) -> list[str]:
        return [name for ns, sel, name in self.pdbs if same_namespace(ns, namespace) and (sel is None or selector_matches(sel, labels))]


class Workload:
    """One workload object of a document (a document holds several when it is a List)."""

    def __init__(self, obj: dict[str, Any], pointer: str, stream: StreamContext, extra_sidecars: tuple[str, ...] = (), assume_serving: bool = False) -> None:
        self.obj = obj
        self.pointer = pointer  # JSON pointer of the object in its document ("" or "/items/3")
        self.stream = stream
        self.extra_sidecars = extra_sidecars
        self.assume_serving = assume_serving  # the assume-serving setting

    @property
    def kind(self) -> str:
        return str(self.obj.get("kind"))

    @property
    def api_version(self) -> str:
        return str(self.obj.get("apiVersion", ""))

    @property
    def metadata(self) -> dict[str, Any]:
        return as_dict(self.obj.get("metadata"))

    @property
    def name(self) -> str:
        return str(self.metadata.get("name", ""))

    @property
    def namespace(self) -> str | None:
        ns = self.metadata.get("namespace")
        return str(ns) if ns is not None else None

    @property
    def ref(self) -> str:
        return f"{self.kind}/{self.name}"

    @property
    def spec(self) -> dict[str, Any]:
        return as_dict(self.obj.get("spec"))

    @property
    def is_hook(self) -> bool:
        return HOOK_ANNOTATION in as_dict(self.metadata.get("annotations"))

    # -- the pod template ------------------------------------------------------------------------
    @property
    def template_pointer(self) -> str:
        return self.pointer + TEMPLATE_POINTERS[self.kind]

    @cached_property
    def template(self) -> dict[str, Any]:
        node: Any = self.obj
        for part in TEMPLATE_POINTERS[self.kind].split("/")[1:]:
            node = as_dict(node).get(part)
        return as_dict(node)

    @property
    def has_template(self) -> bool:
        return isinstance(self.template.get("spec"), dict)

    @property
    def template_metadata(self) -> dict[str, Any]:
        return as_dict(self.template.get("metadata"))

    @property
    def labels(self) -> dict[str, Any]:
        return as_dict(self.template_metadata.get("labels"))

    @property
    def selector(self) -> dict[str, Any] | None:
        """spec.selector's matchLabels and matchExpressions (what selects exactly its pods); None when it has neither."""
        selector = as_dict(self.spec.get("selector"))
        kept = {k: selector[k] for k in ("matchLabels", "matchExpressions") if selector.get(k)}
        return kept or None

    @property
    def annotations(self) -> dict[str, Any]:
        """Workload annotations, overridden by the pod template's (both may carry zdrender.io/*)."""
        merged = dict(as_dict(self.metadata.get("annotations"))) if self.kind != "Pod" else {}
        merged.update(as_dict(self.template_metadata.get("annotations")))
        return merged

    @property
    def pod_spec(self) -> dict[str, Any]:
        return as_dict(self.template.get("spec"))

    @property
    def pod_spec_pointer(self) -> str:
        return self.template_pointer + "/spec"

    @property
    def grace_period(self) -> int:
        value = self.pod_spec.get("terminationGracePeriodSeconds")
        return value if isinstance(value, int) and not isinstance(value, bool) else DEFAULT_GRACE_SECONDS

    @cached_property
    def containers(self) -> list[Container]:
        raws = list(as_list(self.pod_spec.get("containers")))
        found = [Container(i, f"{self.pod_spec_pointer}/containers/{i}", c, sidecar=sidecar_kind(c, self.extra_sidecars)) for i, c in enumerate(raws) if isinstance(c, dict)]
        # A helper is only a sidecar when there is an app for it to serve: a main container that is
        # not itself a helper (an exporter, a proxy's shutdown manager). Without one, the proxy is the
        # app: an Envoy gateway, Contour's Envoy beside its shutdown manager.
        if not any(c.sidecar is None and can_be_app(c.raw) for c in found):
            for c in found:
                c.sidecar = None
        return found

    @cached_property
    def init_containers(self) -> list[Container]:
        return [
            Container(i, f"{self.pod_spec_pointer}/initContainers/{i}", c, init=True, sidecar=sidecar_kind(c, self.extra_sidecars))
            for i, c in enumerate(as_list(self.pod_spec.get("initContainers")))
            if isinstance(c, dict)
        ]

    @property
    def main_containers(self) -> list[Container]:
        return [c for c in self.containers if c.sidecar is None]

    @property
    def sidecars(self) -> list[Container]:
        return [c for c in self.containers if c.sidecar is not None]

    @property
    def mesh_proxy_stays(self) -> list[tuple[float, str]]:
        """Seconds an injected mesh proxy keeps running after the deletion (policy.mesh_proxy_stays)."""
        return mesh_proxy_stays(self.template_metadata)

    # -- the stream around it ----------------------------------------------------------------------
    @cached_property
    def selecting_services(self) -> list[str]:
        return self.stream.services_selecting(self.namespace, self.labels)

    @property
    def serving(self) -> bool:
        """Receives requests that a rollout could drop: a Service in the stream selects its pods (Ingress
        and Gateway routes reach pods through Services) on a port that is not metrics only, or it binds
        ports on its node. A declared port that is not metrics only is enough when the stream holds no
        Service at all (its Services are elsewhere: a kustomize component, a split release) or with
        `assume_serving`; in a stream with Services, none selecting it means no traffic reaches it."""
        if self.selecting_services or host_binding(self) is not None:
            return True
        if not any(not metrics_port(p) for c in self.containers for p in c.ports):
            return False
        return self.assume_serving or not any(s.selector for s in self.stream.services)

    @property
    def hpa(self) -> Autoscaler | None:
        """The HorizontalPodAutoscaler in the stream that scales this workload, if any."""
        return self.stream.hpa_targeting(self.namespace, self.kind, self.name)

    @property
    def hpa_min_replicas(self) -> int | None:
        hpa = self.hpa
        return hpa.min_replicas if hpa is not None else None

    @property
    def replicas(self) -> int:
        """Effective replicas: an HPA's minReplicas when one targets it, else spec.replicas, else 1."""
        minimum = self.hpa_min_replicas
        if minimum is not None:
            return minimum
        value = self.spec.get("replicas")
        if isinstance(value, float) and value.is_integer():  # `3.0`, `1e3`: JSON writes it as an integer, which the API takes
            return int(value)
        return value if isinstance(value, int) and not isinstance(value, bool) else 1


def workloads_in(obj: Any, stream: StreamContext, extra_sidecars: tuple[str, ...] = ()) -> Iterator[Workload]:
    """The workloads of a parsed document: itself, or the items of a List or ResourceList."""
    if not isinstance(obj, dict):
        return
    if kind_of(obj) in LIST_KINDS:
        for i, item in enumerate(as_list(obj.get("items"))):
            if isinstance(item, dict) and is_workload(item):
                yield Workload(item, f"/items/{i}", stream, extra_sidecars)
    elif is_workload(obj):
        yield Workload(obj, "", stream, extra_sidecars)


def kind_of(obj: Mapping[str, Any]) -> str | None:
    """The object's kind when it is a string (a mapping or a list there is no kind, and unhashable)."""
    kind = obj.get("kind")
    return kind if isinstance(kind, str) else None


def is_workload(obj: Mapping[str, Any]) -> bool:
    kind = kind_of(obj)
    if kind not in WORKLOAD_KINDS:
        return False
    return not (kind == "Rollout" and not str(obj.get("apiVersion", "")).startswith("argoproj.io/"))


def context_objects(obj: Any) -> Iterator[dict[str, Any]]:
    if not isinstance(obj, dict):
        return
    if kind_of(obj) in LIST_KINDS:
        for item in as_list(obj.get("items")):
            if isinstance(item, dict) and kind_of(item) in CONTEXT_KINDS:
                yield item
    elif kind_of(obj) in CONTEXT_KINDS:
        yield obj
