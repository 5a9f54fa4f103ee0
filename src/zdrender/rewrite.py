"""The checked edit: a document's text with RFC 6902 operations applied, proven to be the planned result.

First the minimal edit (patch.py: only the lines the operations touch). When none exists (the path goes
through an alias or a merge key, or the text has a shape patch.py does not edit), the whole document is
re-written with ruamel.yaml's round-trip mode, which keeps comments, quoting, flow and block styles,
block scalars, anchors and merge keys. Its resolver reads every plain scalar as its own text, so an
untouched `on`, `0x1f` or `2001-12-14` is written back exactly as it was, whatever YAML version a reader
assumes; an alias or merge is broken (its node copied) only on the path an operation walks. Whichever
text results is parsed again as Kubernetes reads it (yamldoc) and compared with the plan; a text that
differs is never returned.

ruamel.yaml is imported only when a re-write is needed: the render path does not pay for it.
"""

from __future__ import annotations

import copy
import io
import re

from . import emit, patch, yamldoc

TYPE_CHECKING = False  # typing's, without importing typing on the render path (record.py says why)
if TYPE_CHECKING:
    from typing import Any


class RewriteError(Exception):
    """Neither edit gives the planned result; the message says why the minimal one was not possible."""


def checked_edit(text: str, ops: list[dict[str, Any]], expected: Any, parsed: yamldoc.Parsed | None = None) -> tuple[str, str | None]:
    """(text with `ops` applied, None) when edited in place, or (re-written text, why) when re-written.
    `expected` is the planned result; `parsed` the parse of `text`, when the caller has it."""
    try:
        edited = patch.apply(text, ops, parsed)
        if yamldoc.load(edited) == expected:
            return edited, None
        reason = "the minimal edit did not reproduce the planned change"
    except (patch.PatchError, yamldoc.YAMLError) as err:
        reason = str(err)
    try:
        written = rewrite(text, ops, parsed)
        matches = yamldoc.load(written) == expected
    except (yamldoc.YAMLError, RewriteError, ValueError, TypeError, KeyError, IndexError) as err:
        raise RewriteError(f"{reason}; the full re-write failed: {err}") from None
    if not matches:
        raise RewriteError(reason)
    return written, reason


# -- the full re-write -------------------------------------------------------------------------------
# Its patterns are compiled on first use (by `re`'s cache): few renders need a re-write, and start-up is
# paid by every render.
_ROOT_ON_SEPARATOR = r"---[ \t]+(?=[^\s#])"
_END_MARKER = r"^\.\.\.(?:[ \t].*)?\r?$"


def rewrite(text: str, ops: list[dict[str, Any]], parsed: yamldoc.Parsed | None = None) -> str:
    """`text` re-written in full by ruamel.yaml's round trip, with `ops` applied to its tree. The lines
    before the root (separator, directives, comments) and an end marker with what follows stay as text."""
    if parsed is None:  # the alias and depth bounds hold before ruamel.yaml sees the text
        parsed = yamldoc.parse(text)
    if parsed.root is None:
        raise RewriteError("the document is empty")
    newline = "\r\n" if "\r\n" in text else "\n"
    body_start = text.rfind("\n", 0, parsed.root.start_mark.index) + 1
    end = re.compile(_END_MARKER, re.MULTILINE).search(text, body_start)
    head, body, tail = text[:body_start], text[body_start : end.start() if end else len(text)], text[end.start() :] if end else ""
    yaml = _round_trip(seq_indent=patch.seq_indent(parsed.root))
    yaml.explicit_start = re.match(_ROOT_ON_SEPARATOR, body) is not None  # `--- &a`, `--- !!map`, `--- {...}`
    tree = yaml.load(body.replace("\r\n", "\n"))
    for op in ops:
        tree = _apply(tree, op)
    out = io.StringIO()
    yaml.dump(tree, out)
    written = out.getvalue()
    if not body.endswith("\n") and not tail:
        written = written.removesuffix("\n")
    return head + written.replace("\n", newline) + tail


def _round_trip(seq_indent: int) -> Any:
    from ruamel.yaml import YAML
    from ruamel.yaml.nodes import ScalarNode
    from ruamel.yaml.resolver import VersionedResolver
    from ruamel.yaml.tag import Tag

    class _AsWritten(VersionedResolver):
        """Every plain scalar is its own text (a merge key `<<` stays a merge)."""

        def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
            if kind is ScalarNode and implicit[0]:
                return Tag(suffix=yamldoc.MERGE) if value == "<<" else self.DEFAULT_SCALAR_TAG
            return super().resolve(kind, value, implicit)

    yaml = YAML(typ="rt")
    yaml.Resolver = _AsWritten
    yaml.preserve_quotes = True
    yaml.width = 1 << 30  # never fold a long line
    yaml.indent(mapping=2, sequence=seq_indent + 2, offset=seq_indent)
    return yaml


