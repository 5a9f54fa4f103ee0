"""The fuzzer: corpus workloads written in many spellings of the same objects, every mode asserted.

A randomised writer spells each object differently from how the chart did: indentation width and
sequence style, key order, quoting (plain, single, double), block scalars, flow collections, comments,
numbers in hex and booleans as `yes`, anchors with aliases (`matchLabels: &l` / `labels: *l`), merge
keys, separators that carry a comment or a tag, a document written as JSON, CRLF and CR-only line ends.
Whatever the spelling, zdrender must:
- hold the guarantees (tests/guarantees.py: nothing lost, exact, minimal, idempotent) or refuse with
  one line that names the document;
- make the same change as for the plain spelling of the same objects (one classification, types read
  once), in plain, check/explain and KRM mode alike;
- be exact under YAML 1.1 as Kubernetes reads it: every output document read by sigs.k8s.io/yaml itself
  (tests/tools/k8syaml) is what zdrender planned.
Bounded in examples (ZDRENDER_FUZZ_EXAMPLES, 60 by default) and in time per example; a failure found
here becomes a regression test in test_yaml11.py.
"""

from __future__ import annotations

import copy
import functools
import json
import os
import re
import shutil
import subprocess

import jsonpatch
from hypothesis import HealthCheck, event, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from zdrender import emit, krm, pipeline, stream, unidiff, yamldoc
from zdrender.settings import SettingsError

import k8s_yaml
from conftest import corpus_files, require
from guarantees import check
from helpers import make_settings
from test_robustness import assert_refusal, pools

EXAMPLES = int(os.environ.get("ZDRENDER_FUZZ_EXAMPLES", "60"))
_PLAIN = re.compile(r"[A-Za-z0-9_/$(][A-Za-z0-9_./$(){}=+-]*")


@functools.lru_cache(maxsize=1)
def workloads() -> list[dict]:
    return pools()[0]


