"""KRM mode read in blocks (krmread): a ResourceList on stdin is cut at its items as its bytes arrive,
each item decoded on its own, and written back piece by piece.

What comes out (stdout, stderr, exit code) must be what the whole-text path gives, byte for byte, for
every list; the lists the tools send must take the new path (never joined, never the whole-text path)
and hold the list about twice (its items, and their documents for the pipeline), not as one str;
everything else (other streams, lists the pieces cannot prove, errors, bytes that are not UTF-8) must
go where it went before.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
import tracemalloc
from collections.abc import Iterator

import pytest
import yaml
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from test_krm_cut import EXTRA, HEAD, KPT_ITEM, SHAPES, corpus_items, indented, resource_list, settings_for

from zdrender import krm, krmread, stream
from zdrender.render import render

from conftest import CORPUS, ROOT, require, tool

EXAMPLE = (ROOT / "examples" / "rendered.yaml").read_text(encoding="utf-8")
FUNCTION_CONFIG = "functionConfig:\n  apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: fn}\n  data: {prestop-seconds: '7'}\n"


class _Std:
    def __init__(self, buffer) -> None:
        self.buffer = buffer

    def flush(self) -> None:
        self.buffer.flush()


def zdrender(data: bytes, monkeypatch, *, block: int = 1 << 20, whole: bool = False, out=None, args: list[str] | None = None) -> tuple[bytes, str, int]:
    """`zdrender` on stdin `data`: (stdout, stderr, exit code). Read in blocks of `block` bytes, or, with
    whole=True, as before krmread: every input read by stream.read_utf8 (a list then joined into one str)."""
    out = out if out is not None else io.BytesIO()
    err = io.StringIO()
    read = krmread.read_utf8
    with monkeypatch.context() as patched:
        patched.setattr(sys, "stdin", _Std(io.BytesIO(data)))
        patched.setattr(sys, "stdout", _Std(out))
        patched.setattr(sys, "stderr", err)
        patched.setattr(krmread, "read_utf8", (lambda source: stream.read_utf8(source, block)) if whole else (lambda source: read(source, block)))
        code = 0
        try:
            render(assignments=args or ["disruption-budget=true"])
        except SystemExit as exit:
            code = exit.code  # type: ignore[assignment]
    return (out.getvalue() if isinstance(out, io.BytesIO) else b""), err.getvalue(), code


def pieces_only(monkeypatch) -> None:
    """Fail the test if the list is joined or takes the whole-text path."""

    def refused(*args):
        raise AssertionError("the list was joined, or took the whole-text path")

    monkeypatch.setattr(krmread.Pieces, "join", refused)
    monkeypatch.setattr(krm, "_run", refused)


def item_of(text: str, dash: int = 0, keys: int = 2) -> str:
    """A document's text as a list item: its `-` at column `dash`, its keys at column `keys`."""
    body = "".join(line for line in text.splitlines(keepends=True) if not line.startswith("---"))
    lines = indented(body, keys).splitlines(keepends=True)
    lines[0] = " " * dash + "-" + lines[0][dash + 1 :]
    return "".join(lines)


EXAMPLE_ITEMS = "".join(item_of(d.text) for d in stream.split(EXAMPLE).documents if d.has_content)
EXAMPLE_LIST = HEAD + EXAMPLE_ITEMS + FUNCTION_CONFIG


# -- the new path, and the same bytes --------------------------------------------------------------
@pytest.mark.corpus
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("block", [7, 4096, 1 << 20])
def test_lists_are_read_in_pieces_and_come_out_as_the_whole_text_gives_them(shape, block, monkeypatch):
    data = resource_list(corpus_items(), **SHAPES[shape]).encode()
    expected = zdrender(data, monkeypatch, whole=True)
    assert expected[2] == 0 and b"kind: PodDisruptionBudget" in expected[0]
    pieces_only(monkeypatch)
    assert zdrender(data, monkeypatch, block=block) == expected


