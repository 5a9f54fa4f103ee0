"""The catalog of rules and settings, generated from the registry (for `zdrender rules`, SARIF rule
metadata, the README's table and a documentation page per rule under docs/rules/).

`python -m zdrender.catalog --update-readme` rewrites the README's rules section (between the
markers below) and the rule pages from the registry; `--check` exits 1 when either has drifted.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from types import ModuleType

from . import rules
from .settings import ANNOTATION_PREFIX, GLOBAL_KNOBS, Knob

README_START = "<!-- rules:start -->"
README_END = "<!-- rules:end -->"
README_NOTE = "<!-- Generated from the rule registry by `python -m zdrender.catalog --update-readme`; do not edit by hand. -->"
DOCS_DIR = "docs/rules"  # one page per rule, beside the README, generated with its table


def knob_entry(knob: Knob) -> dict:
    entry = {"key": knob.key, "default": knob.describe_default(), "help": knob.help}
    if knob.per_workload:
        entry["annotation"] = ANNOTATION_PREFIX + knob.key
    return entry


def entries() -> list[dict]:
    return [
        {
            "id": rule.ID,
            "summary": rule.SUMMARY,
            "rationale": rules.rationale(rule),
            "kinds": sorted(rule.KINDS),
            "remediation": rule.REMEDIATION,
            "knobs": [knob_entry(k) for k in rule.KNOBS],
        }
        for rule in rules.REGISTRY
    ]


def knob_line(knob: dict) -> str:
    """`--set key=…  (default D) help; per workload: annotation`, for text output and SARIF help."""
    line = f"--set {knob['key']}=…  (default {knob['default']}) {knob['help']}"
    if "annotation" in knob:
        line += f" Per workload: annotation {knob['annotation']}."
    return line


def config_example() -> str:
    """A settings file that sets every setting to its default, each under its help: valid as it is
    (`zdrender --config FILE`), to be cut down to what one wants to change."""
    import textwrap

    from .emit import scalar

    def value(knob: Knob) -> str:
        default = knob.default
        if knob.kind == "version":
            return scalar("{}.{}".format(*default))  # quoted: YAML reads 1.30 as the number 1.3
        if knob.kind == "list":
            return "[" + ", ".join(scalar(v) for v in default) + "]"
        if knob.kind == "map":
            return "{" + ", ".join(f"{scalar(k)}: {scalar(v)}" for k, v in default.items()) + "}"
        return scalar(default)

    def block(knob: Knob) -> list[str]:
        lines = textwrap.wrap(knob.help, 96, break_on_hyphens=False)
        if knob.choices:
            lines.append(f"One of: {', '.join(knob.choices)}.")
        if knob.per_workload:
            lines.append(f"Per workload: annotation {ANNOTATION_PREFIX}{knob.key} (a string).")
        return [f"# {line}" for line in lines] + [f"{knob.key}: {value(knob)}", ""]

    out = [
        "# zdrender settings, every one at its default. Use it with `zdrender --config FILE`, render and",
        "# check alike, or $ZDRENDER_CONFIG; flags (--set key=value) override it, and zdrender.io/<key>",
        "# annotations on a workload override both. The same keys go under a ConfigMap's data or a",
        "# zdrender.io/v1alpha1 ZdRender's spec as a KRM functionConfig. Unknown keys are errors.",
        "",
        "# -- for the whole run -----------------------------------------------------------------------------",
    ]
    for knob in rules.all_knobs()[: len(GLOBAL_KNOBS)]:
        out += block(knob)
    for rule in rules.REGISTRY:
        if rule.KNOBS:
            out.append(f"# -- {rule.ID}: {rule.SUMMARY}")
            out += [line for knob in rule.KNOBS for line in block(knob)]
    return "\n".join(out).rstrip("\n") + "\n"


def render(fmt: str) -> str:
    if fmt == "json":
        return json.dumps(entries(), indent=2) + "\n"
    if fmt == "markdown":
        return markdown()
    lines = []
    for entry in entries():
        lines.append(f"{entry['id']}: {entry['summary']}")
        lines.append(f"  {entry['rationale']}")
        lines.append(f"  Fix in the chart: {entry['remediation']}")
        for knob in entry["knobs"]:
            lines.append(f"  {knob_line(knob)}")
        lines.append("")
    lines.append("Global settings:")
    for knob in GLOBAL_KNOBS:
        lines.append(f"  {knob_line(knob_entry(knob))}")
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _knob_cell(knob: dict) -> str:
    return f"`{knob['key']}` ({_cell(knob['default'])}" + (", per workload)" if "annotation" in knob else ")")


def markdown() -> str:
    """The README's table of rules, then the global settings."""
    rows = ["| rule | what it does | settings (default) |", "|---|---|---|"]
    for entry in entries():
        knobs = "<br>".join(_knob_cell(k) for k in entry["knobs"]) or "—"
        rows.append(f"| [`{entry['id']}`]({DOCS_DIR}/{entry['id']}.md) | {_cell(entry['summary'])} | {knobs} |")
    rows += ["", "| global setting | default | meaning |", "|---|---|---|"]
    for knob in GLOBAL_KNOBS:
        key = f"`{knob.key}`" + (" (per workload)" if knob.per_workload else "")
        rows.append(f"| {key} | {_cell(knob.describe_default())} | {_cell(knob.help)} |")
    return "\n".join(rows) + "\n"


