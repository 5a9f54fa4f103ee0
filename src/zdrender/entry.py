"""The `zdrender` executable: the render path without Typer, everything else through it.

Helm, Argo CD and shell pipes run `zdrender [render options]` on every render, so start-up is paid
thousands of times a day. Importing Typer costs ~55 ms and its parsing builds a pydantic TypeAdapter
per parameter on every call (~90 ms more): a 3 KB release took 210 ms through Typer, 65 ms here. When
argv holds only the render options (options.py), written plainly, it is read here and `render.render` runs
with nothing else imported. Anything else (a command, --help, --version, `--`, combined short flags,
an unknown, repeated or malformed option) goes to the Typer app in cli.py, which owns every usage
error and message, and so does a shell's completion request (_ZDRENDER_COMPLETE in the environment).
"""

from __future__ import annotations

import gc
import os
import sys

from .options import BY_FLAG, FLAG, MULTI

TYPE_CHECKING = False  # typing's, without importing typing on the render path (record.py says why)
if TYPE_CHECKING:
    from typing import Any

# PyYAML's pure-Python Reader compiles, as yaml is imported, a character class spanning all of Unicode:
# ~10 ms of every render (a sixth of a small one), for a reader that never runs here (libyaml reads).
PYYAML_NON_PRINTABLE = "[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
# The same set written as its complement compiles in ~1 ms; tests/test_entry.py compares every code point.
NON_PRINTABLE_COMPLEMENT = "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff\ufffe\uffff]"


def precompile_pyyaml_pattern() -> None:
    """Leave the cheap equivalent in `re`'s cache under the key yaml.reader's `re.compile` looks up. The
    cache is private: when it is not the dict keyed (type, pattern, flags) that it is in CPython 3.11 to
    3.13, or yaml is already imported, nothing is done and PyYAML compiles its own."""
    import re

    cache = getattr(re, "_cache", None)
    if isinstance(cache, dict) and "yaml" not in sys.modules:
        cache.setdefault((str, PYYAML_NON_PRINTABLE, 0), re.compile(NON_PRINTABLE_COMPLEMENT))


def parse(argv: list[str]) -> dict[str, Any] | None:
    """Keyword arguments for `render.render`, or None when Typer must parse argv."""
    kwargs: dict[str, Any] = {}
    args = list(argv)
    while args:
        token = args.pop(0)
        name, eq, inline = token.partition("=")
        option = BY_FLAG.get(name)
        if option is None:
            return None
        param = option.param
        if option.kind == FLAG:
            if eq or param in kwargs:
                return None
            kwargs[param] = True
            continue
        if eq:
            value = inline
        elif args and not args[0].startswith("-"):
            value = args.pop(0)
        else:
            return None
        if option.kind == MULTI:
            kwargs.setdefault(param, []).append(value)
        elif param in kwargs:
            return None
        else:
            kwargs[param] = value
    return kwargs


def main() -> None:
    # A short-lived process whose objects form no cycles worth reclaiming: the collector's passes
    # over an ever larger heap made big streams cost more than linearly (3x at 4 MB of workloads).
    gc.disable()
    precompile_pyyaml_pattern()
    # A shell asking for completions runs `zdrender` with no arguments and _ZDRENDER_COMPLETE set
    # (cli.py's --show-completion prints the script that does): Click answers it, not render.
    kwargs = None if "_ZDRENDER_COMPLETE" in os.environ else parse(sys.argv[1:])
    if kwargs is None:
        from .cli import main as typer_main

        typer_main()
        return
    from .render import render

    try:
        render(**kwargs)
    except BrokenPipeError:  # the reader went away: exit 1 as click does, without a second error at exit
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise SystemExit(1) from None
    except KeyboardInterrupt:
        sys.stderr.write("\nAborted!\n")
        raise SystemExit(1) from None
