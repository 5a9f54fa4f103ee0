"""The stream engine and the patcher: bytes kept, edits minimal, aliases and styles respected."""

from __future__ import annotations

import jsonpatch
import pytest

from zdrender import emit, patch, pipeline, stream, yamldoc

from helpers import make_settings, render

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: nginx
          ports:
            - containerPort: 80
"""


@pytest.mark.parametrize(
    "text",
    [
        "",
        "---\n",
        "# just a comment\n",
        "\ufeff---\r\na: 1\r\n---\r\nb: 2\r\n",
        "a: 1\n...\n---\nb: 2\n",
        "--- # first\na: 1\n--- # second\n# Source: x.yaml\nb: 2",
        "---\n---\n---\n",
        "key: |\n  --- not a separator when indented\n---\nnext: 1\n",
    ],
)
def test_split_join_keeps_every_byte(text):
    assert stream.split(text).join() == text


def test_documents_are_numbered_as_a_reader_counts_them():
    docs = stream.split("# prelude comment\n---\na: 1\n---\n# only a comment\n---\nkind: Service\n").documents
    assert [d.number for d in docs] == [1, 2, 3, 4]
    assert [d.has_content for d in docs] == [False, True, False, True]
    assert docs[3].kind == "Service" and docs[3].line == 6


def test_untouched_documents_and_yaml_1_1_spellings_survive():
    text = "---\n# Source: chart/templates/cm.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {mode: 0644}\n---\n" + DEPLOYMENT.replace(
        "  name: web\n", "  name: web\n  labels:\n    legacy: on\n    version: 1.10\n    empty: ~\n"
    ).replace("        - name: web\n", "        - name: web\n          securityContext: {runAsUser: 0644}\n")
    out = render(text).output
    assert out.startswith(text.split("---\n")[1].join(["---\n", "---\n"]))
    for line in ("    legacy: on\n", "    version: 1.10\n", "    empty: ~\n", "securityContext: {runAsUser: 0644}\n"):
        assert line in out
    assert "sleep:\n                seconds: 10\n" in out


def test_crlf_and_bom_are_kept_in_patched_documents():
    text = "\ufeff---\r\n" + DEPLOYMENT.replace("\n", "\r\n")
    out = render(text).output
    assert out.startswith("\ufeff---\r\n")
    assert "\n" not in out.replace("\r\n", "")
    assert "preStop:\r\n" in out


@pytest.mark.parametrize("seq_indent", [0, 2])
def test_new_lines_follow_the_documents_sequence_indentation(seq_indent):
    text = DEPLOYMENT
    if seq_indent == 0:
        text = text.replace(
            "        - name: web\n          image: nginx\n          ports:\n            - containerPort", "      - name: web\n        image: nginx\n        ports:\n        - containerPort"
        )
    out = render(text, ["--kube-version=1.28"]).output
    expected = " " * seq_indent + "- sleep\n"
    assert "command:\n" in out and expected in out.split("command:\n", 1)[1]


def test_editing_through_an_alias_leaves_the_other_users_alone():
    text = DEPLOYMENT.replace("      containers:\n        - name: web", "      containers:\n        - &app\n          name: web") + ("      initContainers:\n        - *app\n")
    result = render(text)
    out = yamldoc.load(result.output)
    spec = out["spec"]["template"]["spec"]
    assert "lifecycle" in spec["containers"][0]
    assert "lifecycle" not in spec["initContainers"][0], "the alias's other user must not change"
    assert any(f.rule == "engine" and "alias" in f.message for f in result.findings)


def test_merge_keys_are_edited_in_place_or_fall_back():
    merged = DEPLOYMENT.replace("        - name: web\n", "        - <<: {name: web}\n")
    result = render(merged)
    assert yamldoc.load(result.output)["spec"]["template"]["spec"]["containers"][0]["lifecycle"]
    assert "<<: {name: web}" in result.output and not any(f.rule == "engine" for f in result.findings)
    # A value that only exists through the merge key cannot be replaced in place.
    hidden = DEPLOYMENT.replace("    spec:\n      containers:", "    spec:\n      <<: {terminationGracePeriodSeconds: 5}\n      containers:")
    result = render(hidden)
    assert yamldoc.load(result.output)["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] == 30
    assert any(f.rule == "engine" for f in result.findings)


@pytest.mark.parametrize(
    "doc, op",
    [
        ("a: {b: 1}\n", {"op": "add", "path": "/a/c", "value": [1, "on"]}),
        ("a: []\n", {"op": "add", "path": "/a/-", "value": {"x": "10"}}),
        ("a:\n- 1\n- 2\n", {"op": "add", "path": "/a/1", "value": 5}),
        ("a:\n- 1\n- 2\n", {"op": "remove", "path": "/a/0"}),
        ("a:\n  - 1\n", {"op": "remove", "path": "/a/0"}),
        ("a:\n  b: 1\n  c: 2 # keep\n", {"op": "remove", "path": "/a/b"}),
        ("a:\n  b: |\n    text\n\n  c: 2\n", {"op": "replace", "path": "/a/b", "value": "short"}),
        ("a:\n  b:\n  c: 2\n", {"op": "replace", "path": "/a/b", "value": {"x": 1}}),
        ("a:\n  b: ~\n", {"op": "replace", "path": "/a/b", "value": {"x": 1}}),
        ("a:\n  b:\n    x: 1\n    y: 2\n", {"op": "replace", "path": "/a/b", "value": {"z": [1, 2]}}),
        ("a: [1, {b: 2}]\n", {"op": "add", "path": "/a/1/c", "value": "d e"}),
        ("a:\n  b: 1", {"op": "add", "path": "/a/c", "value": 2}),
        ("a:\n  k/x: 1\n", {"op": "add", "path": "/a/k~1y", "value": "0644"}),
    ],
)
def test_patch_edits_match_rfc6902(doc, op):
    out = patch.apply(doc, [op])
    assert yamldoc.load(out) == jsonpatch.apply_patch(yamldoc.load(doc), [op])


def test_patch_refuses_what_it_cannot_edit_minimally():
    with pytest.raises(patch.PatchError):
        patch.apply("a: &x {b: 1}\nc: *x\n", [{"op": "add", "path": "/c/d", "value": 1}])
    with pytest.raises(patch.PatchError):
        patch.apply("a: 1\n", [{"op": "replace", "path": "", "value": {}}])


@pytest.mark.parametrize("value", ["10", "on", "yes", "0644", "1.10", "~", "null", "a: b", "#x", "", " lead", "é", "-", "*x", "@a"])
def test_scalars_read_back_as_the_same_string(value):
    assert yamldoc.load(f"k: {emit.scalar(value)}\n") == {"k": value}


@pytest.mark.parametrize("doc", ["a:\n- 1\n- 2\nb: 1\n", "a:\n  - 1\nb: 1\n", "a:\n  x: 1\nb: 1\n", "l:\n- a:\n    x: 1\n"])
def test_emptying_a_block_collection_keeps_valid_yaml(doc):
    path = "/l/0/a" if doc.startswith("l:") else "/a"
    value = {} if "x:" in doc else []
    op = {"op": "replace", "path": path, "value": value}
    assert yamldoc.load(patch.apply(doc, [op])) == jsonpatch.apply_patch(yamldoc.load(doc), [op])


def test_sibling_sets_under_a_missing_parent_build_on_each_other():
    from zdrender.rules.base import RuleContext
    from zdrender.workload import StreamContext

    from helpers import make_settings

    document = {"spec": {}}
    ctx = RuleContext(settings=make_settings(), stream=StreamContext(), document=document)
    ops = [ctx.set("/spec/strategy/rollingUpdate/maxSurge", 1), ctx.set("/spec/strategy/rollingUpdate/maxUnavailable", 0)]
    assert jsonpatch.apply_patch(document, ops) == {"spec": {"strategy": {"rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}}}
    assert document == {"spec": {}}, "the rule's view of the document does not change under it"


def test_a_reemitted_document_that_differs_from_the_plan_fails_closed(monkeypatch):
    """Every text zdrender emits is parsed again and compared with the plan, the full re-write included."""
    aliased = (
        "--- &root\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  selector: {matchLabels: {app: web}}\n"
        "  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers: &c\n"
        "        - {name: app, image: example/app:1, ports: [{containerPort: 80}]}\n      initContainers: *c\n"
    )
    assert pipeline.run(aliased, make_settings([])).output.startswith("---\napiVersion: apps/v1\n")  # re-written, separator kept
    from zdrender import rewrite

    monkeypatch.setattr(rewrite, "rewrite", lambda text, ops, parsed=None: text.replace("example/app:1", "example/app:2"))
    with pytest.raises(pipeline.InputError, match=r"document 1 \(line \d+\): zdrender could not re-write it"):
        pipeline.run(aliased, make_settings([]))


@pytest.mark.parametrize(
    "prelude, between",
    [
        ("%YAML 1.1\n", ""),
        ("%YAML 1.2\n%TAG !e! tag:example.com,2000:\n", ""),
        ("", "...\n%YAML 1.1\n"),
        ("# leading comment\n%YAML 1.1\n", "...\r\n%TAG ! tag:example.com,2000:\r\n"),
    ],
)
def test_directives_before_a_separator_belong_to_the_next_document(prelude, between):
    """`%YAML` / `%TAG` before a `---` are valid YAML (issue 10): the stream splits where a reader does."""
    config = "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n"
    deployment = (
        "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  selector: {matchLabels: {app: web}}\n"
        "  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers: [{name: app, image: x, ports: [{containerPort: 80}]}]\n"
    )
    text = prelude + config + between + deployment
    parts = [d for d in stream.split(text).documents if d.has_content]
    assert "".join(d.text for d in stream.split(text).documents) == text and len(parts) == 2
    assert parts[1].text.startswith(between.split("\n", 1)[-1] if between else "---") and parts[1].kind == "Deployment"
    result = pipeline.run(text, make_settings(["--kube-version=1.30"]))
    assert result.output.startswith(prelude + config + between) and "preStop: {sleep: {seconds: 10}}" in result.output


def test_written_numbers_fit_the_api_types_and_capping_is_said_once():
    """Issue 10: probe fields are int32, the grace period and sleep seconds int64; past that the API refuses
    the object. zdrender caps, warns, and a second run changes nothing and fixes nothing."""
    text = (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: big\n  annotations:\n"
        '    zdrender.io/prestop-seconds: "9223372036854775800"\nspec:\n  selector: {matchLabels: {app: big}}\n'
        "  template:\n    metadata: {labels: {app: big}}\n    spec:\n      containers:\n        - name: app\n          image: x\n"
        "          ports: [{containerPort: 80}]\n"
        "          readinessProbe: {tcpSocket: {port: 80}, initialDelaySeconds: 1073741824, periodSeconds: 10}\n"
        "          livenessProbe: {tcpSocket: {port: 80}}\n"
    )
    # max-liveness-delay above the delay needed: a liveness initialDelaySeconds (past int32), not a startupProbe
    args = ["--kube-version=1.34", "--set", "max-liveness-delay=4294967296"]
    first = render(text, args)
    out = yamldoc.load(first.output)["spec"]["template"]["spec"]
    assert out["terminationGracePeriodSeconds"] == 2**63 - 1
    assert out["containers"][0]["livenessProbe"]["initialDelaySeconds"] == 2**31 - 1
    assert out["containers"][0]["lifecycle"]["preStop"]["sleep"]["seconds"] == 9223372036854775800
    capped = [f.message for d in first.documents for f in d.findings if "capped at" in f.message]
    assert len(capped) == 2 and any("int64" in m for m in capped) and any("int32" in m for m in capped)
    second = render(first.output, args)
    assert second.output == first.output
    assert not [f for d in second.documents for f in d.findings if f.ops], "a capped value is no change the second time"


def test_a_generated_name_is_a_dns_subdomain_even_when_cut():
    from zdrender.rules.disruption_budget import budget_name

    name = budget_name("a" * 243 + "." + "b" * 9)
    assert len(name) <= 253 and ".-" not in name and name.endswith("-zdrender")


def test_a_new_document_that_does_not_read_back_fails_closed(monkeypatch):
    """The documents rules add are emitted text too: parsed again, never trusted (issue 10, item 2)."""

    text = (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  replicas: 3\n  selector: {matchLabels: {app: web}}\n"
        "  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers: [{name: app, image: example/app:1}]\n"
    )
    settings = make_settings(["--set", "disruption-budget=true"])
    assert "kind: PodDisruptionBudget" in pipeline.run(text, settings).output
    monkeypatch.setattr(emit, "document_text", lambda obj: "kind: PodDisruptionBudget\n---\nkind: Secret\n")
    with pytest.raises(pipeline.InputError, match=r"^document 1 \(line 1\): rule disruption-budget added an object that does not read back as itself"):
        pipeline.run(text, settings)


def test_changed_workloads_record_the_rules_in_their_own_metadata():
    """Helm 3 hides a post-renderer's stderr on success, so each changed workload says what changed it
    (issue 12): on its own metadata (never the pod template, which would restart pods), merged with an
    earlier record, idempotent, and off with record-changes=false."""
    text = (
        "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {selector: {app: web}, ports: [{port: 80}]}\n---\n"
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  annotations: {zdrender.io/changed: rollout}\nspec:\n  replicas: 2\n"
        "  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers: [{name: app, image: example/app:1}]\n"
    )
    result = pipeline.run(text, make_settings([]))
    deployment = yamldoc.load(stream.split(result.output).documents[1].text)
    assert deployment["metadata"]["annotations"]["zdrender.io/changed"] == "rollout,prestop-sleep"
    assert "annotations" not in deployment["spec"]["template"]["metadata"]
    assert not [f for f in result.findings if f.rule == "settings"], "the record is not an unknown setting"
    assert pipeline.run(result.output, make_settings([])).output == result.output
    off = pipeline.run(text, make_settings(["--set", "record-changes=false"]))
    assert yamldoc.load(stream.split(off.output).documents[1].text)["metadata"]["annotations"] == {"zdrender.io/changed": "rollout"}
    untouched = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n"
    assert pipeline.run(untouched, make_settings([])).output == untouched


@pytest.mark.parametrize("kind", ["Deployment", "StatefulSet", "DaemonSet"])
def test_a_workload_without_a_pod_template_is_refused_by_line(kind):
    """A file cut short: the API (and so Helm) refuses it; zdrender used to pass it through unjudged (issue 12)."""
    text = f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c}}\n---\napiVersion: apps/v1\nkind: {kind}\nmetadata: {{name: web}}\nspec:\n  selector: {{matchLabels: {{app: web}}}}\n"
    with pytest.raises(pipeline.InputError, match=rf"^document 2, line 9: {kind}/web has no pod template \(spec.template.spec\)"):
        pipeline.run(text, make_settings([]))


CONFIGMAP = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n"


@pytest.mark.parametrize(
    ("document", "line", "what"),
    [
        ("just a string\n", 5, r'is a bare value \("just a string"\)'),
        ("# a comment\n|\n  multi\n  line\n", 6, r'is a bare value \("multi\\nline\\n"\)'),
        ("- a\n- b\n", 5, r"is a YAML list, not a Kubernetes object"),
        ("metadata: {name: x}\n", 5, r"has no apiVersion and no kind"),
        ("kind: ConfigMap\nmetadata: {name: x}\n", 5, r"has no apiVersion"),
        ('apiVersion: v1\nkind: ""\n', 5, r"has no kind"),
        ('{"apiVersion": "apps/v1", "metadata": {}}\n', 5, r"has no kind"),
        ("apiVersion:\nkind: Deployment\nspec: {}\n", 5, r"has no apiVersion"),
    ],
)
@pytest.mark.parametrize("parse_all", [False, True])
def test_documents_helm_refuses_are_refused_by_line(document, line, what, parse_all):
    """What the API's decoder refuses, Helm's install and kubectl refuse (checked with kubectl: "cannot
    unmarshal string/array", "Object 'Kind' is missing"); zdrender passed it through (issue 12)."""
    text = CONFIGMAP + "---\n" + document + "---\n" + CONFIGMAP
    with pytest.raises(pipeline.InputError, match=rf"^document 2, line {line}: the document {what}.*; Helm and kubectl refuse it"):
        pipeline.run(text, make_settings([]), parse_all=parse_all, keep_nodes=parse_all)


@pytest.mark.parametrize("document", ["", "# only a comment\n", "~\n", "null\n", "apiVersion: v1\nkind: List\nitems: []\n"])
def test_empty_documents_and_lists_are_no_refusal(document):
    text = CONFIGMAP + "---\n" + document + "---\n" + CONFIGMAP
    assert pipeline.run(text, make_settings([])).output == text
