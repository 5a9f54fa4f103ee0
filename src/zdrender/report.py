"""Findings for people and for machines: a short stderr summary, text, JSON, GitHub annotations,
and report files (SARIF lives in sarif.py).

`mode` says whether the findings' patches were applied ("render") or only planned ("check"), so
the same finding reads "fixed" after a render and "fixable" in a lint run.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable

from .finding import Finding

TYPE_CHECKING = False  # typing's, without importing typing on the render path (record.py says why)
if TYPE_CHECKING:
    from typing import Any

SEVERITY_ORDER = {"info": 0, "warning": 1, "error": 2}
FORMATS = ("text", "json", "sarif", "github")
_GITHUB_LEVEL = {"info": "notice", "warning": "warning", "error": "error"}
_COLOUR = {"info": "blue", "warning": "yellow", "error": "bold red"}
# Characters str.splitlines() breaks at: a name or value quoted in a line ("a\nb") must not split it.
_LINE_BREAKS = {ord(c): repr(c)[1:-1] for c in "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"}


def one_line(text: str) -> str:
    """`text` with its line breaks escaped (`\\n`), for line-oriented output: stderr, text, annotations."""
    return text.translate(_LINE_BREAKS)


def reaches(finding: Finding, threshold: str) -> bool:
    """Whether the finding is at least as severe as `threshold` (info, warning or error)."""
    return SEVERITY_ORDER[finding.severity] >= SEVERITY_ORDER[threshold]


def summary_lines(findings: Iterable[Finding], *, verbose: bool = False) -> list[str]:
    """Short lines for stderr: every unfixed warning, then one line counting the changes."""
    findings = list(findings)
    lines = []
    for f in findings:
        if verbose or (not f.fixed and SEVERITY_ORDER[f.severity] >= SEVERITY_ORDER["warning"]):
            label = "fixed" if f.fixed else f.severity
            lines.append(one_line(f"zdrender: {label}: {f.ref} [{f.rule}]: {f.message}"))
    fixes = fix_count(findings)
    if fixes:
        lines.append(f"zdrender: fixed {fixes}")
    return lines


def fix_count(findings: Iterable[Finding]) -> str:
    """`6 findings in 2 workloads (prestop-sleep 2, rollout 1, ...)`: the findings that carry a fix, in the
    same words after a render ("fixed ...") and in a check ("... fixable"); "" when there are none."""
    fixed = [f for f in findings if f.fixed]
    if not fixed:
        return ""
    workloads = len({(f.file, f.document, f.kind, f.name) for f in fixed})
    per_rule = Counter(f.rule for f in fixed)
    rules = ", ".join(f"{rule} {count}" for rule, count in per_rule.items())
    return f"{len(fixed)} finding{'s' if len(fixed) != 1 else ''} in {workloads} workload{'s' if workloads != 1 else ''} ({rules})"


def counts(findings: Iterable[Finding]) -> dict[str, int]:
    """Findings per severity, and how many carry a fix."""
    findings = list(findings)
    totals = dict.fromkeys(SEVERITY_ORDER, 0)
    for f in findings:
        totals[f.severity] += 1
    totals["fixable"] = sum(1 for f in findings if f.fixed)
    return totals


def to_json(findings: Iterable[Finding], *, error: str | None = None, mode: str = "render") -> str:
    from . import __version__

    findings = list(findings)
    payload: dict[str, Any] = {
        "tool": {"name": "zdrender", "version": __version__},
        "mode": mode,
        "summary": counts(findings),
        "findings": [f.as_dict() for f in findings],
    }
    if error is not None:
        payload["error"] = error
    return json.dumps(payload, indent=2, default=str) + "\n"


def finding_line(finding: Finding, *, mode: str = "render", markup: bool = False) -> str:
    """`file:line: severity [rule] Kind/name: message`, one line (Rich markup when `markup`)."""
    where_text = finding.ref
    if finding.file in (None, "-") and finding.source:
        where_text += f" ({finding.source})"
    place = finding.file_label + (f":{finding.line}" if finding.line else "")
    tag = (" [fixed]" if mode == "render" else " [fixable]") if finding.fixed else ""
    parts = [one_line(part) for part in (f"{place}:", finding.severity, f"[{finding.rule}]", f"{where_text}:", finding.message + tag)]
    if not markup:
        return " ".join(parts)
    from rich.markup import escape

    styles = ["bold", _COLOUR[finding.severity], "cyan", "", ""]
    return " ".join(f"[{style}]{escape(part)}[/]" if style else escape(part) for style, part in zip(styles, parts))


def totals_line(findings: Iterable[Finding], *, files: int, mode: str = "render") -> str:
    findings = list(findings)
    totals = counts(findings)
    found = [f"{totals[s]} {s}{'s' if totals[s] != 1 and s != 'info' else ''}" for s in ("error", "warning", "info") if totals[s]]
    in_files = f"in {files} file{'s' if files != 1 else ''}"
    if not found:
        return f"zdrender: no findings {in_files}"
    line = f"zdrender: {', '.join(found)} {in_files}"
    fixes = fix_count(findings)
    if fixes:
        line += f"; fixed {fixes}" if mode == "render" else f"; fixable: {fixes}, which render with zdrender applies"
    return line


def to_text(findings: Iterable[Finding], *, error: str | None = None, mode: str = "render", files: int = 1) -> str:
    findings = list(findings)
    lines = [finding_line(f, mode=mode) for f in findings]
    lines.append(totals_line(findings, files=files, mode=mode))
    if error is not None:
        lines.append(one_line(f"zdrender: error: {error}"))
    return "\n".join(lines) + "\n"


def _github_data(text: str) -> str:
    return one_line(text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A"))


def _github_property(text: str) -> str:
    return _github_data(text).replace(":", "%3A").replace(",", "%2C")


def _repository_path(path: str) -> str:
    """An absolute path inside the checkout ($GITHUB_WORKSPACE, else the working directory) made
    relative to it, since annotations name files relative to the repository."""
    import os

    if not os.path.isabs(path):
        return path
    root = os.environ.get("GITHUB_WORKSPACE") or os.getcwd()
    relative = os.path.relpath(path, root)
    return path if relative.startswith(os.pardir) else relative


def to_github(findings: Iterable[Finding], *, error: str | None = None, mode: str = "check") -> str:
    """GitHub Actions workflow commands: `::warning file=...,line=...,title=...::message`."""
    lines = []
    for f in findings:
        path, line = f.location()
        path = _repository_path(path)
        properties = [] if path == "stdin" else [f"file={_github_property(path)}"]
        if line and path != "stdin":
            properties.append(f"line={line}")
        properties.append(f"title={_github_property(f'zdrender {f.rule}')}")
        tag = (" [fixed]" if mode == "render" else " [fixable]") if f.fixed else ""
        message = f"{f.ref}: {f.message}{tag}"
        lines.append(f"::{_GITHUB_LEVEL[f.severity]} {','.join(properties)}::{_github_data(message)}")
    if error is not None:
        lines.append(f"::error title=zdrender::{_github_data(error)}")
    return "".join(line + "\n" for line in lines)


def format_findings(fmt: str, findings: Iterable[Finding], *, error: str | None = None, mode: str = "render", files: int = 1) -> str:
    """The findings in one of FORMATS."""
    if fmt == "sarif":
        from .sarif import to_sarif

        return to_sarif(list(findings), error=error, mode=mode)
    if fmt == "json":
        return to_json(findings, error=error, mode=mode)
    if fmt == "github":
        return to_github(findings, error=error, mode=mode)
    return to_text(findings, error=error, mode=mode, files=files)


def report_format(path: str) -> str:
    """A report file's format from its name: .sarif (or .sarif.json), .json, else text."""
    lower = path.lower()
    if lower.endswith((".sarif", ".sarif.json")):
        return "sarif"
    return "json" if lower.endswith(".json") else "text"


def render_report(path: str, findings: Iterable[Finding], *, error: str | None = None, mode: str = "render", files: int = 1) -> str:
    """The report's content in the format its file name asks for (.json, .sarif, else text)."""
    return format_findings(report_format(path), findings, error=error, mode=mode, files=files)


def write_report(path: str, findings: Iterable[Finding], *, error: str | None = None, mode: str = "render", files: int = 1) -> None:
    content = render_report(path, findings, error=error, mode=mode, files=files)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(content)