@pytest.mark.parametrize(
    "text",
    [
        EXAMPLE_LIST,
        EXAMPLE_LIST.replace("\n", "\r\n"),  # CRLF
        EXAMPLE_LIST.rstrip("\n"),  # no final line break: new items and results start with one
        HEAD + EXAMPLE_ITEMS,  # items last: results after them
        HEAD + KPT_ITEM + "  # a comment after the last item's last node\n",  # new items go after the edited item
        HEAD + "# before the first item\n\n" + EXAMPLE_ITEMS + "# after the items\n" + FUNCTION_CONFIG,
        "---\n" + HEAD.replace("items:", "items: # the resources") + "".join(item_of(d.text, 2, 4) for d in stream.split(EXAMPLE).documents if d.has_content),
        EXAMPLE_LIST.replace("name: web", "name: web-\u2013-\U0001f600", 1),  # a wide character in one item
    ],
    ids=["lf", "crlf", "no-final-newline", "items-last", "comment-after-last-item", "comments-around", "marker-and-indented", "wide"],
)
@pytest.mark.parametrize("block", [1, 5, 1 << 20])
def test_list_shapes_take_the_pieces_and_give_what_the_whole_text_gives(text, block, monkeypatch):
    data = text.encode()
    expected = zdrender(data, monkeypatch, whole=True)
    assert expected[2] == 0, expected[1]
    pieces_only(monkeypatch)
    assert zdrender(data, monkeypatch, block=block) == expected


def test_new_items_go_after_comment_lines_that_end_an_edited_last_item(monkeypatch):
    """They went before those lines, and the results after them repeated them."""
    text = HEAD + (
        "- apiVersion: apps/v1\n  kind: Deployment\n  metadata:\n    name: web\n  spec:\n    replicas: 2\n    selector: {matchLabels: {app: web}}\n"
        "    template:\n      metadata: {labels: {app: web}}\n      spec:\n        containers:\n        - name: app\n          image: nginx\n  # the end of web\n"
    )
    output = zdrender(text.encode(), monkeypatch)[0].decode()
    assert output.count("# the end of web") == 1
    assert output.index("# the end of web") < output.index("kind: PodDisruptionBudget") < output.index("results:")


def wide_list() -> str:
    """~1.1 MB: CRD-like items, the example release 15 times, and one item with a dash and an emoji,
    which make a str of the whole list 4 bytes a character."""
    properties = "".join(f"          field{i}:\n            description: text {i} with * and ! in it\n            type: string\n" for i in range(1000))
    crd = (
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: big{}.example.com\n"
        "spec:\n  versions:\n  - name: v1\n    schema:\n      openAPIV3Schema:\n        properties:\n"
    )
    wide = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: wide\ndata:\n  a: \u2013 \U0001f600\n"
    items = [item_of(crd.format(n) + properties) for n in range(12)] + [EXAMPLE_ITEMS] * 15 + [item_of(wide)]
    return HEAD + "".join(items) + FUNCTION_CONFIG


def test_a_list_read_in_blocks_is_held_as_its_items_not_as_one_str(tmp_path, monkeypatch):
    """The items (as read, and as the pipeline's documents) and a block of bytes: not the list as one
    str at 4 bytes a character (8 x the input before), nor the output joined."""
    data = wide_list().encode()
    expected = zdrender(data, monkeypatch, whole=True)
    zdrender(data, monkeypatch, block=1 << 16)  # imports made before measuring
    pieces_only(monkeypatch)
    written = tmp_path / "out.yaml"  # a file, not memory that tracemalloc would count
    with written.open("wb") as out:
        tracemalloc.start()
        try:
            got = zdrender(data, monkeypatch, block=1 << 16, out=out)
            used = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert (written.read_bytes(), *got[1:]) == expected
    assert used <= 3 * len(data), f"{used / len(data):.2f} x the input"


