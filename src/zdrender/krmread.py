"""A KRM ResourceList read in blocks and cut at its items as they arrive, each item decoded on its own.

Kustomize and kpt send one document: a few lines of list around megabytes of items. Read whole, it is
one str, stored at the width of its widest character (kpt's lists carry a few en dashes: 2 bytes a
character), and an item-by-item edit needs a copy of it. Here its bytes are cut where `krm` cuts an
item list: after the `items:` line at column 0, each item from a `-` line at the first item's column
up to the next one's, up to the first line at column 0 that is no `-` entry, comment or blank line.
Only the item being read is held as bytes; what came before is held once, as the pieces' strings.

`krm` proves the cut (the list less its items must parse to the list, with `items` on that line) and
takes the whole text on any doubt. An input that does not start like a block ResourceList (a line
`kind: ResourceList`, then `items:`, at column 0 within the first megabyte, no BOM) is handed to
`stream.read_utf8` with what was read replayed, and so is one that is not UTF-8: it raises the same
error there.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

from . import stream

BLOCK = 1 << 20
HEAD_BLOCK = 1 << 16  # a list's head is read in blocks this small: what any other input hands on
HEAD_LIMIT = 1 << 20  # bytes read before `items:` at most, for the input to be read as a list

# The lines the cut reads, each matched from the line break before it: a pattern that starts with a
# literal is searched for far faster than one that starts with `^` (see stream._SEPARATOR). Compiled
# when first used (`_re`): a stream that is no list is handed on before any is.
ITEMS_KEY = rb"\nitems[ \t]*:[ \t]*(?:#[^\r\n]*)?\r?$"  # `items:`, its value below
AFTER_ITEMS = rb"\n(?![ \t\r\n#]|-(?:[ \t\r\n]|$))"  # no blank, comment or `-` line
CONTENT_LINE = rb"\n( *)[^ \t\r\n#]"  # a line with more than a comment: its indentation
_KIND_KEY = rb"\nkind[ \t]*:"
_LIST_KIND = rb"\nkind:[ \t]*([\"']?)ResourceList\1[ \t]*(?:#[^\r\n]*)?\r?$"


@functools.cache
def _re(pattern: bytes) -> re.Pattern[bytes]:
    return re.compile(pattern, re.MULTILINE)


def item_start(dash: int) -> re.Pattern[bytes]:
    """The line break before an item's `-` at column `dash`."""
    return _re(rb"\n {%d}-(?=[ \t\r\n]|$)" % dash)


class Pieces:
    """A list's text cut at its items: `head` up to the first item's line (with the `items:` line at
    offset `key_line`), `items`, each from its `-` (at column `dash`) line up to the next one's, and
    `tail`, the rest. Joined, they are the text."""

    def __init__(self, head: str, items: list[str], tail: str, key_line: int, dash: int) -> None:
        self.head, self.items, self.tail = head, items, tail
        self.key_line = key_line
        self.dash = dash

    def join(self) -> str:
        return "".join([self.head, *self.items, self.tail])


def cut(text: str) -> Pieces | None:
    """The pieces of one document's text (None when no `items:` line is followed by a `-` line)."""
    replay = _Replay(text.encode("utf-8", "surrogatepass"), lambda _: b"")
    found = _Cutter(replay.read, len(text) * 4 + 1, gate=False, errors="surrogatepass").pieces()
    return found if isinstance(found, Pieces) else None


def read_utf8(read: Callable[[int], bytes], block: int = BLOCK) -> Pieces | stream.Stream:
    """The input that `read` gives piece by piece until b"": as Pieces when it starts like a block
    ResourceList (its items read in blocks of `block` bytes), else as `stream.read_utf8` reads it
    (which raises UnicodeDecodeError)."""
    found = _Cutter(read, block, gate=True).pieces()
    return found if isinstance(found, Pieces) else stream.read_utf8(found.read)


class _Replay:
    """A `read` that gives what was read already, then the rest."""

    def __init__(self, data: bytes, rest: Callable[[int], bytes]) -> None:
        self.data: bytes | None = data
        self.rest = rest

    def read(self, size: int) -> bytes:
        data, self.data = self.data, None
        return data if data else self.rest(size)


