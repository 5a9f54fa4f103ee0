"""zdrender as a KRM function: a ResourceList fed to the console script, then the real Kustomize
(`transformers:` exec function) and kpt (`fn eval --exec`, `fn render --allow-exec`) on the examples.

The inputs below are shaped the way the tools send them (captured from kpt 1.0.0-beta.56 and
kustomize v5.8.2): kpt keeps comments, quotes its annotations and leaves off the last newline;
kustomize sorts keys and writes its resource id as a block scalar annotation.
"""

from __future__ import annotations

import difflib
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from e2e_support import SYSTEM_PATH, console_script, documents, load, ok, run

import zdrender
from zdrender import krm, stream

from conftest import CORPUS, ROOT, require, tool

pytestmark = pytest.mark.e2e

KUSTOMIZE_EXAMPLE = ROOT / "examples" / "kustomize"
KPT_EXAMPLE = ROOT / "examples" / "kpt"
BAD_SETTING = "setting prestop-seconds (functionConfig): expected a whole number >= 1, got 'abc'"

KPT_KPTFILE = """\
- apiVersion: kpt.dev/v1
  kind: Kptfile
  metadata:
    name: pkg # the package
    annotations:
      config.kubernetes.io/index: '0'
      config.kubernetes.io/path: 'Kptfile'
      internal.config.kubernetes.io/index: '0'
      internal.config.kubernetes.io/package-path: '/tmp/pkg'
      internal.config.kubernetes.io/path: 'Kptfile'
      internal.config.kubernetes.io/seqindent: 'wide'
      config.k8s.io/id: '1'
  pipeline:
    mutators:
    - exec: zdrender
      configMap:
        prestop-seconds: "5"
"""
KPT_DEPLOYMENT = """\
- # leading comment
  apiVersion: apps/v1
  kind: Deployment
  metadata:
    name: web # inline
    annotations:
      config.kubernetes.io/index: '0'
      config.kubernetes.io/path: 'app.yaml'
      internal.config.kubernetes.io/index: '0'
      internal.config.kubernetes.io/path: 'app.yaml'
      internal.config.kubernetes.io/seqindent: 'wide'
      config.k8s.io/id: '2'
  spec:
    replicas: 2
    template:
      metadata:
        labels: {app: web}
      spec:
        containers:
        - name: app # the server
          image: nginx
          ports:
          - containerPort: 80
"""
KPT_CONFIGMAP = """\
- apiVersion: v1
  kind: ConfigMap
  metadata:
    name: cfg
    annotations:
      config.kubernetes.io/index: '1'
      config.kubernetes.io/path: 'app.yaml'
      internal.config.kubernetes.io/index: '1'
      internal.config.kubernetes.io/path: 'app.yaml'
      config.k8s.io/id: '3'
  data:
    mode: "0644"
    on: yes
"""
KPT_LIST = (
    "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n"
    + KPT_KPTFILE
    + KPT_DEPLOYMENT
    + KPT_CONFIGMAP
    + "functionConfig:\n  apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: function-input\n"
    + '  data: {prestop-seconds: "5"}'  # kpt ends the stream without a newline
)

KUSTOMIZE_LIST = """\
apiVersion: config.kubernetes.io/v1
kind: ResourceList
items:
- apiVersion: apps/v1
  kind: Deployment
  metadata:
    annotations:
      kustomize.config.k8s.io/id: |
        group: apps
        kind: Deployment
        name: api
        version: v1
      config.kubernetes.io/index: '0'
      internal.config.kubernetes.io/index: '0'
      internal.config.kubernetes.io/annotations-migration-resource-id: '0'
      internal.config.kubernetes.io/id: '1'
      config.k8s.io/id: '1'
    name: api
  spec:
    template:
      metadata:
        labels:
          app: api
      spec:
        containers:
        - image: api:1
          name: api
- apiVersion: v1
  kind: Service
  metadata:
    annotations:
      kustomize.config.k8s.io/id: |
        kind: Service
        name: api
        version: v1
      config.kubernetes.io/index: '1'
      internal.config.kubernetes.io/index: '1'
      internal.config.kubernetes.io/id: '2'
      config.k8s.io/id: '2'
    name: api
  spec:
    selector:
      app: api
functionConfig:
  apiVersion: zdrender.io/v1alpha1
  kind: ZdRender
  metadata:
    annotations:
      config.kubernetes.io/function: |
        exec:
          path: ./zdrender.sh
      config.kubernetes.io/local-config: 'true'
    name: zdrender
  spec:
    prestop-seconds: 7
"""


