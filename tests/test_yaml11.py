"""YAML 1.1 as Kubernetes reads it, and texts that keep their spelling (issue 10, items 2, 3, 9, 10).

The oracle is sigs.k8s.io/yaml itself (tests/tools/k8syaml): the library kubectl, Helm and the API
server read manifests with. zdrender must read every scalar and key as it does, write nothing it would
read differently, and leave the spelling of what it does not change alone.
"""

from __future__ import annotations

import jsonpatch
import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from zdrender import emit, pipeline, rewrite, stream, yamldoc

import k8s_yaml
from guarantees import check
from helpers import make_settings

# Spellings where YAML 1.1 readers disagree (PyYAML, go-yaml v2, YAML 1.2), and their neighbours.
TRICKY = [
    "y",
    "Y",
    "n",
    "N",
    "yes",
    "No",
    "on",
    "OFF",
    "true",
    "True",
    "TRUE",
    "tRue",
    "~",
    "null",
    "Null",
    "NULL",
    "nULL",
    "",
    "0",
    "-0",
    "+0",
    "07",
    "08",
    "0o17",
    "0O17",
    "0x1f",
    "0X1F",
    "-0x1f",
    "+0x1f",
    "0b101",
    "-0b101",
    "0b",
    "0x",
    "1_000",
    "1__0",
    "_1",
    "1:30",
    "1:30.5",
    "-1:30",
    "1e3",
    "1E3",
    "1e+3",
    "-1e-3",
    "1.",
    ".5",
    "-.5",
    "+.5",
    "1.5e3",
    ".5e3",
    "1e400",
    "-1e400",
    ".inf",
    "-.Inf",
    "+.INF",
    ".NaN",
    ".nan",
    "nan",
    "inf",
    "1.0",
    "3.0",
    "0.1",
    "1e6",
    "123456",
    "1234567",
    "1e-5",
    "0.0001",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775808",
    "-9223372036854775809",
    "18446744073709551615",
    "18446744073709551616",
    "0x10000000000000000",
    "99999999999999999999",
    "2001-12-14",
    "2001-12-14t21:59:43.10-05:00",
    "2001-1-2",
    "12:30:00",
    "<<",
    "=",
    "0.5.1",
    "1.2.3",
    "v1",
    "1Gi",
    "500m",
    "0644",
    "0o644",
    "true_",
    "yes!",
    # Go's float syntax allows `_` between digits (found by the generated test below)
    ".0_0",
    ".5e1_0",
    "._5",
    ".5__5",
]


def _keyed(spelling: str) -> str:
    return f"{spelling}: v\n" if spelling not in ("", "<<") else "k: v\n"


def test_scalars_read_as_kubernetes_reads_them():
    texts = [f"v: {s}\n" for s in TRICKY] + [f"v: [{s}]\n" for s in TRICKY if s] + [f"v: !!float {s}\n" for s in ("1", "0x1f", "1e3", "x")]
    expected = k8s_yaml.read(texts)
    for text, kubernetes in zip(texts, expected, strict=True):
        try:
            ours = yamldoc.load(text)
        except yamldoc.YAMLError as err:
            assert isinstance(kubernetes, k8s_yaml.Refused), f"{text!r}: zdrender refused ({err.message}), Kubernetes reads {kubernetes!r}"
            continue
        if isinstance(kubernetes, k8s_yaml.Refused):  # JSON has no infinity or NaN: the API never sees one
            assert "unsupported value" in str(kubernetes), f"{text!r}: Kubernetes refuses it ({kubernetes}), zdrender reads {ours!r}"
            continue
        assert (ours == kubernetes and [type(x) for x in _leaves(ours)] == [type(x) for x in _leaves(kubernetes)]) or _same_number(ours, kubernetes), (text, ours, kubernetes)


def _leaves(value):
    return list(value.values()) if isinstance(value, dict) else [value]


