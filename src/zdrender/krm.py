"""KRM function mode: a `ResourceList` in, the same `ResourceList` out with its workloads patched.

Kustomize (`transformers:` exec function) and kpt (`fn eval --exec`, `exec:` in a Kptfile pipeline)
send one YAML document: `items` (every resource) and `functionConfig` (our settings), and expect it
back with `results`. Every item must come back (a missing one is deleted) with its comments and the
tools' bookkeeping annotations (`config.kubernetes.io/*`, `internal.config.kubernetes.io/*`,
`config.k8s.io/id`, `kustomize.config.k8s.io/id`), so the list stays one document of text and only
the lines of patched workloads change.

Each item's text is cut out of the list (from its `-` line to the next), dedented, and the items go
through the pipeline as a stream of their own: only workloads and their context are parsed, and
edits re-parse one item, not the whole list (on a 2 MB list: 0.65 s instead of 7 s). On stdin the
list is cut as its bytes arrive (krmread): it is held as its items' strings, never as one str, and
written back piece by piece. A list written as JSON is cut at its items' values the same way. Lists
whose text cannot be cut (YAML flow style, aliases, comments left of the items) are patched as one
document under `/items/N`, like a `kind: List`. New documents from rules (a PodDisruptionBudget) are
appended to `items` without path annotations: kpt writes them to `<kind>_<name>.yaml`, kustomize
takes them as new resources. Findings become `results` (kyaml's `framework.Result`).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from types import ModuleType
from typing import Any

from yaml.nodes import MappingNode, ScalarNode, SequenceNode

from . import emit, krmread, patch, pipeline, rewrite, stream, yamldoc
from .finding import Finding
from .rules import REGISTRY
from .settings import Settings, SettingsError
from .workload import RESOURCE_LIST, as_dict, as_list

KIND = RESOURCE_LIST
API_VERSIONS = ("config.kubernetes.io/v1", "config.kubernetes.io/v1beta1")  # v1beta1: older kustomize/kpt
CONFIG_GROUP = "zdrender.io/"
# Where kpt and kustomize record an item's file; the internal.* spelling is the current one.
PATH_ANNOTATIONS = ("internal.config.kubernetes.io/path", "config.kubernetes.io/path")
INDEX_ANNOTATIONS = ("internal.config.kubernetes.io/index", "config.kubernetes.io/index")


class KRMError(Exception):
    """A ResourceList zdrender refuses; the message is one line for people."""


class Outcome:
    """What a run gives: the ResourceList to print, as pieces to write in turn (on error: the input's
    items unchanged, plus an error result), the findings, and the error's message."""

    def __init__(self, output: str | list[str], findings: list[Finding] | None = None, error: str | None = None) -> None:
        self.pieces = [output] if isinstance(output, str) else output
        self.findings = findings if findings is not None else []
        self.error = error

    @property
    def output(self) -> str:
        return "".join(self.pieces)

    @output.setter
    def output(self, text: str) -> None:
        self.pieces = [text]


def is_resource_list(text: str) -> bool:
    """Whether stdin is a KRM ResourceList, from the text alone (no parsing in the common case)."""
    documents = [d for d in stream.split(text).documents if d.has_content]
    if any(d.kind == KIND for d in documents):
        return True
    # A flow-style or JSON list cannot be classified by its text: parse only that rare single document
    # (a JSON list that its items can be cut from, item by item).
    if len(documents) == 1 and not documents[0].classified and KIND in documents[0].text:
        if _json_cut(documents[0].text) is not None:
            return True
        try:
            return as_dict(yamldoc.load(documents[0].text)).get("kind") == KIND
        except yamldoc.YAMLError:
            return False
    return False


_BARE_CR = re.compile(r"\r(?!\n)")


def is_cut_list(pieces: krmread.Pieces) -> bool:
    """Whether a list read in pieces (krmread) is what `_run_cut` takes: the input's one document, a
    ResourceList by its text alone. The list less its items tells, when no item holds a bare CR
    (every other line at column 0 in an item is a `-` entry, comment or blank line, which changes no
    document boundary and no classification)."""
    documents = stream.split(pieces.head + pieces.tail).documents
    return len(documents) == 1 and documents[0].kind == KIND and not any("\r" in item and _BARE_CR.search(item) for item in pieces.items)


def run(source: str | krmread.Pieces, settings_for: Callable[[Any], Settings], *, rules: Iterable[ModuleType] = REGISTRY) -> Outcome:
    """Patch the ResourceList in `source` (its text, or its pieces as krmread reads them from stdin);
    `settings_for(functionConfig)` resolves the run's settings."""
    rules = tuple(rules)
    if isinstance(source, krmread.Pieces):
        fast = _run_pieces(source, settings_for, rules)
        if fast is not None:
            return fast
        source = source.join()
    try:
        return _run(source, settings_for, rules)
    except (KRMError, SettingsError, pipeline.InputError) as err:
        message = str(err)
        return Outcome(output=error_output(source, message), error=message)


