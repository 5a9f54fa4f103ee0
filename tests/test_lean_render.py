"""Render, check and explain on big streams (issue 14): the stream is never held whole as one str, node
graphs and data are released once planned (pipeline.run keep_nodes=False), and the output is written
document by document; with the same results. Memory is measured with tracemalloc: bounds, not timings."""

from __future__ import annotations

import io
import json
import sys
import tracemalloc
from pathlib import Path

import pytest

from zdrender import pipeline, runner, stream
from zdrender.render import render

from conftest import ROOT, corpus_files
from helpers import make_settings

EXAMPLE = (ROOT / "examples" / "rendered.yaml").read_text(encoding="utf-8")


def outcome(text: str, keep_nodes: bool):
    try:
        result = pipeline.run(text, make_settings(), keep_nodes=keep_nodes)
    except pipeline.InputError as err:
        return str(err)
    return result.output, [f.as_dict() for f in result.findings], [d.index for d in result.documents]


@pytest.mark.corpus
def test_corpus_renders_the_same_without_the_node_graphs(corpus):
    for path in corpus_files():
        text = path.read_text(encoding="utf-8")
        assert outcome(text, keep_nodes=False) == outcome(text, keep_nodes=True), path.name


@pytest.mark.corpus
def test_corpus_explains_the_same_from_heads(corpus):
    """explain reads a document carried as text only up to its metadata (pipeline._head_data); every
    corpus document parsed whole names the same object."""
    settings = make_settings()
    for path in corpus_files():
        text = path.read_text(encoding="utf-8")
        whole = pipeline.explain(pipeline.run(text, settings, parse_all=True))
        assert pipeline.explain(pipeline.run(runner.read_stream(str(path)), settings, keep_nodes=False)) == whole, path.name


def test_nodes_are_dropped_once_planned():
    text = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a}\nspec:\n  template:\n    spec:\n      containers: [{name: a, ports: [{containerPort: 80}]}]\n"
    result = pipeline.run(text, make_settings(), keep_nodes=False)
    document = result.documents[0]
    assert document.parsed is None and document.ops
    assert document.released == pipeline.Identity(True, "Deployment", "a", None) and document.holds_object


def test_no_document_keeps_its_nodes_or_data():
    """Parsed in the first pass (a Service, a List, a workload in flow style) or in the second (a proven
    workload): none keeps its node graph or data, and each still counts as an object."""
    json_deployment = '{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "j"}, "spec": {"template": {"spec": {"containers": [{"name": "j", "ports": [{"containerPort": 80}]}]}}}}\n'
    listed = "apiVersion: v1\nkind: List\nitems:\n- " + json_deployment
    text = EXAMPLE + "---\n" + json_deployment + "---\n" + listed + "---\n~\n"
    result = pipeline.run(text, make_settings(), keep_nodes=False)
    assert all(d.parsed is None for d in result.documents)
    assert [d.index for d in result.documents] == [d.index for d in pipeline.run(text, make_settings()).documents]
    assert result.documents[-1].released == pipeline.Identity(False)  # `~`: a document, no object
    kept = pipeline.run(text, make_settings())
    assert result.output == kept.output and [f.as_dict() for f in result.findings] == [f.as_dict() for f in kept.findings]


@pytest.mark.parametrize(
    "stream",
    [
        # the workload is parsed late, but its error is still the one reported first
        "kind: Deployment\nmetadata: {name: a\n---\nkind: Service\nmetadata: [\n",
        "kind: Service\nmetadata: [\n---\nkind: Deployment\nmetadata: {name: a\n",
        "kind: ConfigMap\n---\nkind: Deployment\nspec: {\n",
    ],
)
def test_the_first_broken_document_is_reported(stream):
    lean, full = outcome(stream, keep_nodes=False), outcome(stream, keep_nodes=True)
    assert isinstance(full, str) and lean == full


SPLIT_CASES = [
    b"",
    b"\xef\xbb\xbf",
    b"\xef\xbb\xbf---\na: 1\n---\nb: \xe2\x80\x93\n",
    b"%YAML 1.1\n---\na: 1\n%TAG ! x\n---\nb",
    b"\xef\xbb\xbf%YAML 1.1\n---\na",
    b"x\n%A\n%B\n---\n",
    b"a\n---x\n--- \n---",
    b"\n\n---\n# c\n",
    b"a: \xf0\x9f\x98\x80\r\n---\r\nb: 1\r\n",
    EXAMPLE.encode(),
]


