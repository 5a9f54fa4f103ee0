"""The YAML zdrender writes for the values its operations carry, in the shortest spelling that every
reader of its output reads back as that value: go-yaml v2 (kubectl, Helm, the API server), PyYAML's
YAML 1.1 and YAML 1.2 (kustomize's kyaml). Scalars, flow collections, JSON for documents written as
JSON, `|` blocks for multi-line annotations, and block collections at a given indentation.
"""

from __future__ import annotations

import json
import math
import re

import yaml
from yaml.nodes import ScalarNode

from . import yamldoc

TYPE_CHECKING = False  # typing's, without importing typing on the render path (record.py says why)
if TYPE_CHECKING:
    from typing import Any

_resolver = yaml.resolver.Resolver()
_PLAIN = re.compile(r"[A-Za-z0-9_/$(][A-Za-z0-9_./$(){}=+-]*(?: [A-Za-z0-9_./$(){}=+-]+)*")
# Characters a double-quoted scalar must escape beyond what JSON escapes: YAML reads NEL, LS and PS as
# line breaks (folded into a space), and refuses DEL, C1 controls, a BOM and non-characters in its text.
# Compiled on first use: a class past U+00FF takes ~1 ms to compile, and most text is ASCII.
_YAML_UNSAFE = "[\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff\ud800-\udfff]"


def plain_is_string(text: str) -> bool:
    """Does `text` written plain read back as this string for every reader zdrender's output meets:
    go-yaml v2 (Kubernetes, Helm), PyYAML's YAML 1.1 and YAML 1.2 (kustomize's kyaml)?"""
    return (
        yamldoc.go_resolve(text)[0] == yamldoc.STR
        and _resolver.resolve(ScalarNode, text, (True, False)) == yamldoc.STR
        and not re.fullmatch(r"[-+]?(?:0o[0-7]+|\.inf|\.nan|[0-9][0-9_]*(?:\.[0-9_]*)?(?:[eE][-+]?[0-9]+)?)", text, re.IGNORECASE)
    )


def quoted(text: str) -> str:
    """`text` as a double-quoted scalar that YAML and JSON read back unchanged."""
    return _escape_unsafe(json.dumps(text, ensure_ascii=False))


def scalar(value: Any) -> str:
    """A scalar in the shortest spelling that reads back as the same value."""
    if value is None:
        return "null"
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return ".nan"
        if math.isinf(value):
            return ".inf" if value > 0 else "-.inf"
        return repr(value)
    text = str(value)
    if _PLAIN.fullmatch(text) and plain_is_string(text):
        return text
    return quoted(text)


def json_text(value: Any) -> str:
    """`value` as JSON (for documents written as JSON), which YAML reads back unchanged."""
    return _escape_unsafe(json.dumps(value, ensure_ascii=False))


def _escape_unsafe(dumped: str) -> str:
    """JSON text with the characters YAML reads otherwise written as \\u escapes."""
    if dumped.isascii() and "\x7f" not in dumped:
        return dumped
    return re.sub(_YAML_UNSAFE, lambda m: f"\\u{ord(m.group()):04x}", dumped)


def flow(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{scalar(k)}: {flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(flow(v) for v in value) + "]"
    return scalar(value)


def literal_block(value: Any, old: str, nl: str) -> str | None:
    """`value` as a `|` (or `|-`) block scalar indented like the block scalar `old` it replaces; None when
    the string has no plain literal form (leading space, several trailing line breaks, control characters)."""
    if not isinstance(value, str) or not value.strip() or value.endswith("\n\n") or value.startswith((" ", "\n")):
        return None
    if re.search(r"[\x00-\x08\x0b-\x1f\x7f\u0085\u2028\u2029\ufeff]", value):
        return None
    indent = re.search(r"\n([ ]+)\S", old)
    if indent is None:
        return None
    header = "|" if value.endswith("\n") else "|-"
    lines = value.removesuffix("\n").split("\n")
    return header + nl + "".join((indent.group(1) + line if line else "") + nl for line in lines)


def document_text(obj: dict[str, Any]) -> str:
    """A whole object as a block-style document (no `---`), ending in a line break."""
    return "".join(line + "\n" for line in block_value(obj, 0, 2))


def block_entry(key: str, value: Any, column: int, seq_indent: int) -> list[str]:
    head = " " * column + scalar(key) + ":"
    nested = block_value(value, column, seq_indent, under_key=True)
    if not nested:
        return [head + " " + flow(value)]
    return [head, *nested]


def block_value(value: Any, column: int, seq_indent: int, under_key: bool = False) -> list[str]:
    """Lines of a non-empty collection in block style ([] for scalars and empty collections)."""
    if isinstance(value, dict) and value:
        inner = column + 2 if under_key else column
        lines: list[str] = []
        for k, v in value.items():
            lines += block_entry(k, v, inner, seq_indent)
        return lines
    if isinstance(value, list) and value:
        inner = column + seq_indent if under_key else column
        lines = []
        for item in value:
            lines += block_item(item, inner, seq_indent)
        return lines
    return []


def block_item(value: Any, column: int, seq_indent: int) -> list[str]:
    nested = block_value(value, column + 2, seq_indent)
    if not nested:
        return [" " * column + "- " + flow(value)]
    nested[0] = " " * column + "- " + nested[0][column + 2 :]
    return nested
