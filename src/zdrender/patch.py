"""Apply RFC 6902 operations to a YAML document's text, changing only the lines they touch.

Each operation is located in the node graph that libyaml composes (with marks), then turned into one
text edit: a scalar's characters replaced, a block entry's lines inserted or deleted, or a flow
collection re-emitted in flow style. Nothing else in the document is re-serialised, so comments,
quoting, indentation and YAML 1.1 spellings (`0644`, `on`, `~`) elsewhere stay as they were.

When a minimal edit is impossible (the path goes through an alias or a merge key, or the text has a
shape this module does not edit) `PatchError` is raised and the caller re-emits the whole document.
"""

from __future__ import annotations

import re

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from . import yamldoc
from .emit import block_entry, block_item, block_value, flow, json_text, literal_block, quoted, scalar

TYPE_CHECKING = False  # typing's, without importing typing on the render path (record.py says why)
if TYPE_CHECKING:
    from typing import Any


class PatchError(Exception):
    """No minimal text edit exists for this operation; the message says why."""


Edit = tuple[int, int, str]  # text[start:end] becomes the string


class _Located:
    """One op of a batch, located in the text: what it touches, for `_depends`."""

    def __init__(self, parts: list[str], edit: Edit, shifts: list[str] | None, removes_lines: bool, uses_style: bool) -> None:
        self.parts = parts
        self.edit = edit
        self.shifts = shifts  # the sequence whose items this op inserts or removes (later indices move)
        self.removes_lines = removes_lines  # it deletes lines, which may hold the block sequence that sets the style
        self.uses_style = uses_style  # its new lines follow the document's sequence indentation


def apply(text: str, ops: list[dict[str, Any]], parsed: yamldoc.Parsed | None = None) -> str:
    """`text` with `ops` applied in order (`parsed`: the parse of `text`, when the caller has it).

    Operations on unrelated places are located in one parse and spliced in together. One that
    depends on an earlier one of the batch (inside or around it, behind an item it inserted or
    removed, or touching its text) waits for the edited text to be parsed again, and so does every
    later one that depends on a waiting one either way, so the result is what applying them one at
    a time gives. The others go on into the batch: a big `kind: List` with one such pair per workload
    is parsed again a few times, not once per workload.
    """
    pending = list(ops)
    while pending:
        editor = _Editor(text, parsed if parsed is not None else yamldoc.parse(text))
        parsed = None
        batch: list[_Located] = []
        waiting: list[_Located] = []
        batched: set[int] = set()  # indices in `pending`
        for i, op in enumerate(pending):
            try:
                located = editor.locate(op)
            except PatchError:
                if batch:  # its path may only exist once the batch (or a waiting op) is applied
                    break
                raise
            if any(_depends(located, earlier) for earlier in batch) or any(_depends(located, w) or _depends(w, located) for w in waiting):
                waiting.append(located)
            else:
                batch.append(located)
                batched.add(i)
        pending = [op for i, op in enumerate(pending) if i not in batched]
        text = splice(text, [b.edit for b in batch])
    return text


def _depends(later: _Located, earlier: _Located) -> bool:
    a, b = later.parts, earlier.parts
    if a[: len(b)] == b or b[: len(a)] == a:  # one inside the other
        return True
    for moved, other in ((earlier.shifts, a), (later.shifts, b)):
        if moved is not None and other[: len(moved)] == moved:
            return True
    if earlier.removes_lines and later.uses_style:
        return True
    (start, end, _), (other_start, other_end, _) = later.edit, earlier.edit
    return start <= other_end and other_start <= end  # overlapping or touching text


def splice(text: str, edits: list[Edit], newline: str = "") -> str:
    """The text with each (start, end, replacement) made; insertions at one offset keep their order.
    With `newline`, an insertion at the end of a text that lacks a final line break starts with one."""
    pieces, at = [], 0
    for start, end, new in sorted(edits, key=lambda e: e[0]):
        if newline and start == len(text) and text and not text.endswith("\n"):
            new = newline + new.removesuffix(newline)
        pieces += [text[at:start], new]
        at = end
    pieces.append(text[at:])  # joined once: `join(...) + rest` copied a whole ResourceList twice
    return "".join(pieces)