def read_utf8(data: bytes, block: int) -> stream.Stream:
    whole = data.decode("utf-8")
    cr_only = stream.cr_only(whole)
    expected = stream.split(whole.replace("\r", "\n") if cr_only else whole)
    expected.cr_only = cr_only
    read = stream.read_utf8(io.BytesIO(data).read, block)
    assert read == expected, f"block {block}"
    return read


@pytest.mark.parametrize("data", SPLIT_CASES)
@pytest.mark.parametrize("block", [1, 2, 3, 4, 7, 64, 1 << 20])
def test_read_utf8_splits_as_the_decoded_text_does(data, block):
    """Read in blocks of any size (a BOM, a marker, a directive or a character cut between two), the
    documents are the whole text's."""
    read_utf8(data, block)


@pytest.mark.corpus
def test_read_utf8_splits_the_corpus_as_its_text(corpus):
    for path in corpus_files():
        for block in (997, 65536):
            read_utf8(path.read_bytes(), block)


@pytest.mark.parametrize(
    "data",
    [
        b"a: \xe2\x80\n---\nb: 1\n",
        b"a: 1\n---\nb: \xe2\x80",
        b"---\nok: 1\n---\nb: \xff\n",
        b"\xef\xbb\xbf\xc3",
        b"\xef\xbb\xbf---\nok: \xe2\x80\x93\n---\nb: 1\n---\nc: \xff\n",
        b"\xef\xbb\xbf---\n\xff\n",
        b"a: 1\r---\rb: \xff\r",  # bare CRs
    ],
)
@pytest.mark.parametrize("block", [1, 5, 1 << 20])
def test_a_byte_that_is_not_utf8_is_placed_as_before(tmp_path, monkeypatch, data, block):
    path = tmp_path / "in.yaml"
    path.write_bytes(data)
    with pytest.raises(ValueError) as whole:
        runner.read_input(str(path))
    read = stream.read_utf8
    monkeypatch.setattr(stream, "read_utf8", lambda source: read(source, block))
    with pytest.raises(ValueError) as split:
        runner.read_stream(str(path))
    assert str(split.value) == str(whole.value) and "is not UTF-8" in str(whole.value)


def test_read_stream_handles_bare_carriage_returns(tmp_path):
    path = tmp_path / "in.yaml"
    path.write_bytes(EXAMPLE.replace("\n", "\r").encode())
    read = pipeline.run(runner.read_stream(str(path)), make_settings(), keep_nodes=False)
    whole = pipeline.run(EXAMPLE.replace("\n", "\r"), make_settings())
    assert read.output == whole.output and "\n" not in read.output and read.documents[0].document.text == whole.documents[0].document.text


@pytest.mark.parametrize(
    ("text", "identity"),
    [
        # a key line inside a quoted scalar that runs over lines: the cut would leave it open, so the whole is read
        ('apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  annotations:\n    x: "1\nspec: 2"\nmetadata:\n  name: b\ndata: {}\n', ("ConfigMap", "b")),
        ('apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  annotations:\n    x: "1\ndata: 2"\n  namespace: ns\ndata: {}\n', ("ConfigMap", "a", "ns")),
        ("apiVersion: v1\nkind: ConfigMap\ndata: {a: b}\nmetadata: &m\n  name: c\nother: *m\n", ("ConfigMap", "c")),  # metadata last, an alias after it
        ("apiVersion: v1\nmetadata:\n  name: d\nkind: ConfigMap\nmetadata:\n  name: e\ndata:\n  x: !!int abc\n", ("ConfigMap", "e")),  # the last of two wins
    ],
)
def test_explain_names_text_carried_documents_as_a_whole_parse_does(text, identity):
    document = stream.split(text).documents[0]
    assert document.classified, "the case must take the fast path"
    data = pipeline._head_data(document)
    whole = pipeline.Identity.of(pipeline.yamldoc.parse(text.replace("!!int abc", "1")).data)
    assert pipeline.Identity.of(data) == whole and (whole.kind, whole.name, whole.namespace)[: len(identity)] == identity


