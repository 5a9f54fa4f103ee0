"""The Argo CD config-management plugins of examples/argocd, run the way argocd-cmp-server runs them:
the exact `generate` (and `discover`) command from each plugin file, executed directly (command +
args, no shell of ours in between), in a copy of the application's folder, with the environment
Argo CD sets (ARGOCD_APP_*, KUBE_VERSION, KUBE_API_VERSIONS, ARGOCD_ENV_* from the Application).

An empty stream with auto-prune deletes the application's resources, so every failure (zdrender's,
and helm's or kustomize's before it) must exit non-zero with nothing on stdout.
"""

from __future__ import annotations

import glob
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from e2e_support import CHART, RENDERED, SYSTEM_PATH, by_name, console_script, is_hook, objects, ok, pipe, pre_stop, tool_dir

from conftest import ROOT, tool

pytestmark = pytest.mark.e2e

ARGOCD = ROOT / "examples" / "argocd"
HELM_PLUGIN = yaml.safe_load((ARGOCD / "plugin.yaml").read_text())
KUSTOMIZE_PLUGIN = yaml.safe_load((ARGOCD / "plugin-kustomize.yaml").read_text())
API_VERSIONS = "v1,apps/v1,autoscaling/v2,batch/v1,policy/v1"


def argv(command: dict) -> list[str]:
    """How argocd-cmp-server builds the process: command[0], command[1:] + args."""
    return [*command["command"], *command.get("args", [])]


@pytest.fixture
def cmp_env(tmp_path: Path) -> dict[str, str]:
    """The sidecar's environment: helm (Helm 3) and kustomize on PATH next to zdrender, plus the
    build variables Argo CD sets for the application."""
    tools = tool_dir(tmp_path, helm=tool("helm3"), kustomize=tool("kustomize"))
    home = tmp_path / "home"
    home.mkdir()
    return {
        "PATH": f"{tools}:{console_script().parent}:{SYSTEM_PATH}",
        "HOME": str(home),
        "HELM_CACHE_HOME": str(tmp_path / "helm-cache"),
        "HELM_CONFIG_HOME": str(tmp_path / "helm-config"),
        "HELM_DATA_HOME": str(tmp_path / "helm-data"),
        "LANG": "C.UTF-8",
        "ARGOCD_APP_NAME": "demo",
        "ARGOCD_APP_NAMESPACE": "shop",
        "ARGOCD_APP_REVISION": "f913b6cbf58aa5ae5ca1f8a2b149477aebcbd9d8",
        "KUBE_VERSION": "1.29.4",
        "KUBE_API_VERSIONS": API_VERSIONS,
    }


@pytest.fixture
def chart_app(tmp_path: Path) -> Path:
    app = tmp_path / "repo" / "chart"
    shutil.copytree(CHART, app)
    return app


@pytest.fixture
def kustomize_app(tmp_path: Path) -> Path:
    app = tmp_path / "repo" / "kustomize"
    app.mkdir(parents=True)
    shutil.copy(RENDERED, app / "rendered.yaml")
    (app / "kustomization.yaml").write_text("resources:\n  - rendered.yaml\n")
    return app


def generate(plugin: dict, app: Path, env: dict[str, str], **settings: str) -> subprocess.CompletedProcess:
    env = {**env, **{f"ARGOCD_ENV_{name}": value for name, value in settings.items()}}
    return subprocess.run(argv(plugin["spec"]["generate"]), cwd=app, env=env, capture_output=True, timeout=300)


def test_helm_plugin_renders_like_the_pipe_for_the_clusters_version(chart_app, cmp_env):
    """No settings: the destination cluster's KUBE_VERSION (1.29: no native sleep) is the target."""
    output = ok(generate(HELM_PLUGIN, chart_app, cmp_env))
    assert output == pipe(RENDERED.read_bytes(), "--kube-version=1.29.4")
    assert pre_stop(output) == {"exec": {"command": ["sleep", "10"]}}
    rendered, patched = by_name(RENDERED.read_bytes()), by_name(output)
    hooks = [k for k, doc in rendered.items() if is_hook(doc)]
    assert len(hooks) == 2  # Argo CD turns helm.sh/hook annotations into sync hooks: kept byte for byte
    for k in hooks + [("ConfigMap", "demo-config")]:
        assert patched[k] == rendered[k]


def test_helm_plugin_takes_settings_from_the_application(chart_app, cmp_env):
    output = ok(
        generate(
            HELM_PLUGIN,
            chart_app,
            cmp_env,
            ZDRENDER_KUBE_VERSION="1.31",
            ZDRENDER_ARGS="--set prestop-seconds=15 --set drain-seconds=25",
            HELM_ARGS="--set replicaCount=3 --set image=ghcr.io/example/web:2.0.0",
        )
    )
    assert pre_stop(output) == {"sleep": {"seconds": 15}}
    deployment = objects(output)[("Deployment", "demo-web")]
    assert deployment["spec"]["replicas"] == 3
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == "ghcr.io/example/web:2.0.0"


def test_helm_plugin_fails_closed_when_zdrender_fails(chart_app, cmp_env):
    result = generate(HELM_PLUGIN, chart_app, cmp_env, HELM_ARGS="--set zdrender.prestopSeconds=abc")
    assert result.returncode != 0
    assert result.stdout == b""
    assert b"zdrender: setting prestop-seconds (annotation on Deployment/demo-web" in result.stderr


def test_helm_plugin_fails_closed_when_helm_fails(chart_app, cmp_env):
    (chart_app / "templates" / "broken.yaml").write_text("{{ .Values.missing.key }}\n")
    result = generate(HELM_PLUGIN, chart_app, cmp_env)
    assert result.returncode != 0
    assert result.stdout == b""
    assert b"nil pointer evaluating interface {}.key" in result.stderr


