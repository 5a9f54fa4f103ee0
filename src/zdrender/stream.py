"""Split a multi-document YAML stream into documents as text, and join it back.

Every byte survives: a document is the exact text from its `---` line (inclusive, with the `%YAML` /
`%TAG` directives just above it) up to the next document, so leading comments, `# Source:` lines, `--- # comment` separators, `...` end markers,
comment-only documents and CRLF line endings all stay where they were. Splitting is textual because
YAML forbids a `---` line at column 0 inside any node (it always starts a document), which makes this
split agree with every YAML parser while costing next to nothing on the documents we never parse.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable, Iterator

from .record import Record

BOM = "\ufeff"
BOM_UTF8 = BOM.encode()

# These three only count where they start a line (`_line_starts`): written without a leading `^`,
# they begin with a literal, which the regex engine finds by skipping ahead instead of trying every
# character (5x faster on multi-megabyte CRDs).
# A document marker is `---` at column 0 followed by whitespace or the end of the line.
_SEPARATOR = re.compile(r"---(?=[ \t\r\n]|\Z)")
_SEPARATOR_BYTES = re.compile(_SEPARATOR.pattern.encode())  # the same marker in UTF-8 (all ASCII)
# A top-level `kind` key with a plain or quoted name, as the scan reads it (see `classify`).
_KIND = re.compile(r"kind:[ \t]*([\"']?)([A-Za-z0-9]+)\1[ \t]*(?:#.*)?\r?$", re.MULTILINE)
# A line at column 0 that spells a `kind` key, in the scan's form or not.
_KIND_KEY = re.compile(r"kind[ \t]*:")
_KIND_KEY_LINE = re.compile(r"\nkind[ \t]*:")
# What a line at column 0 may hold for the scan to be trusted: a plain key (`key:` with a key a plain
# scalar spells), an entry of a sequence under a root key (`rules:` then `- apiGroups:`, as Helm's
# toYaml writes them), indentation, a comment, a directive, a marker, or nothing. Not a quoted or
# explicit key, a merge key, a flow collection, an anchor, a tag, or a scalar.
_TRUSTED_LINE = r"(?:[A-Za-z0-9_][A-Za-z0-9_./-]*[ \t]*:(?:[ \t]|\r?$)|[ \t]|#|\r?$|%|(?:-|---|\.\.\.)(?:[ \t]|\r?$))"
_TRUSTED_FIRST_LINE = re.compile(_TRUSTED_LINE, re.MULTILINE)
_UNTRUSTED_LINE = re.compile(r"\n(?!" + _TRUSTED_LINE + ")", re.MULTILINE)
# Anything that is not blank, a comment, or a marker means the document holds content.
_CONTENT = re.compile(r"^(?!---(?:[ \t]|\r?$)|\.\.\.(?:[ \t]|\r?$))[ \t]*[^\s#]", re.MULTILINE)
_INLINE_AFTER_SEPARATOR = re.compile(r"---[ \t]+[^\s#]")
_END_MARKER = re.compile(r"\n\.\.\.(?=[ \t\r\n]|\Z)")


def cr_only(text: str) -> bool:
    """Old Mac line ends: CR and no LF. Such text is handled as LF and written back as CR, which is
    lossless (it has no LF) and changes no meaning (YAML reads a bare CR as a line break)."""
    return "\r" in text and "\n" not in text


class Document(Record):
    """One document of the stream, as text."""

    __slots__ = ("classified", "has_content", "kind", "line", "number", "text")

    def __init__(self, number: int, text: str, line: int, kind: str | None = None, has_content: bool = True, classified: bool = True):
        self.number = number  # 1-based position in the stream, as a reader counts `---` sections
        self.text = text
        self.line = line  # 1-based line of the stream where this document's text starts
        self.kind = kind  # from a cheap textual look; None when unknown
        self.has_content = has_content
        self.classified = classified  # False when the text alone could not tell the kind

    @property
    def newline(self) -> str:
        if "\r\n" in self.text:
            return "\r\n"
        return "\r" if cr_only(self.text) else "\n"


class Stream(Record):
    __slots__ = ("bom", "cr_only", "documents")

    def __init__(self, documents: list[Document], bom: bool = False, cr_only: bool = False):
        self.documents = documents
        self.bom = bom
        # The input's line breaks were bare CRs and the documents were split and hold LF (cr_only), to be
        # written back as CR: see pipeline.run.
        self.cr_only = cr_only

    def join(self, texts: list[str] | None = None) -> str:
        return "".join(self.pieces(texts))

    def pieces(self, texts: list[str] | None = None) -> list[str]:
        """What `join` joins (BOM, documents): a writer can take them one by one, never holding the
        whole stream twice."""
        body = list(texts) if texts is not None else [d.text for d in self.documents]
        return [BOM, *body] if self.bom else body


def _line_starts(pattern: re.Pattern[str], text: str) -> list[re.Match[str]]:
    return [m for m in pattern.finditer(text) if m.start() == 0 or text[m.start() - 1] == "\n"]


def _document_starts(text: str | bytes | bytearray, begin: int = 0, end: int | None = None) -> list[int]:
    """Where each document of text[begin:end] starts, then `end` (len(text) by default); `end` follows
    a line break or ends the stream. The markers are ASCII, which UTF-8 never uses inside a multi-byte
    character: bytes split where their text does."""
    end = len(text) if end is None else end
    if isinstance(text, str):
        separators = [m.start() for m in _SEPARATOR.finditer(text, begin, end) if m.start() == begin or text[m.start() - 1] == "\n"]
    else:
        separators = [m.start() for m in _SEPARATOR_BYTES.finditer(text, begin, end) if m.start() == begin or text[m.start() - 1] == 0x0A]
    starts = [_with_directives(text, separator, begin) for separator in separators]
    if not starts or starts[0] != begin:
        starts.insert(0, begin)
    starts.append(end)
    return starts


def classify(text: str) -> tuple[str | None, bool, bool]:
    """Return (kind, has_content, classified) from the text alone.

    The kind is trusted (classified=True) only where the text proves it is the one a parser reads:
    - the first content line is at column 0 and no line at column 0 is anything but a plain key, a
      comment, a directive or a marker, so the root is a block mapping whose keys are all plain scalars
      at column 0 (a key is never multi-line), and every root `kind` key is a line `kind...:` at column 0;
    - every such line holds a plain or quoted name on its own (no anchor, tag, alias, escape, or value
      on the next lines), and there is exactly one.
    A line that only looks like a key (inside a quoted scalar or flow collection that runs over lines,
    which libyaml lets start at column 0) adds a second `kind` line, or is the only one in a document
    with no `kind` at all, which is no workload either way. Folding a plain scalar over lines adds a
    space, which no kind name holds. Everything else (flow or JSON documents, a root on the `---`
    line, content after `...`, anything unusual at column 0) is left to the parser."""
    separator = text.find("\n---") + 1 if text.startswith("%") else 0  # after `%` directives, if any
    inline = _INLINE_AFTER_SEPARATOR.match(text, separator) is not None
    content = _CONTENT.search(text, separator)
    if content is None and not inline:
        return None, False, True
    if inline or content is None or text[content.start()] in " \t":
        return None, True, False
    if not _TRUSTED_FIRST_LINE.match(text) or _UNTRUSTED_LINE.search(text):
        return None, True, False
    kinds = [m.group(2) for m in _line_starts(_KIND, text)]
    kind_lines = len(_KIND_KEY_LINE.findall(text)) + (_KIND_KEY.match(text) is not None)
    if len(kinds) != 1 or kind_lines != 1:
        return None, True, False
    end = _END_MARKER.search(text)
    if end is not None and _CONTENT.search(text, end.end()):  # `...`, then a bare document
        return None, True, False
    return kinds[0], True, True


def _with_directives(text: str | bytes | bytearray, separator: int, begin: int = 0) -> int:
    """Where the document whose `---` is at `separator` starts: before the `%YAML` / `%TAG` directive
    lines just above it, which belong to it (a plain scalar cannot start with `%`, so a line that does
    at column 0 before a `---` is a directive)."""
    newline, percent = ("\n", "%") if isinstance(text, str) else (b"\n", b"%")
    start = separator
    while start > begin:
        line_start = max(text.rfind(newline, begin, start - 1) + 1, begin)  # type: ignore[arg-type]
        if text.startswith(percent, line_start):  # type: ignore[arg-type]
            start = line_start
        else:
            break
    return start


def split(text: str) -> Stream:
    bom = text.startswith(BOM)
    if bom:
        text = text[1:]
    if not text:
        return Stream(documents=[], bom=bom)
    return Stream(documents=_documents(text[begin:end] for begin, end in itertools.pairwise(_document_starts(text))), bom=bom)


def read_utf8(read: Callable[[int], bytes], block: int = 1 << 20) -> Stream:
    """split() of the UTF-8 text that `read(block)` returns piece by piece until b"": each document is
    decoded on its own once the next one's start has been read, so the stream is held about once: never
    as one str (which stores every character at the width of its widest: one dash makes all of it 2
    bytes a character, an emoji 4; a 48 MB stream took 96 MB) and never as bytes beside its documents.
    A stream with bare CRs for line breaks (cr_only) is split as LF and marked so. Raises
    UnicodeDecodeError at the first byte that is not UTF-8, as decoding it whole does; its `object`
    holds the stream up to there."""
    reader = _Reader(read, block)
    documents = _documents(reader.chunks())
    return Stream(documents=documents, bom=reader.bom, cr_only=reader.cr_only)


class _Reader:
    def __init__(self, read: Callable[[int], bytes], block: int) -> None:
        self.read, self.block = read, block
        self.bom = self.cr_only = False
        # What is no longer in `pending`, to place an error: its size, and its documents (not copies).
        self.consumed = 0
        self.dropped: list[str] = []

    def chunks(self) -> Iterator[str]:
        pending = bytearray()  # from the start of a document on; deleting its front moves no bytes
        begin = None  # where its first document starts (after a BOM), once known
        while data := self.read(self.block):
            pending += data
            if begin is None and len(pending) >= len(BOM_UTF8):
                self.bom = pending.startswith(BOM_UTF8)
                begin = len(BOM_UTF8) if self.bom else 0
            # Starts are known up to the last complete line: by then a marker's next character and the
            # directives above it are read. Before any LF, it may be a stream of bare CRs.
            complete = pending.rfind(b"\n") + 1
            if begin is None or complete == 0:
                continue
            starts = _document_starts(pending, begin, complete)[:-1]
            decoded = [self._decode(pending, start, end) for start, end in itertools.pairwise(starts)]
            del pending[: starts[-1]]
            self.consumed += starts[-1]
            self.dropped += decoded
            yield from decoded
            begin = 0
        if begin is None:
            self.bom = pending.startswith(BOM_UTF8)
            begin = len(BOM_UTF8) if self.bom else 0
        if len(pending) == begin:
            return  # an empty stream, or only its BOM
        if b"\r" in pending and b"\n" not in pending:  # cr_only(): split as LF (after a drop, the last LF is still here)
            self.cr_only = True
            original = bytes(pending)
            pending[:] = pending.replace(b"\r", b"\n")
            try:
                yield from [self._decode(pending, start, end) for start, end in itertools.pairwise(_document_starts(pending, begin))]
            except UnicodeDecodeError as err:  # placed in the stream as it was read
                raise UnicodeDecodeError("utf-8", original, err.start, err.end, err.reason) from None
            return
        for start, end in itertools.pairwise(_document_starts(pending, begin)):
            yield self._decode(pending, start, end)

    def _decode(self, pending: bytearray, start: int, end: int) -> str:
        try:
            with memoryview(pending) as view:  # a slice without a copy, released before `pending` changes
                text = str(view[start:end], "utf-8")
        except UnicodeDecodeError as err:
            prefix = ((BOM if self.bom and self.consumed else "") + "".join(self.dropped)).encode("utf-8")
            where = len(prefix) + start
            raise UnicodeDecodeError("utf-8", prefix + bytes(pending), where + err.start, where + err.end, err.reason) from None
        return text


def _documents(chunks: Iterable[str]) -> list[Document]:
    documents: list[Document] = []
    line = 1
    number = 0
    first = True
    for chunk in chunks:
        kind, has_content, classified = classify(chunk)
        # A blank prelude before the first `---` is not a document a reader would count.
        if not first or has_content or chunk.startswith("---") or chunk.strip():
            number += 1
        first = False
        documents.append(
            Document(
                number=number,
                text=chunk,
                line=line,
                kind=kind,
                has_content=has_content,
                classified=classified,
            )
        )
        line += chunk.count("\n")
    return documents
