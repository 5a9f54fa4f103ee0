"""zdrender's version lives in one place, src/zdrender/__init__.py: pyproject.toml reads it (dynamic
version), and every file that repeats it must say the same. The example charts' own versions
(examples/chart, cluster/chart) are the charts', not zdrender's, and are not checked; the Helm 4
plugin.yaml's version is checked in test_helm_plugin.py."""

from __future__ import annotations

import re
import tomllib

import zdrender

from conftest import ROOT

VERSION = zdrender.__version__

# Each place that quotes zdrender's version, and how it is spelled there.
NUMBER = r"(\d+(?:\.\d+)*(?:[a-z]+\d*)?)"
QUOTED = {
    "README.md": [rf"zdrender-cmp:{NUMBER}", rf"zdrender-krm:{NUMBER}", rf"rev: v{NUMBER}"],
    "examples/argocd/README.md": [rf"zdrender-cmp:{NUMBER}"],
    "examples/argocd/Dockerfile": [rf"zdrender-cmp:{NUMBER}"],
    "examples/argocd/repo-server-patch.yaml": [rf"zdrender-cmp:{NUMBER}"],
    "images/krm/Dockerfile": [rf"zdrender-krm:{NUMBER}"],
}


def test_pyproject_reads_the_version_from_the_package():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "version" not in project["project"] and "version" in project["project"]["dynamic"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "zdrender.__version__"}


def test_every_quoted_version_is_the_package_version():
    for path, patterns in QUOTED.items():
        text = (ROOT / path).read_text()
        for pattern in patterns:
            found = re.findall(pattern, text)
            assert found, f"{path}: {pattern} no longer matches; update QUOTED"
            assert set(found) == {VERSION}, f"{path} quotes {sorted(set(found))}, the package is {VERSION}"


def test_changelog_has_the_version_and_unreleased():
    text = (ROOT / "CHANGELOG.md").read_text()
    assert "## [Unreleased]" in text and f"## [{VERSION}]" in text
    assert text.index("## [Unreleased]") < text.index(f"## [{VERSION}]")
