"""Unified diffs of a stream before and after zdrender, in the shape `git diff` prints and `patch -p1` applies.

A stream is compared piece by piece (its documents): pieces that came out unchanged are only counted
(their lines become context or are skipped), and only the changed ones go through difflib. Comparing
the whole stream's lines at once was quadratic on large streams of similar lines (an 8 MB stream: 22 s).
"""

from __future__ import annotations

import bisect
import difflib
from collections.abc import Iterable, Iterator

NO_NEWLINE = "\\ No newline at end of file\n"

Opcode = tuple[str, int, int, int, int]  # difflib's (tag, i1, i2, j1, j2), in lines of the whole text


def patch_lines(text: str) -> list[str]:
    """Lines as `patch` and `git apply` count them: split at LF only. str.splitlines also splits at CR,
    VT, FF, NEL, U+2028 and more, which made hunks that do not apply ("malformed patch")."""
    parts = text.split("\n")
    lines = [part + "\n" for part in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def _line_count(text: str) -> int:
    return text.count("\n") + (1 if text and not text.endswith("\n") else 0)


def unified(before: str, after: str, name: str, *, context: int = 3) -> str:
    """The diff from `before` to `after` with `a/NAME` and `b/NAME` headers; empty when equal."""
    return unified_pieces([(before, after)], name, context=context)


def unified_pieces(pairs: Iterable[tuple[str, str]], name: str, *, context: int = 3) -> str:
    """The diff from the pieces' `before` texts joined to their `after` texts joined (a stream's
    documents, before and after), comparing line by line only the pieces that differ."""
    chunks = _Chunks(_whole_lines(pairs))
    if not chunks.changed:
        return ""
    name = name.lstrip("/")
    hunks = [f"--- a/{name}\n+++ b/{name}\n"]
    for group in _grouped(chunks.opcodes(), context):
        first, last = group[0], group[-1]
        out = [f"@@ -{_range(first[1], last[2])} +{_range(first[3], last[4])} @@\n"]
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                out += [" " + line for line in chunks.lines(i1, i2, after=False)]
                continue
            if tag in ("replace", "delete"):
                out += ["-" + line for line in chunks.lines(i1, i2, after=False)]
            if tag in ("replace", "insert"):
                out += ["+" + line for line in chunks.lines(j1, j2, after=True)]
        # Joined hunk by hunk: each line is a str object (~50 bytes over its text) only while its hunk is
        # built. A last line without a newline gets the marker that `patch` and `git apply` expect.
        hunks.append("".join(line if line.endswith("\n") else line + "\n" + NO_NEWLINE for line in out))
    return "".join(hunks)


def _whole_lines(pairs: Iterable[tuple[str, str]]) -> Iterator[tuple[str, str]]:
    """The pairs, joined where a piece ends inside a line (before or after), so that each starts a line."""
    before: list[str] = []
    after: list[str] = []
    inside = [False, False]  # whether the text so far ends inside a line, before and after
    for a, b in pairs:
        before.append(a)
        after.append(b)
        for side, text in enumerate((a, b)):
            if text:
                inside[side] = not text.endswith("\n")
        if not any(inside):
            yield "".join(before), "".join(after)
            before, after = [], []
    if before:
        yield "".join(before), "".join(after)


class _Chunks:
    """The line-aligned pieces with where their lines start in the whole before and after texts."""

    def __init__(self, pairs: Iterable[tuple[str, str]]):
        self.before: list[str] = []
        self.after: list[str] = []
        self.starts: tuple[list[int], list[int]] = ([], [])  # first line of each piece, before and after
        self.same: list[bool] = []  # whether each piece is unchanged
        self._lines: dict[tuple[int, bool], list[str]] = {}
        lines_a = lines_b = 0
        for a, b in pairs:
            self.before.append(a)
            self.after.append(b)
            self.starts[0].append(lines_a)
            self.starts[1].append(lines_b)
            lines_a += _line_count(a)
            lines_b += _line_count(b)
            self.same.append(a == b)
        self.changed = not all(self.same)

    def opcodes(self) -> list[Opcode]:
        """difflib's opcodes for the whole texts: unchanged pieces equal, changed ones compared alone."""
        codes: list[Opcode] = []
        for i, (a, b) in enumerate(zip(self.before, self.after)):
            a0, b0 = self.starts[0][i], self.starts[1][i]
            found: list[Opcode] = [("equal", 0, _line_count(a), 0, _line_count(b))]
            if not self.same[i]:
                found = list(difflib.SequenceMatcher(None, self._piece(i, False), self._piece(i, True)).get_opcodes())
            for tag, i1, i2, j1, j2 in found:
                if i1 == i2 and j1 == j2:
                    continue
                code = (tag, a0 + i1, a0 + i2, b0 + j1, b0 + j2)
                if codes and (tag == "equal") == (codes[-1][0] == "equal"):
                    # Runs across pieces become one, as difflib has them: equal lines, or a change.
                    _, start_a, _, start_b, _ = codes.pop()
                    code = (tag, start_a, code[2], start_b, code[4])
                    if tag != "equal":
                        code = (_change(code), start_a, code[2], start_b, code[4])
                codes.append(code)
        return codes

    def _piece(self, i: int, after: bool) -> list[str]:
        text = (self.after if after else self.before)[i]
        if self.same[i]:  # context only: its lines are not kept (a CRD is 100 KB)
            return patch_lines(text)
        key = (i, after)
        if key not in self._lines:
            self._lines[key] = patch_lines(text)
        return self._lines[key]

    def lines(self, start: int, stop: int, *, after: bool) -> list[str]:
        """Lines start..stop of the whole before (or after) text."""
        starts = self.starts[1 if after else 0]
        found: list[str] = []
        i = bisect.bisect_right(starts, start) - 1
        while start < stop:
            piece = self._piece(i, after)
            offset = start - starts[i]
            taken = piece[offset : offset + stop - start]
            found += taken
            start += len(taken)
            i += 1
        return found


def _change(code: Opcode) -> str:
    _, i1, i2, j1, j2 = code
    return "replace" if i1 < i2 and j1 < j2 else "delete" if i1 < i2 else "insert"


def _grouped(codes: list[Opcode], n: int) -> Iterator[list[Opcode]]:
    """difflib.SequenceMatcher.get_grouped_opcodes, on opcodes of the whole texts: hunks with up to
    `n` lines of context."""
    if codes[0][0] == "equal":
        tag, i1, i2, j1, j2 = codes[0]
        codes[0] = tag, max(i1, i2 - n), i2, max(j1, j2 - n), j2
    if codes[-1][0] == "equal":
        tag, i1, i2, j1, j2 = codes[-1]
        codes[-1] = tag, i1, min(i2, i1 + n), j1, min(j2, j1 + n)
    group: list[Opcode] = []
    for tag, i1, i2, j1, j2 in codes:
        if tag == "equal" and i2 - i1 > n + n:
            group.append((tag, i1, min(i2, i1 + n), j1, min(j2, j1 + n)))
            yield group
            group = []
            i1, j1 = max(i1, i2 - n), max(j1, j2 - n)
        group.append((tag, i1, i2, j1, j2))
    if group and not (len(group) == 1 and group[0][0] == "equal"):
        yield group


def _range(start: int, stop: int) -> str:
    """A hunk's line range as unified diffs write it (difflib's _format_range_unified)."""
    beginning, length = start + 1, stop - start
    if length == 1:
        return str(beginning)
    if not length:
        beginning -= 1
    return f"{beginning},{length}"
