"""A big `kind: List` (issue 14): the work per workload must not include the whole List. Counted, not
timed: whole-List copies (a rule context copied the document per rule and workload) and whole-List
parses (patch.apply parsed the List again per workload with two ops touching the same text)."""

from __future__ import annotations

from typing import Any

import pytest

from zdrender import patch, pipeline, yamldoc

from helpers import make_settings

# Two ops per workload that touch the same text: initialDelaySeconds and periodSeconds both go at the
# end of the livenessProbe.
ITEM = """\
- apiVersion: apps/v1
  kind: Deployment
  metadata:
    name: web{n}
  spec:
    replicas: 2
    selector:
      matchLabels: {{app: web{n}}}
    template:
      metadata:
        labels: {{app: web{n}}}
      spec:
        containers:
        - name: app
          image: nginx
          ports:
          - containerPort: 8080
          livenessProbe:
            httpGet: {{path: /, port: 8080}}
          readinessProbe:
            httpGet: {{path: /ready, port: 8080}}
"""


def listed(workloads: int) -> str:
    return "apiVersion: v1\nkind: List\nitems:\n" + "".join(ITEM.format(n=n) for n in range(workloads))


def whole_list_work(workloads: int, monkeypatch: pytest.MonkeyPatch, keep_nodes: bool) -> tuple[int, int, int]:
    """(whole-List parses, whole-List copies, ops) of one run over a List of `workloads` Deployments."""
    text = listed(workloads)
    counts = {"parse": 0, "copy": 0}
    parse, copy_data = yamldoc.parse, yamldoc.copy_data

    def counted_parse(source: str) -> yamldoc.Parsed:
        counts["parse"] += "kind: List" in source
        return parse(source)

    def counted_copy(value: Any) -> Any:
        counts["copy"] += isinstance(value, dict) and value.get("kind") == "List"
        return copy_data(value)

    monkeypatch.setattr(yamldoc, "parse", counted_parse)
    monkeypatch.setattr(yamldoc, "copy_data", counted_copy)
    try:
        result = pipeline.run(text, make_settings(), keep_nodes=keep_nodes)
    finally:
        monkeypatch.undo()
    return counts["parse"], counts["copy"], len(result.documents[0].ops)


@pytest.mark.parametrize("keep_nodes", [False, True])
def test_whole_list_parses_and_copies_do_not_grow_with_its_workloads(monkeypatch, keep_nodes):
    parses, copies, ops = whole_list_work(2, monkeypatch, keep_nodes)
    more_parses, more_copies, more_ops = whole_list_work(12, monkeypatch, keep_nodes)
    assert more_ops == 6 * ops > 0  # every workload is patched, with the same ops
    assert (more_parses, more_copies) == (parses, copies)
    assert copies <= 1  # the working copy the pipeline plans in


def test_a_list_edited_in_batches_is_what_one_op_at_a_time_gives():
    text = listed(3)
    result = pipeline.run(text, make_settings())
    ops = result.documents[0].ops
    one_at_a_time = text
    for op in ops:
        one_at_a_time = patch.apply(one_at_a_time, [op])  # a single op: one parse, one edit
    assert result.output == one_at_a_time and len(ops) == 3 * len(pipeline.run(listed(1), make_settings()).documents[0].ops)
