"""What every command does around the pipeline: read each input (a file or stdin, UTF-8, errors
located by document, line and column), build settings from the flags, loop over the files naming
the file in every error, and fail with one line. Typer-free: the render path (entry.py, render.py)
uses it too, where start-up is paid on every render.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator

from .report import one_line

TYPE_CHECKING = False  # typing's, without importing typing on the render path (record.py says why)
if TYPE_CHECKING:
    from typing import Any, TypeVar

    from .stream import Stream

    T = TypeVar("T")


def fail(message: str, code: int = 2, report: str | None = None) -> SystemExit:
    """Print a one-line error and return the exit to raise (Typer lets SystemExit through)."""
    if report:
        import contextlib  # here, not at the top: a render that succeeds does not pay its import (record.py)

        from .report import write_report

        with contextlib.suppress(OSError):
            write_report(report, [], error=message)
    sys.stderr.write(f"zdrender: {one_line(message)}\n")
    return SystemExit(code)


def settings_from_args(kube_version: str | None, assignments: list[str] | None, config: str | None, function_config=None):
    from . import rules, settings

    flags = settings.parse_assignments(assignments or [])
    if kube_version is not None:
        flags["kube-version"] = kube_version
    return settings.load(rules.all_knobs(), config_file=config, flags=flags, function_config=function_config)


def read_input(path: str) -> str:
    """The whole input as one str (commands that need no documents: a HelmRelease file, say)."""
    return read_with(path, lambda read: read(-1).decode("utf-8"))


def read_stream(path: str) -> Stream:
    """read_input split into documents as they are read (stream.read_utf8): the stream is held about
    once, never as one str or as bytes beside its documents."""
    from . import stream

    return read_with(path, stream.read_utf8)


def read_with(path: str, reader: Callable[[Callable[[int], bytes]], T]) -> T:
    """What `reader` makes of the input's bytes, read in blocks by the function it is given; errors as
    read_input gives them."""
    try:
        if path == "-":
            return reader(sys.stdin.buffer.read)
        with open(path, "rb") as handle:
            return reader(handle.read)
    except OSError as err:
        raise ValueError(f"cannot read {path}: {err.strerror}") from None
    except UnicodeDecodeError as err:  # `object` holds the stream up to the byte
        raise ValueError(_not_utf8(path, err.object, err)) from None


def _not_utf8(path: str, data: bytes, err: UnicodeDecodeError) -> str:
    name = "stdin" if path == "-" else path
    return f"{name}: {_place(data, err.start)}: byte 0x{data[err.start]:02x} is not UTF-8; Kubernetes manifests must be UTF-8"


def _place(data: bytes, offset: int) -> str:
    """`document N, line L, column C` of a byte offset, as a reader of the stream counts them."""
    from . import stream

    before = data[:offset].decode("utf-8", "replace")
    line_start = before.rfind("\n") + 1
    documents = stream.split(before).documents
    number = documents[-1].number if documents else 1
    return f"document {max(number, 1)}, line {before.count(chr(10)) + 1}, column {len(before) - line_start + 1}"


def input_error(path: str, err: Exception) -> str:
    """Pipeline errors name the document and line; add the file when it is not stdin."""
    return str(err) if path == "-" else f"{path}: {err}"


def each_file(paths: list[str], work: Callable[[str, Any], T], errors: list[str] | None = None, read: Callable[[str], Any] = read_input) -> Iterator[tuple[str, T]]:
    """(path, work(path, read(path))) for each input, read in turn (as one str by default, or as a
    stream.Stream with read=read_stream): the one loop of check, diff, explain and timeline. A file
    that cannot be read, or that the pipeline or the settings refuse, gives a one-line error naming it:
    collected in `errors` when given (the run goes on, as `check` does), else raised as ValueError at
    the first (as the other commands do)."""
    from . import pipeline
    from .settings import SettingsError

    for path in paths:
        try:
            yield path, work(path, read(path))
        except ValueError as err:  # unreadable or not UTF-8: the message names the file
            if errors is None:
                raise
            errors.append(str(err))
        except (SettingsError, pipeline.InputError) as err:
            if errors is None:
                raise ValueError(input_error(path, err)) from None
            errors.append(input_error(path, err))
