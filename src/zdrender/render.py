"""Render stdin to stdout: what `zdrender` does with no command, for Helm, Argo CD, kustomize and pipes.

This module imports no Typer: `entry.main` calls `render` straight from argv on the post-renderer
path, where start-up is paid on every render; cli.py declares the same options for Typer (help,
usage errors) and delegates here. Nothing is written to stdout until the whole stream succeeded.
"""

from __future__ import annotations

import os
import sys

from .runner import fail, read_with, settings_from_args

TYPE_CHECKING = False  # typing's, without importing typing on the render path (record.py says why)
if TYPE_CHECKING:
    from . import stream


def render(
    kube_version: str | None = None,
    assignments: list[str] | None = None,
    config: str | None = None,
    report: str | None = None,
    quiet: bool = False,
    verbose: bool = False,
    allow_empty: bool = False,
) -> None:
    from . import krmread, pipeline, stream
    from . import report as reports
    from .settings import SettingsError

    report = report or os.environ.get("ZDRENDER_REPORT") or None
    settings_for = lambda fc: settings_from_args(kube_version, assignments, config, fc)  # noqa: E731
    try:
        documents = read_with("-", krmread.read_utf8)  # a ResourceList comes in pieces, cut at its items
        if isinstance(documents, krmread.Pieces):
            from . import krm  # imported only for a stream that may be a ResourceList: a plain render does not pay for it

            if krm.is_cut_list(documents):
                return _render_krm(documents, settings_for, report, quiet, verbose)
            documents = stream.split(documents.join())
        text = _resource_list_text(documents)
        if text is not None:
            from . import krm

            if krm.is_resource_list(text):  # kustomize / kpt call us as a KRM function
                return _render_krm(text, settings_for, report, quiet, verbose)
        settings = settings_from_args(kube_version, assignments, config)
        result = pipeline.run(documents, settings, keep_nodes=False)
        # An edit is new text: it must encode before the first byte goes out. Every document is encoded
        # as it is written, one at a time: never the whole stream as one string, or as bytes beside it.
        for document in result.documents:
            if document.output is not document.document.text:
                document.output.encode("utf-8")
    except (ValueError, SettingsError, pipeline.InputError) as err:
        raise fail(str(err), report=report) from None
    if not any(d.holds_object for d in result.documents) and not allow_empty:
        # Argo CD prunes everything on an empty render, and Helm 3 accepts one silently.
        raise fail("the input holds no manifests; refusing to print an empty stream (--allow-empty accepts it)", report=report)
    if report:
        _write_report(report, result.findings)
    out = sys.stdout.buffer
    if result.stream.bom:
        out.write(stream.BOM_UTF8)
    for document in result.documents:
        out.write(document.output.encode("utf-8"))
    sys.stdout.flush()
    if not quiet:
        for line in reports.summary_lines(result.findings, verbose=verbose):
            sys.stderr.write(line + "\n")


def _resource_list_text(documents: stream.Stream) -> str | None:
    """The input as text when it may be a KRM ResourceList, for krm.is_resource_list to judge: a
    document classified as one, or a single one the text could not classify (flow style, JSON)."""
    from .workload import RESOURCE_LIST

    content = [d for d in documents.documents if d.has_content]
    if not any(d.kind == RESOURCE_LIST for d in content) and not (len(content) == 1 and not content[0].classified):
        return None
    text = documents.join()
    return text.replace("\n", "\r") if documents.cr_only else text


def _write_report(report: str, findings) -> None:
    from .report import write_report

    try:
        write_report(report, findings)
    except OSError as err:
        raise fail(f"cannot write the report {report}: {err.strerror}; fix --report or $ZDRENDER_REPORT") from None


def _render_krm(source, settings_for, report: str | None, quiet: bool, verbose: bool) -> None:
    """KRM function mode: stdout is always a ResourceList (with an error result on failure), and
    only the exit code tells kustomize and kpt that it failed. The list is written piece by piece
    (most of them the input's items), never joined."""
    from . import krm
    from . import report as reports

    outcome = krm.run(source, settings_for)
    for piece in outcome.pieces:  # new text must encode before the first byte goes out (ASCII always does)
        if not piece.isascii():
            piece.encode("utf-8")
    out = sys.stdout.buffer
    for piece in outcome.pieces:
        out.write(piece.encode("utf-8"))
    sys.stdout.flush()
    if outcome.error is not None:
        raise fail(outcome.error, report=report)
    if report:
        _write_report(report, outcome.findings)
    if not quiet:
        for line in reports.summary_lines(outcome.findings, verbose=verbose):
            sys.stderr.write(line + "\n")
