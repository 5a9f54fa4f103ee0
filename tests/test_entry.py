"""The executable's render path without Typer (entry.py) must behave exactly like the Typer app."""

from __future__ import annotations

import ast
import re
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


# What a render must not import: the CLI framework, the round-trip YAML library (rewrite.py, for a
# document that cannot be edited in place), the other commands' modules, what only a rare input needs
# (the KRM function), and typing, dataclasses and contextlib with what they import (record.py says why).
NOT_ON_THE_RENDER_PATH = (
    "typer", "click", "rich", "pydantic", "ruamel", "importlib.metadata", "textwrap",
    "typing", "dataclasses", "inspect", "ast", "dis", "tokenize", "contextlib",
    "zdrender.krm", "zdrender.cli", "zdrender.catalog", "zdrender.sarif", "zdrender.unidiff", "zdrender.flux", "zdrender.timeline",
)  # fmt: skip
# A stream whose documents no rule looks at: no rule plans, so no JSON patch is applied.
NO_WORKLOADS = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {k: v}\n"


def render_in_a_fresh_process(text: str, watched: tuple[str, ...]) -> list[str]:
    """The modules of `watched` (or under them) that `zdrender -q` imported while rendering `text`."""
    probe = (
        "import sys; sys.argv = ['zdrender', '-q']\n"
        "from zdrender import entry\n"
        "try:\n    entry.main()\n"
        "finally:\n"
        f"    watched = {watched!r}\n"
        "    sys.stderr.write(repr(sorted({w for w in watched for m in sys.modules if m == w or m.startswith(w + '.')})))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], input=text, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(text.split("\n", 1)[0])
    return ast.literal_eval(done.stderr)


def test_render_path_imports_only_what_rendering_needs():
    """Start-up is paid on every render (issue 14): a guard on what is imported, not a timing."""
    assert render_in_a_fresh_process(FIXTURE.read_text(), NOT_ON_THE_RENDER_PATH) == []


def test_a_stream_without_workloads_applies_no_patch():
    assert render_in_a_fresh_process(NO_WORKLOADS, (*NOT_ON_THE_RENDER_PATH, "jsonpatch", "jsonpointer")) == []


def test_pyyaml_finds_its_reader_pattern_precompiled():
    """entry.main leaves the cheap equivalent of yaml.reader's pattern in re's cache; PyYAML must use it
    (a PyYAML whose pattern changed, or a Python whose re cache did, needs entry.py updated)."""
    probe = "import sys; sys.argv = ['zdrender', '-q']\nfrom zdrender import entry\nentry.main()\nimport yaml.reader\nsys.stderr.write(ascii(yaml.reader.Reader.NON_PRINTABLE.pattern))\n"
    done = subprocess.run([sys.executable, "-c", probe], input=NO_WORKLOADS, capture_output=True, text=True)
    assert done.returncode == 0 and done.stderr == ascii(entry.NON_PRINTABLE_COMPLEMENT), done.stderr[-300:]


def test_the_precompiled_pattern_matches_what_pyyaml_wrote():
    every_code_point = "".join(map(chr, range(sys.maxunicode + 1)))
    ours = [m.start() for m in re.compile(entry.NON_PRINTABLE_COMPLEMENT).finditer(every_code_point)]
    pyyaml = [m.start() for m in re.compile(entry.PYYAML_NON_PRINTABLE).finditer(every_code_point)]
    assert ours == pyyaml and len(ours) == 2111
