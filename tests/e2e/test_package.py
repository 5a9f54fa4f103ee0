"""The package as a user gets it: `python -m build` makes an sdist and a wheel built from that sdist,
`twine check --strict` accepts both, and `pipx install` of each puts a `zdrender` in a clean venv that
prints the version and renders.

The build is isolated (the default), as pip and pipx build an sdist for a user: it installs
build-system.requires from PyPI into a throwaway venv, which proves that the declared requirement
(setuptools>=77, for the SPDX license) is enough and costs ~10 s more than --no-isolation, which would
build with whatever setuptools the test venv holds. Without --sdist/--wheel, build makes the sdist
first and the wheel from the unpacked sdist, so a file the sdist leaves out fails here.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

import zdrender

from conftest import ROOT, require_module

pytestmark = pytest.mark.e2e

RENDERED = ROOT / "examples" / "rendered.yaml"
NAME = f"zdrender-{zdrender.__version__}"
DIST_INFO = f"{NAME}.dist-info"


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without this test run's venv and source path, so nothing installed here is
    found through them."""
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "VIRTUAL_ENV", "PIP_REQUIRE_VIRTUALENV")}
    return {**env, **extra}


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> dict[str, Path]:
    require_module("build")
    out = tmp_path_factory.mktemp("dist")
    run = subprocess.run([sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "Building wheel from sdist" in run.stdout + run.stderr  # so a file the sdist leaves out fails the build
    built = {path.suffix: path for path in out.iterdir()}
    assert set(built) == {".gz", ".whl"}, built
    assert built[".gz"].name == f"{NAME}.tar.gz" and built[".whl"].name == f"{NAME}-py3-none-any.whl"
    return {"sdist": built[".gz"], "wheel": built[".whl"]}


def test_twine_check_strict_accepts_both(dist):
    require_module("twine")
    run = subprocess.run([sys.executable, "-m", "twine", "check", "--strict", str(dist["sdist"]), str(dist["wheel"])], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.count("PASSED") == 2, run.stdout


def test_sdist_holds_the_sources_and_docs_and_no_junk(dist):
    with tarfile.open(dist["sdist"]) as sdist:
        names = {name.removeprefix(f"{NAME}/") for name in sdist.getnames()}
    assert {"README.md", "CHANGELOG.md", "pyproject.toml", "PKG-INFO", "src/zdrender/__init__.py", "src/zdrender/entry.py"} <= names
    sources = {path.relative_to(ROOT).as_posix() for path in (ROOT / "src" / "zdrender").rglob("*.py")}
    assert sources <= names, sources - names
    junk = [name for name in names if name.split("/")[0] in ("tests", ".tools", ".venv", "docs", "cluster", "bench", "build", "dist") or "__pycache__" in name or name.endswith(".pyc")]
    assert not junk, junk


def test_wheel_holds_the_package_and_markdown_metadata(dist):
    with zipfile.ZipFile(dist["wheel"]) as wheel:
        names = wheel.namelist()
        metadata = wheel.read(f"{DIST_INFO}/METADATA").decode()
        entry_points = wheel.read(f"{DIST_INFO}/entry_points.txt").decode()
    assert {name.split("/")[0] for name in names} == {"zdrender", DIST_INFO}
    assert f"Version: {zdrender.__version__}\n" in metadata
    assert "Description-Content-Type: text/markdown\n" in metadata and "License-Expression: Apache-2.0\n" in metadata
    assert "zdrender = zdrender.entry:main" in entry_points


def test_pipx_install_runs_in_a_clean_venv(dist, tmp_path):
    """pipx makes its own venv (dependencies from PyPI or pip's cache); the installed zdrender, not
    this checkout's, prints the version, renders the example and prints its completion script. The
    wheel is the one built from the sdist (the fixture checks), so installing the sdist too would
    only build it again (~35 s more)."""
    require_module("pipx")
    home, bin_dir = tmp_path / "pipx-home", tmp_path / "bin"
    env = clean_env(PIPX_HOME=str(home), PIPX_BIN_DIR=str(bin_dir), PIPX_MAN_DIR=str(tmp_path / "man"))
    install = subprocess.run([sys.executable, "-m", "pipx", "install", "--python", sys.executable, str(dist["wheel"])], env=env, capture_output=True, text=True, timeout=600)
    assert install.returncode == 0, install.stdout + install.stderr
    exe = bin_dir / "zdrender"
    assert exe.exists(), install.stdout

    venv_python = home / "venvs" / "zdrender" / "bin" / "python"
    where = subprocess.run([str(venv_python), "-c", "import zdrender; print(zdrender.__file__)"], env=env, capture_output=True, text=True, check=True)
    assert Path(where.stdout.strip()).is_relative_to(home), where.stdout  # not this checkout's src/

    version = subprocess.run([str(exe), "--version"], env=env, capture_output=True, text=True, timeout=60)
    assert version.returncode == 0 and version.stdout.strip() == f"zdrender {zdrender.__version__}", version
    rendered = subprocess.run([str(exe)], stdin=RENDERED.open(), env=env, capture_output=True, text=True, timeout=60)
    assert rendered.returncode == 0, rendered.stderr
    assert "preStop" in rendered.stdout
    completion = subprocess.run(["bash", "-c", f"{shlex.quote(str(exe))} --show-completion; true"], env=env, capture_output=True, text=True, timeout=60)
    assert completion.returncode == 0 and "_ZDRENDER_COMPLETE" in completion.stdout, completion
