"""The executable's render path without Typer (entry.py) must behave exactly like the Typer app."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.models import OptionInfo
from typer.utils import get_params_from_function

from zdrender import cli, entry, render

FIXTURE = Path(__file__).parent / "fixtures" / "prestop-sleep" / "serving-deployment.yaml"


def typer_render_options() -> dict[str, tuple[str, object]]:
    """cli.render's options as Typer reads them, in entry.RENDER_OPTIONS' shape."""
    table: dict[str, tuple[str, object]] = {}
    for name, meta in get_params_from_function(cli.render).items():
        info = meta.default
        if not isinstance(info, OptionInfo) or info.is_eager:  # ctx, and --version (Typer prints it)
            continue
        hint = str(meta.annotation)
        kind = True if meta.annotation is bool else entry.MULTI if "list[str]" in hint else entry.VALUE
        for decl in info.param_decls:
            table[decl] = (name, kind)
    return table


def test_fast_options_are_typers_options():
    # A render option added to cli.render must be added to entry.RENDER_OPTIONS (else it takes Typer's slow path).
    assert entry.RENDER_OPTIONS == typer_render_options()


def test_fast_keywords_are_render_parameters():
    import inspect

    fast = {param for param, _ in entry.RENDER_OPTIONS.values()}
    assert fast == set(inspect.signature(render.render).parameters)


@pytest.mark.parametrize(
    "argv, expected",
    [
        ([], {}),
        (["-q", "--set", "a=1", "--set=b=2", "--kube-version=1.28"], {"quiet": True, "assignments": ["a=1", "b=2"], "kube_version": "1.28"}),
        (["--report", "out.json", "--allow-empty"], {"report": "out.json", "allow_empty": True}),
    ],
)
def test_parse_render_argv(argv, expected):
    assert entry.parse(argv) == expected


@pytest.mark.parametrize(
    "argv",
    [["check"], ["--help"], ["-h"], ["--version"], ["-qv"], ["--quiet", "--quiet"], ["--quiet=1"], ["--set"], ["--config", "-q"], ["--"], ["--bogus"], ["file.yaml"]],
)
def test_everything_else_goes_to_typer(argv):
    assert entry.parse(argv) is None


def run(module_main: str, args: list[str], text: str) -> subprocess.CompletedProcess:
    code = f"import sys; sys.argv = ['zdrender', *sys.argv[1:]]; from {module_main} import main; main()"
    return subprocess.run([sys.executable, "-c", code, *args], input=text, capture_output=True, text=True)


@pytest.mark.parametrize(
    "args",
    [[], ["-v", "--set", "prestop-seconds=5"], ["--kube-version=1.28", "-q"], ["--set", "no-such-setting=1"]],
)
def test_fast_path_behaves_like_typer(args):
    text = FIXTURE.read_text()
    fast, slow = run("zdrender.entry", args, text), run("zdrender.cli", args, text)
    assert (fast.returncode, fast.stdout, fast.stderr) == (slow.returncode, slow.stdout, slow.stderr)


def test_render_path_imports_no_cli_framework():
    probe = (
        "import sys; sys.argv = ['zdrender', '-q']\n"
        "from zdrender import entry\n"
        "try:\n    entry.main()\n"
        "finally:\n    sys.stderr.write(repr(sorted(m for m in ('typer', 'click', 'rich', 'pydantic') if m in sys.modules)))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], input=FIXTURE.read_text(), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(FIXTURE.read_text().split("\n", 1)[0])
    assert done.stderr.endswith("[]")