def _same_number(ours, kubernetes) -> bool:
    """JSON has one number type: Go writes the float 3.0 as 3, which reads back as an int."""
    a, b = ours["v"], kubernetes["v"]
    a, b = (a[0], b[0]) if isinstance(a, list) and isinstance(b, list) else (a, b)
    return isinstance(a, float) and isinstance(b, int) and a == float(b)


def test_keys_are_made_strings_as_kubernetes_makes_them():
    texts = [_keyed(s) for s in TRICKY]
    for text, kubernetes in zip(texts, k8s_yaml.read(texts), strict=True):
        try:
            ours = yamldoc.load(text)
        except yamldoc.YAMLError:
            assert isinstance(kubernetes, k8s_yaml.Refused), f"{text!r}: zdrender refused, Kubernetes reads {kubernetes!r}"
            continue
        assert ours == kubernetes, text


@hsettings(max_examples=60, deadline=None)
@given(st.lists(st.text(alphabet="0123456789+-._:xobeEyYnNtTfFoO~ ", min_size=1, max_size=8), min_size=20, max_size=40))
def test_generated_plain_spellings_read_as_kubernetes_reads_them(spellings):
    texts = [f"k: {s}\n" for s in spellings] + [_keyed(s) for s in spellings]
    results = k8s_yaml.read(texts)
    for text, kubernetes in zip(texts, results, strict=True):
        try:
            ours = yamldoc.load(text)
        except yamldoc.YAMLError:
            continue  # not YAML, or a key Kubernetes cannot make a string of: refused alike below
        if isinstance(kubernetes, k8s_yaml.Refused):
            continue  # e.g. `k: - 1`, which libyaml reads and go-yaml's older scanner refuses
        assert ours == kubernetes or _close(ours, kubernetes), (text, ours, kubernetes)


def _close(ours, kubernetes) -> bool:
    (a,), (b,) = ours.values(), kubernetes.values()
    return isinstance(a, float) and isinstance(b, (int, float)) and a == b


@pytest.mark.parametrize("text", [*TRICKY, "a\u2028b", "a\u0085b", "a\u2029", "\ufeffx", "x\x7f", "tab\there", "é", "a: b", "- x", "# c", "'q'", '"q"'])
def test_what_zdrender_writes_reads_back_as_written_for_every_reader(text):
    written = [f"v: {emit.scalar(text)}\n", f"{emit.scalar(text)}: v\n", "v: " + emit.flow({text: [text]}) + "\n"]
    for yaml_text, kubernetes in zip(written, k8s_yaml.read(written), strict=True):
        assert yamldoc.load(yaml_text) == kubernetes, yaml_text
    assert k8s_yaml.read(written) == [{"v": text}, {text: "v"}, {"v": {text: [text]}}]


# -- spelling kept ---------------------------------------------------------------------------------
DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {on: yes, weight: 0x1f, since: 2001-12-14}
spec:
  replicas: 2
  selector:
    matchLabels: &labels
      app: web
  template:
    metadata:
      labels: *labels
    spec:
      containers:
      - {name: web, image: "example/web:1", ports: [{containerPort: 8080}], args: [on, 0x1f, 2001-12-14]}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec: {selector: {app: web}, ports: [{port: 80}]}