def _key(written: Any) -> Any:
    """A key of the round-trip tree as Kubernetes reads it: a plain one is resolved (`on` is "true")."""
    if type(written) is str:
        resolved = yamldoc.go_key(yamldoc.go_resolve(written)[1])
        return written if resolved is None else resolved
    return str(written) if isinstance(written, str) else written


def _apply(tree: Any, op: dict[str, Any]) -> Any:
    kind = op["op"]
    if kind not in ("add", "replace", "remove"):
        raise RewriteError(f"operation {kind!r} is not supported")
    parts = patch.split_pointer(op["path"])
    if not parts:
        if kind in ("add", "replace"):
            return _node(op["value"])
        raise RewriteError(f"operation {kind!r} on the whole document")
    shared = _shared(tree)
    parent = tree
    for part in parts[:-1]:
        parent = _child(parent, part, shared)
    last = parts[-1]
    if isinstance(parent, dict):
        key = next((k for k in parent if _key(k) == last), None)
        if kind == "remove":
            if key is None:
                raise RewriteError(f"{op['path']} does not exist")
            del parent[key]
        elif key is not None:
            parent[key] = _node(op["value"])
        elif kind == "add":
            parent[_node(last)] = _node(op["value"])
        else:
            raise RewriteError(f"{op['path']} does not exist")
    elif isinstance(parent, list):
        index = len(parent) if last == "-" else int(last)
        if kind == "add":
            parent.insert(index, _node(op["value"]))
        elif kind == "remove":
            del parent[index]
        else:
            parent[index] = _node(op["value"])
    else:
        raise RewriteError(f"{op['path']}: the parent is not a mapping or a sequence")
    return tree


def _child(parent: Any, part: str, shared: set[int]) -> Any:
    """The child on an operation's path; one reached through an alias or merge key is copied first, so
    the edit changes this place only, and the copy carries no anchor of its own."""
    if isinstance(parent, dict):
        key = next((k for k in parent if _key(k) == part), None)
        if key is None:
            raise RewriteError(f"/{part} does not exist")
        child = parent[key]
        if isinstance(child, (dict, list)) and (id(child) in shared or key not in getattr(parent, "_ok", parent)):
            child = _unanchored(copy.deepcopy(child))
            parent[key] = child
        return child
    if isinstance(parent, list):
        child = parent[int(part)]
        if isinstance(child, (dict, list)) and id(child) in shared:
            child = _unanchored(copy.deepcopy(child))
            parent[int(part)] = child
        return child
    raise RewriteError(f"/{part} is inside a scalar")


def _shared(tree: Any) -> set[int]:
    """Ids of collections reached more than once (an alias, or the value of a merged key)."""
    seen: set[int] = set()
    shared: set[int] = set()
    stack = [tree]
    while stack:
        node = stack.pop()
        if not isinstance(node, (dict, list)):
            continue
        if id(node) in seen:
            shared.add(id(node))
            continue
        seen.add(id(node))
        stack.extend(dict.values(node) if isinstance(node, dict) else node)
    return shared


def _unanchored(node: Any) -> Any:
    stack = [node]
    while stack:
        item = stack.pop()
        if hasattr(item, "yaml_set_anchor") and getattr(item, "anchor", None) is not None:
            item.anchor.value = None
        if isinstance(item, dict):
            stack.extend(dict.values(item))
        elif isinstance(item, list):
            stack.extend(item)
    return node


def _node(value: Any) -> Any:
    """A planned value as the round-trip tree holds it: scalars as the text zdrender writes for them
    (quoted where a plain spelling would read as another type), collections in block style."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq
    from ruamel.yaml.scalarstring import DoubleQuotedScalarString

    if isinstance(value, dict):
        mapping = CommentedMap()
        for key, item in value.items():
            mapping[_node(str(key))] = _node(item)
        return mapping
    if isinstance(value, list):
        return CommentedSeq(_node(item) for item in value)
    written = emit.scalar(value)
    if written.startswith('"'):
        return DoubleQuotedScalarString(value)
    return written