class _Cutter:
    def __init__(self, read: Callable[[int], bytes], block: int, gate: bool, errors: str = "strict") -> None:
        self.read, self.block, self.gate, self.errors = read, block, gate, errors
        # The input from the line break before the piece being read on (a line break in front at
        # first): every line is matched from the break before it.
        self.buffer = bytearray(b"\n")
        self.done: list[str] = []  # the pieces decoded so far
        self.mark = 0  # where in the buffer the last of them ends (its last byte)
        self.eof = False

    def more(self, block: int | None = None) -> None:
        data = self.read(block or self.block)
        self.eof = not data
        self.buffer += data

    def known(self) -> int:
        """Where the lines read to their end stop (after their line break), or the input's end."""
        return len(self.buffer) if self.eof else self.buffer.rfind(b"\n") + 1

    def decode(self, end: int) -> str:
        """The next piece: from the last one's end up to `end`."""
        with memoryview(self.buffer) as view:  # a slice without a copy, released before the buffer changes
            text = str(view[self.mark + 1 : end], "utf-8", self.errors)
        self.mark = end - 1
        return text

    def drop(self, size: int) -> None:
        """Forget the buffer's first `size` bytes (decoded already)."""
        del self.buffer[:size]
        self.mark -= size

    def give_up(self) -> _Replay:
        data = "".join(self.done).encode("utf-8", "surrogatepass") + self.buffer[self.mark + 1 :]
        self.done, self.buffer = [], bytearray()
        return _Replay(bytes(data), self.read)

    def pieces(self) -> Pieces | _Replay:
        try:
            return self._pieces()
        except UnicodeDecodeError:  # not UTF-8: stream.read_utf8 raises it again, placed in the input
            return self.give_up()

    def _pieces(self) -> Pieces | _Replay:
        key = None  # the `items:` line
        while key is None:
            self.more(min(self.block, HEAD_BLOCK) if self.gate else None)
            if self.gate and b"ResourceList" not in self.buffer:  # no list's head yet
                if self.eof or len(self.buffer) > HEAD_BLOCK:
                    return self.give_up()  # a plain stream, handed on before any pattern is compiled
                continue
            known = self.known()
            key = _re(ITEMS_KEY).search(self.buffer, 0, known)
            if key is None and (self.eof or (self.gate and len(self.buffer) > HEAD_LIMIT)):
                return self.give_up()
            if self.gate and (self.buffer.startswith(b"\n" + stream.BOM_UTF8) or not _list_head(self.buffer, key.start() if key else known, key is not None)):
                return self.give_up()
        first = None  # the first line with content after it: an item's `-` line, or no item list
        while True:
            first = _re(CONTENT_LINE).search(self.buffer, key.end(), self.known())
            if first is not None or self.eof:
                break
            self.more()
        dash = len(first.group(1)) if first is not None else 0
        if first is None or not item_start(dash).match(self.buffer, first.start()):
            return self.give_up()
        self.done.append(self.decode(first.start() + 1))
        self.drop(first.start())
        return self._items(dash, key.start())

    def _items(self, dash: int, key_line: int) -> Pieces:
        starts = item_start(dash)
        scan = 1  # from the line break after the first line of the item being read
        while True:
            known = self.known()
            after = _re(AFTER_ITEMS).search(self.buffer, scan, known)
            if after is not None and after.end() == known and not self.eof:
                after = None  # the line after it is not read yet
            stop = after.start() + 1 if after is not None else known
            for found in starts.finditer(self.buffer, scan, stop):
                self.done.append(self.decode(found.start() + 1))
            if after is not None or self.eof:
                self.done.append(self.decode(stop))
                break
            scan = max(known - 1 - self.mark, 1)  # the last line break's next line is read on
            self.drop(self.mark)
            self.more()
        while not self.eof:
            self.more()
        tail = self.decode(len(self.buffer))
        self.buffer = bytearray()
        return Pieces(self.done[0], self.done[1:], tail, key_line, dash)


def _list_head(buffer: bytearray, end: int, complete: bool) -> bool:
    """Whether the lines before `end` may be the head of a ResourceList: each line at column 0 that
    is a `kind` key names ResourceList, and (once the head is `complete`) there is one."""
    kinds = [found.start() for found in _re(_KIND_KEY).finditer(buffer, 0, end)]
    return all(_re(_LIST_KIND).match(buffer, k) for k in kinds) and (bool(kinds) or not complete)
