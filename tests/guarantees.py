"""The engine's guarantees as checks over one input stream (used by corpus and property tests)."""

from __future__ import annotations

import difflib
import re
from typing import Any

import jsonpatch
from yaml.nodes import MappingNode, SequenceNode

from zdrender import patch, pipeline, stream, yamldoc
from zdrender.workload import WORKLOAD_KINDS


def node_lines(root, parts: list[str], parsed: tuple[str, set[int]], key: bool = False) -> set[int]:
    """0-based lines spanned by the node at `parts` (and by every flow collection on the way); with
    `key`, the line of the mapping key that holds it instead."""
    lines: set[int] = set()
    node = root
    for depth, part in enumerate(parts):
        if getattr(node, "flow_style", False):
            lines |= set(range(node.start_mark.line, node.end_mark.line + 1))
        if isinstance(node, MappingNode):
            found = [(k, v) for k, v in node.value if getattr(k, "value", None) == part]
            if not found:
                return lines
            if key and depth == len(parts) - 1:
                return lines | {found[-1][0].start_mark.line}
            node = found[-1][1]
        elif isinstance(node, SequenceNode) and part.isdigit() and int(part) < len(node.value):
            node = node.value[int(part)]
        else:
            return lines
    start = node.start_mark.line
    end = _end(node, parsed)
    return lines | set(range(start, end + 1))


# The line breaks of YAML 1.1, as libyaml's marks count them (and str.splitlines splits at them).
_LINE_BREAKS = re.compile("\r\n|[\r\n\x85\u2028\u2029]")


def _end(node, parsed: tuple[str, set[int]]) -> int:
    """0-based line of the node's last character (yamldoc.node_end: aliases end with their `*name` token)."""
    text, shared = parsed
    last = max(yamldoc.node_end(node, text, shared) - 1, node.start_mark.index)
    while last > node.start_mark.index and text[last] in "\r\n":
        last -= 1
    return len(_LINE_BREAKS.findall(text, 0, last))  # as marks count lines: NEL, LS and PS break them too


def check(text: str, settings, *, validate_version: str | None = None) -> pipeline.Result:
    result = pipeline.run(text, settings)
    output = result.output
    if stream.cr_only(text):  # a CR-only stream is its LF form written with CRs, guarantees and all
        as_lf = check(text.replace("\r", "\n"), settings, validate_version=validate_version)
        assert output == as_lf.output.replace("\n", "\r"), "a CR-only stream is not handled as its LF form"
        assert pipeline.run(output, settings).output == output, "not idempotent"
        return result

    # Idempotent: the output rendered again is byte-identical.
    assert pipeline.run(output, settings).output == output, "not idempotent"

    # Nothing lost: the same documents in the same order (plus any added right after their workload).
    out_docs = stream.split(output).documents
    position = 0
    for doc in result.documents:
        added = sum(1 for f in doc.findings if f.new_object is not None)
        produced = "".join(d.text for d in out_docs[position : position + 1 + added])
        assert produced == doc.output, f"document {doc.document.number} moved or split"
        first = out_docs[position].text
        position += 1 + added
        if not doc.ops:
            assert first == doc.document.text, f"untouched document {doc.document.number} changed"
            continue
        # Exact: parsing the output equals applying the reported patch to the parsed input.
        expected = jsonpatch.apply_patch(doc.data, doc.ops)
        assert yamldoc.load(first) == expected, f"document {doc.document.number}: output != patch(input)"
        reemitted = any(f.rule == "engine" for f in doc.findings)
        if not reemitted:
            # Minimal: every removed or changed input line is one an operation replaced.
            touched: set[int] = set()
            for op in doc.ops:
                if op["op"] in ("replace", "remove", "add"):
                    parts = patch.split_pointer(op["path"])
                    if op["op"] == "add" and not _exists(doc.data, parts):
                        parts = parts[:-1]
                        # an add into a flow collection re-emits that collection
                        touched |= _flow_lines(doc.parsed.root, parts)
                        continue
                    where = (doc.document.text, doc.parsed.shared)
                    touched |= node_lines(doc.parsed.root, parts, where)
                    if op["op"] == "remove":  # the removed entry's key line, and comments between it and its value
                        entry = node_lines(doc.parsed.root, parts, where, key=True) | node_lines(doc.parsed.root, parts, where)
                        touched |= set(range(min(entry), max(entry) + 1))
            before = _terminated(doc.document.text.splitlines(keepends=True))
            after = _terminated(first.splitlines(keepends=True))
            for tag, i1, i2, _, _ in difflib.SequenceMatcher(a=before, b=after, autojunk=False).get_opcodes():
                if tag in ("replace", "delete"):
                    changed = set(range(i1, i2))
                    # A moved block (a container to initContainers) can align either way round with the
                    # lines it passes; then the criterion itself decides: the untouched lines survive in order.
                    assert changed <= touched or _survive_in_order([line for i, line in enumerate(before) if i not in touched], after), (
                        f"document {doc.document.number}: lines {sorted(changed - touched)} changed without an operation"
                    )
        # Valid: what the API accepted before zdrender, it accepts after.
        if validate_version and isinstance(expected, dict) and expected.get("kind") in WORKLOAD_KINDS and _valid(doc.data, validate_version):
            validate(expected, validate_version)
    assert position == len(out_docs), "extra documents in the output"
    return result


def _survive_in_order(kept: list[str], after: list[str]) -> bool:
    """Whether `kept` is a subsequence of `after` (greedy matching decides it)."""
    remaining = iter(after)
    return all(any(line == candidate for candidate in remaining) for line in kept)


def _terminated(lines: list[str]) -> list[str]:
    """The lines with a line break after the last one: a document cut short at the end of the stream
    gains one when lines are added after its last line, which changes no line's content."""
    if lines and not lines[-1].endswith(("\n", "\r")):
        lines[-1] += "\n"
    return lines


def _exists(data: Any, parts: list[str]) -> bool:
    node = data
    for part in parts:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return False
    return True


def _flow_lines(root, parts: list[str]) -> set[int]:
    node = root
    lines: set[int] = set()
    for part in [*parts, None]:
        if getattr(node, "flow_style", False):
            return set(range(node.start_mark.line, node.end_mark.line + 1))
        if part is None:
            return lines
        if isinstance(node, MappingNode):
            found = [v for k, v in node.value if getattr(k, "value", None) == part]
            if not found:
                return lines
            node = found[-1]
        elif isinstance(node, SequenceNode) and part.isdigit() and int(part) < len(node.value):
            node = node.value[int(part)]
        else:
            return lines
    return lines


def _valid(obj: dict, version: str) -> bool:
    import kubernetes_validate

    if not isinstance(obj.get("apiVersion"), str) or not isinstance(obj.get("kind"), str):
        return False  # no schema to look up: the API server rejects it
    try:
        validate(obj, version)
    except (kubernetes_validate.ValidationError, kubernetes_validate.SchemaNotFoundError):
        return False
    except OSError:  # kubernetes-validate names its schema file after apiVersion and kind: a mutated one may be too long
        return False
    return True


def validate(obj: dict, version: str) -> None:
    import kubernetes_validate

    if obj.get("apiVersion", "").startswith("argoproj.io/"):
        return  # no schema for CRDs in kubernetes-validate
    kubernetes_validate.validate(obj, version, strict=True)