def seq_indent(root: Node | None) -> int:
    """How far a document indents a block sequence under its key: that of its first one (2 if none)."""
    stack = [root]
    seen: set[int] = set()
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, MappingNode):
            for k, v in node.value:
                if isinstance(v, SequenceNode) and not v.flow_style and v.value:
                    item = v.value[0]  # `- item`: its dash is two columns before it
                    if item.start_mark.line > k.start_mark.line and item.start_mark.index > v.start_mark.index:
                        return max(0, item.start_mark.column - 2 - k.start_mark.column)
                stack.append(v)
        elif isinstance(node, SequenceNode):
            stack.extend(node.value)
    return 2


def split_pointer(pointer: str) -> list[str]:
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        raise PatchError(f"invalid JSON pointer {pointer!r}")
    return [part.replace("~1", "/").replace("~0", "~") for part in pointer[1:].split("/")]


def after_line(text: str, offset: int) -> int:
    """Offset of the line after the one holding `offset` (offset itself when at a line start)."""
    if offset > 0 and text[offset - 1] == "\n":
        return offset
    nl = text.find("\n", offset)
    return len(text) if nl < 0 else nl + 1


class _Editor:
    def __init__(self, text: str, parsed: yamldoc.Parsed):
        self.text = text
        self.root = parsed.root
        self.shared = parsed.shared
        self.nl = "\r\n" if "\r\n" in text else "\n"
        # A document written as JSON (a flow mapping with double-quoted keys) is edited in JSON.
        root = self.root
        self.json = isinstance(root, MappingNode) and root.flow_style and all(k.style == '"' for k, _ in root.value)
        self._seq_indent: int | None = None
        self._style_read = False  # whether the op being located read _seq_indent_of_doc

    # -- locating -------------------------------------------------------------------------------
    def _check(self, node: Node, where: str) -> None:
        if id(node) in self.shared:
            raise PatchError(f"{where} is reached through a YAML alias")

    def _walk(self, parts: list[str]) -> Node:
        node = self.root
        if node is None:
            raise PatchError("the document is empty")
        self._check(node, "the document")
        for depth, part in enumerate(parts):
            where = "/" + "/".join(parts[: depth + 1])
            if isinstance(node, MappingNode):
                if any(k.tag == "tag:yaml.org,2002:merge" for k, _ in node.value):
                    raise PatchError(f"{where} is inside a mapping with a merge key (<<)")
                index = self._key_index(node, part)
                if index is None:
                    raise PatchError(f"{where} does not exist")
                node = node.value[index][1]
            elif isinstance(node, SequenceNode):
                if not part.isdigit() or int(part) >= len(node.value):
                    raise PatchError(f"{where} does not exist")
                node = node.value[int(part)]
            else:
                raise PatchError(f"{where} is inside a scalar")
            self._check(node, where)
        return node

    @staticmethod
    def _key_index(mapping: MappingNode, key: str) -> int | None:
        found = None
        for i, (k, _) in enumerate(mapping.value):  # the last duplicate wins, as when loading
            if isinstance(k, ScalarNode) and yamldoc.scalar_key(k) == key:
                found = i
        return found

    # -- positions ------------------------------------------------------------------------------
    def _end(self, node: Node) -> int:
        """Offset just after the node's own text (block collections end with their last child)."""
        try:
            return yamldoc.node_end(node, self.text, self.shared)
        except yamldoc.YAMLError as err:
            raise PatchError(str(err)) from None

    def _line_start(self, offset: int) -> int:
        return self.text.rfind("\n", 0, offset) + 1

    def _after_line(self, offset: int) -> int:
        return after_line(self.text, offset)

    def _insert_lines(self, offset: int, lines: list[str]) -> Edit:
        block = "".join(line + self.nl for line in lines)
        if offset == len(self.text) and self.text and not self.text.endswith("\n"):
            block = self.nl + block.removesuffix(self.nl)
            header = self._block_scalar_at_end()
            if header is not None:  # keep its value: it had no final line break, and now would
                start, end, new_header = header
                return start, len(self.text), new_header + self.text[end:] + block
        return offset, offset, block

    def _block_scalar_at_end(self) -> tuple[int, int, str] | None:
        """When the text ends in a block scalar with no final line break, its header's span and the
        header that strips the break the lines added after it bring (`|` becomes `|-`)."""
        node = self.root
        while isinstance(node, (MappingNode, SequenceNode)) and not node.flow_style and node.value:
            node = node.value[-1][1] if isinstance(node, MappingNode) else node.value[-1]
            self._check(node, "the end of the document")
        if not isinstance(node, ScalarNode) or node.style not in ("|", ">") or node.value.endswith("\n"):
            return None
        header = re.compile(r"[|>]([1-9]?)[-+]?([1-9]?)").search(self.text, node.start_mark.index)
        if header is None:
            raise PatchError("a block scalar's header could not be found")
        return header.start(), header.end(), header.group()[0] + (header.group(1) or header.group(2)) + "-"

    def _line_prefix(self, node: Node) -> str:
        start = node.start_mark.index
        return self.text[self._line_start(start) : start]

    def _seq_indent_of_doc(self) -> int:
        """How far this document indents a block sequence under its key (0 or 2, usually)."""
        self._style_read = True
        if self._seq_indent is None:
            self._seq_indent = seq_indent(self.root)
        return self._seq_indent

    # -- operations -----------------------------------------------------------------------------
    def locate(self, op: dict[str, Any]) -> _Located:
        """The op's text edit in this text, and what it moves."""
        parts = split_pointer(op.get("path", ""))
        self._style_read = False
        edit = self._edit(op, parts)
        shifts = parts[:-1] if op.get("op") in ("add", "remove") and isinstance(self._walk(parts[:-1]), SequenceNode) else None
        return _Located(parts, edit, shifts, "\n" in self.text[edit[0] : edit[1]], self._style_read)

    def _edit(self, op: dict[str, Any], parts: list[str]) -> Edit:
        kind = op.get("op")
        if not parts:
            raise PatchError("operations on the whole document are not edited in place")
        parent = self._walk(parts[:-1])
        key = parts[-1]
        where = op["path"]
        if kind not in ("add", "replace", "remove"):
            raise PatchError(f"operation {kind!r} is not edited in place")
        if isinstance(parent, (MappingNode, SequenceNode)) and parent.flow_style:
            return self._flow_edit(parent, op, key)
        if isinstance(parent, MappingNode):
            index = self._key_index(parent, key)
            if kind == "remove":
                if index is None:
                    raise PatchError(f"{where} does not exist")
                return self._remove_entry(parent, index)
            if index is not None:
                return self._replace(parent.value[index][1], op["value"], where)
            if kind == "replace":
                raise PatchError(f"{where} does not exist")
            return self._insert_entry(parent, key, op["value"])
        if isinstance(parent, SequenceNode):
            if key == "-":
                if kind != "add":
                    raise PatchError(f"{where}: '-' only appends")
                return self._insert_item(parent, len(parent.value), op["value"])
            if not key.isdigit() or int(key) > len(parent.value):
                raise PatchError(f"{where} does not exist")
            index = int(key)
            if kind == "add":
                return self._insert_item(parent, index, op["value"])
            if index == len(parent.value):
                raise PatchError(f"{where} does not exist")
            if kind == "remove":
                return self._remove_item(parent, index)
            return self._replace(parent.value[index], op["value"], where)
        raise PatchError(f"{where}: the parent is not a mapping or a sequence")

    def _replace(self, node: Node, value: Any, where: str) -> Edit:
        self._check(node, where)
        start, end = node.start_mark.index, node.end_mark.index
        if isinstance(node, ScalarNode) or node.flow_style:
            if isinstance(node, ScalarNode) and node.style in ("|", ">"):
                literal = literal_block(value, self.text[start:end], self.nl)
                if literal is not None:  # keep a multi-line annotation readable, as a `|` block again
                    return start, end, literal
                return start, end, self._flow(value) + self.nl
            prefix = "" if start == 0 or self.text[start - 1] in " \t[{,\n" else " "
            return start, end, prefix + self._flow(value)
        # A block collection: replace its lines with the new value emitted in block style.
        line_prefix = self._line_prefix(node)
        if not re.fullmatch(r"[ \t]*(?:-[ \t]+)*", line_prefix):
            raise PatchError(f"{where} starts in the middle of a line")
        column = len(line_prefix)
        lines = block_value(value, column, self._seq_indent_of_doc())
        if not lines:  # an empty collection has no block form: a flow node, indented past its key
            lines = [" " * (column + 2) + flow(value)]
        lines[0] = line_prefix + lines[0][column:]
        begin, stop = self._line_start(start), self._after_line(self._end(node))
        return begin, stop, "".join(line + self.nl for line in lines)

    def _insert_entry(self, mapping: MappingNode, key: str, value: Any) -> Edit:
        column = mapping.value[0][0].start_mark.column
        offset = self._after_line(self._end(mapping))
        lines = block_entry(key, value, column, self._seq_indent_of_doc())
        return self._insert_lines(offset, lines)

    def _insert_item(self, seq: SequenceNode, index: int, value: Any) -> Edit:
        if not seq.value:
            raise PatchError("an empty block sequence")  # cannot happen: empty ones are flow
        column = seq.start_mark.column
        lines = block_item(value, column, self._seq_indent_of_doc())
        if index == len(seq.value):
            return self._insert_lines(self._after_line(self._end(seq)), lines)
        item = seq.value[index]
        self._check(item, "a sequence item")
        prefix = self._line_prefix(item)
        if not re.fullmatch(r"[ \t]*-[ \t]+", prefix):
            raise PatchError("a sequence item that does not start its line")
        return self._insert_lines(self._line_start(item.start_mark.index), lines)

    def _remove_entry(self, mapping: MappingNode, index: int) -> Edit:
        if len(mapping.value) == 1:
            return self._replace(mapping, {}, "a mapping")
        key, value = mapping.value[index]
        prefix = self._line_prefix(key)
        if prefix.strip():
            raise PatchError("a key that does not start its line")
        begin = self._line_start(key.start_mark.index)
        stop = self._after_line(self._end(value))
        return begin, stop, ""

    def _remove_item(self, seq: SequenceNode, index: int) -> Edit:
        if len(seq.value) == 1:
            return self._replace(seq, [], "a sequence")
        item = seq.value[index]
        self._check(item, "a sequence item")
        prefix = self._line_prefix(item)
        if not re.fullmatch(r"[ \t]*-[ \t]+", prefix) and not (isinstance(item, ScalarNode) and item.start_mark.index == item.end_mark.index):
            raise PatchError("a sequence item that does not start its line")
        begin = self._line_start(item.start_mark.index)
        stop = self._after_line(self._end(item))
        return begin, stop, ""

    # -- flow collections: edited entry by entry, so the spelling of every other entry is kept ----------
    def _flow(self, value: Any) -> str:
        return json_text(value) if self.json else flow(value)

    def _flow_edit(self, parent: Node, op: dict[str, Any], key: str) -> Edit:
        kind, where = op["op"], op["path"]
        if isinstance(parent, MappingNode):
            index = self._key_index(parent, key)
            if index is not None and kind != "remove":
                return self._replace(parent.value[index][1], op["value"], where)
            if index is None and kind != "add":
                raise PatchError(f"{where} does not exist")
            entries = [(k, v) for k, v in parent.value]
            if index is not None:  # a remove
                return self._flow_remove(parent, entries, index)
            written = (quoted(key) if self.json else scalar(key)) + ": " + self._flow(op["value"])
            return self._flow_insert(parent, entries, len(entries), written)
        items = [(item, item) for item in parent.value]
        index = len(items) if key == "-" else int(key) if key.isdigit() else -1
        if not 0 <= index <= len(items) or (kind != "add" and index == len(items)):
            raise PatchError(f"{where} does not exist")
        if kind == "add":
            return self._flow_insert(parent, items, index, self._flow(op["value"]))
        if kind == "remove":
            return self._flow_remove(parent, items, index)
        return self._replace(parent.value[index], op["value"], where)

    def _flow_span(self, entry: tuple[Node, Node]) -> tuple[int, int]:
        first, last = entry
        self._check(first, "a flow entry")
        self._check(last, "a flow entry")
        return first.start_mark.index, last.end_mark.index

    def _flow_insert(self, parent: Node, entries: list[tuple[Node, Node]], index: int, written: str) -> Edit:
        if not entries:
            opening = self.text.index("{" if isinstance(parent, MappingNode) else "[", parent.start_mark.index) + 1
            return opening, opening, written
        if index == len(entries):
            end = self._flow_span(entries[-1])[1]
            return end, end, ", " + written
        start = self._flow_span(entries[index])[0]
        return start, start, written + ", "

    def _flow_remove(self, parent: Node, entries: list[tuple[Node, Node]], index: int) -> Edit:
        if len(entries) == 1:
            return self._replace(parent, {} if isinstance(parent, MappingNode) else [], "a flow collection")
        if index + 1 < len(entries):
            return self._flow_span(entries[index])[0], self._flow_span(entries[index + 1])[0], ""
        return self._flow_span(entries[index - 1])[1], self._flow_span(entries[index])[1], ""
