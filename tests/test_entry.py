"""The executable's render path without Typer (entry.py) must behave exactly like the Typer app."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.models import OptionInfo
from typer.utils import get_params_from_function

from zdrender import cli, entry, options, render

FIXTURE = Path(__file__).parent / "fixtures" / "prestop-sleep" / "failure" / "serving-deployment.yaml"


def test_typer_declares_the_render_options_from_the_one_table():
    """cli.render's options as Typer reads them are options.RENDER_OPTIONS, which the fast path parses with."""
    declared: dict[str, tuple[str, str]] = {}
    for name, meta in get_params_from_function(cli.render).items():
        info = meta.default
        if not isinstance(info, OptionInfo) or info.is_eager:  # ctx, and --version (Typer prints it)
            continue
        hint = str(meta.annotation)
        kind = options.FLAG if meta.annotation is bool else options.MULTI if "list[str]" in hint else options.VALUE
        for decl in info.param_decls:
            declared[decl] = (name, kind)
    assert declared == {flag: (option.param, option.kind) for flag, option in options.BY_FLAG.items()}


def test_fast_keywords_are_render_parameters():
    import inspect

    assert set(options.BY_PARAM) == set(inspect.signature(render.render).parameters)


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
