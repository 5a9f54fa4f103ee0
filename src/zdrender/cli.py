"""The command line: parse arguments, read input, call the pipeline, print.

`zdrender` with no command renders stdin to stdout, which is how Helm, Argo CD and shell pipes call
a post-renderer. Nothing is written to stdout until the whole stream succeeded.
"""

from __future__ import annotations

import json
import os
import sys
from typing import TYPE_CHECKING, Annotated

import typer

from . import __version__, options
from .report import one_line
from .runner import each_file, fail, read_stream  # Typer-free, shared with the render path
from .runner import settings_from_args as _settings

if TYPE_CHECKING:
    from .finding import Finding
    from .pipeline import Result

EPILOG = """Examples:

  helm template my-release ./chart | zdrender > safe.yaml

  helm upgrade --install web ./chart --post-renderer zdrender --post-renderer-args=--kube-version=1.29

  zdrender explain rendered.yaml          # the JSON patch for every document

  helm template web ./chart | zdrender flux > post-renderers.yaml   # for a Flux HelmRelease

  zdrender --set prestop-seconds=15 --set drain-seconds=30 < in.yaml
"""

app = typer.Typer(
    add_completion=True,  # --install-completion and --show-completion; entry.py sends completion requests here
    no_args_is_help=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _render_option(param: str) -> typer.models.OptionInfo:
    """A render option as options.py declares it (the fast path in entry.py reads the same table)."""
    option = options.BY_PARAM[param]
    return typer.Option(*option.flags, help=option.help, show_default=False)


KubeVersion = Annotated[str | None, _render_option("kube_version")]
SetOption = Annotated[list[str] | None, _render_option("assignments")]
ConfigOption = Annotated[str | None, _render_option("config")]
ReportOption = Annotated[str | None, _render_option("report")]
Files = Annotated[list[str] | None, typer.Argument(help="Input files ('-' or none: stdin).", show_default=False)]
FailOn = Annotated[str, typer.Option("--fail-on", help="Exit 1 when a finding is at least this severe: info, warning or error.")]
FormatOption = Annotated[str, typer.Option("--format", help="text, json, sarif or github (GitHub Actions annotations).")]


def _version_callback(value: bool) -> None:
    if value:
        print(f"zdrender {__version__}")
        raise typer.Exit()


@app.callback(invoke_without_command=True, epilog=EPILOG)
def render(
    ctx: typer.Context,
    kube_version: KubeVersion = None,
    assignments: SetOption = None,
    config: ConfigOption = None,
    report: ReportOption = None,
    quiet: Annotated[bool, _render_option("quiet")] = False,
    verbose: Annotated[bool, _render_option("verbose")] = False,
    allow_empty: Annotated[bool, _render_option("allow_empty")] = False,
    version: Annotated[bool, typer.Option("--version", callback=_version_callback, is_eager=True, help="Print the version.")] = False,
) -> None:
    """Make rollouts drop no traffic: read manifests on stdin, write them patched to stdout."""
    if ctx.invoked_subcommand is not None:
        given = {"kube_version": kube_version, "assignments": assignments, "config": config, "report": report, "quiet": quiet, "verbose": verbose, "allow_empty": allow_empty}
        before = [options.BY_PARAM[param].flags[0] for param, value in given.items() if value]
        if before:  # read for render and then dropped: the command would run without them, silently
            command = ctx.invoked_subcommand
            message = (
                f"{', '.join(before)} given before `{command}`: options before a command are render's and {command} would run without them; "
                f"put them after it (zdrender {command} --help lists what it takes)"
            )
            sys.stderr.write(f"{ctx.get_usage()}\nTry 'zdrender -h' for help.\n\nError: {message}\n")  # a usage error, as Typer prints one
            raise typer.Exit(2)
        return
    from .render import render as render_stream  # the same call entry.py makes without Typer

    render_stream(kube_version, assignments, config, report, quiet, verbose, allow_empty)


@app.command()
def explain(
    files: Files = None,
    kube_version: KubeVersion = None,
    assignments: SetOption = None,
    config: ConfigOption = None,
) -> None:
    """Print, as JSON, the RFC 6902 patch zdrender would apply to each document."""
    from . import pipeline
    from .settings import SettingsError

    paths = files or ["-"]
    entries = []
    try:
        settings = _settings(kube_version, assignments, config)
        # Planned as render plans (keep_nodes=False: one node graph alive at a time), each document
        # explained inside the loop, where a document that cannot be read is an error naming the file.
        for path, explained in each_file(paths, lambda path, documents: pipeline.explain(pipeline.run(documents, settings, keep_nodes=False)), read=read_stream):
            entries += [{"file": path, **entry} if len(paths) > 1 else entry for entry in explained]
    except (ValueError, SettingsError) as err:
        raise fail(str(err)) from None
    print(json.dumps(entries, indent=2, default=str))


@app.command()
def flux(
    files: Files = None,
    kube_version: KubeVersion = None,
    assignments: SetOption = None,
    config: ConfigOption = None,
    output_format: Annotated[str, typer.Option("--format", help="fragment: the postRenderers block to paste under a HelmRelease spec.")] = "fragment",
    helmrelease: Annotated[str | None, typer.Option("--helmrelease", help="Print this HelmRelease file with its spec.postRenderers replaced (or added), comments kept.", show_default=False)] = None,
) -> None:
    """Print zdrender's changes as Flux HelmRelease postRenderers: one JSON 6902 kustomize patch per changed object."""
    from . import flux as fluxcd
    from . import pipeline
    from .settings import SettingsError

    _one_of("--format", output_format, ("fragment",))
    paths = files or ["-"]
    found = fluxcd.Patches()
    try:
        settings = _settings(kube_version, assignments, config)
        for path, result in each_file(paths, lambda path, text: pipeline.run(text, settings, parse_all=True)):
            if not any(d.holds_object for d in result.documents):
                raise ValueError(f"{'stdin' if path == '-' else path}: holds no manifests; check that the renderer produced output")
            fluxcd.collect(result, found, path if len(paths) > 1 else None)
        if helmrelease is not None:
            from .runner import read_input

            out = fluxcd.helmrelease(read_input(helmrelease), found, helmrelease)
        else:
            out = fluxcd.fragment(found)
    except (ValueError, SettingsError) as err:
        raise fail(str(err)) from None
    for message in found.warnings:
        sys.stderr.write(f"zdrender: warning: {one_line(message)}\n")
    sys.stdout.write(out)


@app.command("rules")
def list_rules(
    output_format: Annotated[str, typer.Option("--format", help="text, json or markdown.")] = "text",
    config_example: Annotated[bool, typer.Option("--config-example", help="Print a settings file with every setting at its default, for --config.")] = False,
) -> None:
    """List the rules, what they change, and their settings with defaults."""
    from . import catalog

    if config_example:
        print(catalog.config_example(), end="")
        return
    _one_of("--format", output_format, ("text", "json", "markdown"))
    print(catalog.render(output_format), end="")


def _one_of(option: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise fail(f"{option} {value!r}: expected {', '.join(allowed[:-1])} or {allowed[-1]}")


@app.command()
def check(
    files: Files = None,
    kube_version: KubeVersion = None,
    assignments: SetOption = None,
    config: ConfigOption = None,
    fail_on: FailOn = "warning",
    output_format: FormatOption = "text",
    report: ReportOption = None,
) -> None:
    """Lint: report what zdrender would change or warns about, without rewriting anything.

    Exit 0 when no finding reaches --fail-on, 1 when one does (findings zdrender would fix count at
    their severity), 2 on bad input.
    """
    from . import pipeline
    from . import report as reports
    from .settings import SettingsError

    _one_of("--fail-on", fail_on, tuple(reports.SEVERITY_ORDER))
    _one_of("--format", output_format, reports.FORMATS)
    report = report or os.environ.get("ZDRENDER_REPORT") or None
    paths = files or ["-"]
    findings, errors = [], []
    try:
        settings = _settings(kube_version, assignments, config)
    except SettingsError as err:
        errors.append(str(err))
        paths = []
    # Judged as render judges them (keep_nodes=False): what stays of each file is its findings.
    for path, (holds_objects, found) in each_file(paths, lambda path, documents: _findings(pipeline.run(documents, settings, keep_nodes=False)), errors, read=read_stream):
        if not holds_objects:
            errors.append(f"{'stdin' if path == '-' else path}: holds no manifests; check that the renderer produced output")
        findings += [finding.in_file(path) for finding in found]
    error = "; ".join(errors) if errors else None
    if report:
        try:
            reports.write_report(report, findings, error=error, mode="check", files=len(paths))
        except OSError as err:
            errors.append(f"cannot write the report {report}: {err.strerror}")
    if output_format == "text" and sys.stdout.isatty():
        _print_coloured(findings, files=len(paths))
    elif output_format != "text" or findings or not errors:
        # Text goes to stdout without the error, which gets its one line on stderr below.
        text_error = None if output_format == "text" else error
        sys.stdout.write(reports.format_findings(output_format, findings, error=text_error, mode="check", files=len(paths)))
    for message in errors:
        sys.stderr.write(f"zdrender: {one_line(message)}\n")
    if errors:
        raise typer.Exit(2)
    raise typer.Exit(1 if any(reports.reaches(f, fail_on) for f in findings) else 0)


def _findings(result: Result) -> tuple[bool, list[Finding]]:
    """Whether the stream holds an object, and its findings: all `check` keeps of a run."""
    return any(d.holds_object for d in result.documents), result.findings


def _print_coloured(findings: list, files: int) -> None:
    from rich.console import Console

    from . import report as reports

    console = Console(highlight=False, soft_wrap=True)
    for finding in findings:
        console.print(reports.finding_line(finding, mode="check", markup=True))
    console.print(reports.totals_line(findings, files=files, mode="check"), style="dim" if findings else "green")


@app.command()
def diff(
    files: Files = None,
    kube_version: KubeVersion = None,
    assignments: SetOption = None,
    config: ConfigOption = None,
    exit_code: Annotated[bool, typer.Option("--exit-code", help="Exit 1 when there is a difference, like git diff.")] = False,
) -> None:
    """Print, as a unified diff per file, what zdrender would change."""
    from . import pipeline
    from .settings import SettingsError
    from .unidiff import unified_pieces

    paths = files or ["-"]
    chunks = []
    try:
        settings = _settings(kube_version, assignments, config)
        for path, result in each_file(paths, lambda path, documents: pipeline.run(documents, settings, keep_nodes=False), read=read_stream):
            name = "stdin" if path == "-" else path
            if not any(d.holds_object for d in result.documents):  # render refuses it too
                raise ValueError(f"{name}: holds no manifests; check that the renderer produced output")
            befores = result.stream.pieces([d.document.text for d in result.documents])
            afters = result.stream.pieces([d.output for d in result.documents])
            chunks.append(unified_pieces(zip(befores, afters), name))  # documents compared one by one
    except (ValueError, SettingsError) as err:
        raise fail(str(err)) from None
    sys.stdout.write("".join(chunks))
    sys.stdout.flush()
    if exit_code and any(chunks):
        raise typer.Exit(1)


@app.command()
def timeline(
    files: Files = None,
    workload: Annotated[str | None, typer.Option("--workload", help="Only this workload: KIND/NAME (or NAME).", show_default=False)] = None,
    svg: Annotated[str | None, typer.Option("--svg", help="Also write the drawing to this standalone SVG file.", show_default=False)] = None,
    propagation: Annotated[
        float,
        typer.Option("--propagation", min=0, help="Seconds after deletion during which endpoints and load balancers still send traffic."),
    ] = 5.0,  # timeline.model.DEFAULT_PROPAGATION, not imported here: the CLI loads the timeline lazily
    kube_version: KubeVersion = None,
    assignments: SetOption = None,
    config: ConfigOption = None,
) -> None:
    """Draw how one pod shuts down and how a rolling update moves ready capacity, for each serving
    workload, before and after zdrender's patches, with the windows where requests can be dropped."""
    from .settings import SettingsError
    from .timeline.compare import compare, matches

    paths = files or ["-"]
    comparisons = []
    try:
        settings = _settings(kube_version, assignments, config)
        for path, found in each_file(paths, lambda path, text: compare(text, settings, propagation=propagation)):
            for c in found:
                c.file = path if len(paths) > 1 else None
            comparisons.extend(found)
    except (ValueError, SettingsError) as err:
        raise fail(str(err)) from None
    if workload is not None:
        chosen = [c for c in comparisons if matches(c.ref, workload)]
        if not chosen:
            known = ", ".join(c.ref for c in comparisons) or "none"
            raise fail(f"--workload {workload}: no serving workload of that name in the input (serving workloads: {known})")
        comparisons = chosen
    if not comparisons:
        raise fail("no serving workload in the input: the timeline draws workloads that a Service in the input selects or that bind host ports (--set assume-serving=true counts declared ports)")
    from rich.console import Console

    from .timeline import terminal

    terminal.render(comparisons, Console(highlight=False))
    if svg:
        from .timeline import svg as drawing

        title = "zdrender timeline: " + ", ".join(c.ref for c in comparisons)
        try:
            with open(svg, "w", encoding="utf-8") as handle:
                handle.write(drawing.render(comparisons, title))
        except OSError as err:
            raise fail(f"cannot write {svg}: {err.strerror}") from None
        sys.stderr.write(f"zdrender: wrote {svg}\n")


def main() -> None:
    app(prog_name="zdrender")