class Writer:
    """Writes one object as YAML, choosing a spelling at every node."""

    def __init__(self, draw, root: dict):
        self.draw = draw
        self.indent = draw(st.sampled_from([2, 2, 4]))
        self.seq_indent = draw(st.sampled_from([0, self.indent]))
        self.shuffle = draw(st.booleans())
        self.anchors: dict[int, str] = {}  # id of a value -> its anchor name, for values written twice
        self.written: set[int] = set()
        self._alias_pairs(root)

    def _alias_pairs(self, root: dict) -> None:
        """Share the pod labels with the selector (or the reverse), as Helm charts with anchors do."""
        spec = root.get("spec")
        template = spec.get("template") if isinstance(spec, dict) else None
        selector = spec.get("selector") if isinstance(spec, dict) else None
        if not (isinstance(template, dict) and isinstance(selector, dict) and isinstance(template.get("metadata"), dict)):
            return
        labels, match = template["metadata"].get("labels"), selector.get("matchLabels")
        if isinstance(labels, dict) and labels == match and labels and self.draw(st.integers(0, 2)) == 0:
            template["metadata"]["labels"] = match  # one object, written once and aliased once
            self.anchors[id(match)] = "labels"

    def scalar(self, value) -> str:
        draw = self.draw
        if value is None:
            return draw(st.sampled_from(["null", "~", "null"]))
        if value is True or value is False:
            return draw(st.sampled_from(["true", "True", "yes", "on"] if value else ["false", "False", "no", "off"]))
        if isinstance(value, int):
            return draw(st.sampled_from([str(value), str(value), hex(value) if value >= 0 else str(value)]))
        if isinstance(value, float):
            return emit.scalar(value)
        text = str(value)
        styles = ["double", "single"]
        if _PLAIN.fullmatch(text) and emit.plain_is_string(text):
            styles += ["plain", "plain", "plain"]
        style = draw(st.sampled_from(styles))
        if style == "plain":
            return text
        if style == "single" and not re.search(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ufeff]", text):
            return "'" + text.replace("'", "''") + "'"
        return emit.quoted(text)

    def key(self, key: str) -> str:
        if _PLAIN.fullmatch(key) and emit.plain_is_string(key) and self.draw(st.integers(0, 4)):
            return key
        return self.scalar(key) if self.draw(st.booleans()) else emit.quoted(key)

    def flow(self, value) -> str:
        if isinstance(value, dict):
            return "{" + ", ".join(f"{self.key(k)}: {self.flow(v)}" for k, v in self.items(value)) + "}"
        if isinstance(value, list):
            return "[" + ", ".join(self.flow(v) for v in value) + "]"
        return self.scalar(value)

    def items(self, mapping: dict) -> list:
        items = list(mapping.items())
        if self.shuffle and len(items) > 1:
            items = self.draw(st.permutations(items))
        return items

    def properties(self, value) -> tuple[str, bool]:
        """(the `&anchor` or `*alias` to write, whether the value itself is still to be written)."""
        name = self.anchors.get(id(value))
        if name is None:
            return "", True
        if id(value) in self.written:
            return f"*{name}", False
        self.written.add(id(value))
        return f"&{name} ", True

    def block(self, value, column: int) -> list[str]:
        """Lines of a non-empty collection in block style at `column`."""
        draw = self.draw
        lines: list[str] = []
        if isinstance(value, dict):
            merged = {}
            if len(value) > 2 and draw(st.integers(0, 9)) == 0:  # some keys through a merge key
                moved = draw(st.sampled_from(sorted(value)))
                merged = {moved: value[moved]}
            if merged:
                lines.append(" " * column + "<<: " + self.flow(merged))
            for key, item in self.items(value):
                if key in merged:
                    continue
                if draw(st.integers(0, 15)) == 0:
                    lines.append(" " * column + "# a comment zdrender must keep")
                lines += self.entry(self.key(key), item, column)
            return lines
        for item in value:
            head = " " * column + "- "
            props, write = self.properties(item)
            if isinstance(item, (dict, list)) and item and write and not props and draw(st.integers(0, 5)):
                nested = self.block(item, column + 2)
                lines.append(head + nested[0][column + 2 :])
                lines += nested[1:]
            else:
                lines.append(head + (props + self.flow(item) if write else props))
        return lines

    def entry(self, key: str, value, column: int) -> list[str]:
        draw = self.draw
        head = " " * column + key + ":"
        props, write = self.properties(value)
        if not write:
            return [head + " " + props]
        if isinstance(value, (dict, list)) and value and draw(st.integers(0, 6)):
            inner = column + (self.indent if isinstance(value, dict) else self.seq_indent)
            return [head + (" " + props.rstrip() if props else ""), *self.block(value, inner)]
        if isinstance(value, str) and value and "\n" in value.rstrip("\n") and draw(st.booleans()):
            block = emit.literal_block(value, "|\n" + " " * (column + 2) + "x", "\n")
            if block is not None:
                return [head + " " + props + block.rstrip("\n")]
        trailing = "  # trailing" if draw(st.integers(0, 20)) == 0 else ""
        return [head + " " + props + self.flow(value) + trailing]


@st.composite
def spelled_streams(draw):
    """(text, the objects it holds): a corpus workload (and a Service that selects it) spelled at random."""
    obj = copy.deepcopy(draw(st.sampled_from(workloads())))
    objs = [obj]
    selector = ((obj.get("spec") or {}).get("selector") or {}).get("matchLabels") if isinstance(obj.get("spec"), dict) else None
    if isinstance(selector, dict) and draw(st.booleans()):
        objs.insert(0, {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "svc"}, "spec": {"selector": dict(selector), "ports": [{"port": 80}]}})
    texts = []
    for o in objs:
        separator = draw(st.sampled_from(["---\n", "--- # the document\n", "---\n# Source: chart/templates/x.yaml\n", "--- !!map\n"]))
        if draw(st.integers(0, 9)) == 0:  # the whole document as JSON, on the separator line or below it
            body = json.dumps(o, ensure_ascii=False)
            texts.append(draw(st.sampled_from(["--- ", "---\n"])) + body + "\n")
            continue
        shared = copy.deepcopy(o)
        writer = Writer(draw, shared)  # it may make the pod labels and the selector one object
        texts.append(separator + "".join(line + "\n" for line in writer.block(shared, 0)))
    text = "".join(texts)
    newline = draw(st.sampled_from(["\n", "\n", "\r\n", "\r"]))
    return text.replace("\n", newline), objs


