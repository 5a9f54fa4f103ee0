"""The catalog of rules and settings, generated from the registry (for `zdrender rules` and the README)."""

from __future__ import annotations

import json

from . import rules
from .settings import GLOBAL_KNOBS


def entries() -> list[dict]:
    return [
        {
            "id": rule.ID,
            "summary": rule.SUMMARY,
            "rationale": rules.rationale(rule),
            "knobs": [{"key": k.key, "default": k.describe_default(), "help": k.help} for k in rule.KNOBS],
        }
        for rule in rules.REGISTRY
    ]


def render(fmt: str) -> str:
    if fmt == "json":
        return json.dumps(entries(), indent=2) + "\n"
    if fmt == "markdown":
        return markdown()
    lines = []
    for entry in entries():
        lines.append(f"{entry['id']}: {entry['summary']}")
        lines.append(f"  {entry['rationale']}")
        for knob in entry["knobs"]:
            lines.append(f"  --set {knob['key']}=…  (default {knob['default']}) {knob['help']}")
        lines.append("")
    lines.append("Global settings:")
    for knob in GLOBAL_KNOBS:
        lines.append(f"  --set {knob.key}=…  (default {knob.describe_default()}) {knob.help}")
    return "\n".join(lines) + "\n"


def markdown() -> str:
    """The README's table of rules."""
    rows = ["| rule | what it does | settings (default) |", "|---|---|---|"]
    for entry in entries():
        knobs = "<br>".join(f"`{k['key']}` ({k['default']})" for k in entry["knobs"]) or "—"
        rows.append(f"| `{entry['id']}` | {entry['summary']} | {knobs} |")
    return "\n".join(rows) + "\n"
