"""SARIF 2.1.0 logs of findings, for code scanning in CI (GitHub, GitLab, Azure DevOps).

One run per log: the driver lists every registered rule (summary, rationale, settings), each finding
is a result located by file and line (see Finding.location), and its JSON patch rides in the result's
property bag, since SARIF's own `fixes` need byte regions of the template, which a rendered stream
does not have. Bad input appears as a failed invocation with an error notification, so a CI step
that uploads the log still shows why zdrender stopped.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any
from urllib.parse import quote

from . import REPOSITORY, __version__, catalog, docs_url
from .finding import Finding

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
LEVELS = {"info": "note", "warning": "warning", "error": "error"}
# Findings that come from zdrender itself rather than from a registered rule.
ENGINE_RULES = {"engine": "zdrender's own notes on how it edited a document (for example a full re-emit instead of an in-place edit)."}


_JSON_BREAKS = {ord(c): f"\\u{ord(c):04x}" for c in "\x85\u2028\u2029"}  # inside JSON strings only: JSON escapes the rest


def to_sarif(findings: Iterable[Finding], error: str | list[str] | None = None, *, mode: str = "check") -> str:
    findings = list(findings)
    descriptors = rule_descriptors(f.rule for f in findings)
    index = {descriptor["id"]: i for i, descriptor in enumerate(descriptors)}
    errors = [error] if isinstance(error, str) else list(error or [])
    invocation: dict[str, Any] = {"executionSuccessful": not errors}
    if errors:
        invocation["toolExecutionNotifications"] = [{"level": "error", "message": {"text": text}} for text in errors]
    run = {
        "tool": {
            "driver": {
                "name": "zdrender",
                "version": __version__,
                "semanticVersion": __version__,
                "informationUri": REPOSITORY,
                "rules": descriptors,
            }
        },
        "invocations": [invocation],
        "results": [result(f, index[f.rule]) for f in findings],
        # "render": the patches were applied to the output; "check": they were only planned.
        "properties": {"mode": mode},
    }
    log = {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}
    # Non-ASCII text stays readable, but the characters line-oriented readers break at are escaped.
    return json.dumps(log, indent=2, ensure_ascii=False).translate(_JSON_BREAKS) + "\n"


def rule_descriptors(used: Iterable[str] = ()) -> list[dict[str, Any]]:
    """One reportingDescriptor per registered rule, plus any other rule id that findings use."""
    descriptors = [descriptor(entry) for entry in catalog.entries()]
    known = {d["id"] for d in descriptors}
    for rule_id in dict.fromkeys(used):
        if rule_id not in known:
            text = ENGINE_RULES.get(rule_id, f"Findings that zdrender reports as {rule_id}.")
            descriptors.append({"id": rule_id, "shortDescription": {"text": text}})
            known.add(rule_id)
    return descriptors


def descriptor(entry: dict[str, Any]) -> dict[str, Any]:
    settings = [catalog.knob_line(knob) for knob in entry["knobs"]]
    fix = f"\n\nFix in the chart: {entry['remediation']}" if entry.get("remediation") else ""
    help_text = entry["rationale"] + fix + ("\n\nSettings:\n" + "\n".join(f"  {s}" for s in settings) if settings else "")
    help_markdown = entry["rationale"] + fix + ("\n\nSettings:\n\n" + "\n".join(f"- `{k['key']}` (default `{k['default']}`): {k['help']}" for k in entry["knobs"]) if entry["knobs"] else "")
    return {
        "id": entry["id"],
        "shortDescription": {"text": entry["summary"]},
        "fullDescription": {"text": entry["rationale"]},
        "help": {"text": help_text, "markdown": help_markdown},
        "helpUri": docs_url(f"rules/{entry['id']}.md"),
        "properties": {"settings": entry["knobs"]},
    }


def result(finding: Finding, rule_index: int) -> dict[str, Any]:
    path, line = finding.location()
    physical: dict[str, Any] = {"artifactLocation": {"uri": uri(path)}}
    if line:
        physical["region"] = {"startLine": line}
    properties: dict[str, Any] = {
        "document": finding.document,
        "kind": finding.kind,
        "name": finding.name,
        "namespace": finding.namespace,
        "source": finding.source,
        "path": finding.path,
        "fixable": finding.fixed,
        "patch": finding.ops,
    }
    if finding.line and line is None:
        properties["streamLine"] = finding.line  # the line in the rendered stream read on stdin
    if finding.new_document is not None:
        properties["newDocument"] = finding.new_document
    return {
        "ruleId": finding.rule,
        "ruleIndex": rule_index,
        "level": LEVELS[finding.severity],
        "message": {"text": f"{finding.ref}: {finding.message}"},
        "locations": [
            {
                "physicalLocation": physical,
                "logicalLocations": [{"fullyQualifiedName": finding.ref, "kind": "resource"}],
            }
        ],
        "properties": properties,
    }


def uri(path: str) -> str:
    """A URI reference for a path as given: relative paths stay relative (to the checkout), absolute
    ones become file: URIs."""
    if PureWindowsPath(path).drive:
        return PureWindowsPath(path).as_uri()
    posix = PurePosixPath(path.replace("\\", "/"))
    if posix.is_absolute():
        return posix.as_uri()
    return quote(str(posix), safe="/")
