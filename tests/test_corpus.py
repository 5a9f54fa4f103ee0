"""The guarantees over every release of ../shared/corpus (real charts rendered by Helm)."""

from __future__ import annotations

import pytest

from conftest import CORPUS, corpus_files, require
from guarantees import check
from helpers import make_settings

FILES = corpus_files()


def test_corpus_is_present():
    require(len(FILES) >= 40, f"the corpus is absent or incomplete at {CORPUS}")


@pytest.mark.corpus
@pytest.mark.parametrize("version", ["1.30", "1.28"])
@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_guarantees_on_corpus(path, version):
    text = path.read_text(encoding="utf-8")
    result = check(text, make_settings([f"--kube-version={version}"]), validate_version=version)
    for doc in result.documents:
        for op in doc.ops:
            if op["path"].endswith("/lifecycle/preStop") or op["path"].endswith("/lifecycle"):
                handler = op["value"] if op["path"].endswith("preStop") else op["value"].get("preStop", {})
                # The native sleep action only from 1.30; the exec fallback below.
                assert ("sleep" in handler) == (version == "1.30"), op


@pytest.mark.corpus
def test_corpus_gets_prestop_where_it_serves():
    require(bool(FILES), f"the corpus is absent at {CORPUS}")
    patched = 0
    for path in FILES:
        result = check(path.read_text(encoding="utf-8"), make_settings())
        patched += sum(1 for f in result.findings if f.rule == "prestop-sleep")
    assert patched >= 30, "real charts lack preStop hooks: most serving workloads should get one"
