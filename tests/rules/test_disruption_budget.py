"""The disruption-budget rule beyond its fixtures: the PDB joins the stream after its workload (CRLF, no final newline), and the facts of policy/v1 selectors."""

from __future__ import annotations

import pytest

from zdrender import pipeline, stream, yamldoc

from conftest import FIXTURES, fixture_args
from helpers import DEPLOYMENT, make_settings, render


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
@pytest.mark.parametrize("final_newline", [True, False])
def test_pdb_joins_the_stream_after_its_workload(newline, final_newline):
    text = "---\n# Source: web/templates/deployment.yaml\n" + DEPLOYMENT + "\n---\napiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {selector: {app: web}}"
    text = text.replace("\n", newline) + (newline if final_newline else "")
    settings = make_settings(["--set", "disruption-budget=true", "--set", "record-changes=false"])
    output = pipeline.run(text, settings).output
    docs = [yamldoc.load(d.text) for d in stream.split(output).documents if d.has_content]
    assert [d["kind"] for d in docs] == ["Deployment", "PodDisruptionBudget", "Service"]
    pdb = docs[1]
    assert pdb["metadata"] == {"name": "web-zdrender", "namespace": "shop"}
    assert pdb["spec"] == {"maxUnavailable": 1, "selector": {"matchLabels": {"app": "web"}}}
    assert "# Source: web/templates/deployment.yaml" in stream.split(output).documents[1].text
    if newline == "\r\n":
        assert "\n" not in output.replace("\r\n", "")
    assert output.endswith(newline) == final_newline  # the last document's end is untouched
    assert pipeline.run(output, settings).output == output, "the second run must see the PDB and add nothing"


def test_pdb_after_the_last_document_without_final_newline():
    settings = make_settings(["--set", "disruption-budget=true", "--set", "record-changes=false"])
    output = pipeline.run(DEPLOYMENT, settings).output
    assert output.startswith(DEPLOYMENT + "\n---\napiVersion: policy/v1\n")
    assert output.endswith("app: web\n")
    assert pipeline.run(output, settings).output == output


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