# -- lists written by kpt and kustomize -------------------------------------------------------------
@pytest.mark.e2e
@pytest.mark.corpus
def test_lists_written_by_kpt_and_kustomize_come_out_as_before(tmp_path, monkeypatch):
    """The lists the tools write for a release (bench/streams.py builds the benchmark's the same way)."""
    require((CORPUS / "bitnami-redis.yaml").exists(), f"the corpus is absent at {CORPUS}")
    tool("kpt")
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        import streams
    finally:
        sys.path.remove(str(ROOT / "bench"))
    text = "".join((CORPUS / name).read_text(encoding="utf-8") for name in ("bitnami-redis.yaml", "argo-cd.yaml"))
    (tmp_path / "source.yaml").write_text(text, encoding="utf-8")
    source = streams.describe("source", tmp_path / "source.yaml", streams.documents(text))
    for listed in (streams.kpt_resource_list(tmp_path, source), streams.kustomize_resource_list(tmp_path, source, tool("kustomize"))):
        data = listed.path.read_bytes()
        expected = zdrender(data, monkeypatch, whole=True, args=[])
        assert expected[2] == 0 and b"results:" in expected[0]
        with monkeypatch.context() as patched:
            patched.setattr(krm, "_text_cut", lambda text: None)  # the list parsed first, cut at its nodes
            assert zdrender(data, monkeypatch, whole=True, args=[]) == expected
        with monkeypatch.context() as patched:
            pieces_only(patched)
            assert zdrender(data, monkeypatch, args=[]) == expected


# -- everything else goes where it went ------------------------------------------------------------
ALIASED = HEAD + KPT_ITEM.replace("name: web\n", "name: &n web\n") + "- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: *n}\n"
FALLBACKS = {
    "alias into another item": ALIASED,
    "directive": "%YAML 1.1\n---\n" + HEAD + KPT_ITEM,
    "flow item": HEAD + "- {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}\n" + KPT_ITEM,
    "item line in a quoted scalar": HEAD + KPT_ITEM + '  description: "one\n- apiVersion: v1\n  kind: Secret"\n',
    "comment left of an edited item's keys": HEAD + KPT_ITEM.replace("    template:", "#   left of the keys\n    template:"),
    "a second document": EXAMPLE_LIST + "---\napiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n",
    "a bare CR in an item": HEAD + KPT_ITEM.replace("image: nginx", "image: nginx\r# after a bare CR"),
    "items twice": EXAMPLE_LIST + "items:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: again}\n",
    "a BOM": "\ufeff" + EXAMPLE_LIST,
    "kind after the items": "apiVersion: config.kubernetes.io/v1\nitems:\n" + EXAMPLE_ITEMS + "kind: ResourceList\n",
    "another kind": EXAMPLE_LIST.replace("kind: ResourceList", "kind: List").replace("config.kubernetes.io/v1", "v1"),
    "another apiVersion": EXAMPLE_LIST.replace("config.kubernetes.io/v1", "config.kubernetes.io/v2"),
    "a bad setting": EXAMPLE_LIST.replace("prestop-seconds: '7'", "prestop-seconds: abc"),
    "broken YAML": HEAD + "- a: [1,\n",
    "no items": HEAD.replace("items:\n", "items: []\n"),
    "items not a list": HEAD + "  a: 1\n",
    "a `---` line at the keys' column": HEAD + KPT_ITEM + '  note: "a\n  ---\n  b"\n',
    "JSON": '{"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList", "items": []}\n',
    "a plain stream": EXAMPLE,
    "a stream that starts with a list": EXAMPLE_LIST + "---\n" + EXAMPLE,
}


@pytest.mark.parametrize("text", FALLBACKS.values(), ids=FALLBACKS.keys())
@pytest.mark.parametrize("block", [3, 1 << 20])
def test_what_the_pieces_cannot_prove_goes_where_it_went(text, block, monkeypatch):
    data = text.encode()
    assert zdrender(data, monkeypatch, block=block) == zdrender(data, monkeypatch, whole=True)


