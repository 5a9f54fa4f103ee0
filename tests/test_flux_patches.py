"""`zdrender flux`: the postRenderers fragment, --helmrelease, Lists, dotted names and the objects a
rule would add (which patches cannot express). tests/e2e/test_flux.py runs the patches through kustomize."""

from __future__ import annotations

import json

import yaml
from typer.testing import CliRunner

from zdrender import flux, pipeline
from zdrender.cli import app
from zdrender.runner import settings_from_args

DEPLOYMENT = """\
apiVersion: v1
kind: Service
metadata: {name: web.app}
spec:
  selector: {app: web}
  ports: [{port: 80}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web.app, namespace: shop}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: example/web:1
        ports: [{containerPort: 8080}]
"""

HELMRELEASE = """\
# the shop's web release
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: web  # managed by Flux
  namespace: shop
spec:
  interval: 10m
  chart:
    spec:
      chart: web   # the chart
      sourceRef: {kind: HelmRepository, name: shop}
  postRenderers:
    # old patches, to be replaced
    - kustomize:
        patches:
          - target: {kind: Deployment, name: old}
            patch: |
              - {"op": "add", "path": "/metadata/labels/x", "value": "y"}
  values:
    replicas: 3  # keep three
"""


def invoke(*args: str, input: str = DEPLOYMENT):
    return CliRunner().invoke(app, ["flux", *args], input=input)


def explained(text: str, *sets: str) -> list[dict]:
    done = CliRunner().invoke(app, ["explain", *[f"--set={s}" for s in sets]], input=text)
    assert done.exit_code == 0, done.stderr
    return json.loads(done.stdout)


def test_fragment_has_one_targeted_json6902_patch_per_changed_object():
    done = invoke()
    assert done.exit_code == 0, done.stderr
    assert done.stdout.startswith("postRenderers:\n  - kustomize:\n      patches:\n")
    (renderer,) = yaml.safe_load(done.stdout)["postRenderers"]
    (entry,) = renderer["kustomize"]["patches"]
    # name and namespace are anchored regular expressions in kustomize: a dot is escaped
    assert entry["target"] == {"group": "apps", "version": "v1", "kind": "Deployment", "name": r"web\.app", "namespace": "shop"}
    assert "            name: 'web\\.app'\n" in done.stdout
    ops = yaml.safe_load(entry["patch"])
    assert ops == next(e for e in explained(DEPLOYMENT) if e["kind"] == "Deployment")["patch"]


def test_core_group_is_left_out_of_the_target():
    obj = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}}
    assert flux.target(obj) == {"version": "v1", "kind": "Pod", "name": "p"}


def test_list_items_are_patched_as_the_objects_kustomize_sees():
    items = [yaml.safe_load(doc) for doc in DEPLOYMENT.split("---\n")]
    listed = yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": items})
    done = invoke(input=listed)
    assert done.exit_code == 0, done.stderr
    (entry,) = yaml.safe_load(done.stdout)["postRenderers"][0]["kustomize"]["patches"]
    assert entry["target"]["kind"] == "Deployment"
    ops = yaml.safe_load(entry["patch"])
    (whole,) = explained(listed)
    assert [{**op, "path": op["path"].removeprefix("/items/1")} for op in whole["patch"]] == ops
    assert all(not op["path"].startswith("/items/") for op in ops)


def test_an_object_a_rule_would_add_is_skipped_with_a_warning():
    done = invoke("--set", "disruption-budget=true")
    assert done.exit_code == 0, done.stderr
    assert "warning: PodDisruptionBudget/web.app-zdrender: skipped: rule disruption-budget would add this object" in done.stderr
    assert "PodDisruptionBudget" not in done.stdout
    assert len(yaml.safe_load(done.stdout)["postRenderers"][0]["kustomize"]["patches"]) == 1  # the Deployment's patch stays


def test_findings_without_ops_make_no_patch():
    text = DEPLOYMENT.replace("replicas: 3", "replicas: 1")
    result = pipeline.run(text, settings_from_args(None, ["disruption-budget=true"], None), parse_all=True)
    found = flux.collect(result)
    assert len(found.entries) == sum(1 for d in result.documents if d.ops)


def test_no_change_gives_an_empty_list():
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n"
    done = invoke(input=text)
    assert done.exit_code == 0, done.stderr
    assert done.stdout == "postRenderers: []\n"


def test_helmrelease_replaces_the_block_and_keeps_comments(tmp_path):
    release = tmp_path / "helmrelease.yaml"
    release.write_text(HELMRELEASE)
    done = invoke("--helmrelease", str(release))
    assert done.exit_code == 0, done.stderr
    out = done.stdout
    before, after = HELMRELEASE.split("  postRenderers:\n")[0], HELMRELEASE.split("  values:\n")[1]
    assert out.startswith(before) and out.endswith("  values:\n" + after)
    for comment in ("# the shop's web release", "# managed by Flux", "# the chart", "# keep three"):
        assert comment in out
    assert "old patches" not in out and "name: old" not in out
    spec = yaml.safe_load(out)["spec"]
    fragment = yaml.safe_load(invoke().stdout)
    assert spec["postRenderers"] == fragment["postRenderers"]
    assert spec["values"] == {"replicas": 3} and spec["interval"] == "10m"


def test_helmrelease_without_post_renderers_gets_them_at_the_end_of_spec(tmp_path):
    text = HELMRELEASE.split("  postRenderers:\n")[0] + "---\napiVersion: v1\nkind: Namespace\nmetadata: {name: shop}  # kept\n"
    release = tmp_path / "helmrelease.yaml"
    release.write_text(text)
    done = invoke("--helmrelease", str(release))
    assert done.exit_code == 0, done.stderr
    assert done.stdout.endswith("---\napiVersion: v1\nkind: Namespace\nmetadata: {name: shop}  # kept\n")
    docs = list(yaml.safe_load_all(done.stdout))
    assert docs[0]["spec"]["postRenderers"] == yaml.safe_load(invoke().stdout)["postRenderers"]
    assert "sourceRef: {kind: HelmRepository, name: shop}\n  postRenderers:\n    - kustomize:\n" in done.stdout


def test_helmrelease_with_a_flow_spec_is_rewritten_and_checked(tmp_path):
    release = tmp_path / "helmrelease.yaml"
    release.write_text("apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: web}  # kept\nspec: {interval: 10m}\n")
    done = invoke("--helmrelease", str(release))
    assert done.exit_code == 0, done.stderr
    assert "# kept" in done.stdout
    assert yaml.safe_load(done.stdout)["spec"]["postRenderers"] == yaml.safe_load(invoke().stdout)["postRenderers"]


def test_a_file_without_a_helmrelease_is_refused(tmp_path):
    release = tmp_path / "other.yaml"
    release.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n")
    done = invoke("--helmrelease", str(release))
    assert done.exit_code == 2
    assert "holds no HelmRelease" in done.stderr
    assert done.stdout == ""