def _run(text: str, settings_for: Callable[[Any], Settings], rules: tuple[ModuleType, ...]) -> Outcome:
    if stream.cr_only(text):  # as plain render does: handled as LF, written back as CR
        outcome = _run(text.replace("\r", "\n"), settings_for, rules)
        outcome.output = outcome.output.replace("\n", "\r")
        return outcome
    parsed_stream = stream.split(text)
    fast = _run_cut(parsed_stream, settings_for, rules) or _run_json(parsed_stream, settings_for, rules)
    if fast is not None:
        return fast
    document, parsed = _parse(parsed_stream)
    settings = settings_for(_function_config(parsed.data))
    cut = None if parsed.shared else _node_cut(document.text, parsed)  # an alias may point into another item
    edited = _edit_items(cut, document, document.newline, settings, rules) if cut is not None else _no_items(document.text, parsed.root, parsed.data)
    if edited is None:
        return _edit_whole(text, settings, rules)
    return _outcome(parsed_stream, document, edited)


def _run_cut(parsed_stream: stream.Stream, settings_for: Callable[[Any], Settings], rules: tuple[ModuleType, ...]) -> Outcome | None:
    """The common case, without parsing the list: its items cut from its text (`_text_cut`). None
    when the text does not prove that cut, or on any error: the caller then parses the whole list,
    and reports errors, as it always did."""
    documents = [d for d in parsed_stream.documents if d.has_content]
    if len(documents) != 1 or documents[0].kind != KIND:
        return None
    document = documents[0]
    edited = _edit_cut(_text_cut(document.text), document, document.newline, settings_for, rules)
    return None if edited is None else _outcome(parsed_stream, document, edited)


def _run_json(parsed_stream: stream.Stream, settings_for: Callable[[Any], Settings], rules: tuple[ModuleType, ...]) -> Outcome | None:
    """`_run_cut` of a list written as JSON: its items cut at their values (`_json_cut`)."""
    documents = [d for d in parsed_stream.documents if d.has_content]
    if len(documents) != 1 or documents[0].classified or not documents[0].text.lstrip().startswith("{"):
        return None
    document = documents[0]
    edited = _edit_cut(_json_cut(document.text), document, document.newline, settings_for, rules)
    return None if edited is None else _outcome(parsed_stream, document, edited)


def _run_pieces(pieces: krmread.Pieces, settings_for: Callable[[Any], Settings], rules: tuple[ModuleType, ...]) -> Outcome | None:
    """`_run_cut` of a list read in pieces (krmread), never joined: None where `_run_cut` of its text
    would give None (the caller then takes that text's path)."""
    if not is_cut_list(pieces):
        return None
    nl = "\r\n" if any("\r\n" in text for text in (pieces.head, *pieces.items, pieces.tail)) else "\n"
    edited = _edit_cut(_pieces_cut(pieces), None, nl, settings_for, rules)
    return None if edited is None else Outcome(*edited)


def _edit_cut(cut: _Cut | None, document: stream.Document | None, nl: str, settings_for: Callable[[Any], Settings], rules: tuple[ModuleType, ...]) -> tuple[list[str], list[Finding]] | None:
    """`_edit_items` of a list cut from its text, None on any error."""
    if cut is None:
        return None
    try:
        settings = settings_for(_function_config(cut.data))
        return _edit_items(cut, document, nl, settings, rules)
    except (KRMError, SettingsError, pipeline.InputError, yamldoc.YAMLError):
        return None


def _outcome(parsed_stream: stream.Stream, document: stream.Document, edited: tuple[list[str], list[Finding]]) -> Outcome:
    output, findings = edited
    pieces = [stream.BOM] if parsed_stream.bom else []
    for d in parsed_stream.documents:
        pieces += output if d is document else [d.text]
    return Outcome(output=pieces, findings=findings)


def _edit_whole(text: str, settings: Settings, rules: tuple[ModuleType, ...]) -> Outcome:
    """The list as one document, its workloads patched under `/items/N` like a `kind: List`. Each op
    re-parses the whole list, so this is the slow path for lists the item-by-item path cannot cut."""
    result = pipeline.run(text, settings, rules=rules)
    document = next(d for d in result.documents if _is_list(d))
    items = as_list(document.data.get("items"))
    findings = result.findings
    added = [_new_item(f) for f in findings if f.new_object is not None]
    results = [result_item(f, items) for f in findings]
    ops = [{"op": "add", "path": "/items/-", "value": item} for item in added]
    ops += _results_ops(document.data, results)
    output = document.output
    if ops:
        output = _apply(output, ops)
    texts = [d.output if d is not document else output for d in result.documents]
    return Outcome(output=result.stream.join(texts), findings=findings)


