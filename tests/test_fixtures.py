"""Per-rule fixtures: tests/fixtures/<rule>/<case>.yaml, rendered with every rule, snapshotted.

A fixture's first line may give arguments (`# args: --kube-version=1.28`). The snapshot holds the
output stream and the findings, so a change in any rule's behaviour shows up as a reviewed diff.
Each fixture also has to keep the engine's guarantees: rendering the output again changes nothing.
"""

from __future__ import annotations

import pytest
from syrupy.extensions.single_file import SingleFileSnapshotExtension, WriteMode

from conftest import FIXTURES, fixture_args
from helpers import render

CASES = sorted(FIXTURES.glob("*/*.yaml"))


class TextSnapshot(SingleFileSnapshotExtension):
    _write_mode = WriteMode.TEXT
    file_extension = "txt"


def describe(text: str) -> str:
    args = fixture_args(text)
    result = render(text, args)
    lines = [f"args: {' '.join(args) or '(defaults)'}", "findings:"]
    for f in result.findings:
        lines.append(f"  - [{f.severity}] {f.rule} {f.kind}/{f.name} {f.path or ''}: {f.message}")
    lines.append("output:")
    return "\n".join(lines) + "\n" + result.output


@pytest.mark.parametrize("case", CASES, ids=[f"{p.parent.name}/{p.stem}" for p in CASES])
def test_fixture(case, snapshot):
    text = case.read_text(encoding="utf-8")
    assert describe(text) == snapshot(extension_class=TextSnapshot)
    args = fixture_args(text)
    once = render(text, args).output
    assert render(once, args).output == once, "rendering the output again must change nothing"
