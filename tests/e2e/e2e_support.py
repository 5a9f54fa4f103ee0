"""What the Helm and Argo CD end-to-end tests share: a private Helm home, the zdrender console script,
the example chart, and ways to compare streams document by document.

Every command runs with a temporary HOME and HELM_*_HOME, no kubeconfig and no network: `helm template`
and `helm plugin install <folder>` need neither.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from zdrender import stream

from conftest import ROOT, require, tool

CHART = ROOT / "examples" / "chart"
RENDERED = ROOT / "examples" / "rendered.yaml"
HOOK = "helm.sh/hook"
FILENAME_ANNOTATION = "postrenderer.helm.sh/postrender-filename"
SYSTEM_PATH = "/usr/bin:/bin"


def console_script() -> Path:
    """The `zdrender` executable that `pip install` made for the test environment."""
    script = Path(sys.executable).parent / "zdrender"
    require(script.exists(), f"no zdrender console script next to {sys.executable}; pip install -e .")
    return script


def tool_dir(tmp_path: Path, **tools: str) -> Path:
    """A folder of symlinks that puts each tool on PATH under the given name (helm -> helm3)."""
    folder = tmp_path / "tools"
    folder.mkdir(exist_ok=True)
    for name, target in tools.items():
        (folder / name).symlink_to(target)
    return folder


@pytest.fixture
def helm_env(tmp_path: Path) -> dict[str, str]:
    """Environment for Helm: private homes, no cluster, zdrender (the console script) on PATH."""
    data = tmp_path / "helm-data"
    env = {
        "HOME": str(tmp_path / "home"),
        "PATH": f"{console_script().parent}:{SYSTEM_PATH}",
        "HELM_CACHE_HOME": str(tmp_path / "helm-cache"),
        "HELM_CONFIG_HOME": str(tmp_path / "helm-config"),
        "HELM_DATA_HOME": str(data),
        # Helm 4.3 installs a local plugin into $HELM_DATA_HOME/plugins whatever HELM_PLUGINS says
        # (helm/helm#32646) but looks plugins up in HELM_PLUGINS: keep the two the same.
        "HELM_PLUGINS": str(data / "plugins"),
        "KUBECONFIG": str(tmp_path / "no-kubeconfig"),
        "LANG": "C.UTF-8",
    }
    Path(env["HOME"]).mkdir()
    return env


def run(args: list[str], env: dict[str, str], *, cwd: Path | None = None, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(args, env=env, cwd=cwd, input=stdin, capture_output=True, timeout=300)


def ok(result: subprocess.CompletedProcess) -> bytes:
    assert result.returncode == 0, f"{result.args} exited {result.returncode}: {result.stderr.decode()}"
    return result.stdout


def pipe(text: bytes, *args: str) -> bytes:
    """The plain-pipe path: `zdrender ARGS < text`."""
    env = {"PATH": SYSTEM_PATH, "LANG": "C.UTF-8"}
    return ok(run([str(console_script()), *args], env, stdin=text))


def helm(version: int) -> str:
    return tool(f"helm{version}")


def documents(text: bytes | str) -> list[str]:
    """The stream's documents as text, those that hold an object only."""
    if isinstance(text, bytes):
        text = text.decode()
    return [d.text for d in stream.split(text).documents if d.has_content]


def load(document: str) -> dict[str, Any]:
    return yaml.safe_load(document)


def key(obj: dict[str, Any]) -> tuple[str, str]:
    return obj["kind"], obj["metadata"]["name"]


def by_name(text: bytes | str) -> dict[tuple[str, str], str]:
    """Document text by (kind, name)."""
    return {key(load(doc)): doc for doc in documents(text)}


def objects(text: bytes | str) -> dict[tuple[str, str], dict[str, Any]]:
    """Parsed objects by (kind, name): what must agree between paths that reformat the YAML."""
    return {k: load(doc) for k, doc in by_name(text).items()}


def is_hook(document: str) -> bool:
    annotations = load(document)["metadata"].get("annotations") or {}
    return HOOK in annotations


def pre_stop(text: bytes | str, kind: str = "Deployment", name: str = "demo-web", container: str = "web") -> Any:
    obj = objects(text)[(kind, name)]
    spec = obj["spec"]["template"]["spec"]
    found = next(c for c in spec["containers"] if c["name"] == container)
    return (found.get("lifecycle") or {}).get("preStop")