@pytest.mark.parametrize(
    "data",
    [
        EXAMPLE_LIST.encode().replace(b"name: web", b"name: \xff", 1),  # in an item
        EXAMPLE_LIST.encode().replace(b"kind: ResourceList", b"kind: ResourceList # \xe2\x80"),  # in the head
        EXAMPLE_LIST.encode().replace(b"name: fn", b"name: \xc3"),  # in the tail
        EXAMPLE_LIST.encode()[:-1] + b"\xe2",  # cut at the end
    ],
    ids=["item", "head", "tail", "end"],
)
@pytest.mark.parametrize("block", [1, 7, 1 << 20])
def test_a_byte_that_is_not_utf8_is_placed_as_before(data, block, monkeypatch):
    got = zdrender(data, monkeypatch, block=block)
    assert got == zdrender(data, monkeypatch, whole=True)
    assert got[2] == 2 and "is not UTF-8" in got[1] and got[0] == b""


@pytest.mark.corpus
def test_other_streams_are_read_as_stream_read_utf8_reads_them(corpus):
    for path in corpus:
        data = path.read_bytes()
        for block in (997, 1 << 20):
            assert krmread.read_utf8(io.BytesIO(data).read, block) == stream.read_utf8(io.BytesIO(data).read, block)


# -- the cut, read in blocks of any size -------------------------------------------------------------
def node_starts(text: str) -> list[int]:
    """Where each item starts, found from the parsed list's nodes (krm's parse-first cut)."""
    cut = krm._node_cut(text, krm.yamldoc.parse(text))
    assert cut is not None
    starts = [len(cut.head)]
    for item in cut.items[:-1]:
        starts.append(starts[-1] + len(item.text))
    return starts


ITEMS = [
    "- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: a\n  data:\n    x: |\n      - not an item\n      y\n",
    "- # Source: b.yaml\n  apiVersion: v1\n  kind: Secret\n  metadata: {name: b}\n",
    "-   apiVersion: v1\n    kind: Service\n    metadata:\n      name: c # \u2013 wide\n",
    "- apiVersion: apps/v1\n  kind: Deployment\n  metadata: {name: d}\n\n  spec: {}\n",
]


@st.composite
def lists(draw) -> str:
    dash = draw(st.sampled_from([0, 2]))
    items = draw(st.lists(st.sampled_from(ITEMS), min_size=1, max_size=5))
    between = draw(st.lists(st.sampled_from(["", "# a comment\n", "\n", "  # indented\n"]), min_size=len(items), max_size=len(items)))
    body = "".join(b + "".join(" " * dash + line if line.strip() else line for line in item.splitlines(keepends=True)) for b, item in zip(between, items))
    tail = draw(st.sampled_from(["", FUNCTION_CONFIG, "# the end\n"]))
    text = HEAD + body + tail
    return text.replace("\n", "\r\n") if draw(st.booleans()) else text


@hsettings(max_examples=150, deadline=None)
@given(text=lists(), block=st.integers(min_value=1, max_value=64))
def test_pieces_read_in_any_blocks_are_the_texts_cut_at_its_items(text, block):
    read = krmread.read_utf8(io.BytesIO(text.encode()).read, block)
    assert isinstance(read, krmread.Pieces) and read.join() == text
    whole = krmread.cut(text)
    assert whole is not None and (whole.head, whole.items, whole.tail, whole.key_line, whole.dash) == (read.head, read.items, read.tail, read.key_line, read.dash)
    starts = [len(read.head)]
    for item in read.items[:-1]:
        starts.append(starts[-1] + len(item))
    assert starts == node_starts(text)
    assert krm.is_cut_list(read)


def test_a_head_that_is_no_list_is_handed_on_within_one_small_block(monkeypatch):
    """A stream whose first `kind` is another is handed to stream.read_utf8 after one head block."""
    reads: list[int] = []
    source = io.BytesIO(EXAMPLE.encode() * 50)

    def read(size: int) -> bytes:
        reads.append(size)
        return source.read(size)

    assert isinstance(krmread.read_utf8(read), stream.Stream)
    assert reads[0] == krmread.HEAD_BLOCK and reads.count(krmread.HEAD_BLOCK) == 1  # then stream.read_utf8's own


