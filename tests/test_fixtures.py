"""Per-rule fixtures, Polaris's layout: tests/fixtures/<rule>/success/ (the rule finds nothing to fix)
and tests/fixtures/<rule>/failure/ (it does), each run with that rule alone; the fixed case is the
snapshot, which holds the rule's findings and the diff it makes. tests/fixtures/interplay/ holds the
cases whose point is how rules act together, and tests/fixtures/engine/ the engine's own; both run
with every rule.

A fixture's first line may give arguments (`# args: --kube-version=1.28`). Snapshots live under
__snapshots__/test_fixtures/<the fixture's folder>/<case>.txt, so a change in a rule's behaviour
shows up as a reviewed diff next to that rule's other cases. Every fixture also has to keep the
engine's guarantees: rendering the output again changes nothing.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from syrupy.extensions.single_file import SingleFileSnapshotExtension, WriteMode

from zdrender import pipeline, unidiff
from zdrender.rules import REGISTRY

from conftest import FIXTURES, fixture_args
from helpers import make_settings

CASES = sorted(FIXTURES.rglob("*.yaml"))
RULES = {rule.ID: rule for rule in REGISTRY}


def rules_for(case: Path) -> tuple:
    """The rule a fixture's folder names, alone; every rule for interplay/ and engine/."""
    rule = RULES.get(case.relative_to(FIXTURES).parts[0])
    return (rule,) if rule is not None else REGISTRY


def snapshot_extension(case: Path) -> type[SingleFileSnapshotExtension]:
    folder = case.parent.relative_to(FIXTURES)

    class CaseSnapshot(SingleFileSnapshotExtension):
        _write_mode = WriteMode.TEXT
        file_extension = "txt"

        @classmethod
        def dirname(cls, *, test_location) -> str:
            return str(Path(SingleFileSnapshotExtension.dirname(test_location=test_location)) / folder)

        @classmethod
        def get_snapshot_name(cls, *, test_location, index=0) -> str:
            return case.stem

    return CaseSnapshot


def describe(text: str, result: pipeline.Result, args: list[str], rules: tuple) -> str:
    """The fixed case: the rules run, their findings, and the diff they make (not the whole output)."""
    ran = "every rule" if len(rules) > 1 else rules[0].ID
    lines = [f"args: {' '.join(args) or '(defaults)'}", f"rules: {ran}", "findings:"]
    for f in result.findings:
        lines.append(f"  - [{f.severity}] {f.rule} {f.kind}/{f.name} {f.path or ''}: {f.message}")
    lines.append("diff:")
    return "\n".join(lines) + "\n" + (unidiff.unified(text, result.output, "fixture.yaml") or "(none)\n")


@pytest.mark.parametrize("case", CASES, ids=[str(p.relative_to(FIXTURES).with_suffix("")) for p in CASES])
def test_fixture(case, snapshot):
    text = case.read_text(encoding="utf-8")
    args, rules = fixture_args(text), rules_for(case)
    settings = make_settings(args)
    result = pipeline.run(text, settings, rules=rules)
    assert describe(text, result, args, rules) == snapshot(extension_class=snapshot_extension(case))
    verdict = case.parent.name
    if verdict in ("success", "failure"):
        (rule,) = rules
        raised = [f for f in result.findings if f.rule == rule.ID and (f.severity != "info" or f.fixed)]
        assert bool(raised) == (verdict == "failure"), f"a {verdict} case of {rule.ID}, but it raised {[f.message for f in raised]}"
    assert pipeline.run(result.output, settings, rules=rules).output == result.output, "rendering the output again must change nothing"


def test_every_rule_has_success_and_failure_cases():
    for rule_id in RULES:
        for verdict in ("success", "failure"):
            assert any((FIXTURES / rule_id / verdict).glob("*.yaml")), f"tests/fixtures/{rule_id}/{verdict}/ has no case"