def rule_page(rule: ModuleType) -> str:
    """The rule's documentation page: what it does, to what, how to fix it in the chart, why, its
    settings and its examples (the ones tests/test_rule_examples.py runs)."""
    doc = rules.description(rule)
    lines = [f"# `{rule.ID}`", "", rule.SUMMARY, "", f"**Applies to:** {', '.join(sorted(rule.KINDS))}.", "", f"**Fix in the chart:** {rule.REMEDIATION}", "", "## Why", "", doc, ""]
    if rule.KNOBS:
        lines += ["## Settings", "", "| setting | default | meaning |", "|---|---|---|"]
        for knob in map(knob_entry, rule.KNOBS):
            where = f"`--set {knob['key']}=…`" + (f", annotation `{knob['annotation']}`" if "annotation" in knob else "")
            lines.append(f"| {where} | {_cell(knob['default'])} | {_cell(knob['help'])} |")
        lines.append("")
    found = rules.examples(rule)
    if found:
        lines += ["## Examples", ""]
        for verdict, why, text in found:
            lines += [f"**{verdict}**: {why}", "", "```yaml", text.rstrip("\n"), "```", ""]
    lines.append(f"<!-- Generated from src/zdrender/rules/{rule.__name__.rsplit('.', 1)[-1]}.py by `python -m zdrender.catalog --update-readme`; do not edit by hand. -->")
    return "\n".join(lines) + "\n"


def pages() -> dict[str, str]:
    """File name (under DOCS_DIR) -> page, for every rule."""
    return {f"{rule.ID}.md": rule_page(rule) for rule in rules.REGISTRY}


def _stale_pages(folder: Path) -> list[str]:
    return [name for name, page in pages().items() if not (folder / name).exists() or (folder / name).read_text(encoding="utf-8") != page]


def readme_section() -> str:
    """The README's generated rules section, markers included."""
    return f"{README_START}\n{README_NOTE}\n\n{markdown()}{README_END}"


def updated_readme(text: str) -> str:
    """`text` with its rules section regenerated; without markers, a `## Rules` section is appended."""
    start, end = text.find(README_START), text.find(README_END)
    if start != -1 and end > start:
        return text[:start] + readme_section() + text[end + len(README_END) :]
    if start != -1 or end != -1:
        raise ValueError(f"the README has only one of {README_START} and {README_END}; add the other")
    return text.rstrip("\n") + ("\n\n" if text.strip() else "") + "## Rules\n\n" + readme_section() + "\n"


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m zdrender.catalog", description="Keep the README's rules section in step with the registry.")
    parser.add_argument("readme", nargs="?", default="README.md", help="README file (default: README.md)")
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--update-readme", action="store_true", help="rewrite the section between the rules markers")
    action.add_argument("--check", action="store_true", help="exit 1 when the section differs from the registry")
    args = parser.parse_args(argv)
    path = Path(args.readme)
    try:
        text = path.read_text(encoding="utf-8") if path.exists() or args.check else ""
        new = updated_readme(text)
    except OSError as err:
        print(f"zdrender.catalog: cannot read {path}: {err.strerror}", file=sys.stderr)
        return 2
    except ValueError as err:
        print(f"zdrender.catalog: {path}: {err}", file=sys.stderr)
        return 2
    folder = path.parent / DOCS_DIR
    if args.check:
        stale = _stale_pages(folder)
        if new != text or stale:
            what = "the rules section" if new != text else f"{DOCS_DIR}/{stale[0]}"
            print(f"zdrender.catalog: {path}: {what} is out of date; run python -m zdrender.catalog --update-readme", file=sys.stderr)
            return 1
        return 0
    if new != text:
        path.write_text(new, encoding="utf-8")
    folder.mkdir(parents=True, exist_ok=True)
    for name in _stale_pages(folder):
        (folder / name).write_text(pages()[name], encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
