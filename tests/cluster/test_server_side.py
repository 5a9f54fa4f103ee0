"""Scenario 8, server-side validation: the real API server accepts every corpus release as zdrender
rewrites it (cluster/validate.py). An object the chart's own rendering already gets rejected is the
chart's problem and only reported; an object rejected only after zdrender fails the test.
"""

from __future__ import annotations

import time

import pytest

from cluster import node, validate

from conftest import corpus_files, require
from node_support import node_paths  # noqa: F401  (the session's node)

pytestmark = pytest.mark.cluster


def test_api_server_accepts_every_release_zdrender_writes(node_paths: node.Paths) -> None:
    files = corpus_files()
    require(bool(files), "the corpus is absent (ZDRENDER_CORPUS or ../shared/corpus)")
    start = time.monotonic()
    results = validate.validate_corpus(node_paths, files)
    elapsed = time.monotonic() - start
    print()
    validate.print_summary(results)
    print(f"server-side validation of {len(files)} releases took {elapsed:.0f}s")

    assert [r.file for r in results] == [f.name for f in files]
    assert not [r.file for r in results if not r.rendered], "zdrender failed to render: " + "; ".join(e for r in results for e in r.errors)
    introduced = [e for r in results for e in r.errors]
    assert not introduced, "the API server rejects what zdrender wrote:\n" + "\n".join(introduced)
    assert all(r.accepted + len(r.rejected_unpatched) == r.sent for r in results)
    assert sum(r.accepted for r in results) > 0

    # Skipped only what nothing serves: neither the node's built-in API nor a CRD of the release itself.
    builtin = validate.served_kinds(node_paths)
    by_name = {f.name: f for f in files}
    for r in results:
        objects = validate.split_objects(by_name[r.file].read_text())
        shipped = set().union(set(), *(validate.crd_kinds(o.body) for o in objects if o.kind == "CustomResourceDefinition"))
        served = sorted(k for k in r.skipped_kinds if k in builtin or k in shipped)
        assert not served, f"{r.file}: skipped kinds that are served: {served}"
