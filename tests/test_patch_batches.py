"""patch.apply locates unrelated operations in one parse: the text must be what one op at a time gives."""

from __future__ import annotations

import jsonpatch
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zdrender import patch, yamldoc

from conftest import corpus_files
from helpers import render

DOC = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web, tier: front}
spec:
  replicas: 1
  template:
    metadata:
      annotations:
        note: |
          two
          lines
    spec:
      containers:
      - name: app
        image: nginx
        ports:
        - containerPort: 80
        - containerPort: 81
      - name: side
        image: envoy
        args: [a, b]
      terminationGracePeriodSeconds: 30
"""

# Sequences indented under their keys, comments, quoting, a merge-free anchor-free List, CRLF.
LIST = (
    "apiVersion: v1\nkind: List\nitems:\n  # the first\n  - kind: Pod\n    metadata:\n      name: 'a'\n"
    '    spec:\n      containers:\n        - name: "c"  # main\n          ports:\n            - containerPort: 1\n'
    "      volumes: []\n  - kind: Pod\n    metadata: {name: b}\n    spec:\n      containers:\n        - {name: d}\n"
).replace("\n", "\r\n")


def one_at_a_time(text: str, ops: list[dict]) -> str:
    for op in ops:
        text = patch.apply(text, [op])  # a single op: one parse, one edit
    return text


def outcome(function, text, ops):
    try:
        return function(text, ops)
    except patch.PatchError as err:
        return f"PatchError: {err}"


C = "/spec/template/spec/containers"


@pytest.mark.parametrize(
    "ops",
    [
        # unrelated places: one batch
        [{"op": "replace", "path": "/spec/replicas", "value": 2}, {"op": "add", "path": f"{C}/0/lifecycle", "value": {"preStop": {"sleep": {"seconds": 10}}}}],
        # a child of what the op before created
        [{"op": "add", "path": f"{C}/0/lifecycle", "value": {}}, {"op": "add", "path": f"{C}/0/lifecycle/preStop", "value": {"sleep": {"seconds": 5}}}],
        # two new keys at the end of one mapping (same insertion point)
        [{"op": "add", "path": "/spec/paused", "value": False}, {"op": "add", "path": "/spec/minReadySeconds", "value": 5}],
        # an item inserted, then an op behind it (its index moved)
        [{"op": "add", "path": f"{C}/0", "value": {"name": "first", "image": "x"}}, {"op": "replace", "path": f"{C}/2/image", "value": "envoy:2"}],
        [{"op": "remove", "path": f"{C}/0/ports/0"}, {"op": "replace", "path": f"{C}/0/ports/0/containerPort", "value": 8080}],
        [{"op": "add", "path": f"{C}/0", "value": {"name": "first", "image": "x"}}, {"op": "replace", "path": f"{C}/1/image", "value": "nginx:2"}],
        # the only block sequences removed: new ones take the default indentation, as one at a time
        [{"op": "replace", "path": "/spec", "value": 7}, {"op": "add", "path": "/metadata/n1", "value": [1, 2]}],
        # a new key right after the last line of a nested mapping ending at the same place
        [{"op": "add", "path": f"{C}/1/stdin", "value": True}, {"op": "add", "path": "/spec/template/spec/hostNetwork", "value": False}],
        # the block scalar replaced, and a key added right after it
        [{"op": "replace", "path": "/spec/template/metadata/annotations/note", "value": "one\n"}, {"op": "add", "path": "/spec/template/metadata/annotations/b", "value": "c"}],
        # flow collections are re-emitted whole
        [{"op": "add", "path": "/metadata/labels/x", "value": "1"}, {"op": "replace", "path": "/metadata/labels/app", "value": "w"}],
        [{"op": "add", "path": f"{C}/1/args/-", "value": "c"}, {"op": "replace", "path": f"{C}/1/args/0", "value": "z"}],
        # the last container's last key and the pod spec's next key
        [{"op": "replace", "path": f"{C}/1/args", "value": ["q"]}, {"op": "replace", "path": "/spec/template/spec/terminationGracePeriodSeconds", "value": 45}],
        # a failure in the middle is the same failure
        [{"op": "replace", "path": "/spec/replicas", "value": 3}, {"op": "replace", "path": "/spec/nothing", "value": 1}],
        [{"op": "remove", "path": f"{C}/1"}, {"op": "remove", "path": f"{C}/1"}],
    ],
)
def test_batches_equal_one_op_at_a_time(ops):
    batched = outcome(patch.apply, DOC, ops)
    assert batched == outcome(one_at_a_time, DOC, ops)
    if not batched.startswith("PatchError"):
        assert yamldoc.load(batched) == jsonpatch.apply_patch(yamldoc.load(DOC), ops)


def paths(value, prefix=""):
    """Every JSON pointer in a value (the root excluded), with the value there."""
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return
    for key, child in items:
        here = f"{prefix}/{str(key).replace('~', '~0').replace('/', '~1')}"
        yield here, child
        yield from paths(child, here)


@st.composite
def op_lists(draw, doc):
    """Ops valid one after the other (each drawn against the document as the ones before leave it)."""
    data = yamldoc.load(doc)
    ops = []
    for _ in range(draw(st.integers(min_value=1, max_value=6))):
        places = sorted(paths(data), key=lambda p: p[0])
        if not places:  # everything was removed
            break
        path, value = draw(st.sampled_from(places))
        kind = draw(st.sampled_from(["replace", "add-key", "add-item", "remove"]))
        new = draw(st.sampled_from([7, "x y", {"k": 1}, [1, 2], {"a": {"b": [3]}}]))
        if kind == "add-key" and isinstance(value, dict):
            op = {"op": "add", "path": f"{path}/{draw(st.sampled_from(['n1', 'n2', 'name']))}", "value": new}
        elif kind == "add-item" and isinstance(value, list):
            op = {"op": "add", "path": f"{path}/{draw(st.sampled_from(['0', '-']))}", "value": new}
        elif kind == "remove":
            op = {"op": "remove", "path": path}
        else:
            op = {"op": "replace", "path": path, "value": new}
        data = jsonpatch.apply_patch(data, [op])
        ops.append(op)
    return ops


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from([DOC, LIST]).flatmap(lambda doc: st.tuples(st.just(doc), op_lists(doc))))
def test_generated_batches_equal_one_op_at_a_time(case):
    doc, ops = case
    assert outcome(patch.apply, doc, ops) == outcome(one_at_a_time, doc, ops)


@pytest.mark.corpus
def test_corpus_patches_equal_one_op_at_a_time(corpus):
    for path in corpus_files():
        for doc in render(path.read_text(encoding="utf-8")).documents:
            if doc.ops:
                text = doc.document.text
                assert outcome(patch.apply, text, doc.ops) == outcome(one_at_a_time, text, doc.ops), (path.name, doc.document.number)
