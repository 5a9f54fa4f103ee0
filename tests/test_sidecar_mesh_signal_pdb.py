"""The sidecars, mesh, signals and disruption-budget rules beyond their snapshots: schema validity of
what they write, end-to-end interplay with the grace-period rule, the PDB as a new document (CRLF, no
final newline, idempotency), the annotation alias, and the shell-script reader."""

from __future__ import annotations

import pytest

from zdrender import pipeline, stream, yamldoc
from zdrender.kube import go_duration_seconds
from zdrender.rules import mesh, signals
from zdrender.settings import SettingsError

from conftest import FIXTURES, fixture_args, require_module
from helpers import make_settings, render

RULE_DIRS = ("sidecars", "mesh", "signals", "disruption-budget")
CASES = sorted(p for d in RULE_DIRS for p in (FIXTURES / d).rglob("*.yaml")) + sorted((FIXTURES / "interplay").glob("*.yaml"))


def kube_version(args: list[str]) -> str:
    for arg in args:
        if arg.startswith("--kube-version="):
            return arg.split("=", 1)[1]
    return "1.30"


@pytest.mark.parametrize("case", CASES, ids=[str(p.relative_to(FIXTURES).with_suffix("")) for p in CASES])
def test_patched_output_validates(case):
    """Every document the rules changed or added is valid for the fixture's target version."""
    kubernetes_validate = require_module("kubernetes_validate")
    text = case.read_text(encoding="utf-8")
    args = fixture_args(text)
    result = render(text, args)
    before = {d.text for d in stream.split(text).documents}
    changed = [d for d in stream.split(result.output).documents if d.has_content and d.text not in before]
    for doc in changed:
        kubernetes_validate.validate(yamldoc.load(doc.text), kube_version(args), strict=True)


def test_stop_signal_schema_of_1_33_has_the_field():
    kubernetes_validate = require_module("kubernetes_validate")
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p"},
        "spec": {"os": {"name": "linux"}, "containers": [{"name": "c", "image": "nginx", "lifecycle": {"stopSignal": "SIGQUIT"}}]},
    }
    kubernetes_validate.validate(pod, "1.33", strict=True)
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(pod, "1.32", strict=True)


DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  replicas: 3
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: example/web:1"""


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
@pytest.mark.parametrize("final_newline", [True, False])
def test_pdb_joins_the_stream_after_its_workload(newline, final_newline):
    text = "---\n# Source: web/templates/deployment.yaml\n" + DEPLOYMENT + "\n---\napiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {selector: {app: web}}"
    text = text.replace("\n", newline) + (newline if final_newline else "")
    settings = make_settings(["--set", "disruption-budget=true"])
    output = pipeline.run(text, settings).output
    docs = [yamldoc.load(d.text) for d in stream.split(output).documents if d.has_content]
    assert [d["kind"] for d in docs] == ["Deployment", "PodDisruptionBudget", "Service"]
    pdb = docs[1]
    assert pdb["metadata"] == {"name": "web-zdrender", "namespace": "shop"}
    assert pdb["spec"] == {"maxUnavailable": 1, "selector": {"matchLabels": {"app": "web"}}}
    assert "# Source: web/templates/deployment.yaml" in stream.split(output).documents[1].text
    if newline == "\r\n":
        assert "\n" not in output.replace("\r\n", "")
    assert output.endswith(newline) == final_newline  # the last document's end is untouched
    assert pipeline.run(output, settings).output == output, "the second run must see the PDB and add nothing"


def test_pdb_after_the_last_document_without_final_newline():
    settings = make_settings(["--set", "disruption-budget=true"])
    output = pipeline.run(DEPLOYMENT, settings).output
    assert output.startswith(DEPLOYMENT + "\n---\napiVersion: policy/v1\n")
    assert output.endswith("app: web\n")
    assert pipeline.run(output, settings).output == output


def test_linkerd_wait_stays_below_the_grace_period_end_to_end():
    text = DEPLOYMENT.replace("metadata:\n      labels: {app: web}", "metadata:\n      labels: {app: web}\n      annotations: {linkerd.io/inject: enabled}")
    text = text.replace("image: example/web:1", "image: example/web:1\n          ports: [{containerPort: 80}]")
    out = yamldoc.load(render(text, ["--set", "drain-seconds=25", "--set", "prestop-seconds=12"]).output)
    pod = out["spec"]["template"]
    wait = int(pod["metadata"]["annotations"][mesh.LINKERD_WAIT])
    assert wait == 12 + 25
    assert pod["spec"]["terminationGracePeriodSeconds"] == wait + 5


def test_sidecar_sleep_is_covered_by_the_grace_period():
    text = DEPLOYMENT.replace(
        "image: example/web:1",
        "image: example/web:1\n          ports: [{containerPort: 80}]\n        - name: proxy\n          image: gcr.io/cloudsql-docker/gce-proxy:1.33.2",
    )
    out = yamldoc.load(render(text, ["--set", "drain-seconds=30"]).output)
    spec = out["spec"]["template"]["spec"]
    proxy_sleep = spec["containers"][1]["lifecycle"]["preStop"]["sleep"]["seconds"]
    assert proxy_sleep == 10 + 30
    assert spec["terminationGracePeriodSeconds"] == proxy_sleep + 5


def test_native_mode_uses_remove_and_add_not_move():
    text = DEPLOYMENT.replace("image: example/web:1", "image: example/web:1\n        - name: envoy\n          image: envoyproxy/envoy:v1.31.0")
    result = render(text, ["--set", "sidecar-mode=native"])
    ops = result.documents[0].ops
    assert {op["op"] for op in ops} == {"add", "remove"}
    assert {"op": "remove", "path": "/spec/template/spec/containers/1"} in ops
    out = yamldoc.load(result.output)
    assert out["spec"]["template"]["spec"]["initContainers"] == [{"name": "envoy", "restartPolicy": "Always", "image": "envoyproxy/envoy:v1.31.0"}]
    assert [c["name"] for c in out["spec"]["template"]["spec"]["containers"]] == ["web"]


def test_sidecars_annotation_alias_and_its_own_key():
    settings = make_settings()
    both = {"zdrender.io/sidecars": "a,b", "zdrender.io/sidecar-names": "c"}
    assert settings.for_annotations(both, "Deployment/x")["sidecar-names"] == ("c",)
    assert settings.for_annotations({"zdrender.io/sidecars": "a, b"}, "Deployment/x")["sidecar-names"] == ("a", "b")
    assert make_settings(["--set", "sidecars=x"])["sidecar-names"] == ("x",)


def test_unknown_stop_signal_is_a_one_line_error():
    # Checked whether or not an image matches, so a typo does not wait for the day one does.
    with pytest.raises(SettingsError, match=r"^setting stop-signals \(command line\): 'BOGUS' \(for images 'nginx'\) is not a Linux signal name"):
        render(DEPLOYMENT, ["--set", "stop-signals=nginx=BOGUS"])


@pytest.mark.parametrize(
    "argv, flagged",
    [
        (["sh", "-c", "app"], None),
        (["sh", "-c", "cd /srv && app"], "app"),
        (["/bin/sh", "-ec", "exec app"], None),
        (["bash", "-c", "set -e; exec app \\\n --flag"], None),
        (["sh", "-c", "a; b # exec in a comment"], "b"),
        (["sh", "-c", 'echo "x; exec y"; z'], "z"),
        (["sh", "-c", "app &\nwait"], "wait"),
        (["sh", "-c", "trap 'kill $p' SIGTERM; app & p=$!; wait"], None),
        (["sh", "-c", "trap 'exit' EXIT; app & wait"], "wait"),
        (["sh", "-c", "if x; then exec a; else exec b; fi"], None),
        (["sh", "-c", "if x; then exec a; else b; fi"], "b"),
        (["sh", "-c", "while :; do sleep 1; done"], "a loop ending in `done`"),
        (["sh", "-c", "cat <<EOF >f\nexec nope\nEOF\nrun"], "run"),
        (["sh", "-c", "a | b"], "a | b"),
        (["sh", "-c", "x=$(echo a; echo b) app"], None),
        (["busybox", "sh", "-c", "a; b"], "b"),
        (["/usr/bin/env", "FOO=1", "bash", "--noprofile", "-c", "a; b"], "b"),
        (["sh", "script.sh"], None),
        (["python3", "-c", "a; b"], None),
        (["tini", "--", "sh", "-c", "a; b"], None),  # an init as PID 1 handles signals
    ],
)
def test_shell_scripts(argv, flagged):
    found = signals.shell_script(argv)
    result = signals.unexeced_command(argv[found[1]]) if found else None
    assert result == flagged


@pytest.mark.parametrize("text, seconds", [("30s", 30), ("1m30s", 90), ("500ms", 0.5), ("1h", 3600), ("soon", None), ("", None), ("30", None)])
def test_go_durations(text, seconds):
    assert go_duration_seconds(text) == seconds


def test_corpus_with_every_opt_in(corpus):
    """The corpus with native sidecars, a PDB for every uncovered workload and a stop-signal map on a
    1.33 target with the gate: the engine's guarantees hold (idempotent, exact, minimal, valid)."""
    import guarantees

    args = [
        "--kube-version=1.33",
        "--set",
        "sidecar-mode=native",
        "--set",
        "disruption-budget=true",
        "--set",
        "feature-gates=ContainerStopSignals=true",
        "--set",
        "stop-signals=nginx=SIGQUIT,nginx-unprivileged=SIGQUIT",
    ]
    added = 0
    for path in corpus:
        result = guarantees.check(path.read_text(encoding="utf-8"), make_settings(args), validate_version="1.33")
        added += sum(1 for f in result.findings if f.new_object is not None)
    assert added > 0, "some corpus workload should have been given a PodDisruptionBudget"
