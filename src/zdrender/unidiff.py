"""Unified diffs of a stream before and after zdrender, in the shape `git diff` prints and `patch -p1` applies."""

from __future__ import annotations

import difflib

NO_NEWLINE = "\\ No newline at end of file\n"


def unified(before: str, after: str, name: str, *, context: int = 3) -> str:
    """The diff from `before` to `after` with `a/NAME` and `b/NAME` headers; empty when equal."""
    if before == after:
        return ""
    name = name.lstrip("/")
    lines = difflib.unified_diff(
        before.splitlines(keepends=True),
        after.splitlines(keepends=True),
        fromfile=f"a/{name}",
        tofile=f"b/{name}",
        n=context,
    )
    out = []
    for line in lines:
        out.append(line)
        # A last line without a newline gets the marker that `patch` and `git apply` expect.
        if not line.endswith("\n"):
            out.append("\n" + NO_NEWLINE)
    return "".join(out)
