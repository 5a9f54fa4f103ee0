"""The sidecars rule beyond its fixtures: which containers are sidecars (a proxy beside an app, not a
gateway beside its helpers), which proxies the mesh rule keeps, its sleeps against the grace period,
native mode's operations, its messages, and the annotation alias."""

from __future__ import annotations

from zdrender import yamldoc

from conftest import FIXTURES
from helpers import DEPLOYMENT, make_settings, render, workload_views


def test_sidecar_sleep_is_covered_by_the_grace_period():
    text = DEPLOYMENT.replace(
        "image: example/web:1",
        "image: example/web:1\n          ports: [{containerPort: 80}]\n        - name: proxy\n          image: gcr.io/cloudsql-docker/gce-proxy:1.33.2",
    )
    out = yamldoc.load(render(text, ["--set", "drain-seconds=30"]).output)
    spec = out["spec"]["template"]["spec"]
    proxy_sleep = spec["containers"][1]["lifecycle"]["preStop"]["sleep"]["seconds"]
    assert proxy_sleep == 10 + 30
    assert spec["terminationGracePeriodSeconds"] == proxy_sleep + 5


def test_native_mode_uses_remove_and_add_not_move():
    text = DEPLOYMENT.replace("image: example/web:1", "image: example/web:1\n        - name: envoy\n          image: envoyproxy/envoy:v1.31.0")
    result = render(text, ["--set", "sidecar-mode=native"])
    ops = result.documents[0].ops
    assert {op["op"] for op in ops} == {"add", "remove"}
    assert {"op": "remove", "path": "/spec/template/spec/containers/1"} in ops
    out = yamldoc.load(result.output)
    assert out["spec"]["template"]["spec"]["initContainers"] == [{"name": "envoy", "restartPolicy": "Always", "image": "envoyproxy/envoy:v1.31.0"}]
    assert [c["name"] for c in out["spec"]["template"]["spec"]["containers"]] == ["web"]


def test_sidecars_annotation_alias_and_its_own_key():
    settings = make_settings()
    both = {"zdrender.io/sidecars": "a,b", "zdrender.io/sidecar-names": "c"}
    assert settings.for_annotations(both, "Deployment/x")["sidecar-names"] == ("c",)
    assert settings.for_annotations({"zdrender.io/sidecars": "a, b"}, "Deployment/x")["sidecar-names"] == ("a", "b")
    assert make_settings(["--set", "sidecars=x"])["sidecar-names"] == ("x",)


def views(case: str) -> dict:
    return {w.name: w for w in workload_views((FIXTURES / case).read_text(encoding="utf-8"))}


def test_envoy_is_the_app_beside_its_shutdown_manager_or_exporter():
    # Contour's Envoy DaemonSet: shutdown-manager only holds Envoy's preStop hook; an exporter's only port
    # is a metrics port. Neither is an app for Envoy to serve, so Envoy is the app.
    found = views("sidecars/success/envoy-is-the-app.yaml")
    assert [c.name for c in found["envoy"].main_containers] == ["shutdown-manager", "envoy"]
    assert [c.name for c in found["front-proxy"].main_containers] == ["envoy", "statsd-exporter"]
    assert not found["envoy"].sidecars and not found["front-proxy"].sidecars


def test_a_proxy_beside_an_app_is_its_sidecar_whatever_its_name():
    found = views("sidecars/failure/envoy-tls-proxy.yaml")["python-webapp-main"]
    assert [(c.name, c.sidecar) for c in found.sidecars] == [("python-webapp-main-tls-proxy", "envoy")]
    linkerd = views("sidecars/failure/linkerd-control-plane-proxy.yaml")["linkerd-identity"]
    assert [(c.name, c.sidecar) for c in linkerd.sidecars] == [("linkerd-proxy", "linkerd-proxy")]


def test_only_a_proxy_istio_merges_with_its_own_is_left_to_the_mesh_rule():
    """An istio-proxy container Istio merges with the proxy it injects (the pod asks for injection, or the
    image is `auto`) is the mesh rule's; one rendered by `istioctl kube-inject` (its own proxyv2 image,
    no injection asked: the injector skips pods it injected) is a sidecar to stagger like Envoy. A
    rendered linkerd-proxy always is: Linkerd never injects beside one."""

    def sidecar_findings(labels: str, image: str, name: str = "istio-proxy"):
        text = DEPLOYMENT.replace("labels: {app: web}\n    spec:", f"labels: {{app: web{labels}}}\n    spec:")
        text = text.replace("image: example/web:1", f"image: example/web:1\n          ports: [{{containerPort: 80}}]\n        - name: {name}\n          image: {image}")
        return [f for f in render(text).findings if f.rule == "sidecars"]

    injected = sidecar_findings(", istio.io/rev: default", "auto")
    assert [(f.severity, bool(f.ops)) for f in injected] == [("info", False)] and "the mesh rule sets" in injected[0].message
    by_namespace = sidecar_findings("", "auto")
    assert [f.severity for f in by_namespace] == ["info"] and "namespace" in by_namespace[0].message
    for rendered in (sidecar_findings("", "docker.io/istio/proxyv2:1.24.2"), sidecar_findings("", "cr.l5d.io/linkerd/proxy:stable-2.14.10", "linkerd-proxy")):
        assert [(f.severity, bool(f.ops)) for f in rendered] == [("warning", True)]
        assert rendered[0].message.endswith('fix: preStop sleep 30s ("web" sleeps 10s + 20s drain)')


def test_messages_say_what_breaks_then_the_fix():
    text = DEPLOYMENT.replace(
        "image: example/web:1",
        "image: example/web:1\n          ports: [{containerPort: 80}]\n        - name: cloud-sql-proxy\n          image: gcr.io/cloud-sql-connectors/cloud-sql-proxy:2.14.1",
    )
    (proxy,) = [f for f in render(text).findings if f.rule == "sidecars"]
    assert proxy.message == 'sidecar "cloud-sql-proxy" stops with the app, so the app\'s last requests lose their database; fix: preStop sleep 30s ("web" sleeps 10s + 20s drain)'
    (grace,) = [f for f in render(text).findings if f.rule == "grace-period"]
    assert grace.message == (
        'terminationGracePeriodSeconds 30 is shorter than sidecar "cloud-sql-proxy"\'s 30s sleep + 5s to exit, so the kubelet kills it mid-drain; fix: terminationGracePeriodSeconds 35'
    )