# -- item by item ---------------------------------------------------------------------------------
class _Item:
    """One item's text in the list: `text` from its `-` line up to the next item's; its own text ends
    at `end`, before the comment lines left of its keys just before the next item (they belong to
    no item)."""

    __slots__ = ("column", "dash", "end", "text")

    def __init__(self, text: str, end: int, dash: int, column: int) -> None:
        self.text, self.end = text, end
        self.dash = dash  # column of the item's `-`
        self.column = column  # column of the item's keys

    def body(self) -> str | None:
        """The item as a document of its own: `-` blanked, dedented to column 0 (None: not possible).
        A comment line left of the keys loses its indentation: `restore` does not give such an item
        back, which is checked for the edited ones."""
        dedented = self._dedented()
        return None if dedented is None else dedented[1:]

    def document(self, separator: str) -> str | None:
        """`separator` (`---` and a line break), then `body()`: a document of the item stream."""
        dedented = self._dedented()
        return None if dedented is None else separator[:-1] + dedented

    def _dedented(self) -> str | None:
        """A line break, then the body."""
        text, dash = self.text, self.dash
        item = "\n" + text[:dash] + " " + text[dash + 1 : self.end]
        if _left_of(self.column).search(item):
            return None  # a line left of the item's keys, or one the item stream would read as no item's: keep the slow path
        return _dedent(self.column).sub("\n", item)

    def restore(self, body: str) -> str:
        """The inverse of `body()` for an edited body."""
        indent = " " * self.column
        text = "".join(line if not line.strip() else indent + line for line in body.splitlines(keepends=True))
        return text[: self.dash] + "-" + text[self.dash + 1 :]


@functools.cache
def _left_of(column: int) -> re.Pattern[str]:
    """A line left of `column` that is neither blank nor a comment, or one at `column` that the body
    would have at column 0 as a `---` marker (it would start another document in the item stream) or
    as a `%` directive (it would be the next document's). After its line break: a pattern that starts
    with a literal is searched for far faster than one that starts with `^`."""
    return re.compile(rf"\n(?! {{{column}}}(?!%|---(?:[ \t\r\n]|$))|[ \t]*(?:#|\r?$))", re.MULTILINE)


@functools.cache
def _dedent(column: int) -> re.Pattern[str]:
    """What `_Item.body` takes off a line: `column` spaces, else all blanks before a comment or a line break."""
    return re.compile(rf"\n(?: {{{column}}}|[ \t]+(?=#|\r?$))", re.MULTILINE)


# Where text goes into a cut list: (piece, offset), piece 0 the head, 1 to N the items, N + 1 the tail.
Place = tuple[int, int]


class _Cut:
    """A list's items cut out of its text, and where around them the list's own entries are."""

    def __init__(
        self,
        head: str,
        items: list[_Item],
        tail: str,
        data: dict[str, Any],
        listed: list[Any] | None,
        items_end: Callable[[], Place],
        root_end: Callable[[], Place],
        root_column: int,
        seq_indent: int,
    ) -> None:
        self.head, self.items, self.tail = head, items, tail  # joined: the list's text
        self.data = data  # the list; from a text cut, all of it but the items
        self.listed = listed  # the items' data when the whole list was parsed
        self.items_end = items_end  # where new items go: after the line of the last item's last node
        self.root_end = root_end  # where a `results` entry goes: after the line of the list's last node
        self.root_column = root_column
        self.seq_indent = seq_indent  # how far the items' `-` are right of the `items` key

    def new_items(self, values: list[Any], nl: str) -> tuple[Place, str] | None:
        """Where and what to insert for new items (None: they do not read back as themselves)."""
        block = _block_items(values, self.items[0].dash, self.seq_indent, nl)
        return None if block is None else (self.items_end(), block)

    def new_results(self, results: list[dict[str, Any]], nl: str) -> tuple[Place, str] | None:
        """Where and what to insert for a `results` entry: what emit.block_entry("results", ...) writes."""
        block = _block_items(results, self.root_column + self.seq_indent, self.seq_indent, nl)
        return None if block is None else (self.root_end(), " " * self.root_column + "results:" + nl + block)


