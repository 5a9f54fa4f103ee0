"""Split a multi-document YAML stream into documents as text, and join it back.

Every byte survives: a document is the exact text from its `---` line (inclusive, with the `%YAML` /
`%TAG` directives just above it) up to the next document, so leading comments, `# Source:` lines, `--- # comment` separators, `...` end markers,
comment-only documents and CRLF line endings all stay where they were. Splitting is textual because
YAML forbids a `---` line at column 0 inside any node (it always starts a document), which makes this
split agree with every YAML parser while costing next to nothing on the documents we never parse.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

BOM = "\ufeff"

# These three only count where they start a line (`_line_starts`): written without a leading `^`,
# they begin with a literal, which the regex engine finds by skipping ahead instead of trying every
# character (5x faster on multi-megabyte CRDs).
# A document marker is `---` at column 0 followed by whitespace or the end of the line.
_SEPARATOR = re.compile(r"---(?=[ \t\r\n]|\Z)")
# Top-level keys used to classify a document without parsing it.
_KIND = re.compile(r"kind:[ \t]*[\"']?([A-Za-z0-9]+)[\"']?[ \t]*(?:#.*)?\r?$", re.MULTILINE)
_API_VERSION = re.compile(r"apiVersion:[ \t]*[\"']?([A-Za-z0-9./-]+)[\"']?[ \t]*(?:#.*)?\r?$", re.MULTILINE)
# Anything that is not blank, a comment, or a marker means the document holds content.
_CONTENT = re.compile(r"^(?!---(?:[ \t]|\r?$)|\.\.\.(?:[ \t]|\r?$))[ \t]*[^\s#]", re.MULTILINE)
_INLINE_AFTER_SEPARATOR = re.compile(r"^---[ \t]+[^\s#]")


def cr_only(text: str) -> bool:
    """Old Mac line ends: CR and no LF. Such text is handled as LF and written back as CR, which is
    lossless (it has no LF) and changes no meaning (YAML reads a bare CR as a line break)."""
    return "\r" in text and "\n" not in text


@dataclass
class Document:
    """One document of the stream, as text."""

    number: int  # 1-based position in the stream, as a reader counts `---` sections
    text: str
    line: int  # 1-based line of the stream where this document's text starts
    kind: str | None = None  # from a cheap textual look; None when unknown
    api_version: str | None = None
    has_content: bool = True
    classified: bool = True  # False when the text alone could not tell the kind

    @property
    def newline(self) -> str:
        if "\r\n" in self.text:
            return "\r\n"
        return "\r" if cr_only(self.text) else "\n"


@dataclass
class Stream:
    documents: list[Document]
    bom: bool = False

    def join(self, texts: list[str] | None = None) -> str:
        return "".join(self.pieces(texts))

    def pieces(self, texts: list[str] | None = None) -> list[str]:
        """What `join` joins (BOM, documents): a writer can take them one by one, never holding the
        whole stream twice."""
        body = list(texts) if texts is not None else [d.text for d in self.documents]
        return [BOM, *body] if self.bom else body


def _line_starts(pattern: re.Pattern[str], text: str) -> list[re.Match[str]]:
    return [m for m in pattern.finditer(text) if m.start() == 0 or text[m.start() - 1] == "\n"]


def classify(text: str) -> tuple[str | None, str | None, bool, bool]:
    """Return (kind, apiVersion, has_content, classified) from the text alone."""
    if not _CONTENT.search(text) and not _INLINE_AFTER_SEPARATOR.search(text):
        return None, None, False, True
    kinds = [m.group(1) for m in _line_starts(_KIND, text)]
    versions = [m.group(1) for m in _line_starts(_API_VERSION, text)]
    if len(kinds) == 1 and len(versions) <= 1 and not _INLINE_AFTER_SEPARATOR.search(text):
        return kinds[0], versions[0] if versions else None, True, True
    # Flow-style or JSON documents, duplicate keys: only a parser can tell.
    return None, None, True, False


def _with_directives(text: str, separator: int) -> int:
    """Where the document whose `---` is at `separator` starts: before the `%YAML` / `%TAG` directive
    lines just above it, which belong to it (a plain scalar cannot start with `%`, so a line that does
    at column 0 before a `---` is a directive)."""
    start = separator
    while start > 0:
        line_start = text.rfind("\n", 0, start - 1) + 1
        if text.startswith("%", line_start):
            start = line_start
        else:
            break
    return start


def split(text: str) -> Stream:
    bom = text.startswith(BOM)
    if bom:
        text = text[1:]
    starts = [_with_directives(text, m.start()) for m in _line_starts(_SEPARATOR, text)]
    if not starts or starts[0] != 0:
        starts.insert(0, 0)
    starts.append(len(text))
    documents: list[Document] = []
    line = 1
    number = 0
    for begin, end in zip(starts, starts[1:]):
        chunk = text[begin:end]
        kind, api_version, has_content, classified = classify(chunk)
        # A blank prelude before the first `---` is not a document a reader would count.
        if begin != 0 or has_content or chunk.startswith("---") or chunk.strip():
            number += 1
        documents.append(
            Document(
                number=number,
                text=chunk,
                line=line,
                kind=kind,
                api_version=api_version,
                has_content=has_content,
                classified=classified,
            )
        )
        line += chunk.count("\n")
    if not text:
        documents = []
    return Stream(documents=documents, bom=bom)
