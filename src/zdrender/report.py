"""Findings for people and for machines: a short stderr summary, JSON, and report files."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any, Iterable

from .rules.base import Finding

SEVERITY_ORDER = {"info": 0, "warning": 1, "error": 2}


def where(finding: Finding) -> str:
    ref = f"{finding.kind}/{finding.name}" if finding.name else (finding.kind or "document")
    if finding.namespace:
        ref = f"{finding.namespace}/{ref}"
    return ref


def summary_lines(findings: Iterable[Finding], *, verbose: bool = False) -> list[str]:
    """Short lines for stderr: every unfixed warning, then one line counting the changes."""
    findings = list(findings)
    lines = []
    for f in findings:
        if verbose or (not f.fixed and SEVERITY_ORDER[f.severity] >= SEVERITY_ORDER["warning"]):
            label = "fixed" if f.fixed else f.severity
            lines.append(f"zdrender: {label}: {where(f)} [{f.rule}]: {f.message}")
    fixed = [f for f in findings if f.fixed]
    if fixed:
        workloads = len({(f.document, f.kind, f.name) for f in fixed})
        per_rule = Counter(f.rule for f in fixed)
        rules = ", ".join(f"{rule} {count}" for rule, count in per_rule.items())
        lines.append(f"zdrender: patched {workloads} workload{'s' if workloads != 1 else ''} ({rules})")
    return lines


def to_json(findings: Iterable[Finding], *, error: str | None = None) -> str:
    payload: dict[str, Any] = {"findings": [f.as_dict() for f in findings]}
    if error is not None:
        payload["error"] = error
    return json.dumps(payload, indent=2, default=str) + "\n"


def to_text(findings: Iterable[Finding], *, error: str | None = None) -> str:
    lines = summary_lines(findings, verbose=True)
    if error is not None:
        lines.append(f"zdrender: error: {error}")
    return "\n".join(lines) + ("\n" if lines else "")


def render_report(path: str, findings: Iterable[Finding], *, error: str | None = None) -> str:
    """The report's content in the format its file name asks for (.json, .sarif, else text)."""
    lower = path.lower()
    if lower.endswith((".sarif", ".sarif.json")):
        from .sarif import to_sarif

        return to_sarif(list(findings), error=error)
    if lower.endswith(".json"):
        return to_json(findings, error=error)
    return to_text(findings, error=error)


def write_report(path: str, findings: Iterable[Finding], *, error: str | None = None) -> None:
    content = render_report(path, findings, error=error)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(content)