def _node_cut(text: str, parsed: yamldoc.Parsed) -> _Cut | None:
    """The items of a block `items:` sequence as text slices, found from the parsed list's nodes
    (None when the list has another shape)."""
    root = parsed.root
    node = yamldoc.mapping_value(root, "items")
    if not isinstance(node, SequenceNode) or node.flow_style or not node.value:
        return None
    dash = node.start_mark.column
    starts = []
    for item in node.value:
        if not isinstance(item, MappingNode) or item.flow_style or not item.value:
            return None
        line = text.rfind("\n", 0, item.start_mark.index) + 1
        while not (text[line : line + dash].strip(" ") == "" and text[line + dash : line + dash + 1] == "-"):
            if line == 0:
                return None
            line = text.rfind("\n", 0, line - 1) + 1
        starts.append((line, item.start_mark.column))
    end = patch.after_line(text, yamldoc.node_end(node))
    bounds = [s for s, _ in starts] + [end]
    items = [_Item(text[bounds[i] : bounds[i + 1]], bounds[i + 1] - bounds[i], dash, column) for i, (_, column) in enumerate(starts)]
    items_key = yamldoc.mapping_key(root, "items")
    last: Place = (len(items), items[-1].end)

    def root_end() -> Place:
        at = patch.after_line(text, yamldoc.node_end(root))
        return last if at <= end else (len(items) + 1, at - end)

    return _Cut(
        head=text[: bounds[0]],
        items=items,
        tail=text[end:],
        data=parsed.data,
        listed=parsed.data["items"],
        items_end=lambda: last,
        root_end=root_end,
        root_column=root.value[0][0].start_mark.column,  # type: ignore[union-attr]
        seq_indent=max(0, dash - (items_key.start_mark.column if items_key is not None else 0)),
    )


# What `_pieces_cut` reads, after a line break (see `_left_of`); a piece is searched with one in front.
_ITEMS_KEY = re.compile(krmread.ITEMS_KEY.decode(), re.MULTILINE)
# libyaml's anchor: `&` then letters, digits, `_` or `-`, after a blank or an indicator. No anchor, no alias.
_ANCHOR = re.compile(r"&[0-9A-Za-z_-]")
_ANCHOR_AFTER = " \t\r\n[{,:?-"
_CONTENT_LINE = re.compile(krmread.CONTENT_LINE.decode())
_NO_MAPPING = "{[&*!|>-"  # what starts an item that is no block mapping (or one with an anchor or tag)


def _text_cut(text: str) -> _Cut | None:
    """The items of a block `items:` at column 0, cut from the text (krmread.cut) without parsing the whole list."""
    pieces = krmread.cut(text)
    return None if pieces is None else _pieces_cut(pieces)


def _pieces_cut(pieces: krmread.Pieces) -> _Cut | None:
    """The items of a list cut at its text's lines (krmread), or None when the text does not prove the cut.

    The items are the lines from one `-` at the first item's column to the next, up to the first line
    at column 0 that is no `-` entry, comment or blank line. A parser reads the same when each item
    read alone is a mapping (the pipeline on the item stream reads or checks each one, and fails on a
    cut inside a quoted scalar or flow collection: it left one unclosed) and the list less its items
    has `items` at that line, its only one at column 0; the caller falls back on any failure. Anchors
    (an alias may point into another item) and directives (tags the items would need) are left to the
    parser."""
    frame_text = pieces.head + pieces.tail  # no `%` line in the items: it would have ended them
    if frame_text.startswith("%") or "\n%" in frame_text:
        return None
    if any(any(m.start() == 0 or t[m.start() - 1] in _ANCHOR_AFTER for m in _ANCHOR.finditer(t)) for t in (frame_text, *pieces.items)):
        return None
    if _ITEMS_KEY.search("\n" + pieces.tail):
        return None
    items = [_text_item(text, pieces.dash) for text in pieces.items]
    if None in items:
        return None
    try:
        frame = yamldoc.parse(frame_text)
    except yamldoc.YAMLError:
        return None
    entry = yamldoc.mapping_entry(frame.root, "items")
    data = frame.data
    if entry is None or entry[0].start_mark.index != pieces.key_line or not isinstance(data, dict) or data.get("items") is not None:
        return None
    if data.get("kind") != KIND or data.get("apiVersion") not in API_VERSIONS or frame.shared:
        return None
    cut_items: list[_Item] = items  # type: ignore[assignment]

    def items_end() -> Place:
        last = cut_items[-1]
        body = last.body()
        assert body is not None, "checked by the item stream"
        parsed = yamldoc.parse(body)
        after = patch.after_line(body, yamldoc.node_end(parsed.root, body, parsed.shared))
        if after >= len(body):
            return len(cut_items), last.end
        at = 0
        for _ in range(body.count("\n", 0, after)):  # the body keeps the item's lines
            at = last.text.index("\n", at) + 1
        return len(cut_items), at

    def root_end() -> Place:
        if frame.root.value[-1][0] is entry[0]:  # type: ignore[union-attr]
            return items_end()
        return len(cut_items) + 1, patch.after_line(frame_text, yamldoc.node_end(frame.root, frame_text, frame.shared)) - len(pieces.head)

    return _Cut(pieces.head, cut_items, pieces.tail, data, None, items_end, root_end, root_column=0, seq_indent=pieces.dash)


