"""What the sidecars, mesh, grace-period, signals, disruption-budget, spread, load-balancer, readiness and
probe-balance rules write validates against the target version's schema (their fixtures and the interplay
cases), and the corpus with every opt-in keeps the engine's guarantees. Each rule's own behaviour is
tested in tests/rules/test_<rule>.py."""

from __future__ import annotations

import pytest

from zdrender import stream, yamldoc

from conftest import FIXTURES, fixture_args, require_module
from helpers import make_settings, render

RULE_DIRS = ("sidecars", "mesh", "grace-period", "signals", "disruption-budget", "spread", "load-balancer", "readiness", "probe-balance")


CASES = sorted(p for d in RULE_DIRS for p in (FIXTURES / d).rglob("*.yaml")) + sorted((FIXTURES / "interplay").glob("*.yaml"))


def kube_version(args: list[str]) -> str:
    for arg in args:
        if arg.startswith("--kube-version="):
            return arg.split("=", 1)[1]
    return "1.30"


@pytest.mark.parametrize("case", CASES, ids=[str(p.relative_to(FIXTURES).with_suffix("")) for p in CASES])
def test_patched_output_validates(case):
    """Every document the rules changed or added is valid for the fixture's target version."""
    kubernetes_validate = require_module("kubernetes_validate")
    text = case.read_text(encoding="utf-8")
    args = fixture_args(text)
    result = render(text, args)
    before = {d.text for d in stream.split(text).documents}
    changed = [d for d in stream.split(result.output).documents if d.has_content and d.text not in before]
    for doc in changed:
        kubernetes_validate.validate(as_validated(yamldoc.load(doc.text)), kube_version(args), strict=True)


def as_validated(obj: dict) -> dict:
    """The object, or for an Argo Rollout (a CRD, no schema here) its selector and pod template in a
    Deployment, whose are the same types."""
    if not str(obj.get("apiVersion", "")).startswith("argoproj.io/"):
        return obj
    spec = {key: obj["spec"][key] for key in ("selector", "template")}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": obj["metadata"]["name"]}, "spec": spec}


def test_corpus_with_every_opt_in(corpus):
    """The corpus with native sidecars, a PDB for every uncovered workload, replicas spread across nodes,
    readiness probes from ports and a stop-signal map on a 1.33 target with the gate: the engine's
    guarantees hold (idempotent, exact, minimal, valid)."""
    import guarantees

    args = [
        "--kube-version=1.33",
        "--set",
        "sidecar-mode=native",
        "--set",
        "disruption-budget=true",
        "--set",
        "spread=true",
        "--set",
        "readiness-from-port=true",
        "--set",
        "feature-gates=ContainerStopSignals=true",
        "--set",
        "stop-signals=nginx=SIGQUIT,nginx-unprivileged=SIGQUIT",
    ]
    added = spread = readiness = 0
    for path in corpus:
        result = guarantees.check(path.read_text(encoding="utf-8"), make_settings(args), validate_version="1.33")
        added += sum(1 for f in result.findings if f.new_object is not None)
        spread += sum(1 for f in result.findings if f.rule == "spread" and f.ops)
        readiness += sum(1 for f in result.findings if f.rule == "readiness" and f.ops)
    assert added > 0, "some corpus workload should have been given a PodDisruptionBudget"
    assert spread > 0, "some corpus workload should have been spread across nodes"
    assert readiness > 0, "some corpus container should have been given a readinessProbe"