"""


def test_a_flow_edit_keeps_the_spelling_of_every_other_entry():
    result = check(DEPLOYMENT, make_settings())
    out = result.output
    assert result.documents[0].ops, "the fixture must be patched"
    assert "args: [on, 0x1f, 2001-12-14]" in out and 'image: "example/web:1"' in out
    assert "labels: {on: yes, weight: 0x1f, since: 2001-12-14}" in out
    assert "matchLabels: &labels" in out and "labels: *labels" in out, "an alias no edit walks through stays"
    assert not any(f.rule == "engine" for f in result.findings), "edited in place, not re-written"
    assert k8s_yaml.read([stream.split(out).documents[0].text]) == [yamldoc.load(stream.split(out).documents[0].text)]


def test_a_document_written_as_json_stays_json():
    text = stream.split(DEPLOYMENT).documents[0].text
    import json

    as_json = "---\n" + json.dumps(yamldoc.load(text)) + "\n" + "---\n" + stream.split(DEPLOYMENT).documents[1].text
    result = check(as_json, make_settings())
    first = stream.split(result.output).documents[0].text
    assert result.documents[0].ops and first.count("\n") == 2, "still one line of JSON"
    json.loads(first.removeprefix("---\n"))


def test_a_block_scalar_ending_the_stream_without_a_line_break_is_edited_in_place():
    text = DEPLOYMENT.split("---\n")[0].replace(", args: [on, 0x1f, 2001-12-14]}", "}\n        ").rstrip() + "\n      hostname: |\n        web\n        pod"
    text = text.replace('      - {name: web, image: "example/web:1", ports: [{containerPort: 8080}]}\n        \n', '      - {name: web, image: "example/web:1", ports: [{containerPort: 8080}]}\n')
    stream_text = DEPLOYMENT.split("---\n", 1)[1].join(["---\n", "---\n"]) + text  # the Service first
    result = check(stream_text, make_settings())
    doc = result.documents[-1]
    assert doc.ops and not any(f.rule == "engine" for f in doc.findings)
    assert yamldoc.load(doc.output)["spec"]["template"]["spec"]["hostname"] == "web\npod"


def test_an_edit_through_an_alias_rewrites_with_ruamel_and_keeps_the_rest():
    text = DEPLOYMENT.replace("      containers:\n      - {", "      containers: &c\n      - {").replace(
        "args: [on, 0x1f, 2001-12-14]}\n", "args: [on, 0x1f, 2001-12-14]}  # the app\n      initContainers: *c\n"
    )
    result = check(text, make_settings())
    out = stream.split(result.output).documents[0].text
    assert any(f.rule == "engine" for f in result.documents[0].findings), "re-written in full"
    assert "# the app" in out and "labels: {on: yes, weight: 0x1f, since: 2001-12-14}" in out
    assert "matchLabels: &labels" in out and "labels: *labels" in out, "the alias off the edited path stays"
    assert "args: [on, 0x1f, 2001-12-14]" in out
    assert k8s_yaml.read([out]) == [yamldoc.load(out)]


@pytest.mark.parametrize("value", ["a\u2028b", "a\u0085b", "line\u2029", "x\x7fy", "\ufeffbom"])
def test_breaks_yaml_folds_survive_the_full_rewrite(value):
    """NEL, LS and PS are line breaks to YAML: a value holding one changed on the fallback path."""
    text = "a: &a {b: 1}\nc: *a\n"
    ops = [{"op": "add", "path": "/c/d", "value": value}]
    expected = jsonpatch.apply_patch(yamldoc.load(text), ops)
    out, why = rewrite.checked_edit(text, ops, expected)
    assert why is not None and yamldoc.load(out) == expected and k8s_yaml.read([out]) == [expected]


def test_a_merge_key_is_broken_only_where_an_edit_goes():
    text = "base: &b {x: 1, u: {z: 2}}\nm:\n  <<: *b\n  own: 3\nn:\n  <<: *b\n"
    ops = [{"op": "add", "path": "/m/u/w", "value": 4}]
    expected = jsonpatch.apply_patch(yamldoc.load(text), ops)
    out, why = rewrite.checked_edit(text, ops, expected)
    assert why is not None and yamldoc.load(out) == expected
    assert out.count("<<: *b") == 2 and "base: &b" in out


def test_a_cr_only_stream_is_patched_like_its_lf_form():
    """Bare CRs are line breaks to YAML; a CR-only stream was passed through unpatched (found by the fuzzer)."""
    lf = DEPLOYMENT
    result = check(lf.replace("\n", "\r"), make_settings())
    assert result.documents[0].ops
    assert result.output == pipeline.run(lf, make_settings()).output.replace("\n", "\r")