def _text_item(text: str, dash: int) -> _Item | None:
    """The item whose text (from its `-` line up to the next item's) is `text`, or None when it starts as no block mapping."""
    line_end = patch.after_line(text, dash + 1)
    rest = text[dash + 1 : line_end]
    spaces = len(rest) - len(rest.lstrip(" "))
    stop = len(text)
    if rest.strip() and not rest.lstrip().startswith("#"):
        column, first = dash + 1 + spaces, rest[spaces]
    else:  # `-` alone or with a comment: the keys start on a line below
        keys = _CONTENT_LINE.search(text, line_end - 1, stop)
        if keys is None:
            return None
        column, first = len(keys.group(1)), text[keys.end() - 1]
    if column <= dash or first in _NO_MAPPING:
        return None
    # Comment lines left of the keys just before the next item (`# the next one`) and the blank
    # lines around them belong to no item.
    end = cut = stop
    while True:
        line_start = text.rfind("\n", line_end - 1, cut - 1) + 1
        if line_start < line_end:
            break
        line = text[line_start:cut]
        if line.strip() and not (line.lstrip().startswith("#") and len(line) - len(line.lstrip(" ")) < column):
            break
        cut = line_start
        if line.strip():
            end = cut
    return _Item(text, end, dash, column)


def _edit_items(cut: _Cut, document: stream.Document | None, nl: str, settings: Settings, rules: tuple[ModuleType, ...]) -> tuple[list[str], list[Finding]] | None:
    """Patch the list item by item: its items become a stream of documents for the pipeline (which
    then parses only workloads and their context, each on its own), and the edited items go back in
    place. The list's text comes back as pieces (most of them the input's own), and None when an
    item cannot be cut that way: the caller takes the slow path. `document` is the list's document
    in the input (None: the input's first, on its first line)."""
    items = cut.items
    separator = "---" + nl
    texts = [item.document(separator) for item in items]
    if None in texts:
        return None
    result = pipeline.run(stream.Stream(documents=stream._documents(texts)), settings, rules=rules, keep_nodes=False, keep_found=True)  # type: ignore[arg-type]
    del texts
    outputs = result.documents
    replaced: dict[int, str] = {}
    for i, (item, out) in enumerate(zip(items, outputs)):
        if out.ops:  # the pipeline checked the edited body; check that it goes back as it came out
            if item.restore(item.body()) != item.text[: item.end]:  # type: ignore[arg-type]
                return None
            edited = stream.split(out.output).documents[0].text[len(separator) :]  # without appended documents
            replaced[i] = item.restore(edited)
        out.document.text = out.output = ""  # a copy of the item's text: what is read on is the item's
    findings = result.findings
    number, line = (document.number, document.line) if document is not None else (1, 1)
    line += cut.head.count("\n")
    first_lines = []  # the stream's line of each item's `-`: its document's has `---` above the same lines
    for i, (item, out) in enumerate(zip(items, outputs)):
        first_lines.append(line + out.document.line - 1 - i)
        if item.end < len(item.text):
            line += item.text.count("\n", item.end)  # comment lines after it, which its document lacks
    for f in findings:  # from the item stream to the list: item N's pointer is /items/N
        i = f.document - 1
        f.path = f"/items/{i}{f.path}" if f.path else ""
        f.locate(document=number, index=0, source=f.source, line=first_lines[i] + (f.line - outputs[i].document.line - 1) if f.line else first_lines[i])
    listed = cut.listed if cut.listed is not None else _LazyItems(outputs, items)
    added = [_new_item(f) for f in findings if f.new_object is not None]
    results = [result_item(f, listed) for f in findings]
    del result, outputs, listed
    inserts = ([cut.new_items(added, nl)] if added else []) + ([cut.new_results(results, nl)] if results and "results" not in cut.data else [])
    if None in inserts:
        return None
    output = _spliced(cut, replaced, inserts, nl)  # type: ignore[arg-type]
    if "results" in cut.data:  # rare: a list that already carries results (our own, run twice)
        output = [patch.apply("".join(output), _results_ops(cut.data, results))]
    return output, findings


def _block_items(values: list[Any], column: int, seq_indent: int, nl: str) -> str | None:
    """The values as block sequence items at `column`, each checked to read back as itself (None if
    one does not): one at a time, so that no node graph of them all is built."""
    entries = ["".join(line + nl for line in emit.block_item(value, column, seq_indent)) for value in values]
    return "".join(entries) if all(yamldoc.load(entry) == [value] for entry, value in zip(entries, values)) else None


