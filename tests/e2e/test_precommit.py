"""The hooks in .pre-commit-hooks.yaml, run by the real pre-commit (`try-repo`, which installs the hooks
repository into pre-commit's own environment) in a throwaway git repository holding rendered manifests.
The hooks repository is this checkout's package and hooks file, committed to a repository of its own."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, require

RENDERED = ROOT / "examples" / "rendered.yaml"
CLEAN = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {mode: fast}\n"


# What pre-commit needs to install zdrender from a hooks repository.
PACKAGE_FILES = ("pyproject.toml", "README.md", "LICENSE", "MANIFEST.in", "CHANGELOG.md", ".pre-commit-hooks.yaml")


@pytest.fixture(scope="module")
def pre_commit_home(tmp_path_factory) -> Path:
    # One environment for the module: pre-commit builds it (pip install of the hooks repository) once.
    return tmp_path_factory.mktemp("pre-commit-home")


@pytest.fixture(scope="module")
def hooks_repo(tmp_path_factory) -> Path:
    """This checkout's package and hooks file committed to a git repository of their own, as pre-commit
    clones a hooks repository: the test then needs neither this checkout's .git nor its state."""
    require(shutil.which("git") is not None, "git is not on PATH")
    repo = tmp_path_factory.mktemp("hooks-repo")
    for name in PACKAGE_FILES:
        shutil.copy(ROOT / name, repo / name)
    shutil.copytree(ROOT / "src", repo / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    subprocess.run(["git", "commit", "-q", "-m", "hooks"], cwd=repo, check=True, env={**os.environ, **GIT_IDENTITY})
    return repo


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    require(shutil.which("git") is not None, "git is not on PATH")
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / "rendered").mkdir()
    (tmp_path / "values.yaml").write_text("replicaCount: 1\n")  # not a manifest: outside the hooks' files
    return tmp_path


GIT_IDENTITY = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}


def try_repo(repo: Path, home: Path, hooks: Path, hook: str) -> subprocess.CompletedProcess[str]:
    require(subprocess.run([sys.executable, "-m", "pre_commit", "--version"], capture_output=True).returncode == 0, "pre-commit is not installed: pip install -e .[test]")
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    env = {**os.environ, "PRE_COMMIT_HOME": str(home), **GIT_IDENTITY}
    env.pop("VIRTUAL_ENV", None)
    return subprocess.run([sys.executable, "-m", "pre_commit", "try-repo", str(hooks), hook, "--all-files"], cwd=repo, env=env, capture_output=True, text=True, timeout=600)


def patched(text: str) -> str:
    return subprocess.run([sys.executable, "-m", "zdrender"], input=text, capture_output=True, text=True, check=True).stdout


def test_check_hook_fails_on_findings_and_names_them(repo, pre_commit_home, hooks_repo):
    (repo / "rendered" / "demo.yaml").write_text(RENDERED.read_text())
    run = try_repo(repo, pre_commit_home, hooks_repo, "zdrender-check")
    assert run.returncode == 1, run.stdout + run.stderr
    assert "zdrender check" in run.stdout and "Failed" in run.stdout
    assert "rendered/demo.yaml:" in run.stdout and "[prestop-sleep]" in run.stdout
    assert "values.yaml" not in run.stdout.split("zdrender check", 1)[1]


def test_check_hook_passes_clean_manifests(repo, pre_commit_home, hooks_repo):
    (repo / "rendered" / "config.yaml").write_text(CLEAN)
    run = try_repo(repo, pre_commit_home, hooks_repo, "zdrender-check")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Passed" in run.stdout


def test_up_to_date_hook_fails_until_the_file_is_zdrenders_output(repo, pre_commit_home, hooks_repo):
    target = repo / "rendered" / "demo.yaml"
    target.write_text(RENDERED.read_text())
    stale = try_repo(repo, pre_commit_home, hooks_repo, "zdrender-up-to-date")
    assert stale.returncode == 1, stale.stdout + stale.stderr
    assert "+++ b/rendered/demo.yaml" in stale.stdout and "preStop" in stale.stdout
    target.write_text(patched(RENDERED.read_text()))
    fresh = try_repo(repo, pre_commit_home, hooks_repo, "zdrender-up-to-date")
    assert fresh.returncode == 0, fresh.stdout + fresh.stderr
