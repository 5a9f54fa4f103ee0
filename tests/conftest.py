"""Shared test helpers: the corpus location, the fixture runner, and the CI-means-fail rule."""

from __future__ import annotations

import os
import shlex
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
CORPUS = Path(os.environ.get("ZDRENDER_CORPUS", ROOT.parent / "shared" / "corpus"))
TOOLS = ROOT / ".tools" / "bin"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require(condition: bool, reason: str) -> None:
    """Skip with a visible reason, except under CI=true where a missing tool or data fails."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: missing tools or data fail instead of skipping)")
    pytest.skip(reason)


def require_module(name: str):
    """A module the test needs, imported; skipped when missing, except under CI=true where it fails
    (pytest.importorskip would skip there too)."""
    import importlib

    try:
        return importlib.import_module(name)
    except ImportError as err:
        require(False, f"{name} is not installed ({err}); pip install -e '.[test]'")


def corpus_files() -> list[Path]:
    return sorted(CORPUS.glob("*.yaml")) if CORPUS.is_dir() else []


def tool(name: str) -> str:
    """Path of a test tool: .tools/bin (scripts/install-test-tools.sh) first, then PATH."""
    local = TOOLS / name
    if local.exists():
        return str(local)
    found = shutil.which(name)
    require(found is not None, f"{name} is not installed; run scripts/install-test-tools.sh")
    return found  # type: ignore[return-value]


def fixture_args(text: str) -> list[str]:
    """A fixture's first line may be `# args: --kube-version=1.28 --set key=value`."""
    first = text.split("\n", 1)[0]
    return shlex.split(first.removeprefix("# args:")) if first.startswith("# args:") else []


@pytest.fixture
def corpus() -> list[Path]:
    files = corpus_files()
    require(bool(files), f"the corpus is absent at {CORPUS}")
    return files
