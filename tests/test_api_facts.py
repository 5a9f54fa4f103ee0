"""Rules against facts of the Kubernetes API and the meshes, each with its source.

Every case here once misfired: the test names the fact, the fixture next to it shows the whole output.
"""

from __future__ import annotations

from conftest import FIXTURES, fixture_args
from helpers import render


def findings(case: str, rule: str | None = None):
    text = (FIXTURES / case).read_text(encoding="utf-8")
    result = render(text, fixture_args(text))
    return [f for f in result.findings if rule is None or f.rule == rule]


def test_policy_v1_empty_selector_covers_the_namespace():
    # PodDisruptionBudgetSpec.selector (policy/v1): "A null selector will match no pods, while an empty
    # ({}) selector will select all pods within the namespace." policy/v1beta1: empty selects nothing.
    added = {f.name for f in findings("disruption-budget/failure/empty-selector-covers-all.yaml", "disruption-budget") if f.new_object}
    assert added == {"api", "legacy"}


def test_no_second_pdb_over_pods_an_added_one_covers():
    # The eviction API refuses a pod under two PDBs ("This pod has more than one PodDisruptionBudget,
    # which the eviction subresource does not support"): kubernetes/kubernetes#75957.
    found = findings("disruption-budget/failure/overlapping-workloads.yaml", "disruption-budget")
    assert {f.name for f in found if f.new_object} == {"web", "reports-worker"}
    assert [f.name for f in found if not f.new_object] == ["reports"]


def test_linkerd_reads_injection_from_the_pod_template_only():
    # linkerd2 pkg/inject/report.go disableByAnnotation: the pod's annotation and the namespace's decide;
    # the webhook sees pods, which do not carry their Deployment's own annotations.
    found = findings("mesh/success/linkerd-workload-annotation.yaml")
    assert not [f for f in found if f.rule in ("mesh", "grace-period") and f.ops]
    assert [f.severity for f in found if f.rule == "mesh"] == ["info"]


def test_native_sleeps_stay_within_the_grace_period_when_it_is_not_raised():
    # validateSleepAction (pkg/apis/core/validation): a sleep longer than terminationGracePeriodSeconds
    # is rejected, and with the grace-period rule skipped nothing raises the grace period.
    import yaml

    text = (FIXTURES / "grace-period/success/skipped-sleep-within-grace.yaml").read_text(encoding="utf-8")
    for doc in yaml.safe_load_all(render(text).output):
        pod = doc["spec"]["template"]["spec"]
        for c in pod["containers"]:
            sleep = c.get("lifecycle", {}).get("preStop", {}).get("sleep")
            if sleep:
                assert sleep["seconds"] <= pod["terminationGracePeriodSeconds"], c["name"]


def test_an_externalname_service_does_not_make_pods_serving():
    # endpointslice controller syncService: "services with Type ExternalName receive no endpoints".
    assert not findings("prestop-sleep/success/externalname-service.yaml", "prestop-sleep")


def test_native_sidecar_annotations_name_the_mesh_versions_that_read_them():
    # Istio 1.24.0 change notes: "Added a new annotation sidecar.istio.io/nativeSidecar ... per-pod"
    # (before it only istiod's ENABLE_NATIVE_SIDECARS). Linkerd 2.15 reads the config.alpha key, 2.19
    # renamed it to config.beta.
    messages = " ".join(f.message for f in findings("mesh/failure/job-injected.yaml", "mesh"))
    assert "Istio 1.24+" in messages and "Istio 1.20" not in messages
    assert "Linkerd 2.19+" in messages and "config.alpha.linkerd.io/proxy-enable-native-sidecar" in messages
