"""The mesh rule beyond its fixtures: Istio's revision label, Linkerd's injection source, the mesh versions that read the native-sidecar annotations, and the proxy's wait against the grace period."""

from __future__ import annotations

from zdrender import yamldoc
from zdrender.rules import mesh

from conftest import FIXTURES, fixture_args
from helpers import DEPLOYMENT, render, workload_views


def test_linkerd_wait_stays_below_the_grace_period_end_to_end():
    text = DEPLOYMENT.replace("metadata:\n      labels: {app: web}", "metadata:\n      labels: {app: web}\n      annotations: {linkerd.io/inject: enabled}")
    text = text.replace("image: example/web:1", "image: example/web:1\n          ports: [{containerPort: 80}]")
    out = yamldoc.load(render(text, ["--set", "drain-seconds=25", "--set", "prestop-seconds=12"]).output)
    pod = out["spec"]["template"]
    wait = int(pod["metadata"]["annotations"][mesh.LINKERD_WAIT])
    assert wait == 12 + 25
    assert pod["spec"]["terminationGracePeriodSeconds"] == wait + 5


def findings(case: str, rule: str | None = None):
    text = (FIXTURES / case).read_text(encoding="utf-8")
    result = render(text, fixture_args(text))
    return [f for f in result.findings if rule is None or f.rule == rule]


def test_linkerd_reads_injection_from_the_pod_template_only():
    # linkerd2 pkg/inject/report.go disableByAnnotation: the pod's annotation and the namespace's decide;
    # the webhook sees pods, which do not carry their Deployment's own annotations.
    found = findings("mesh/success/linkerd-workload-annotation.yaml")
    assert not [f for f in found if f.rule in ("mesh", "grace-period") and f.ops]
    assert [f.severity for f in found if f.rule == "mesh"] == ["info"]


def test_native_sidecar_annotations_name_the_mesh_versions_that_read_them():
    # Istio 1.24.0 change notes: "Added a new annotation sidecar.istio.io/nativeSidecar ... per-pod"
    # (before it only istiod's ENABLE_NATIVE_SIDECARS). Linkerd 2.15 reads the config.alpha key, 2.19
    # renamed it to config.beta.
    messages = " ".join(f.message for f in findings("mesh/failure/job-injected.yaml", "mesh"))
    assert "Istio 1.24+" in messages and "Istio 1.20" not in messages
    assert "Linkerd 2.19+" in messages and "config.alpha.linkerd.io/proxy-enable-native-sidecar" in messages


def test_the_revision_label_asks_for_istio_and_the_timeline_agrees():
    """istio.io/rev on the pod template is injection (Istio's rev.object webhook): the mesh rule sets the
    proxy's drain and the timeline notes the proxy it cannot draw; istiod's own pod (the corpus's istiod
    release) carries the label but refuses with sidecar.istio.io/inject: "false", and gets neither."""
    from zdrender.timeline import model

    for case, wanted in (("mesh/failure/istio-revision-label.yaml", True), ("mesh/success/istiod-revision-opted-out.yaml", False)):
        for workload in workload_views((FIXTURES / case).read_text(encoding="utf-8")):
            notes: list[str] = []
            model._mesh_notes(workload, notes)
            assert mesh.wants_istio(workload) is wanted, workload.ref
            assert any("istio-proxy is injected" in note for note in notes) is wanted, workload.ref
        patched = [f for f in findings(case, "mesh") if f.ops]
        assert bool(patched) is wanted
