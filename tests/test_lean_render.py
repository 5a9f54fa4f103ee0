"""Rendering keeps one node graph alive at a time (pipeline.run keep_nodes=False): same results."""

from __future__ import annotations

import pytest

from zdrender import pipeline

from conftest import corpus_files
from helpers import make_settings


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


def test_nodes_are_dropped_once_planned():
    text = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a}\nspec:\n  template:\n    spec:\n      containers: [{name: a, ports: [{containerPort: 80}]}]\n"
    result = pipeline.run(text, make_settings(), keep_nodes=False)
    document = result.documents[0]
    assert document.parsed is None and document.ops
    assert document.released == pipeline.Identity(True, "Deployment", "a", None) and document.holds_object


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
