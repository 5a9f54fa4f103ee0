"""Each rule's FAIL and PASS examples (in its docstring, yamllint's manner) run with that rule alone."""

from __future__ import annotations

import pytest

from zdrender import pipeline
from zdrender.rules import REGISTRY, examples

from helpers import make_settings

CASES = [(rule, verdict, why, text) for rule in REGISTRY for verdict, why, text in examples(rule)]


def test_every_rule_shows_a_failure_and_a_pass():
    for rule in REGISTRY:
        verdicts = sorted(verdict for verdict, _, _ in examples(rule))
        assert "FAIL" in verdicts and "PASS" in verdicts, f"{rule.ID} has no FAIL and PASS examples in its docstring"


@pytest.mark.parametrize("rule, verdict, why, text", CASES, ids=[f"{rule.ID}-{verdict}" for rule, verdict, _, _ in CASES])
def test_rule_example(rule, verdict, why, text):
    settings = make_settings([arg for setting in getattr(rule, "EXAMPLE_SETTINGS", ()) for arg in ("--set", setting)])
    result = pipeline.run(text, settings, rules=[rule])
    raised = [f for f in result.findings if f.rule == rule.ID and (f.severity != "info" or f.fixed)]
    if verdict == "FAIL":
        assert raised, f"{rule.ID}: the FAIL example ({why}) raised nothing"
        assert pipeline.run(result.output, settings, rules=[rule]).output == result.output, "the fix is not stable"
    else:
        assert not raised, f"{rule.ID}: the PASS example ({why}) raised {[f.message for f in raised]}"


def test_every_rule_declares_its_kinds_and_remediation():
    from zdrender.workload import WORKLOAD_KINDS

    for rule in REGISTRY:
        assert rule.KINDS and set(rule.KINDS) <= WORKLOAD_KINDS, rule.ID
        assert isinstance(rule.REMEDIATION, str) and rule.REMEDIATION.endswith(".") and "\n" not in rule.REMEDIATION, rule.ID