def _spliced(cut: _Cut, replaced: dict[int, str], inserts: list[tuple[Place, str]], nl: str) -> list[str]:
    """The list's pieces with the edited items replaced and the new text inserted; a piece that is
    not edited is the input's own string. An insertion inside an edited item's text (before comment
    lines at the end of the last item) goes after it."""
    edits: dict[int, list[patch.Edit]] = {i + 1: [(0, cut.items[i].end, text)] for i, text in replaced.items()}
    for (piece, at), text in inserts:
        if piece - 1 in replaced:
            at = max(at, cut.items[piece - 1].end)
        edits.setdefault(piece, []).append((at, at, text))
    pieces = [cut.head, *(item.text for item in cut.items), cut.tail]
    last = max(i for i, piece in enumerate(pieces) if piece)  # an insertion at its end starts a line, if it must
    return [patch.splice(piece, edits[i], nl if i == last else "") if i in edits else piece for i, piece in enumerate(pieces)]


# -- a list written as JSON ---------------------------------------------------------------------------
class _JSONItem(_Item):
    """An item of a JSON list: its value (`text[:end]`, a flow mapping to YAML) is its document's body as it is."""

    __slots__ = ()

    def _dedented(self) -> str | None:
        return "\n" + self.text[: self.end]

    def restore(self, body: str) -> str:
        """The edited body, which must still be JSON (the pipeline edits a flow document in place)."""
        body = body.removesuffix("\n") if not self.text[: self.end].endswith("\n") else body
        try:
            json.loads(body)
        except ValueError:
            raise KRMError("an item of a JSON list was not edited as JSON") from None
        return body


class _JSONCut(_Cut):
    """A JSON list's items cut at their values: new items and `results` are written as JSON."""

    def __init__(self, head: str, items: list[_Item], tail: str, data: dict[str, Any], root_end: int) -> None:
        last: Place = (len(items), items[-1].end)
        super().__init__(head, items, tail, data, None, lambda: last, lambda: (len(items) + 1, root_end), 0, 0)

    def new_items(self, values: list[Any], nl: str) -> tuple[Place, str] | None:
        texts = [emit.json_text(value) for value in values]
        if any(yamldoc.load(text) != value for text, value in zip(texts, values)):
            return None
        return self.items_end(), "".join(", " + text for text in texts)

    def new_results(self, results: list[dict[str, Any]], nl: str) -> tuple[Place, str] | None:
        text = emit.json_text(results)
        return None if yamldoc.load(text) != results else (self.root_end(), ', "results": ' + text)


_BLANKS = re.compile(r"[ \t\r\n]*")


@functools.lru_cache(maxsize=1)  # is_resource_list, then _run_json, on the same text
def _json_cut(text: str) -> _Cut | None:
    """The items of a ResourceList written as JSON, cut at their values (found by the json module, one
    item at a time), or None when the text is no such list with items. Each item is a document of
    its own for the pipeline, as a `---` then a JSON object is for plain render: it reads every
    one, and edits a workload in place, still JSON. JSON strings hold no line break, so no line of
    an item starts another document; the list less its items must parse (as YAML) to the list."""
    decoder = json.JSONDecoder()
    spans: list[tuple[int, int]] = []
    at = _BLANKS.match(text).end()  # type: ignore[union-attr]
    if text[at : at + 1] != "{":
        return None
    at += 1
    value_end = None  # of the root's last value
    try:
        while True:
            at = _BLANKS.match(text, at).end()  # type: ignore[union-attr]
            if text[at] == "}" and value_end is None:
                return None  # no keys
            key, at = decoder.raw_decode(text, at)
            at = _BLANKS.match(text, at).end()  # type: ignore[union-attr]
            if not isinstance(key, str) or text[at] != ":":
                return None
            at = _BLANKS.match(text, at + 1).end()  # type: ignore[union-attr]
            if key == "items":
                if spans or text[at] != "[":
                    return None
                at += 1
                while True:
                    at = _BLANKS.match(text, at).end()  # type: ignore[union-attr]
                    item, end = decoder.raw_decode(text, at)
                    if not isinstance(item, dict):
                        return None
                    spans.append((at, end))
                    at = _BLANKS.match(text, end).end()  # type: ignore[union-attr]
                    if text[at] != ",":
                        break
                    at += 1
                if text[at] != "]":
                    return None
                at += 1
            else:
                _, at = decoder.raw_decode(text, at)
            value_end = at
            at = _BLANKS.match(text, at).end()  # type: ignore[union-attr]
            if text[at] == "}":
                break
            if text[at] != ",":
                return None
            at += 1
    except (ValueError, IndexError):  # JSONDecodeError is a ValueError
        return None
    if not spans or text[at + 1 :].strip(" \t\r\n"):
        return None
    try:
        data = yamldoc.load(text[: spans[0][0]] + text[spans[-1][1] :])
    except yamldoc.YAMLError:
        return None
    if not isinstance(data, dict) or data.get("kind") != KIND or data.get("apiVersion") not in API_VERSIONS or data.get("items") != []:
        return None
    starts = [start for start, _ in spans]
    items: list[_Item] = [_JSONItem(text[start:stop], end - start, 0, 0) for (start, end), stop in zip(spans, [*starts[1:], spans[-1][1]])]
    last = spans[-1][1]
    return _JSONCut(text[: starts[0]], items, text[last:], data, value_end - last)