def _applied(text: str, settings) -> list:
    """Each object of the stream with the patch zdrender plans for it (explain's view)."""
    result = pipeline.run(text, settings, parse_all=True)
    out = []
    for entry in pipeline.explain(result):
        doc = next(d for d in result.documents if d.index == entry["index"])
        out.append(jsonpatch.apply_patch(doc.data, entry["patch"]))
    return out


def _resource_list(text: str) -> str:
    """The stream's documents as the items of a ResourceList, each document's text indented under `- `."""
    lf = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = ["apiVersion: config.kubernetes.io/v1", "kind: ResourceList", "items:"]
    for doc in stream.split(lf).documents:
        body = [line for line in doc.text.splitlines() if not line.startswith("#")]
        if body and body[0].startswith("---"):
            rest = body[0][3:].strip()
            rest = "" if rest.startswith("#") or rest == "!!map" else rest
            body = ([rest] if rest else []) + body[1:]
        if not body:
            continue
        lines.append("- " + body[0])
        lines += ["  " + line if line else line for line in body[1:]]
    return "\n".join(lines) + "\n"


def _diff_applies(text: str, output: str, tmp_path_factory) -> None:
    tool = shutil.which("patch")
    require(tool is not None, "patch(1) is not installed")
    folder = tmp_path_factory.mktemp("diff")
    (folder / "in.yaml").write_bytes(text.encode())
    diff = unidiff.unified(text, output, "in.yaml")
    if diff:
        subprocess.run([tool, "-p1", "--quiet"], input=diff.encode(), cwd=folder, check=True, timeout=30)
    assert (folder / "in.yaml").read_bytes() == output.encode()


@hsettings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(case=spelled_streams(), version=st.sampled_from(["1.28", "1.30", "1.33"]))
def test_every_spelling_gets_the_same_change_in_every_mode(case, version, tmp_path_factory):
    require(bool(corpus_files()), "the corpus is absent (set ZDRENDER_CORPUS)")
    text, objs = case
    settings = make_settings([f"--kube-version={version}"])
    # The fuzzer's own spelling means the objects (as Kubernetes and zdrender read them).
    documents = [d for d in stream.split(text.replace("\r", "\n") if stream.cr_only(text) else text).documents if d.has_content]
    assert k8s_yaml.read([d.text for d in documents]) == objs
    assert [yamldoc.load(d.text) for d in documents] == objs

    try:
        result = check(text, settings, validate_version=version if version in ("1.28", "1.30") else None)
    except (pipeline.InputError, SettingsError) as err:
        assert_refusal(err)
        event("refused with one line")
        return
    event("re-written in full" if any(f.rule == "engine" for f in result.findings) else "edited in place")

    # The same change as for the plain spelling of the same objects, in render and in explain/check.
    plain = "".join("---\n" + "".join(line + "\n" for line in emit.block_value(o, 0, 2)) for o in objs)
    planned = _applied(plain, settings)
    assert _applied(text, settings) == planned
    outputs = [d.output for d in result.documents if d.holds_object]
    # A document's output is split as its text reads: with bare CRs, it must become LF first (an added
    # object, such as a PodDisruptionBudget, follows it after a `---` line that ends in a CR too).
    rendered = [yamldoc.load(stream.split(o.replace("\r", "\n") if stream.cr_only(o) else o).documents[0].text.replace("\r", "\n")) for o in outputs]
    assert rendered == planned

    # Exact as Kubernetes reads it: sigs.k8s.io/yaml reads every output document as zdrender planned.
    out_docs = [d for d in stream.split(result.output.replace("\r", "\n") if stream.cr_only(result.output) else result.output).documents if d.has_content]
    assert k8s_yaml.read([d.text for d in out_docs]) == [yamldoc.load(d.text) for d in out_docs]

    # diff: applied with patch(1) to the input, it gives the rendered output, whatever the line ends.
    _diff_applies(text, result.output, tmp_path_factory)

    # KRM mode: the same objects as a ResourceList's items come out as plain mode's documents.
    outcome = krm.run(_resource_list(text), lambda function_config: settings)
    if outcome.error is not None:
        assert "\n" not in outcome.error
        event("KRM refused with one line")
        return
    items = yamldoc.load(outcome.output)["items"]
    assert items[: len(planned)] == planned