def test_helm_plugin_fails_when_helm_fails_after_printing(chart_app, cmp_env, tmp_path):
    """A renderer that prints manifests and then exits non-zero: `helm template | zdrender` in a
    shell without pipefail would pass zdrender's success on; the plugin must not."""
    fake = tmp_path / "fake-helm"
    fake.mkdir()
    (fake / "helm").write_text(f'#!/bin/sh\ncat "{RENDERED}"\necho "Error: failed half-way" >&2\nexit 1\n')
    (fake / "helm").chmod(0o755)
    result = generate(HELM_PLUGIN, chart_app, {**cmp_env, "PATH": f"{fake}:{cmp_env['PATH']}"})
    assert result.returncode != 0
    assert result.stdout == b""
    assert b"failed half-way" in result.stderr


def test_helm_plugin_never_prints_an_empty_stream(chart_app, cmp_env):
    shutil.rmtree(chart_app / "templates")
    result = generate(HELM_PLUGIN, chart_app, cmp_env)
    assert result.returncode != 0
    assert result.stdout == b""
    assert b"refusing to print an empty stream" in result.stderr


def test_kustomize_plugin_renders_and_fails_closed(kustomize_app, cmp_env):
    output = ok(generate(KUSTOMIZE_PLUGIN, kustomize_app, cmp_env, ZDRENDER_ARGS="--set prestop-seconds=12"))
    assert pre_stop(output) == {"exec": {"command": ["sleep", "12"]}}
    built = ok(subprocess.run([tool("kustomize"), "build", str(kustomize_app)], capture_output=True))
    assert output == pipe(built, "--kube-version=1.29.4", "--set", "prestop-seconds=12")

    (kustomize_app / "kustomization.yaml").write_text("resources:\n  - missing.yaml\n")
    result = generate(KUSTOMIZE_PLUGIN, kustomize_app, cmp_env)
    assert result.returncode != 0
    assert result.stdout == b""


def discovers(plugin: dict, app: Path) -> bool:
    """argocd-cmp-server's discovery: a fileName glob, or a find command that prints something."""
    discover = plugin["spec"]["discover"]
    if "fileName" in discover:
        return bool(glob.glob(str(app / discover["fileName"])))
    result = subprocess.run(argv(discover["find"]), cwd=app, capture_output=True, env={"PATH": SYSTEM_PATH})
    return result.returncode == 0 and bool(result.stdout.strip())


def test_each_plugin_discovers_only_its_own_applications(chart_app, kustomize_app):
    assert discovers(HELM_PLUGIN, chart_app) and not discovers(HELM_PLUGIN, kustomize_app)
    assert discovers(KUSTOMIZE_PLUGIN, kustomize_app) and not discovers(KUSTOMIZE_PLUGIN, chart_app)


REPO_SERVER = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: argocd-repo-server
spec:
  selector:
    matchLabels: {app.kubernetes.io/name: argocd-repo-server}
  template:
    metadata:
      labels: {app.kubernetes.io/name: argocd-repo-server}
    spec:
      containers:
        - name: argocd-repo-server
          image: quay.io/argoproj/argocd:v3.1.0
          volumeMounts:
            - {name: var-files, mountPath: /var/run/argocd}
            - {name: plugins, mountPath: /home/argocd/cmp-server/plugins}
            - {name: tmp, mountPath: /tmp}
      volumes:
        - {name: var-files, emptyDir: {}}
        - {name: plugins, emptyDir: {}}
        - {name: tmp, emptyDir: {}}
"""


def test_repo_server_patch_adds_one_sidecar_per_plugin(tmp_path):
    """The strategic-merge patch, applied by kubectl offline to the repo server's shape in Argo CD's
    install manifests (its volumes var-files, plugins and tmp)."""
    stock = tmp_path / "repo-server.yaml"
    stock.write_text(REPO_SERVER)
    patch = ARGOCD / "repo-server-patch.yaml"
    result = subprocess.run(
        [tool("kubectl"), "patch", "--local", "-f", str(stock), "--type", "strategic", "--patch-file", str(patch), "-o", "yaml"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    spec = yaml.safe_load(result.stdout)["spec"]["template"]["spec"]
    containers = {c["name"]: c for c in spec["containers"]}
    volumes = {v["name"]: v for v in spec["volumes"]}
    assert set(containers) == {"argocd-repo-server", "zdrender-helm", "zdrender-kustomize"}
    plugin_files = {"zdrender-helm": "plugin.yaml", "zdrender-kustomize": "plugin-kustomize.yaml"}
    for name, plugin_file in plugin_files.items():
        sidecar = containers[name]
        assert sidecar["command"] == ["/var/run/argocd/argocd-cmp-server"]
        assert sidecar["securityContext"]["runAsUser"] == 999
        mounts = {m["mountPath"]: m for m in sidecar["volumeMounts"]}
        config = mounts["/home/argocd/cmp-server/config/plugin.yaml"]
        assert config["subPath"] == plugin_file and (ARGOCD / plugin_file).is_file()
        assert volumes[config["name"]]["configMap"]["name"] == "zdrender-cmp"
        assert mounts["/var/run/argocd"]["name"] == "var-files"
        assert mounts["/home/argocd/cmp-server/plugins"]["name"] == "plugins"
        assert mounts["/tmp"]["name"] not in ("tmp",), "a sidecar must not share the repo server's /tmp"
        assert "emptyDir" in volumes[mounts["/tmp"]["name"]]
