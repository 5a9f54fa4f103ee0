"""The load-balancer rule beyond its fixtures: which load balancer the stream shows, precedence of its
annotations, the knobs, users' hooks, and how the rules after it cover the sleep it sets."""

from __future__ import annotations

import yaml

from zdrender import pipeline
from zdrender.rules import load_balancer

from conftest import FIXTURES
from helpers import make_settings, render

ALB_INGRESS = """apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
  namespace: shop
  annotations: {INGRESS_ANNOTATIONS}
spec:
  ingressClassName: alb
  rules:
  - http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
"""
SERVICE = """apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: shop
  annotations: {SERVICE_ANNOTATIONS}
spec:
  type: {TYPE}
  selector: {app: web}
  ports: [{port: 80}]
"""
DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  annotations: {WORKLOAD_ANNOTATIONS}
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
        lifecycle: {LIFECYCLE}
"""


IP = "{alb.ingress.kubernetes.io/target-type: ip}"
INSTANCE = "{alb.ingress.kubernetes.io/target-type: instance}"


def stream(*documents: str, **values: str) -> str:
    defaults = {"INGRESS_ANNOTATIONS": "{}", "SERVICE_ANNOTATIONS": "{}", "TYPE": "ClusterIP", "WORKLOAD_ANNOTATIONS": "{}", "LIFECYCLE": "{preStop: {sleep: {seconds: 10}}}"}
    text = "---\n".join(documents)
    for key, value in {**defaults, **values}.items():
        text = text.replace("{" + key + "}", value)
    return text


def alone(text: str, *args: str) -> pipeline.Result:
    """The rule by itself, with a grace period that does not cap its sleeps."""
    return pipeline.run(text.replace("    spec:\n      containers:", "    spec:\n      terminationGracePeriodSeconds: 300\n      containers:"), make_settings(list(args)), rules=[load_balancer])


def ours(result: pipeline.Result, severity: str | None = None):
    return [f for f in result.findings if f.rule == "load-balancer" and (severity is None or f.severity == severity)]


def pod(result: pipeline.Result, kind: str = "Deployment") -> dict:
    return next(d for d in yaml.safe_load_all(result.output) if d and d["kind"] == kind)["spec"]["template"]["spec"]


def sleep_of(result: pipeline.Result) -> int:
    return pod(result)["containers"][0]["lifecycle"]["preStop"]["sleep"]["seconds"]


def test_the_service_annotation_wins_over_the_ingress_one():
    # LBC annotations.md: "Annotations applied to Service have higher priority over annotations applied to Ingress."
    ip_on_service = alone(stream(ALB_INGRESS, SERVICE, DEPLOYMENT, INGRESS_ANNOTATIONS=INSTANCE, SERVICE_ANNOTATIONS=IP, TYPE="NodePort"))
    assert sleep_of(ip_on_service) == load_balancer.IP_TARGET_SECONDS["ALB"]
    assert "(ip targets)" in ours(ip_on_service, "warning")[0].message
    instance_on_service = alone(stream(ALB_INGRESS, SERVICE, DEPLOYMENT, INGRESS_ANNOTATIONS=IP, SERVICE_ANNOTATIONS=INSTANCE, TYPE="NodePort"))
    assert sleep_of(instance_on_service) == 10, "instance targets with externalTrafficPolicy Cluster need no longer sleep"
    assert [f.severity for f in ours(instance_on_service)] == ["info"]


def test_the_message_says_what_is_wrong_then_the_fix():
    (finding,) = ours(alone(stream(ALB_INGRESS, SERVICE, DEPLOYMENT, INGRESS_ANNOTATIONS=IP)), "warning")
    assert finding.message == ('container "web": preStop sleep 10s is shorter than the 30s the ALB of Ingress "web" (ip targets) takes to stop routing to a deregistered pod; fix: sleep 30s')
    assert finding.path == "/spec/template/spec/containers/0/lifecycle/preStop/sleep/seconds"
    assert finding.ops == [{"op": "replace", "path": finding.path, "value": 30}]


def test_a_second_run_changes_nothing():
    text = stream(ALB_INGRESS, SERVICE, DEPLOYMENT, INGRESS_ANNOTATIONS=IP, LIFECYCLE="{}")
    first = render(text)
    assert any(f.rule == "load-balancer" and f.ops for f in first.findings)
    second = render(first.output)
    assert second.output == first.output
    assert not [f for f in second.findings if f.ops]


def test_the_full_registry_covers_the_raised_sleep_with_the_grace_period():
    text = (FIXTURES / "load-balancer/failure/agic.yaml").read_text(encoding="utf-8").replace("terminationGracePeriodSeconds: 120", "terminationGracePeriodSeconds: 30")
    result = render(text)
    spec = pod(result)
    assert spec["containers"][0]["lifecycle"]["preStop"]["sleep"]["seconds"] == load_balancer.AGIC_SECONDS
    assert spec["terminationGracePeriodSeconds"] == load_balancer.AGIC_SECONDS + 20, "grace-period: the sleep + the 20s drain budget"
    rules = [f.rule for f in result.findings if f.ops]
    assert rules.index("load-balancer") < rules.index("grace-period")


def test_prestop_sleep_adds_and_the_load_balancer_raises_and_sidecars_outlive_it():
    text = stream(ALB_INGRESS, SERVICE, DEPLOYMENT, INGRESS_ANNOTATIONS=IP, LIFECYCLE="{}").replace(
        "        lifecycle: {}\n", "      - {name: cloud-sql-proxy, image: gcr.io/cloud-sql-connectors/cloud-sql-proxy:2.14.1}\n"
    )
    result = render(text)
    spec = pod(result)
    app, proxy = spec["containers"]
    assert app["lifecycle"]["preStop"]["sleep"]["seconds"] == 30
    assert proxy["lifecycle"]["preStop"]["sleep"]["seconds"] == 30 + 20, "the sidecar outlives the raised sleep + drain"
    assert spec["terminationGracePeriodSeconds"] == 30 + 20 + 5


def test_a_default_deregistration_delay_never_becomes_the_sleep_or_the_grace_period():
    result = render(stream(ALB_INGRESS, SERVICE, DEPLOYMENT, INGRESS_ANNOTATIONS=IP))
    assert sleep_of(result) == 30
    assert pod(result)["terminationGracePeriodSeconds"] == 50
    (info,) = [f for f in ours(result, "info") if "deregistration delay" in f.message]
    assert "300s" in info.message and "deregistration_delay.timeout_seconds=50" in info.message


def test_the_cap_knob_bounds_the_sleep_and_says_so():
    text = (FIXTURES / "load-balancer/failure/nlb-ip-1.28.yaml").read_text(encoding="utf-8")
    result = alone(text, "--kube-version=1.28", "--set", "load-balancer-max-seconds=60")
    assert pod(result)["containers"][0]["lifecycle"]["preStop"]["exec"]["command"] == ["sleep", "60"]
    (raised,) = [f for f in ours(result) if f.ops]
    assert "the 120s the NLB" in raised.message and "fix: sleep 60s (capped by load-balancer-max-seconds: the load balancer may still send it requests for 60s after that)" in raised.message
    annotated = text.replace("  namespace: edge\nspec:\n  replicas", '  namespace: edge\n  annotations: {zdrender.io/load-balancer-max-seconds: "45"}\nspec:\n  replicas')
    per_workload = alone(annotated, "--kube-version=1.28")
    assert pod(per_workload)["containers"][0]["lifecycle"]["preStop"]["exec"]["command"] == ["sleep", "45"]


def test_the_off_knob_and_its_annotation():
    text = stream(ALB_INGRESS, SERVICE, DEPLOYMENT, INGRESS_ANNOTATIONS=IP)
    assert ours(alone(text))
    assert not ours(alone(text, "--set", "load-balancer=false"))
    assert not ours(alone(stream(ALB_INGRESS, SERVICE, DEPLOYMENT, INGRESS_ANNOTATIONS=IP, WORKLOAD_ANNOTATIONS='{zdrender.io/load-balancer: "false"}')))
    off = render(text, ["--set", "load-balancer=false"])
    assert sleep_of(off) == 10, "prestop-sleep leaves an existing sleep as it is"


def test_a_users_hook_is_never_replaced():
    hook = '{preStop: {exec: {command: ["/bin/sh", "-c", "nginx -s quit; while pgrep nginx; do sleep 1; done"]}}}'
    result = alone(stream(ALB_INGRESS, SERVICE, DEPLOYMENT, INGRESS_ANNOTATIONS=IP, LIFECYCLE=hook))
    (warning,) = ours(result, "warning")
    assert not warning.ops and "no sleep zdrender can read" in warning.message and "fix: make the hook wait 30s" in warning.message
    assert pod(result)["containers"][0]["lifecycle"]["preStop"]["exec"]["command"][2].startswith("nginx -s quit")
    script = alone(stream(ALB_INGRESS, SERVICE, DEPLOYMENT, INGRESS_ANNOTATIONS=IP, LIFECYCLE='{preStop: {exec: {command: [sh, -c, "sleep 5"]}}}'))
    (warning,) = ours(script, "warning")
    assert not warning.ops and "its preStop script sleeps 5s" in warning.message and "fix: make it sleep 30s" in warning.message


def test_a_longer_sleep_is_left_alone():
    result = alone(stream(ALB_INGRESS, SERVICE, DEPLOYMENT, INGRESS_ANNOTATIONS=IP, LIFECYCLE="{preStop: {sleep: {seconds: 45}}}"))
    assert not [f for f in ours(result) if f.ops] and sleep_of(result) == 45


def test_an_ingress_class_in_the_stream_outranks_the_name_alone():
    nginx_named_alb = "apiVersion: networking.k8s.io/v1\nkind: IngressClass\nmetadata: {name: alb}\nspec: {controller: k8s.io/ingress-nginx}\n"
    assert not ours(alone(stream(nginx_named_alb, ALB_INGRESS, SERVICE, DEPLOYMENT, INGRESS_ANNOTATIONS=IP)))


def test_an_ingress_reaches_only_services_of_its_namespace():
    elsewhere = stream(ALB_INGRESS.replace("namespace: shop", "namespace: other"), SERVICE, DEPLOYMENT, INGRESS_ANNOTATIONS=IP)
    assert not ours(alone(elsewhere))


def test_a_single_replica_statefulset_is_left_to_prestop_sleep():
    statefulset = DEPLOYMENT.replace("kind: Deployment", "kind: StatefulSet").replace("replicas: 2", "replicas: 1")
    assert not ours(alone(stream(ALB_INGRESS, SERVICE, statefulset, INGRESS_ANNOTATIONS=IP)))


def test_a_hand_written_readiness_gate_counts():
    text = stream(ALB_INGRESS, SERVICE, DEPLOYMENT, INGRESS_ANNOTATIONS=IP)
    assert any("readiness gate" in f.message for f in ours(alone(text)))
    gated = text.replace("      containers:\n", "      readinessGates: [{conditionType: target-health.elbv2.k8s.aws/k8s-shop-web-0123456789}]\n      containers:\n")
    assert not any("readiness gate" in f.message for f in ours(alone(gated)))


def test_gke_reads_the_ga_backend_config_annotation_over_the_beta_one():
    text = (FIXTURES / "load-balancer/success/gke-neg-draining.yaml").read_text(encoding="utf-8")
    assert not [f for f in ours(alone(text)) if f.severity != "info"]
    both = text.replace("    beta.cloud.google.com/backend-config:", '    cloud.google.com/backend-config: \'{"default": "missing"}\'\n    beta.cloud.google.com/backend-config:')
    (info,) = ours(alone(both))
    assert info.severity == "info" and 'BackendConfig "missing", which is not in the stream' in info.message


def test_draining_shorter_than_the_drain_budget_is_reported():
    text = (FIXTURES / "load-balancer/success/agic-draining.yaml").read_text(encoding="utf-8")
    (warning,) = ours(alone(text, "--set", "drain-seconds=45"))
    assert "drains connections for 30s, less than the app's 45s drain budget" in warning.message
    assert 'connection-draining-timeout: "45"' in warning.message


def test_malformed_load_balancer_objects_are_read_as_far_as_they_go():
    broken = """apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web, namespace: shop, annotations: [x]}
spec: {ingressClassName: [alb], rules: [{http: {paths: "x"}}, 3], defaultBackend: {service: {name: {a: 1}}}}
---
apiVersion: cloud.google.com/v1
kind: BackendConfig
metadata: {name: [web]}
spec: 3
---
apiVersion: v1
kind: Namespace
metadata: 4
"""
    odd = """{cloud.google.com/neg: '{"ingress": true', service.beta.kubernetes.io/aws-load-balancer-target-group-attributes: 3}"""
    service = SERVICE.replace("annotations: {SERVICE_ANNOTATIONS}", f"annotations: {odd}")
    result = alone(stream(broken, service, DEPLOYMENT))
    assert not ours(result)
