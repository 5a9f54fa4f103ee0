"""zdrender behind the real Helm 3 (`--post-renderer <executable>`) and Helm 4 (`--post-renderer
<plugin>`, the repository installed with `helm plugin install`), on the example chart.

Each path must give the same patched manifests as the plain pipe `helm template | zdrender`; where a
tool passes bytes through (Helm 3, the pipe), untouched documents come back byte for byte; Helm 4
re-serialises the stream itself, so there the documents zdrender receives and returns are compared.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import sys
import zipfile
from pathlib import Path

import pytest
from e2e_support import (
    CHART,
    FILENAME_ANNOTATION,
    HOOK,
    RENDERED,
    SYSTEM_PATH,
    by_name,
    console_script,
    documents,
    helm,
    helm_env,  # noqa: F401 (fixture)
    is_hook,
    load,
    objects,
    ok,
    pipe,
    pre_stop,
    run,
)

import zdrender

from conftest import ROOT

pytestmark = pytest.mark.e2e

NATIVE_SLEEP = {"sleep": {"seconds": 10}}
EXEC_SLEEP = {"exec": {"command": ["sleep", "10"]}}
BAD_ANNOTATION = ["--set", "zdrender.prestopSeconds=abc"]
ZDRENDER_ERROR = "setting prestop-seconds (annotation on Deployment/demo-web"


def template(version: int, env, *args: str):
    return run([helm(version), "template", "demo", str(CHART), *args], env)


# Helm 3: the executable on PATH ---------------------------------------------------------------------


def test_rendered_example_is_the_charts_output(helm_env):
    """examples/rendered.yaml (the README's first command reads it) is what Helm 3 renders today."""
    assert ok(template(3, helm_env)) == RENDERED.read_bytes()


def test_helm3_post_renderer_gives_the_pipes_bytes(helm_env):
    rendered = RENDERED.read_bytes()
    output = ok(template(3, helm_env, "--post-renderer", "zdrender"))
    assert output == pipe(rendered)
    assert pre_stop(output) == NATIVE_SLEEP
    before, after = by_name(rendered), by_name(output)
    assert before.keys() == after.keys()
    untouched = [k for k, doc in before.items() if k[0] == "ConfigMap" or is_hook(doc)]
    assert len(untouched) == 3  # the ConfigMap, the hook ConfigMap, the hook Job
    for k in untouched:
        assert after[k] == before[k], f"{k} changed"
    assert output.count(b"# Source: demo/templates/") == rendered.count(b"# Source: demo/templates/")


def test_helm3_post_renderer_args_reach_zdrender(helm_env):
    output = ok(template(3, helm_env, "--post-renderer", "zdrender", "--post-renderer-args=--kube-version=1.29"))
    assert pre_stop(output) == EXEC_SLEEP
    assert output == pipe(RENDERED.read_bytes(), "--kube-version=1.29")


def test_helm3_show_only_still_finds_the_patched_document(helm_env):
    """`--show-only` selects by the `# Source:` comments, which zdrender keeps."""
    output = ok(template(3, helm_env, "--post-renderer", "zdrender", "--show-only", "templates/deployment.yaml"))
    assert len(documents(output)) == 1
    assert pre_stop(output) == NATIVE_SLEEP


def test_helm3_fails_with_zdrenders_message(helm_env):
    result = template(3, helm_env, "--post-renderer", "zdrender", *BAD_ANNOTATION)
    assert result.returncode != 0
    assert result.stdout == b""
    assert f"zdrender: {ZDRENDER_ERROR}" in result.stderr.decode()


def test_helm3_cannot_load_the_v1_plugin_yaml(helm_env):
    """Why Helm 3 users pass the executable: a v1 plugin.yaml in Helm 3's plugin folder breaks it."""
    result = run([helm(3), "plugin", "install", str(ROOT)], helm_env)
    assert result.returncode != 0
    assert 'unknown field "apiVersion"' in result.stderr.decode()
    listed = run([helm(3), "plugin", "list"], helm_env)
    assert listed.returncode != 0
    assert 'json: unknown field "apiVersion"' in listed.stderr.decode()


# Helm 4: the repository as a postrenderer/v1 plugin -------------------------------------------------


def install_plugin(env) -> str:
    return ok(run([helm(4), "plugin", "install", str(ROOT)], env)).decode()


def test_helm4_plugin_uses_the_installed_zdrender(helm_env):
    out = install_plugin(helm_env)
    assert f"using {console_script()}" in out
    listed = ok(run([helm(4), "plugin", "list"], helm_env)).decode().split()
    assert listed[listed.index("zdrender") + 1] == zdrender.__version__

    args = ["--post-renderer", "zdrender", "--post-renderer-args=--kube-version=1.29"]
    output = ok(template(4, helm_env, *args))
    assert pre_stop(output) == EXEC_SLEEP
    # Helm 4 reformats the YAML and drops its filename annotation: the objects are the pipe's.
    assert objects(output) == objects(pipe(RENDERED.read_bytes(), "--kube-version=1.29"))
    assert FILENAME_ANNOTATION.encode() not in output


def test_helm4_install_dry_run_runs_the_plugin_without_a_cluster(helm_env):
    install_plugin(helm_env)
    output = ok(run([helm(4), "install", "demo", str(CHART), "--dry-run=client", "--post-renderer", "zdrender"], helm_env))
    manifest = output.split(b"\nMANIFEST:\n", 1)[1]
    assert pre_stop(manifest) == NATIVE_SLEEP
    assert b"helm.sh/hook: pre-install,pre-upgrade" in output.split(b"\nMANIFEST:\n", 1)[0]  # under HOOKS:


def test_helm4_sends_hooks_and_gets_them_back_untouched(helm_env, tmp_path):
    """Record what Helm 4 sends and receives through a `zdrender` wrapper on PATH."""
    wrapper_dir = tmp_path / "wrapper"
    wrapper_dir.mkdir()
    sent, received = tmp_path / "sent.yaml", tmp_path / "received.yaml"
    wrapper = wrapper_dir / "zdrender"
    wrapper.write_text(f'#!/bin/sh\ntee "{sent}" | "{console_script()}" "$@" | tee "{received}"\n')
    wrapper.chmod(0o755)
    env = {**helm_env, "PATH": f"{wrapper_dir}:{SYSTEM_PATH}"}
    install_plugin(env)
    ok(template(4, env, "--post-renderer", "zdrender"))

    before, after = by_name(sent.read_bytes()), by_name(received.read_bytes())
    assert before.keys() == after.keys()
    hooks = [k for k, doc in before.items() if is_hook(doc)]
    assert sorted(hooks) == [("ConfigMap", "demo-migrations"), ("Job", "demo-migrate")]
    for k, doc in before.items():
        sent_name = load(doc)["metadata"]["annotations"][FILENAME_ANNOTATION]
        assert sent_name.startswith("demo/templates/")
        assert load(after[k])["metadata"]["annotations"][FILENAME_ANNOTATION] == sent_name  # patched ones too
        if k in hooks or k[0] == "ConfigMap":
            assert after[k] == doc, f"{k} changed"
    assert load(after[("Job", "demo-migrate")])["metadata"]["annotations"][HOOK] == "pre-install,pre-upgrade"
    assert pre_stop(received.read_bytes()) == NATIVE_SLEEP


def test_helm4_hides_stderr_so_errors_go_to_the_report(helm_env, tmp_path):
    install_plugin(helm_env)
    report = tmp_path / "report.txt"
    result = template(4, {**helm_env, "ZDRENDER_REPORT": str(report)}, "--post-renderer", "zdrender", *BAD_ANNOTATION)
    assert result.returncode != 0
    assert result.stdout == b""
    stderr = result.stderr.decode()
    assert 'plugin "zdrender" exited with error' in stderr
    assert ZDRENDER_ERROR not in stderr  # Helm 4 shows none of the plugin's stderr
    assert f"zdrender: error: {ZDRENDER_ERROR}" in report.read_text()


def test_helm4_report_arg_shows_the_findings(helm_env, tmp_path):
    install_plugin(helm_env)
    report = tmp_path / "report.json"
    ok(template(4, helm_env, "--post-renderer", "zdrender", f"--post-renderer-args=--report={report}"))
    findings = json.loads(report.read_text())["findings"]
    assert any(f["rule"] == "prestop-sleep" and (f["kind"], f["name"]) == ("Deployment", "demo-web") for f in findings)


# Helm 4 on a machine without zdrender: the plugin's private environment -----------------------------


def build_wheel(folder: Path) -> Path:
    """A wheel of the working tree's zdrender, built with zipfile: offline, unlike a PEP 517 build,
    which needs setuptools from the index. The plugin's own default installs the plugin folder."""
    version = zdrender.__version__
    info = f"zdrender-{version}.dist-info"
    package = ROOT / "src"
    files = {path.relative_to(package).as_posix(): path.read_bytes() for path in sorted((package / "zdrender").rglob("*")) if path.is_file() and "__pycache__" not in path.parts}
    files[f"{info}/METADATA"] = f"Metadata-Version: 2.1\nName: zdrender\nVersion: {version}\n".encode()
    files[f"{info}/WHEEL"] = b"Wheel-Version: 1.0\nGenerator: zdrender-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    files[f"{info}/entry_points.txt"] = b"[console_scripts]\nzdrender = zdrender.entry:main\n"
    record = []
    for name, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{name},sha256={digest},{len(data)}")
    files[f"{info}/RECORD"] = ("\n".join(record + [f"{info}/RECORD,,"]) + "\n").encode()
    wheel = folder / f"zdrender-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return wheel


def dependencies_only(folder: Path) -> Path:
    """The test environment's site-packages without zdrender: its dependencies, for PYTHONPATH."""
    site = Path(next(p for p in sys.path if p.endswith("site-packages") and Path(p).is_dir()))
    folder.mkdir()
    for entry in site.iterdir():
        if entry.name.startswith(("zdrender", "__editable__", "_zdrender")) or entry.suffix == ".pth":
            continue
        (folder / entry.name).symlink_to(entry)
    return folder


@pytest.fixture
def offline_machine(helm_env, tmp_path):
    """No zdrender on PATH; pip installs from a local wheel folder only, dependencies on PYTHONPATH."""
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    build_wheel(wheels)
    return {
        **helm_env,
        "PATH": SYSTEM_PATH,
        "ZDRENDER_PYTHON": sys.executable,
        "ZDRENDER_PLUGIN_REQUIREMENT": f"zdrender=={zdrender.__version__}",
        "PIP_NO_INDEX": "1",
        "PIP_FIND_LINKS": str(wheels),
        "PIP_NO_DEPS": "1",
        "PYTHONPATH": str(dependencies_only(tmp_path / "deps")),
    }


def test_helm4_plugin_brings_its_own_environment(offline_machine):
    env = offline_machine
    assert run(["sh", "-c", "command -v zdrender"], env).returncode != 0
    venv = Path(env["HELM_CACHE_HOME"]) / "zdrender" / f"venv-{zdrender.__version__}"

    out = install_plugin(env)  # the install hook builds the environment, visibly
    assert f"ready (zdrender {zdrender.__version__})" in out
    installed = list(venv.glob("lib/python*/site-packages/zdrender/cli.py"))
    assert installed, f"zdrender is not installed in {venv}"
    args = ["--post-renderer", "zdrender", "--post-renderer-args=--kube-version=1.29"]
    first = ok(template(4, env, *args))
    assert pre_stop(first) == EXEC_SLEEP

    shutil.rmtree(venv)  # gone (a cleaned cache): the first render builds it again
    assert ok(template(4, env, *args)) == first
    assert venv.is_dir()
    assert objects(first) == objects(pipe(RENDERED.read_bytes(), "--kube-version=1.29"))


def test_helm4_plugin_reports_a_missing_python(helm_env, tmp_path):
    install_plugin(helm_env)  # with zdrender on PATH: nothing to build
    report = tmp_path / "report.txt"
    env = {**helm_env, "PATH": SYSTEM_PATH, "ZDRENDER_PYTHON": str(tmp_path / "no-python"), "ZDRENDER_REPORT": str(report)}
    result = template(4, env, "--post-renderer", "zdrender")
    assert result.returncode != 0
    assert result.stdout == b""
    assert "zdrender needs Python >= 3.11" in report.read_text()


def test_helm4_plugin_never_replaces_a_folder_it_did_not_make(helm_env, tmp_path):
    install_plugin(helm_env)
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "notes.txt").write_text("keep me\n")
    report = tmp_path / "report.txt"
    env = {**helm_env, "PATH": SYSTEM_PATH, "ZDRENDER_PLUGIN_VENV": str(precious), "ZDRENDER_REPORT": str(report)}
    result = template(4, env, "--post-renderer", "zdrender")
    assert result.returncode != 0
    assert f"{precious} exists and is not an environment this plugin made" in report.read_text()
    assert (precious / "notes.txt").read_text() == "keep me\n"
