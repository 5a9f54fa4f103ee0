"""KRM mode's fast path: a ResourceList's items cut from its text, without parsing the whole list.

Every shape the tools send (and the hand-written ones) must come out byte for byte as the path that
parses the list first gives it, and the realistic ones must not parse the list at all.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from zdrender import krm, rules, settings

from conftest import CORPUS, require

RELEASES = ("bitnami-nginx-ha.yaml", "bitnami-redis.yaml")  # Deployments, StatefulSets, Services, PDBs, comments


def settings_for(function_config: Any):
    return settings.load(rules.all_knobs(), function_config=function_config, flags={"disruption-budget": "true"})


EXTRA = {  # a Deployment without a PodDisruptionBudget: disruption-budget adds one as a new item
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "extra"},
    "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "extra"}}, "template": {"metadata": {"labels": {"app": "extra"}}, "spec": {"containers": [{"name": "a", "image": "x"}]}}},
}


def corpus_items() -> list[dict[str, Any]]:
    paths = [CORPUS / name for name in RELEASES]
    require(all(p.exists() for p in paths), f"the corpus is absent at {CORPUS}")
    first, second = ([obj for obj in yaml.safe_load_all(p.read_text()) if isinstance(obj, dict)] for p in paths)
    return [*first, EXTRA, *second]


def indented(text: str, by: int) -> str:
    return "".join(" " * by + line if line.strip() else line for line in text.splitlines(keepends=True))


def resource_list(items: list[dict[str, Any]], *, dash: int = 0, keys: int = 2, comments: bool = False, config: str = "tail") -> str:
    """A block ResourceList: each item's `-` at column `dash`, its keys at column `keys`."""
    function_config = "functionConfig:\n  apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: fn}\n  data: {prestop-seconds: '7'}\n"
    parts = ["apiVersion: config.kubernetes.io/v1\nkind: ResourceList\n"]
    if config == "head":
        parts.append(function_config)
    parts.append("items:\n")
    for i, item in enumerate(items):
        body = yaml.safe_dump(item, sort_keys=False, width=1000)
        if comments:  # a comment between items at column 0, one inside each, one on its `-` line
            parts.append(f"# item {i}\n")
            body = f"# item {i}, inside\n" + body
        lines = indented(body, keys).splitlines(keepends=True)
        lines[0] = " " * dash + "-" + lines[0][dash + 1 :]
        parts.append("".join(lines))
    if config == "tail":
        parts.append(function_config)
    return "".join(parts)


SHAPES = {
    "kustomize (dash at 0)": {},
    "dash at 2": {"dash": 2, "keys": 4},
    "indented by 4": {"dash": 4, "keys": 6},
    "wide dash": {"keys": 4},
    "comments": {"comments": True},
    "config first": {"config": "head"},
    "no config": {"config": "none"},
}


def fast(text: str, monkeypatch) -> krm.Outcome:
    """krm.run where parsing the whole list fails the test."""

    def parse(*args):
        raise AssertionError("the whole list was parsed")

    with monkeypatch.context() as patched:
        patched.setattr(krm, "_parse", parse)
        return krm.run(text, settings_for)


def parsed_first(text: str, monkeypatch) -> krm.Outcome:
    """krm.run the way it was before the text cut: the list parsed, its items cut at its nodes."""
    with monkeypatch.context() as patched:
        patched.setattr(krm, "_text_cut", lambda text: None)
        return krm.run(text, settings_for)


def same(a: krm.Outcome, b: krm.Outcome) -> None:
    assert a.error is None and b.error is None, (a.error, b.error)
    assert a.output == b.output
    assert [(f.rule, f.path, f.line, f.document, f.message) for f in a.findings] == [(f.rule, f.path, f.line, f.document, f.message) for f in b.findings]


@pytest.mark.corpus
@pytest.mark.parametrize("shape", SHAPES)
def test_realistic_shapes_take_the_text_cut_and_give_the_same_list(shape, monkeypatch):
    text = resource_list(corpus_items(), **SHAPES[shape])
    outcome = fast(text, monkeypatch)
    assert any(f.fixed for f in outcome.findings) and any(f.new_object for f in outcome.findings)
    same(outcome, parsed_first(text, monkeypatch))
    assert "results:" in outcome.output and outcome.output.count("kind: PodDisruptionBudget") > text.count("kind: PodDisruptionBudget")


@pytest.mark.corpus
def test_line_ends_a_missing_final_newline_and_results_from_an_earlier_run(monkeypatch):
    base = resource_list(corpus_items(), config="none")
    for text in (base.replace("\n", "\r\n"), base.rstrip("\n"), fast(base, monkeypatch).output):
        same(fast(text, monkeypatch), parsed_first(text, monkeypatch))


KPT_ITEM = """\
- # Source: web/deployment.yaml
  apiVersion: apps/v1
  kind: Deployment
  metadata:
    name: web
    annotations:
      config.kubernetes.io/index: '0'
      internal.config.kubernetes.io/path: 'web.yaml'
  spec:
    template:
      spec:
        containers:
        - name: app
          image: nginx
"""
HEAD = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n"


def test_kpt_comment_on_the_dash_line(monkeypatch):
    text = HEAD + KPT_ITEM
    outcome = fast(text, monkeypatch)
    same(outcome, parsed_first(text, monkeypatch))
    assert outcome.output.startswith(HEAD + KPT_ITEM.split("spec:\n        containers:")[0])


@pytest.mark.parametrize(
    "text",
    [
        HEAD + KPT_ITEM.replace("name: web\n", "name: &n web\n") + "- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: *n}\n",  # an alias into another item
        "%YAML 1.1\n---\n" + HEAD + KPT_ITEM,  # a directive
        HEAD + "- {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}\n" + KPT_ITEM,  # a flow item
        HEAD + KPT_ITEM + '  description: "one\n- apiVersion: v1\n  kind: Secret"\n',  # a quoted scalar with a line like an item
        HEAD + KPT_ITEM.replace("    template:", "#   left of the keys, inside an edited item\n    template:"),
    ],
    ids=["alias", "directive", "flow-item", "item-in-a-quoted-scalar", "comment-inside-an-edited-item"],
)
def test_shapes_the_text_cannot_prove_give_what_parsing_gives(text, monkeypatch):
    outcome = krm.run(text, settings_for)
    expected = parsed_first(text, monkeypatch)
    assert (outcome.output, outcome.error) == (expected.output, expected.error)
    if "Secret" in text:
        assert [i["kind"] for i in yaml.safe_load(outcome.output)["items"]][:1] == ["Deployment"]
        with pytest.raises(AssertionError, match="whole list was parsed"):
            fast(text, monkeypatch)
