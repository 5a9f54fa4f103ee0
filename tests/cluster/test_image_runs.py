"""zdrender's images, built without a daemon (images/build.py), imported into the node's containerd
and run there the way their users run them:

- the KRM function image gets a ResourceList on stdin, as `kpt fn eval --image` gives it (kpt itself
  runs an image with docker, podman or nerdctl, none of which can run here: the docker CLI has no
  daemon, nerdctl is refused by the Go module proxy, podman is not installed; the list comes from
  `kpt fn source`, the same text kpt pipes in);
- the Argo CD sidecar image runs each plugin's exact `generate` command as argocd-cmp-server does, as
  user 999 with a read-only root and a read-only application folder, with the variables Argo CD sets.

Both must print what zdrender prints on the host for the same input.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from cluster import node
from images import build

from conftest import ROOT, tool
from node_support import node_paths  # noqa: F401  (the session's node)

pytestmark = pytest.mark.cluster

NAMESPACE = "zdrender-images"  # apart from the kubelet's k8s.io
ZDRENDER = Path(sys.executable).parent / "zdrender"
ARGOCD_ENV = {"ARGOCD_APP_NAME": "demo", "ARGOCD_APP_NAMESPACE": "shop", "KUBE_VERSION": "1.29.4"}


def ctr_argv(paths: node.Paths, *args: str) -> list[str]:
    return [str(paths.containerd_bin / "ctr"), "--address", str(paths.containerd_socket), "-n", NAMESPACE, *args]


def ctr(paths: node.Paths, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(ctr_argv(paths, *args), capture_output=True, timeout=300, check=False)


@pytest.fixture(scope="module")
def images(node_paths: node.Paths) -> dict[str, build.Built]:
    built = {}
    for name in build.IMAGES:
        built[name] = build.build(name)  # a BuildError fails the tests with the step that failed
        imported = ctr(node_paths, "images", "import", str(built[name].archive))
        assert imported.returncode == 0, imported.stderr.decode()
        print(f"{built[name].image.ref}: {built[name].size / 1e6:.1f} MB, {built[name].unpacked / 1e6:.1f} MB unpacked, built in {built[name].seconds:.1f}s")
    return built


def run_in(paths: node.Paths, image: build.Image, *argv: str, stdin: bytes = b"", mounts: tuple[str, ...] = (), env: dict[str, str] | None = None, cwd: str = "") -> subprocess.CompletedProcess[bytes]:
    """`ctr run --rm` with the image's own user, entrypoint and environment unless told otherwise,
    a read-only root and a fresh /tmp (as the sidecar's emptyDir)."""
    options = ["--rm", "--read-only", "--mount", "type=tmpfs,src=tmpfs,dst=/tmp,options=nosuid:nodev:mode=1777"]
    options += [arg for m in mounts for arg in ("--mount", m)]
    options += [arg for k, v in (env or {}).items() for arg in ("--env", f"{k}={v}")]
    options += ["--cwd", cwd] if cwd else []
    name = f"{image.name}-test-{os.getpid()}"
    proc = subprocess.Popen(ctr_argv(paths, "run", *options, image.ref, name, *argv), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        # `ctr run` closes the container's stdin at end-of-file only once the task exists: input
        # that ends sooner leaves the container waiting for more (measured: zdrender hung on a
        # 3 kB list read from a file). So the input goes in once the task runs.
        deadline = time.monotonic() + 60
        while proc.poll() is None and time.monotonic() < deadline and not running(paths, name):
            time.sleep(0.05)
        out, err = proc.communicate(stdin, timeout=120)
    except subprocess.TimeoutExpired:  # leave no container behind
        for cleanup in (("task", "kill", "-s", "SIGKILL", name), ("task", "rm", "-f", name), ("containers", "rm", name)):
            ctr(paths, *cleanup)
        proc.kill()
        raise
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def running(paths: node.Paths, name: str) -> bool:
    return any(line.split()[::2] == [name, "RUNNING"] for line in ctr(paths, "task", "ls").stdout.decode().splitlines())


def on_host(argv: list[str], stdin: bytes = b"") -> bytes:
    return subprocess.run(argv, input=stdin, capture_output=True, check=True, timeout=120).stdout


def test_krm_image_patches_a_resource_list_like_zdrender_on_the_host(node_paths, images, tmp_path):
    config = tmp_path / "fn-config.yaml"
    config.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: zdrender\ndata:\n  prestop-seconds: '15'\n  kube-version: '1.30'\n")
    resource_list = on_host([tool("kpt"), "fn", "source", str(ROOT / "examples" / "kpt"), "--fn-config", str(config)])

    ran = run_in(node_paths, images["krm"].image, stdin=resource_list)

    assert ran.returncode == 0, ran.stderr.decode()
    assert ran.stdout == on_host([str(ZDRENDER)], resource_list)
    output = yaml.safe_load(ran.stdout)
    assert output["kind"] == "ResourceList"
    (deployment,) = [i for i in output["items"] if i["kind"] == "Deployment"]
    assert deployment["spec"]["template"]["spec"]["containers"][0]["lifecycle"]["preStop"] == {"sleep": {"seconds": 15}}
    assert {r["tags"]["rule"] for r in output["results"]} >= {"prestop-sleep"}


def test_krm_image_fails_a_bad_setting_with_an_error_result(node_paths, images):
    resource_list = b"apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\nfunctionConfig:\n  apiVersion: v1\n  kind: ConfigMap\n  data:\n    prestop-seconds: soon\n"
    ran = run_in(node_paths, images["krm"].image, stdin=resource_list)
    assert ran.returncode != 0
    assert any(r["severity"] == "error" for r in yaml.safe_load(ran.stdout)["results"])


def plugin_command(file: str) -> list[str]:
    generate = yaml.safe_load((ROOT / "examples" / "argocd" / file).read_text())["spec"]["generate"]
    return [*generate["command"], *generate.get("args", [])]


def test_cmp_image_runs_the_helm_plugin_like_helm_and_zdrender_on_the_host(node_paths, images):
    chart = ROOT / "examples" / "chart"
    ran = run_in(node_paths, images["cmp"].image, *plugin_command("plugin.yaml"), mounts=(f"type=bind,src={chart},dst=/repo/chart,options=rbind:ro",), env=ARGOCD_ENV, cwd="/repo/chart")

    assert ran.returncode == 0, ran.stderr.decode()
    rendered = on_host([tool("helm3"), "template", "demo", str(chart), "--namespace", "shop", "--kube-version", "1.29.4"])
    assert ran.stdout == on_host([str(ZDRENDER), "--kube-version", "1.29.4"], rendered)
    assert b"preStop" in ran.stdout


def test_cmp_image_fails_a_failing_helm_with_nothing_on_stdout(node_paths, images, tmp_path):
    """The image's /bin/sh is dash, which has no pipefail: the reason the plugin keeps helm's output
    in a variable. A helm that fails must fail the plugin, with no partial stream for auto-prune."""
    chart = tmp_path / "chart"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: broken\nversion: 0.1.0\n")
    (chart / "templates" / "ok.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ok\n")
    (chart / "templates" / "broken.yaml").write_text('{{ fail "the chart is broken" }}\n')
    for path in (tmp_path, *chart.rglob("*")):
        path.chmod(0o755 if path.is_dir() else 0o644)  # user 999 reads it

    ran = run_in(node_paths, images["cmp"].image, *plugin_command("plugin.yaml"), mounts=(f"type=bind,src={chart},dst=/repo/chart,options=rbind:ro",), env=ARGOCD_ENV, cwd="/repo/chart")

    assert ran.returncode != 0 and ran.stdout == b""
    assert b"the chart is broken" in ran.stderr


def test_cmp_image_runs_the_kustomize_plugin(node_paths, images, tmp_path):
    app = tmp_path / "app"
    app.mkdir()
    shutil.copy(ROOT / "examples" / "rendered.yaml", app / "rendered.yaml")
    (app / "kustomization.yaml").write_text("resources:\n  - rendered.yaml\n")
    for path in (tmp_path, *app.rglob("*")):
        path.chmod(0o755 if path.is_dir() else 0o644)  # user 999 reads it

    ran = run_in(node_paths, images["cmp"].image, *plugin_command("plugin-kustomize.yaml"), mounts=(f"type=bind,src={app},dst=/repo/app,options=rbind:ro",), env=ARGOCD_ENV, cwd="/repo/app")

    assert ran.returncode == 0, ran.stderr.decode()
    assert ran.stdout == on_host([str(ZDRENDER), "--kube-version", "1.29.4"], on_host([tool("kustomize"), "build", str(app)]))


PROBE = """
import os, subprocess
print(os.getuid(), os.getgid(), os.environ["HOME"], os.getcwd(), os.stat(os.environ["HOME"]).st_uid)
print(*(subprocess.run(argv, capture_output=True, text=True).stdout.strip() for argv in (["helm", "version", "--template", "{{.Version}}"], ["kustomize", "version"])))
"""


def test_images_run_as_their_users_with_their_tools(node_paths, images):
    krm = run_in(node_paths, images["krm"].image, "/usr/bin/python3", "-c", "import os, zdrender; print(os.getuid(), os.getgid(), zdrender.__version__)")
    assert krm.returncode == 0, krm.stderr.decode()
    assert krm.stdout.decode().split() == ["65534", "65534", build.version()]

    cmp = run_in(node_paths, images["cmp"].image, "/usr/bin/python3", "-c", PROBE)
    assert cmp.returncode == 0, cmp.stderr.decode()
    pins = build.tool_pins()
    assert cmp.stdout.decode().split() == ["999", "999", "/home/argocd", "/home/argocd", "999", pins["helm"], pins["kustomize"]]