def test_explain_keeps_the_helm4_filename_of_a_text_carried_document():
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  annotations:\n    postrenderer.helm.sh/postrender-filename: t/cm.yaml\ndata: {}\n"
    [entry] = pipeline.explain(pipeline.run(text, make_settings(), keep_nodes=False))
    assert entry["source"] == "t/cm.yaml" and entry["name"] == "a"


# -- memory -----------------------------------------------------------------------------------------


def big_stream(tmp_path: Path) -> Path:
    """~1.5 MB, mostly carried as text as real releases are (the corpus is ~4% workloads): CRD-like
    documents, the example release (workloads patched, Services, ConfigMaps) 15 times (7%), a
    workload in flow style, a List, and a dash and an emoji, which make a str of the whole stream 4
    bytes a character. What stays of a patched workload (its edit, findings and ops) is ~3x its text."""
    properties = "".join(f"              field{i}:\n                description: text {i} with * and ! in it\n                type: string\n" for i in range(1000))
    crds = [
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n"
        f"  name: big{n}.example.com\nspec:\n  versions:\n    - name: v1\n      schema:\n        openAPIV3Schema:\n          properties:\n{properties}"
        for n in range(12)
    ]
    flow = '{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "j"}, "spec": {"template": {"spec": {"containers": [{"name": "j", "ports": [{"containerPort": 80}]}]}}}}\n'
    text = "---\n".join([*crds, EXAMPLE * 15, flow, "apiVersion: v1\nkind: List\nitems:\n- " + flow, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: wide\ndata:\n  a: \u2013 \U0001f600\n"])
    path = tmp_path / "big.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def peak(work, monkeypatch) -> int:
    """Peak memory of work(), reading in blocks of 64 KB: what is measured is what grows with the stream."""
    read = stream.read_utf8
    monkeypatch.setattr(stream, "read_utf8", lambda source: read(source, 1 << 16))
    tracemalloc.start()
    try:
        work()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


class _Std:
    def __init__(self, buffer):
        self.buffer = buffer

    def flush(self) -> None:
        self.buffer.flush()


def test_render_peak_memory_stays_below_twice_the_input(tmp_path, monkeypatch):
    """The documents, their edits and findings, and a block of bytes being read: not the input's bytes
    beside its documents, a str of the whole stream (4 bytes a character here), a node graph per
    document, or the output joined."""
    path = big_stream(tmp_path)
    size = path.stat().st_size
    written = tmp_path / "out.yaml"  # a file, not memory that tracemalloc would count
    with path.open("rb") as handle, written.open("wb") as out:
        monkeypatch.setattr(sys, "stdin", _Std(handle))
        monkeypatch.setattr(sys, "stdout", _Std(out))
        used = peak(lambda: render(quiet=True), monkeypatch)
    assert written.read_bytes() == pipeline.run(path.read_text(encoding="utf-8"), make_settings()).output.encode()
    assert used <= 1.8 * size, f"{used / size:.2f} x the input"


@pytest.mark.parametrize("mode", ["check", "explain"])
def test_check_and_explain_peak_memory_stays_below_twice_the_input(tmp_path, monkeypatch, mode):
    path = big_stream(tmp_path)
    size = path.stat().st_size
    settings = make_settings()
    results = []

    def work() -> None:
        result = pipeline.run(runner.read_stream(str(path)), settings, keep_nodes=False)
        results.append(json.dumps(pipeline.explain(result)) if mode == "explain" else [f.as_dict() for f in result.findings])

    used = peak(work, monkeypatch)
    assert results[0], "the stream must have something to report"
    assert used <= 1.8 * size, f"{used / size:.2f} x the input"


def test_diff_peak_memory_stays_below_twice_the_input(tmp_path, monkeypatch):
    """diff reads as check does: the documents and their edits, not a str of the whole stream beside
    them (7.2x the input here, before)."""
    from typer.testing import CliRunner

    from zdrender.cli import app

    path = big_stream(tmp_path)
    size = path.stat().st_size
    CliRunner().invoke(app, ["diff", str(ROOT / "examples" / "rendered.yaml")])  # imports made before measuring
    results = []
    used = peak(lambda: results.append(CliRunner().invoke(app, ["diff", str(path)])), monkeypatch)
    assert results[0].exit_code == 0 and "+              sleep:" in results[0].stdout, results[0].output
    assert used <= 1.8 * size, f"{used / size:.2f} x the input"