# -- helpers ------------------------------------------------------------------------------------------
def zdrender_cmd(text: str, *args: str) -> subprocess.CompletedProcess:
    """The console script of this checkout, fed `text` on stdin, with no zdrender settings around."""
    return run([str(console_script()), *args], {"PATH": SYSTEM_PATH, "LANG": "C.UTF-8"}, stdin=text.encode())


def render(text: str, *args: str) -> str:
    return ok(zdrender_cmd(text, *args)).decode()


def items(text: str) -> list[dict[str, Any]]:
    return yaml.safe_load(text)["items"]


def results(text: str) -> list[dict[str, Any]]:
    return yaml.safe_load(text).get("results") or []


def pre_stop(obj: dict[str, Any], index: int = 0) -> Any:
    return obj["spec"]["template"]["spec"]["containers"][index].get("lifecycle", {}).get("preStop")


RECORD = "zdrender.io/changed"  # the workload's record of the rules that changed it (record-changes)


def annotations(obj: dict[str, Any]) -> dict[str, Any]:
    """The object's annotations but zdrender's own record, which the tools' bookkeeping must not disturb."""
    return {k: v for k, v in (obj["metadata"].get("annotations") or {}).items() if k != RECORD}


def only_insertions(before: str, after: str) -> list[str]:
    """The lines `after` adds to `before` (but zdrender's record and its `annotations:` line); fails
    when any line of `before` changed or went away."""
    added = []
    matcher = difflib.SequenceMatcher(None, before.splitlines(), after.splitlines(), autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        assert op in ("equal", "insert"), f"lines changed: {before.splitlines()[i1:i2]} -> {after.splitlines()[j1:j2]}"
        if op == "insert":
            added += after.splitlines()[j1:j2]
    kept = [line for i, line in enumerate(added) if RECORD not in line and not (line.strip() == "annotations:" and i + 1 < len(added) and RECORD in added[i + 1])]
    assert len(added) - len(kept) <= 2, "zdrender's record is one annotation"
    return kept


def krm_env(tmp_path: Path) -> dict[str, str]:
    """For kustomize and kpt: this checkout's zdrender first on PATH, a private HOME, no cluster."""
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    return {
        "PATH": f"{console_script().parent}:{SYSTEM_PATH}",
        "HOME": str(home),
        "KUBECONFIG": str(tmp_path / "no-kubeconfig"),
        "LANG": "C.UTF-8",
    }


def copy_example(source: Path, tmp_path: Path, name: str) -> Path:
    target = tmp_path / name
    shutil.copytree(source, target)
    return target


def package_files(folder: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted(folder.iterdir()) if p.is_file()}


def test_console_script_is_this_checkout():
    code = "import zdrender, sys; sys.stdout.write(zdrender.__file__)"
    python = console_script().parent / "python"
    where = subprocess.run([str(python), "-c", code], capture_output=True, text=True, check=True).stdout
    assert Path(where).resolve().is_relative_to(ROOT / "src"), where
    assert Path(zdrender.__file__).resolve().is_relative_to(ROOT / "src")


# -- a ResourceList fed to zdrender ----------------------------------------------------------------------
def test_kpt_list_patches_the_deployment_and_keeps_everything_else():
    out = render(KPT_LIST)
    before, after = items(KPT_LIST), items(out)
    assert [i["kind"] for i in after] == ["Kptfile", "Deployment", "ConfigMap"]
    assert pre_stop(after[1]) == {"sleep": {"seconds": 5}}  # the ConfigMap functionConfig's value
    assert after[1]["metadata"]["annotations"][RECORD] == "prestop-sleep"
    for old, new in zip(before, after):
        assert annotations(new) == annotations(old)
    # The Kptfile, the ConfigMap and the functionConfig are the same text; comments stay.
    assert KPT_KPTFILE in out and KPT_CONFIGMAP in out
    assert "- # leading comment\n" in out and "name: web # inline\n" in out and "- name: app # the server\n" in out
    added = only_insertions(KPT_LIST, out)  # no line of the input changed or went away
    assert added[:4] == ["          lifecycle:", "            preStop:", "              sleep:", "                seconds: 5"]
    assert added[4] == "results:"


def test_kpt_list_results_name_resource_field_and_file():
    (result,) = [r for r in results(render(KPT_LIST)) if r["tags"]["rule"] == "prestop-sleep"]  # and the no-readinessProbe warning
    assert result["severity"] == "warning"
    assert result["message"].startswith('[prestop-sleep] container "app": no preStop sleep, so it stops serving')
    assert result["resourceRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}
    assert result["field"] == {"path": "spec.template.spec.containers[0].lifecycle.preStop"}
    assert result["file"] == {"path": "app.yaml", "index": 0}
    assert result["tags"] == {"rule": "prestop-sleep", "fixed": "true"}


def test_kustomize_list_with_zdrender_function_config():
    out = render(KUSTOMIZE_LIST)
    deployment, service = items(out)
    # A Service in the list selects the port-less Deployment, so it serves: Services reach the rules.
    assert pre_stop(deployment) == {"sleep": {"seconds": 7}}
    assert annotations(deployment) == annotations(items(KUSTOMIZE_LIST)[0])
    assert annotations(deployment)["kustomize.config.k8s.io/id"].startswith("group: apps\n")
    assert service == items(KUSTOMIZE_LIST)[1]
    (result,) = results(out)
    assert result["resourceRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "api"}
    assert "file" not in result  # kustomize sends no file paths
    assert yaml.safe_load(out)["functionConfig"] == yaml.safe_load(KUSTOMIZE_LIST)["functionConfig"]


@pytest.mark.parametrize(
    "function_config, seconds",
    [
        ("", 10),
        ("functionConfig: {}\n", 10),
        ("functionConfig:\n  apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: x}\n  data:\n    prestop-seconds: '12'\n", 12),
        ("functionConfig:\n  apiVersion: zdrender.io/v1alpha1\n  kind: ZdRender\n  metadata: {name: x}\n  spec: {prestop-seconds: 13}\n", 13),
    ],
    ids=["none", "empty", "configmap", "zdrender"],
)
def test_function_config_forms(function_config, seconds):
    text = KUSTOMIZE_LIST.split("functionConfig:")[0] + function_config
    assert pre_stop(items(render(text))[0]) == {"sleep": {"seconds": seconds}}


def test_flags_override_function_config_and_annotations_override_both():
    assert pre_stop(items(render(KUSTOMIZE_LIST, "--set", "prestop-seconds=9"))[0]) == {"sleep": {"seconds": 9}}
    annotated = KUSTOMIZE_LIST.replace("      config.k8s.io/id: '1'\n", "      config.k8s.io/id: '1'\n      zdrender.io/prestop-seconds: '3'\n")
    assert pre_stop(items(render(annotated, "--set", "prestop-seconds=9"))[0]) == {"sleep": {"seconds": 3}}


def test_legacy_v1beta1_list_is_accepted():
    out = render(KUSTOMIZE_LIST.replace("config.kubernetes.io/v1\n", "config.kubernetes.io/v1beta1\n", 1))
    assert out.startswith("apiVersion: config.kubernetes.io/v1beta1\n")
    assert pre_stop(items(out)[0]) == {"sleep": {"seconds": 7}}


def test_rendering_twice_changes_no_item():
    once = render(KPT_LIST)
    twice = render(once)
    assert twice.split("results:")[0] == once.split("results:")[0]
    assert not [r for r in results(twice) if r["tags"]["fixed"] == "true"]
    # Warnings with nothing to fix (here: no readinessProbe) stay, and nothing else.
    assert [r["message"] for r in results(twice)] == [r["message"] for r in results(once) if r["tags"]["fixed"] == "false"]


def test_new_documents_are_appended_to_items_without_file_annotations():
    out = render(KPT_LIST, "--set", "disruption-budget=true")
    after = items(out)
    assert [i["kind"] for i in after] == ["Kptfile", "Deployment", "ConfigMap", "PodDisruptionBudget"]
    pdb = after[3]
    assert pdb["metadata"] == {"name": "web-zdrender"}  # kpt names its file poddisruptionbudget_web-zdrender.yaml
    assert pdb["spec"] == {"maxUnavailable": 1, "selector": {"matchLabels": {"app": "web"}}}
    budget = next(r for r in results(out) if r["tags"]["rule"] == "disruption-budget")
    assert budget["resourceRef"]["name"] == "web" and budget["file"]["path"] == "app.yaml"
    assert items(render(out, "--set", "disruption-budget=true")) == after, "the PDB now covers the Deployment"


def test_lists_the_fast_path_cannot_cut_give_the_same_objects():
    """Flow style (JSON) and aliases between items take the whole-list path; the objects agree."""
    expected = yaml.safe_load(render(KUSTOMIZE_LIST))
    out = render(json.dumps(yaml.safe_load(KUSTOMIZE_LIST)))
    assert yaml.safe_load(out) == expected
    aliased = KUSTOMIZE_LIST.replace("        labels:\n          app: api\n", "        labels: &labels\n          app: api\n").replace("    selector:\n      app: api\n", "    selector: *labels\n")
    assert yaml.safe_load(render(aliased)) == expected


def test_kpt_and_kustomize_shapes_take_the_item_by_item_path(monkeypatch):
    def slow_path(*args):
        raise AssertionError("the whole-list path was taken")

    monkeypatch.setattr(krm, "_edit_whole", slow_path)
    for text in (KPT_LIST, KUSTOMIZE_LIST):
        outcome = krm.run(text, zdrender_settings)
        assert outcome.error is None and outcome.findings


def zdrender_settings(function_config: Any):
    from zdrender import rules, settings

    return settings.load(rules.all_knobs(), function_config=function_config)


@pytest.mark.parametrize(
    "text, message",
    [
        (KPT_LIST.replace('{prestop-seconds: "5"}', "{prestop-seconds: abc}"), BAD_SETTING),
        (KUSTOMIZE_LIST.replace("kind: ZdRender", "kind: Other"), "functionConfig zdrender.io/v1alpha1 Other is not supported"),
        (KUSTOMIZE_LIST.replace("config.kubernetes.io/v1\n", "config.kubernetes.io/v2\n", 1), "ResourceList apiVersion 'config.kubernetes.io/v2'"),
        (KUSTOMIZE_LIST + "---\napiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n", "stdin holds 2 documents"),
        (KUSTOMIZE_LIST.replace("  spec:\n    prestop-seconds: 7\n", "  spec:\n    no-such-setting: 1\n"), "unknown setting 'no-such-setting'"),
    ],
    ids=["bad-setting", "unknown-config-kind", "unknown-version", "extra-document", "unknown-setting"],
)
def test_errors_exit_non_zero_with_one_line_and_an_error_result(text, message):
    done = zdrender_cmd(text)
    assert done.returncode != 0
    stderr = done.stderr.decode()
    assert stderr.count("\n") == 1 and stderr.startswith("zdrender: ") and message in stderr
    out = done.stdout.decode()
    (result,) = results(out)
    assert result["severity"] == "error" and message in result["message"]
    if message != "stdin holds 2 documents":  # the input comes back unchanged, with the error result
        assert items(out) == items(text)


def test_broken_yaml_gives_a_results_only_list():
    done = zdrender_cmd("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n- a: [1,\n")
    assert done.returncode != 0 and "line " in done.stderr.decode()
    listed = yaml.safe_load(done.stdout)
    assert listed["kind"] == "ResourceList" and "items" not in listed
    assert listed["results"][0]["severity"] == "error"


def test_field_paths_quote_keys_with_dots():
    item = {"metadata": {"annotations": {}}, "spec": {"containers": [{"name": "a"}]}}
    assert krm.field_path(item, ["metadata", "annotations", "proxy.istio.io/config"]) == "metadata.annotations['proxy.istio.io/config']"
    assert krm.field_path(item, ["spec", "containers", "0", "lifecycle"]) == "spec.containers[0].lifecycle"
    assert krm.field_path(item, ["spec", "initContainers", "0"]) == "spec.initContainers[0]"  # not there yet


@pytest.mark.corpus
@pytest.mark.parametrize("name", ["ingress-nginx", "bitnami-redis", "grafana", "istiod"])
def test_corpus_release_as_a_list_gets_the_plain_streams_patches(name):
    """A release wrapped in a ResourceList (as kustomize's helmCharts would send it) gets the same
    objects as the plain stream, and the same findings in results."""
    path = CORPUS / f"{name}.yaml"
    require(path.exists(), f"the corpus is absent at {CORPUS}")
    plain_in = [load(d) for d in documents(path.read_text())]
    wrapped = yaml.safe_dump({"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList", "items": [d for d in plain_in if d]})
    plain = subprocess.run([str(console_script()), "-q"], input=path.read_bytes(), capture_output=True, check=True).stdout.decode()
    out = render(wrapped, "-q")
    assert items(out) == [load(d) for d in documents(plain) if load(d)]
    assert len(results(out)) > 0


# -- Kustomize -----------------------------------------------------------------------------------------
def kustomize_build(folder: Path, env: dict[str, str], *flags: str) -> subprocess.CompletedProcess:
    return run([tool("kustomize"), "build", *flags, str(folder)], env)


EXEC_FLAGS = ("--enable-alpha-plugins", "--enable-exec")


def test_kustomize_exec_transformer_patches_the_deployment(tmp_path):
    env = krm_env(tmp_path)
    out = ok(kustomize_build(KUSTOMIZE_EXAMPLE, env, *EXEC_FLAGS)).decode()
    plain = tmp_path / "plain"
    shutil.copytree(KUSTOMIZE_EXAMPLE, plain)
    kustomization = (plain / "kustomization.yaml").read_text()
    (plain / "kustomization.yaml").write_text(kustomization.split("transformers:")[0])
    without = ok(kustomize_build(plain, env)).decode()
    patched = {(load(d)["kind"]): d for d in documents(out)}
    unpatched = {(load(d)["kind"]): d for d in documents(without)}
    assert set(patched) == {"Deployment", "Service", "ConfigMap"}
    assert pre_stop(load(patched["Deployment"])) == {"sleep": {"seconds": 10}}
    assert patched["ConfigMap"] == unpatched["ConfigMap"]  # byte for byte as kustomize prints it
    assert patched["Service"] == unpatched["Service"]
    assert only_insertions(unpatched["Deployment"], patched["Deployment"]) == [
        "        lifecycle:",
        "          preStop:",
        "            sleep:",
        "              seconds: 10",
    ]


def test_kustomize_fails_with_zdrenders_message(tmp_path):
    folder = copy_example(KUSTOMIZE_EXAMPLE, tmp_path, "kustomize")
    config = folder / "zdrender.yaml"
    config.write_text(config.read_text().replace("prestop-seconds: 10", "prestop-seconds: abc"))
    done = kustomize_build(folder, krm_env(tmp_path), *EXEC_FLAGS)
    assert done.returncode != 0
    assert BAD_SETTING in done.stderr.decode()
    assert done.stdout == b""


def test_exec_functions_are_skipped_without_enable_exec_and_by_kubectl_kustomize(tmp_path):
    """What examples/kustomize/README.md says: only `--enable-alpha-plugins --enable-exec` runs it."""
    env = krm_env(tmp_path)
    skipped = ok(kustomize_build(KUSTOMIZE_EXAMPLE, env, "--enable-alpha-plugins")).decode()
    assert "preStop" not in skipped
    kubectl = tool("kubectl")
    quiet_skip = ok(run([kubectl, "kustomize", "--enable-alpha-plugins", str(KUSTOMIZE_EXAMPLE)], env)).decode()
    assert "preStop" not in quiet_skip and "kind: Deployment" in quiet_skip
    refused = run([kubectl, "kustomize", str(KUSTOMIZE_EXAMPLE)], env)
    assert refused.returncode != 0 and "external plugins disabled" in refused.stderr.decode()
    no_flag = run([kubectl, "kustomize", "--enable-alpha-plugins", "--enable-exec", str(KUSTOMIZE_EXAMPLE)], env)
    assert no_flag.returncode != 0 and "unknown flag: --enable-exec" in no_flag.stderr.decode()


# -- kpt -----------------------------------------------------------------------------------------------
def kpt(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return run([tool("kpt"), "fn", *args], env)


def assert_package_patched(before: dict[str, str], after: dict[str, str], seconds: int) -> None:
    assert set(after) == set(before), "file names change"
    assert after["Kptfile"] == before["Kptfile"]
    assert after["service.yaml"] == before["service.yaml"]
    added = only_insertions(before["deployment.yaml"], after["deployment.yaml"])  # comments and layout stay
    assert added == ["          lifecycle:", "            preStop:", "              sleep:", f"                seconds: {seconds}"]
    configmap = before["deployment.yaml"].split("\n---\n")[1]
    assert after["deployment.yaml"].endswith(configmap)


def test_kpt_fn_eval_exec(tmp_path):
    package = copy_example(KPT_EXAMPLE, tmp_path, "pkg")
    before = package_files(package)
    done = kpt("eval", str(package), "--exec", "zdrender", "--results-dir", str(tmp_path / "results"), "--", "prestop-seconds=5", env=krm_env(tmp_path))
    ok(done)
    assert_package_patched(before, package_files(package), 5)
    shown = done.stderr.decode()
    assert "[warning] apps/v1/Deployment/web spec.template.spec.containers[0].lifecycle.preStop: [prestop-sleep]" in shown
    (function,) = yaml.safe_load((tmp_path / "results" / "results.yaml").read_text())["items"]
    (result,) = function["results"]
    assert result["file"] == {"path": "deployment.yaml"}  # kpt drops index 0 (omitempty)
    assert result["resourceRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}


def test_kpt_fn_render_allow_exec(tmp_path):
    package = copy_example(KPT_EXAMPLE, tmp_path, "pkg")
    before = package_files(package)
    env = krm_env(tmp_path)
    done = ok_kpt(kpt("render", "--allow-exec", str(package), env=env))
    assert_package_patched(before, package_files(package), 10)  # the Kptfile's configMap
    assert '[PASS] "zdrender"' in done and "spec.template.spec.containers[0].lifecycle.preStop" in done
    once = package_files(package)
    ok_kpt(kpt("render", "--allow-exec", str(package), env=env))
    assert package_files(package) == once, "rendering again changes nothing"


def ok_kpt(done: subprocess.CompletedProcess) -> str:
    ok(done)
    return done.stderr.decode()


@pytest.mark.parametrize("how", ["eval", "render"])
def test_kpt_fails_with_zdrenders_message(tmp_path, how):
    package = copy_example(KPT_EXAMPLE, tmp_path, "pkg")
    env = krm_env(tmp_path)
    if how == "eval":
        done = kpt("eval", str(package), "--exec", "zdrender", "--", "prestop-seconds=abc", env=env)
    else:
        kptfile = package / "Kptfile"
        kptfile.write_text(kptfile.read_text().replace('prestop-seconds: "10"', "prestop-seconds: abc"))
        done = kpt("render", "--allow-exec", str(package), env=env)
    before = package_files(package)
    assert done.returncode != 0
    shown = done.stderr.decode()
    assert f"[error]: {BAD_SETTING}" in shown  # the error result
    assert f"zdrender: {BAD_SETTING}" in shown  # and zdrender's stderr
    assert package_files(package) == before


def test_examples_keep_their_wrapper_and_settings():
    script = KUSTOMIZE_EXAMPLE / "zdrender.sh"
    assert script.stat().st_mode & 0o111, "the exec function must be executable"
    config = yaml.safe_load((KUSTOMIZE_EXAMPLE / "zdrender.yaml").read_text())
    assert yaml.safe_load(config["metadata"]["annotations"]["config.kubernetes.io/function"]) == {"exec": {"path": "./zdrender.sh"}}
    assert [d.kind for d in stream.split((KPT_EXAMPLE / "deployment.yaml").read_text()).documents] == ["Deployment", "ConfigMap"]