def test_yaml_of_the_pieces_path_is_the_list(monkeypatch):
    """The pieces path's output reads back as the list, every item there."""
    output = zdrender(EXAMPLE_LIST.encode(), monkeypatch)[0]
    listed = yaml.safe_load(output)
    assert [i["metadata"]["name"] for i in listed["items"]][: EXAMPLE_LIST.count("\n- ")] == [i["metadata"]["name"] for i in yaml.safe_load(EXAMPLE_LIST)["items"]]
    assert listed["functionConfig"]["data"] == {"prestop-seconds": "7"} and listed["results"]


# -- a list written as JSON --------------------------------------------------------------------------
@contextlib.contextmanager
def whole_list_path(monkeypatch) -> Iterator[None]:
    """krm.run as it was before the JSON cut: a JSON list patched as one document."""
    with monkeypatch.context() as patched:
        patched.setattr(krm, "_json_cut", lambda text: None)
        yield


def json_lists() -> dict[str, str]:
    listed = yaml.safe_load(EXAMPLE_LIST)
    function_config = listed.pop("functionConfig")
    return {
        "compact": json.dumps(listed) + "\n",
        "indented, config last": json.dumps({**listed, "functionConfig": function_config}, indent=2),
        "items last, crlf": json.dumps({"functionConfig": function_config, **listed}, indent=1).replace("\n", "\r\n") + "\r\n",
        "a new item": json.dumps({**listed, "items": [*listed["items"], EXTRA]}, indent=2),  # its PodDisruptionBudget is added
    }


@pytest.mark.parametrize("name", json_lists())
def test_json_lists_are_cut_at_their_items_and_give_what_the_whole_list_gave(name, monkeypatch):
    text = json_lists()[name]
    with whole_list_path(monkeypatch):
        expected = krm.run(text, settings_for)
    with monkeypatch.context() as patched:
        patched.setattr(krm, "_edit_whole", lambda *args: pytest.fail("the whole list was patched as one document"))
        patched.setattr(krm, "_parse", lambda *args: pytest.fail("the whole list was parsed"))
        outcome = krm.run(text, settings_for)
    assert outcome.error is None and expected.error is None
    assert outcome.output == expected.output
    # As on the YAML lists' item-by-item path, a finding's patch is its item's, and one with no path
    # is found by its kind and name (the whole list's pipeline pointed it at its item, a line lower).
    assert [(f.rule, f.severity, f.message, f.kind, f.name) for f in outcome.findings] == [(f.rule, f.severity, f.message, f.kind, f.name) for f in expected.findings]
    assert [(f.path, f.line) for f in outcome.findings if f.path] == [(f.path, f.line) for f in expected.findings if f.path.count("/") > 2]
    output = json.loads(outcome.output)
    assert output["results"] and len(output["items"]) == len(json.loads(text)["items"]) + (name == "a new item")
    if name == "a new item":
        assert output["items"][-1]["kind"] == "PodDisruptionBudget" and output["items"][-1]["metadata"] == {"name": "extra-zdrender"}
    assert zdrender(text.encode(), monkeypatch)[0].decode() == outcome.output  # on stdin too


@pytest.mark.parametrize(
    "text",
    [
        '{"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList", "items": [5]}',  # an item that is no object
        '{"apiVersion": "config.kubernetes.io/v2", "kind": "ResourceList", "items": [{"apiVersion": "v1", "kind": "ConfigMap"}]}',
        '{"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList", "items": [{"apiVersion": "v1", "kind": "ConfigMap"}], "items": []}',
        '{"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList", "items": [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}}]} {}',
        "{apiVersion: config.kubernetes.io/v1, kind: ResourceList, items: [{apiVersion: v1, kind: ConfigMap, metadata: {name: a}}]}",  # YAML flow
    ],
    ids=["not-an-object", "another-version", "items-twice", "after-the-list", "yaml-flow"],
)
def test_json_lists_the_cut_cannot_take_go_where_they_went(text, monkeypatch):
    with whole_list_path(monkeypatch):
        expected = zdrender(text.encode(), monkeypatch)
    assert zdrender(text.encode(), monkeypatch) == expected
