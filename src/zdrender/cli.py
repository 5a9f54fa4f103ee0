"""The command line: parse arguments, read input, call the pipeline, print.

`zdrender` with no command renders stdin to stdout, which is how Helm, Argo CD and shell pipes call
a post-renderer. Nothing is written to stdout until the whole stream succeeded.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Annotated, Optional

import typer

from . import __version__

EPILOG = """Examples:

  helm template my-release ./chart | zdrender > safe.yaml

  helm upgrade --install web ./chart --post-renderer zdrender --post-renderer-args=--kube-version=1.29

  zdrender explain rendered.yaml          # the JSON patch for every document

  zdrender --set prestop-seconds=15 --set drain-seconds=30 < in.yaml
"""

app = typer.Typer(
    add_completion=False,
    no_args_is_help=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

KubeVersion = Annotated[
    Optional[str], typer.Option("--kube-version", help="Target Kubernetes version (default 1.30).", show_default=False)
]
SetOption = Annotated[
    Optional[list[str]], typer.Option("--set", help="Override a setting: key=value (repeatable). See `zdrender rules`.")
]
ConfigOption = Annotated[
    Optional[str], typer.Option("--config", help="Settings file (YAML); also $ZDRENDER_CONFIG.", show_default=False)
]
ReportOption = Annotated[
    Optional[str],
    typer.Option("--report", help="Write all findings (and errors) to FILE: .json, .sarif or text; also $ZDRENDER_REPORT."),
]
Files = Annotated[Optional[list[str]], typer.Argument(help="Input files ('-' or none: stdin).", show_default=False)]


def fail(message: str, code: int = 2, report: str | None = None) -> typer.Exit:
    if report:
        from .report import write_report

        try:
            write_report(report, [], error=message)
        except OSError:
            pass
    sys.stderr.write(f"zdrender: {message}\n")
    return typer.Exit(code)


def _settings(kube_version: str | None, assignments: list[str] | None, config: str | None, function_config=None):
    from . import rules, settings

    flags = settings.parse_assignments(assignments or [])
    if kube_version is not None:
        flags["kube-version"] = kube_version
    return settings.load(rules.all_knobs(), config_file=config, flags=flags, function_config=function_config)


def _read(path: str) -> str:
    try:
        if path == "-":
            data = sys.stdin.buffer.read()
        else:
            with open(path, "rb") as handle:
                data = handle.read()
    except OSError as err:
        raise ValueError(f"cannot read {path}: {err.strerror}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        name = "stdin" if path == "-" else path
        raise ValueError(f"{name}: byte {err.start} is not UTF-8; Kubernetes manifests must be UTF-8") from None


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
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No summary on stderr.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="List every change on stderr.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version_callback, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    """Make rollouts drop no traffic: read manifests on stdin, write them patched to stdout."""
    if ctx.invoked_subcommand is not None:
        return
    from . import pipeline, report as reports
    from .settings import SettingsError

    report = report or os.environ.get("ZDRENDER_REPORT") or None
    try:
        text = _read("-")
        settings = _settings(kube_version, assignments, config)
        result = pipeline.run(text, settings)
        output = result.output
    except (ValueError, SettingsError, pipeline.InputError) as err:
        raise fail(str(err), report=report) from None
    if not output.strip():
        raise fail("the input holds no manifests; refusing to print an empty stream", report=report)
    if report:
        reports.write_report(report, result.findings)
    sys.stdout.buffer.write(output.encode("utf-8"))
    sys.stdout.flush()
    if not quiet:
        for line in reports.summary_lines(result.findings, verbose=verbose):
            sys.stderr.write(line + "\n")


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
        for path in paths:
            result = pipeline.run(_read(path), settings, parse_all=True)
            for entry in pipeline.explain(result):
                if len(paths) > 1:
                    entry = {"file": path, **entry}
                entries.append(entry)
    except (ValueError, SettingsError, pipeline.InputError) as err:
        raise fail(str(err)) from None
    print(json.dumps(entries, indent=2, default=str))


@app.command("rules")
def list_rules(
    output_format: Annotated[str, typer.Option("--format", help="text, json or markdown.")] = "text",
) -> None:
    """List the rules, what they change, and their settings with defaults."""
    from . import catalog

    if output_format not in ("text", "json", "markdown"):
        raise fail(f"--format {output_format!r}: expected text, json or markdown")
    print(catalog.render(output_format), end="")


def main() -> None:
    app(prog_name="zdrender")
