"""Helpers for the tests of `zdrender check`, `diff`, `rules` and the reports.

Other rules join the registry over time; tests that pin exact findings run only the rules they
name (`only(...)` skips every other registered rule), so a new rule does not break them.
"""

from __future__ import annotations

import functools
from pathlib import Path
from types import SimpleNamespace

from typer.testing import CliRunner

from zdrender import pipeline, rules
from zdrender.cli import app
from zdrender.finding import Finding
from zdrender.workload import WORKLOAD_KINDS

DATA = Path(__file__).resolve().parent / "data" / "lint"
WEB = DATA / "web.yaml"  # a Helm-rendered Service + Deployment: one prestop-sleep finding at line 29
CLEAN = DATA / "clean.yaml"  # no workloads: no findings
BROKEN = DATA / "broken.yaml"  # document 2 has invalid YAML at line 10


def only(*rule_ids: str) -> list[str]:
    """CLI args that run only the named rules."""
    others = [r for r in rules.rule_ids() if r not in rule_ids]
    return ["--set", f"skip-rules={','.join(others)}"]


def invoke(args: list[str], input: str | None = None):
    return CliRunner().invoke(app, args, input=input)


def fake_rule(severity: str = "warning", message: str = "a test finding", fix: bool = False) -> SimpleNamespace:
    """A rule module stand-in: one finding per workload, at the pod template."""

    def plan(workload, ctx):
        path = workload.template_pointer
        ops = [ctx.set(f"{path}/metadata/annotations/test~1checked", "yes")] if fix else []
        return [Finding("fake-rule", severity, message, ops=ops, path=path)]

    return SimpleNamespace(ID="fake-rule", SUMMARY="A rule for tests.", KINDS=WORKLOAD_KINDS, REMEDIATION="Fix it.", KNOBS=(), plan=plan, __doc__="Test rule.")


def use_rules(monkeypatch, *modules) -> None:
    """Make the CLI's pipeline run exactly these rule modules."""
    monkeypatch.setattr(pipeline, "run", functools.partial(_original_run, rules=modules))


_original_run = pipeline.run