class _LazyItems(Sequence[Any]):
    """The items' data for `result_item` when the list was not parsed: from the item stream's
    pipeline where it read the item, else read from the item's text when first asked for."""

    def __init__(self, outputs: list[pipeline.DocumentResult], items: list[_Item]):
        self.outputs, self.items = outputs, items
        self.read: dict[int, Any] = {}

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> Any:  # type: ignore[override]
        if not 0 <= i < len(self.items):
            raise IndexError(i)
        if self.outputs[i].parsed is not None:
            return self.outputs[i].data
        if i not in self.read:
            self.read[i] = yamldoc.load(self.items[i].body() or "")  # never None: read once already
        return self.read[i]

    def of_kind(self, kind: str | None) -> Iterator[tuple[int, Any]]:
        """The items that may be of `kind`, in order: those the item stream tells apart by their
        text alone are not read."""
        for i, out in enumerate(self.outputs):
            if out.parsed is not None or not out.document.classified or out.document.kind == kind:
                yield i, self[i]


def _results_ops(data: dict[str, Any], results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Ops that leave exactly `results` in the list; none at all when there are none."""
    if not results:
        return [{"op": "remove", "path": "/results"}] if "results" in data else []
    return [{"op": "replace" if "results" in data else "add", "path": "/results", "value": results}]


def _no_items(text: str, root: Any, data: dict[str, Any]) -> tuple[list[str], list[Finding]] | None:
    """A list without items has nothing to patch; a flow-style one is left to the whole-list path."""
    node = yamldoc.mapping_value(root, "items")
    if node is None or (isinstance(node, ScalarNode) and data.get("items") is None) or data.get("items") == []:
        return [text], []
    return None


def _is_list(doc: pipeline.DocumentResult) -> bool:
    return isinstance(doc.data, dict) and doc.data.get("kind") == KIND


def _parse(parsed_stream: stream.Stream) -> tuple[stream.Document, yamldoc.Parsed]:
    documents = [d for d in parsed_stream.documents if d.has_content]
    if len(documents) != 1:
        raise KRMError(f"stdin holds {len(documents)} documents; a ResourceList must be the only one")
    parsed = pipeline.parse_document(documents[0])
    data = parsed.data
    if not isinstance(data, dict) or data.get("kind") != KIND:
        raise KRMError("stdin is not a ResourceList; expected kind: ResourceList")
    version = data.get("apiVersion")
    if version not in API_VERSIONS:
        raise KRMError(f"ResourceList apiVersion {version!r} is not supported; expected {' or '.join(API_VERSIONS)}")
    items = data.get("items")
    line = documents[0].line - 1  # the stream's line of the document's first line, less one
    if items is not None and not isinstance(items, list):
        at = line + (yamldoc.line_of(parsed.root, ["items"]) or 1)
        raise KRMError(f"ResourceList items (line {at}) is not a list; it must list the resources")
    for i, item in enumerate(items or []):
        if not isinstance(item, dict):
            at = line + (yamldoc.line_of(parsed.root, ["items", str(i)]) or 1)
            raise KRMError(f"ResourceList items[{i}] (line {at}) is not an object; every item must be a Kubernetes resource")
    return documents[0], parsed


def _function_config(resource_list: dict[str, Any]) -> Any:
    config = resource_list.get("functionConfig")
    if config is None or config == {}:
        return None
    if not isinstance(config, dict):
        raise KRMError("functionConfig is not a mapping; use a ConfigMap or a zdrender.io/v1alpha1 ZdRender")
    kind, version = config.get("kind"), str(config.get("apiVersion", ""))
    if kind == "ConfigMap" or (kind == "ZdRender" and version.startswith(CONFIG_GROUP)):
        return config
    raise KRMError(
        f"functionConfig {version or '(no apiVersion)'} {kind or '(no kind)'} is not supported; "
        "use a ConfigMap (settings under data) or apiVersion zdrender.io/v1alpha1, kind ZdRender (settings under spec)"
    )


def _new_item(finding: Finding) -> dict[str, Any]:
    if not isinstance(finding.new_object, dict):  # a rule's bug, not the user's input
        raise KRMError(f"rule {finding.rule} added something that is not an object; please report this")
    return yamldoc.copy_data(finding.new_object)


def _apply(text: str, ops: list[dict[str, Any]]) -> str:
    """The ops applied to the list's text, checked against the plan: every item comes back (a missing one is deleted)."""
    import jsonpatch

    expected = jsonpatch.apply_patch(yamldoc.load(text), ops)
    try:
        edited, _ = rewrite.checked_edit(text, ops, expected)
    except rewrite.RewriteError as err:
        raise KRMError(f"the ResourceList could not be edited without changing more than its patch ({err}); nothing was written; please report this") from None
    return edited


# -- results -----------------------------------------------------------------------------------------
def result_item(finding: Finding, items: Sequence[Any]) -> dict[str, Any]:
    """One kyaml `framework.Result`: message, severity, resourceRef, field, file, tags."""
    entry: dict[str, Any] = {"message": f"[{finding.rule}] {finding.message}", "severity": finding.severity}
    index, parts = _item_of(finding, items)
    if index is not None:
        item = items[index]
        meta = as_dict(item.get("metadata"))
        ref = {"apiVersion": item.get("apiVersion"), "kind": item.get("kind"), "name": meta.get("name")}
        if meta.get("namespace"):
            ref["namespace"] = meta["namespace"]
        entry["resourceRef"] = {k: str(v) for k, v in ref.items() if v is not None}
        if parts:
            entry["field"] = {"path": field_path(item, parts)}
        file = _file_of(as_dict(meta.get("annotations")))
        if file:
            entry["file"] = file
    entry["tags"] = {"rule": finding.rule, "fixed": "true" if finding.fixed else "false"}
    return entry


def _item_of(finding: Finding, items: Sequence[Any]) -> tuple[int | None, list[str]]:
    """The item a finding is about (from its path `/items/N/...`, else its kind and name), and the
    path inside that item."""
    parts = patch.split_pointer(finding.path) if finding.path else []
    if len(parts) >= 2 and parts[0] == "items" and parts[1].isdigit() and int(parts[1]) < len(items):
        return int(parts[1]), parts[2:]
    for i, item in items.of_kind(finding.kind) if isinstance(items, _LazyItems) else enumerate(items):
        meta = as_dict(item.get("metadata"))
        if finding.name and item.get("kind") == finding.kind and meta.get("name") == finding.name and meta.get("namespace") == finding.namespace:
            return i, []
    return None, []


def field_path(item: Any, parts: list[str]) -> str:
    """A JSON pointer's parts as a kpt field path: `spec.template.spec.containers[0].lifecycle`.

    Sequence indexes are told from mapping keys by the item's data (a missing node: digits are an
    index); keys that hold a dot or a bracket are quoted, `metadata.annotations['proxy.istio.io/config']`.
    """
    path = ""
    node = item
    for part in parts:
        if isinstance(node, list) or (not isinstance(node, dict) and part.isdigit()):
            path += f"[{part}]"
            node = node[int(part)] if isinstance(node, list) and part.isdigit() and int(part) < len(node) else None
            continue
        if any(c in part for c in ".[]'"):
            path += "['" + part.replace("'", "\\'") + "']"
        else:
            path += ("." if path else "") + part
        node = node.get(part) if isinstance(node, dict) else None
    return path


def _file_of(annotations: dict[str, Any]) -> dict[str, Any] | None:
    path = next((annotations[k] for k in PATH_ANNOTATIONS if annotations.get(k)), None)
    if path is None:
        return None
    file: dict[str, Any] = {"path": str(path)}
    index = next((annotations[k] for k in INDEX_ANNOTATIONS if annotations.get(k) is not None), None)
    if index is not None and re.fullmatch(r"[0-9]{1,18}", str(index).strip()):  # isdigit() takes "²", int() does not
        file["index"] = int(str(index).strip())
    return file


def error_output(text: str, message: str) -> str:
    """What to print on failure, next to a non-zero exit: the input unchanged with an error result
    (kpt shows it under `Results:`), or a list of just that result when the input is no mapping."""
    error = [{"message": message, "severity": "error"}]
    documents = [d for d in stream.split(text).documents if d.has_content]
    try:
        data = yamldoc.load(documents[0].text) if len(documents) == 1 else None
        if isinstance(data, dict):
            output = patch.apply(text, _results_ops(data, error))
            if yamldoc.load(output) == {**data, "results": error}:
                return output
    except (patch.PatchError, yamldoc.YAMLError):
        pass
    lines = [f"apiVersion: {API_VERSIONS[0]}", f"kind: {KIND}", *emit.block_entry("results", error, 0, 0)]
    return "\n".join(lines) + "\n"
