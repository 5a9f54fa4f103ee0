"""The sidecars rule beyond its fixtures: its sleeps against the grace period, native mode's operations, and the annotation alias."""

from __future__ import annotations

from zdrender import yamldoc

from helpers import DEPLOYMENT, make_settings, render


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
