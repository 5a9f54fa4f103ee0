"""The PodDisruptionBudget that the opt-in disruption-budget rule adds, behind the real Helm 3 and Helm 4:
Helm 3's `--show-only` finds it with its workload (it carries the workload's `# Source:` line), and Helm 4
keeps it (it carries the workload's postrender filename annotation, by which Helm 4 re-splits the stream)."""

from __future__ import annotations

import pytest
from e2e_support import CHART, helm, helm_env, objects, ok, run  # noqa: F401 (helm_env is a fixture)

from conftest import ROOT

pytestmark = pytest.mark.e2e

TWO_REPLICAS = ["--set", "autoscaling.minReplicas=2"]  # the example chart's HPA: 2 effective replicas
OPT_IN = "--post-renderer-args=--set=disruption-budget=true"


def budgets(output: bytes) -> list[dict]:
    return [o for (kind, _), o in objects(output).items() if kind == "PodDisruptionBudget"]


def expected_budget() -> dict:
    return {"name": "demo-web-zdrender", "maxUnavailable": 1}


def summary(budget: dict) -> dict:
    return {"name": budget["metadata"]["name"], "maxUnavailable": budget["spec"]["maxUnavailable"]}


def test_helm3_show_only_lists_the_budget_with_its_deployment(helm_env):
    args = ["template", "demo", str(CHART), *TWO_REPLICAS, "--post-renderer", "zdrender", OPT_IN, "--show-only", "templates/deployment.yaml"]
    output = ok(run([helm(3), *args], helm_env))
    assert sorted(kind for kind, _ in objects(output)) == ["Deployment", "PodDisruptionBudget"]
    assert [summary(b) for b in budgets(output)] == [expected_budget()]


def test_helm4_plugin_keeps_the_budget(helm_env):
    ok(run([helm(4), "plugin", "install", str(ROOT)], helm_env))
    output = ok(run([helm(4), "template", "demo", str(CHART), *TWO_REPLICAS, "--post-renderer", "zdrender", OPT_IN], helm_env))
    assert [summary(b) for b in budgets(output)] == [expected_budget()]
    again = ok(run([helm(4), "template", "demo", str(CHART), "--post-renderer", "zdrender", OPT_IN], helm_env))
    assert budgets(again) == [], "one replica (the chart's default HPA minimum): no budget"
