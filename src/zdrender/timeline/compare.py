"""Each serving workload of a stream before and after the pipeline, run through the model.

Before is the workload as it came in; after is the same object with the RFC 6902 patch that
`pipeline.run` planned for its document applied (the engine guarantees that this equals the
rendered output). Whatever rules exist take part: the timeline knows none of them.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from .. import pipeline
from ..settings import Settings
from ..workload import StreamContext, Workload, context_objects, workloads_in
from .model import DEFAULT_PROPAGATION, Timeline, model

DEFAULT_DRAIN = 20  # the grace-period rule's drain-seconds default, should that rule be absent


@dataclass
class Comparison:
    ref: str
    namespace: str | None
    document: int
    before: Timeline
    after: Timeline
    rules: list[str] = field(default_factory=list)  # rules whose patches changed this workload
    drain: float = DEFAULT_DRAIN
    file: str | None = None  # set by the CLI when it compares several files


def matches(ref: str, wanted: str) -> bool:
    """Does the workload `KIND/NAME` answer to `wanted`: `KIND/NAME` (kind in any case) or a bare `NAME`?"""
    kind, _, name = ref.partition("/")
    wanted_kind, sep, wanted_name = wanted.rpartition("/")
    if not sep:
        return name == wanted
    return kind.lower() == wanted_kind.lower() and name == wanted_name


def compare(text: str, settings: Settings, *, propagation: float = DEFAULT_PROPAGATION, drain: float | None = None) -> list[Comparison]:
    """`drain`, when given, is how long the apps really take to drain, instead of the drain budget
    (the `drain-seconds` setting, the worst case); it changes the model only, not the patches."""
    import jsonpatch
    import jsonpointer

    result = pipeline.run(text, settings)
    documents = [d for d in result.documents if d.parsed is not None and d.data is not None]
    before_context, after_context = StreamContext(), StreamContext()
    patched: list[Any] = []
    for doc in documents:
        after = jsonpatch.apply_patch(copy.deepcopy(doc.data), doc.ops) if doc.ops else doc.data
        patched.append(after)
        for obj in context_objects(doc.data):
            before_context.add(obj)
        for obj in context_objects(after):
            after_context.add(obj)
    comparisons = []
    for doc, after_data in zip(documents, patched):
        for before in workloads_in(doc.data, before_context):
            if not before.has_template:
                continue
            where = f"{before.ref} (document {doc.document.number})"
            local = settings.for_annotations(before.annotations, where)
            if before.is_hook and not local["include-hooks"]:
                continue
            extra = tuple(local.values.get("sidecar-names", ()))
            assume = bool(local["assume-serving"])
            before = Workload(before.obj, before.pointer, before_context, extra, assume)
            after = Workload(jsonpointer.resolve_pointer(after_data, before.pointer), before.pointer, after_context, extra, assume)
            if not (before.serving or after.serving):
                continue
            budget = local.values.get("drain-seconds", DEFAULT_DRAIN) if drain is None else drain
            signals = local.values.get("stop-signals")
            rules = sorted({f.rule for f in doc.findings if f.fixed and f.kind == before.kind and f.name == before.name and f.rule != "engine"})
            comparisons.append(
                Comparison(
                    before.ref,
                    before.namespace,
                    doc.document.number,
                    model(before, drain=budget, propagation=propagation, stop_signals=signals),
                    model(after, drain=budget, propagation=propagation, stop_signals=signals),
                    rules,
                    budget,
                )
            )
    return comparisons
