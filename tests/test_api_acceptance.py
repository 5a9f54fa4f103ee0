"""probe-balance and rollout: what they write must be accepted by the API server (Kubernetes 1.30
schema, strict: unknown fields fail, plus the maxSurge/maxUnavailable rule the schema cannot express),
on their fixtures and on every corpus document they patch; fixtures also keep the engine's guarantees.
Each rule's own behaviour is tested in tests/rules/test_<rule>.py."""

from __future__ import annotations

import importlib.util

import pytest
import yaml

from zdrender import pipeline
from zdrender.rules import probe_balance, rollout

from conftest import FIXTURES, fixture_args, require
from guarantees import check, validate
from helpers import make_settings

KUBE_VERSION = "1.30"


CASES = sorted(FIXTURES.glob("probe-balance/*/*.yaml")) + sorted(FIXTURES.glob("rollout/*/*.yaml"))


ZERO = (0, "0%")


def patched_objects(result: pipeline.Result) -> list[dict]:
    return [yaml.safe_load(doc.output) for doc in result.documents if doc.ops]


def accepted(obj: dict) -> None:
    """Fails the test, naming the object, when the API server would reject it."""
    require(importlib.util.find_spec("kubernetes_validate") is not None, "kubernetes-validate is not installed")
    import kubernetes_validate

    where = f"{obj.get('kind')}/{obj.get('metadata', {}).get('name')}"
    try:
        validate(obj, KUBE_VERSION)
    except kubernetes_validate.ValidationError as err:
        pytest.fail(f"{where}: {err.message} at {'/'.join(map(str, err.path))}")
    spec = obj.get("spec") or {}
    strategy = spec.get("updateStrategy") if obj.get("kind") == "DaemonSet" else spec.get("strategy")
    rolling = (strategy or {}).get("rollingUpdate") or (spec.get("strategy") or {}).get("canary") or {}
    if rolling and obj.get("kind") in ("Deployment", "DaemonSet", "Rollout"):
        default_surge, default_unavailable = (0, 1) if obj["kind"] == "DaemonSet" else ("25%", "25%")
        surge, unavailable = rolling.get("maxSurge", default_surge), rolling.get("maxUnavailable", default_unavailable)
        assert not (surge in ZERO and unavailable in ZERO), f"{where}: maxSurge and maxUnavailable may not both be 0"


@pytest.mark.parametrize("case", CASES, ids=[str(p.relative_to(FIXTURES).with_suffix("")) for p in CASES])
def test_fixture_output_is_accepted(case):
    text = case.read_text(encoding="utf-8")
    result = check(text, make_settings(fixture_args(text)))  # idempotent, exact, minimal, nothing lost
    for obj in patched_objects(result):
        accepted(obj)


def test_fixtures_patch_enough_to_mean_something():
    """Guard against a vacuous pass: these fixtures do hold many patched objects."""
    texts = [p.read_text(encoding="utf-8") for p in CASES]
    assert sum(len(patched_objects(pipeline.run(t, make_settings(fixture_args(t))))) for t in texts) >= 20


@pytest.mark.corpus
@pytest.mark.parametrize("args", [[], ["--set", "probe-startup=true", "--set", "keep-warm=true", "--set", "min-ready-seconds=5"]])
def test_corpus_patches_are_accepted(corpus, args):
    settings = make_settings(args)
    patched = 0
    for path in corpus:
        result = pipeline.run(path.read_text(encoding="utf-8"), settings, rules=(probe_balance, rollout))
        for obj in patched_objects(result):
            accepted(obj)
            patched += 1
    assert patched >= 30, "real charts should give these rules plenty to patch"


def test_the_check_can_fail():
    bad = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "bad"},
        "spec": {
            "selector": {"matchLabels": {"app": "bad"}},
            "strategy": {"rollingUpdate": {"maxSurge": 0, "maxUnavailable": "0%"}},
            "template": {"metadata": {"labels": {"app": "bad"}}, "spec": {"containers": [{"name": "a", "image": "a"}]}},
        },
    }
    with pytest.raises(AssertionError, match="both be 0"):
        accepted(bad)
    bad["spec"]["strategy"]["rollingUpdate"] = {"maxSurge": 1, "maxUnavaliable": 0}
    with pytest.raises(pytest.fail.Exception, match="Deployment/bad"):
        accepted(bad)
