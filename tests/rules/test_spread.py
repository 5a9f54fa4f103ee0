"""The spread rule beyond its fixtures: what it adds (and keeps) in the parsed output, which replica
counts it acts on, that a second run adds nothing, and that it is off unless asked for."""

from __future__ import annotations

import pytest

from zdrender import pipeline, stream, yamldoc
from zdrender.rules import spread
from zdrender.settings import SettingsError

from helpers import DEPLOYMENT, make_settings

ON = ["--set", "spread=true"]
TOPOLOGY = [*ON, "--set", "spread-mode=topology-spread"]
HOSTNAME_TERM = {"weight": 100, "podAffinityTerm": {"labelSelector": {"matchLabels": {"app": "web"}}, "topologyKey": "kubernetes.io/hostname"}}


def run(text: str, args: list[str]) -> pipeline.Result:
    return pipeline.run(text, make_settings(args), rules=[spread])


def ops(result: pipeline.Result) -> list[dict]:
    return [op for d in result.documents for op in d.ops]


def pod_specs(output: str) -> dict[str, dict]:
    docs = [yamldoc.load(d.text) for d in stream.split(output).documents if d.has_content]
    return {d["metadata"]["name"]: d["spec"]["template"]["spec"] for d in docs if d["kind"] != "HorizontalPodAutoscaler"}


def with_replicas(n: int) -> str:
    return DEPLOYMENT.replace("replicas: 3", f"replicas: {n}")


def hpa(minimum: int | None) -> str:
    target = "scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}"
    line = f"\n  minReplicas: {minimum}" if minimum is not None else ""
    return f"\n---\napiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {{name: web, namespace: shop}}\nspec:\n  {target}{line}\n  maxReplicas: 5\n"


def test_adds_a_preferred_hostname_anti_affinity_with_the_selector():
    result = run(DEPLOYMENT, ON)
    assert pod_specs(result.output)["web"]["affinity"] == {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [HOSTNAME_TERM]}}
    (finding,) = result.findings
    assert finding.severity == "warning" and "node drain or failure" in finding.message and "pod template" in finding.message


def test_existing_node_and_pod_affinity_are_kept():
    affinity = (
        "      affinity:\n"
        "        nodeAffinity:\n"
        "          preferredDuringSchedulingIgnoredDuringExecution:\n"
        "            - {weight: 1, preference: {matchExpressions: [{key: disk, operator: In, values: [ssd]}]}}\n"
        "        podAffinity:\n"
        "          preferredDuringSchedulingIgnoredDuringExecution:\n"
        "            - {weight: 10, podAffinityTerm: {labelSelector: {matchLabels: {app: cache}}, topologyKey: kubernetes.io/hostname}}\n"
    )
    text = DEPLOYMENT.replace("    spec:\n      containers:", "    spec:\n" + affinity + "      containers:")
    before = yamldoc.load(text)["spec"]["template"]["spec"]["affinity"]
    after = pod_specs(run(text, ON).output)["web"]["affinity"]
    assert after == {**before, "podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [HOSTNAME_TERM]}}


@pytest.mark.parametrize(
    "text, spreads",
    [
        (with_replicas(1), False),
        (with_replicas(2), True),
        (DEPLOYMENT.replace("  replicas: 3\n", ""), False),  # no replicas: 1
        (with_replicas(1) + hpa(2), True),  # the HPA's minimum is the effective count
        (with_replicas(4) + hpa(1), False),
        (with_replicas(4) + hpa(None), False),  # no minReplicas: 1
    ],
    ids=["one", "two", "unset", "hpa-min-2", "hpa-min-1", "hpa-min-unset"],
)
def test_acts_on_two_or_more_effective_replicas(text, spreads):
    result = run(text, ON)
    assert bool(ops(result)) == spreads
    assert ("affinity" in pod_specs(result.output)["web"]) == spreads
    if not spreads:
        assert result.output == text and not result.findings


@pytest.mark.parametrize("args", [ON, TOPOLOGY, [*TOPOLOGY, "--kube-version=1.26"]], ids=["anti-affinity", "topology-spread", "topology-spread-1.26"])
def test_second_run_changes_nothing(args):
    first = run(DEPLOYMENT, args)
    assert ops(first)
    second = run(first.output, args)
    assert not ops(second) and not second.findings
    assert second.output == first.output


def test_off_by_default_with_every_rule():
    assert not [f for f in pipeline.run(DEPLOYMENT, make_settings()).findings if f.rule == "spread"]
    assert run(DEPLOYMENT, []).output == DEPLOYMENT


def test_a_workload_opts_out_by_annotation():
    text = DEPLOYMENT.replace("  namespace: shop\n", '  namespace: shop\n  annotations: {zdrender.io/spread: "false"}\n')
    assert run(text, ON).output == text


@pytest.mark.parametrize("version, kind, keys", [("1.27", "Deployment", ["pod-template-hash"]), ("1.26", "Deployment", None), ("1.30", "StatefulSet", None)])
def test_topology_spread_match_label_keys(version, kind, keys):
    text = DEPLOYMENT.replace("kind: Deployment", f"kind: {kind}")
    (constraint,) = pod_specs(run(text, [*TOPOLOGY, f"--kube-version={version}"]).output)["web"]["topologySpreadConstraints"]
    assert constraint.pop("matchLabelKeys", None) == keys
    assert constraint == {"maxSkew": 1, "topologyKey": "kubernetes.io/hostname", "whenUnsatisfiable": "ScheduleAnyway", "labelSelector": {"matchLabels": {"app": "web"}}}


def test_no_match_label_keys_the_selector_already_names():
    # The API refuses a matchLabelKeys key that labelSelector also names.
    text = DEPLOYMENT.replace("matchLabels: {app: web}", "matchLabels: {app: web, pod-template-hash: abc}").replace("labels: {app: web}", "labels: {app: web, pod-template-hash: abc}")
    (constraint,) = pod_specs(run(text, TOPOLOGY).output)["web"]["topologySpreadConstraints"]
    assert "matchLabelKeys" not in constraint


def test_spread_mode_is_checked():
    with pytest.raises(SettingsError, match="anti-affinity, topology-spread"):
        make_settings([*ON, "--set", "spread-mode=zones"])
