"""Unified diffs of a stream before and after zdrender, in the shape `git diff` prints and `patch -p1` applies."""

from __future__ import annotations

import difflib

NO_NEWLINE = "\\ No newline at end of file\n"


def patch_lines(text: str) -> list[str]:
    """Lines as `patch` and `git apply` count them: split at LF only. str.splitlines also splits at CR,
    VT, FF, NEL, U+2028 and more, which made hunks that do not apply ("malformed patch")."""
    parts = text.split("\n")
    lines = [part + "\n" for part in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def unified(before: str, after: str, name: str, *, context: int = 3) -> str:
    """The diff from `before` to `after` with `a/NAME` and `b/NAME` headers; empty when equal."""
    if before == after:
        return ""
    name = name.lstrip("/")
    lines = difflib.unified_diff(
        patch_lines(before),
        patch_lines(after),
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
