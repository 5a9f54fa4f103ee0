"""KRM function mode: a `ResourceList` in, the same `ResourceList` out with its workloads patched.

Kustomize (`transformers:` exec function) and kpt (`fn eval --exec`, `exec:` in a Kptfile pipeline)
send one YAML document: `items` (every resource) and `functionConfig` (our settings), and expect it
back with `results`. Every item must come back (a missing one is deleted) with its comments and the
tools' bookkeeping annotations (`config.kubernetes.io/*`, `internal.config.kubernetes.io/*`,
`config.k8s.io/id`, `kustomize.config.k8s.io/id`), so the list stays one document of text and only
the lines of patched workloads change.

Each item's text is cut out of the list (from its `-` line to the next), dedented, and the items go
through the pipeline as a stream of their own: only workloads and their context are parsed, and
edits re-parse one item, not the whole list (on a 2 MB list: 0.65 s instead of 7 s). Lists whose
text cannot be cut that way (flow style, aliases, comments left of the items) are patched as one
document under `/items/N`, like a `kind: List`. New documents from rules (a PodDisruptionBudget) are
appended to `items` without path annotations: kpt writes them to `<kind>_<name>.yaml`, kustomize
takes them as new resources. Findings become `results` (kyaml's `framework.Result`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from yaml.nodes import MappingNode, ScalarNode, SequenceNode

from . import emit, patch, pipeline, rewrite, stream, yamldoc
from .finding import Finding
from .rules import REGISTRY
from .settings import Settings, SettingsError
from .workload import as_dict, as_list

KIND = "ResourceList"
API_VERSIONS = ("config.kubernetes.io/v1", "config.kubernetes.io/v1beta1")  # v1beta1: older kustomize/kpt
CONFIG_GROUP = "zdrender.io/"
# Where kpt and kustomize record an item's file; the internal.* spelling is the current one.
PATH_ANNOTATIONS = ("internal.config.kubernetes.io/path", "config.kubernetes.io/path")
INDEX_ANNOTATIONS = ("internal.config.kubernetes.io/index", "config.kubernetes.io/index")


class KRMError(Exception):
    """A ResourceList zdrender refuses; the message is one line for people."""


@dataclass
class Outcome:
    output: str  # the ResourceList to print (on error: the input's items unchanged, plus an error result)
    findings: list[Finding] = field(default_factory=list)
    error: str | None = None


def is_resource_list(text: str) -> bool:
    """Whether stdin is a KRM ResourceList, from the text alone (no parsing in the common case)."""
    documents = [d for d in stream.split(text).documents if d.has_content]
    if any(d.kind == KIND for d in documents):
        return True
    # A flow-style or JSON list cannot be classified by its text: parse only that rare single document.
    if len(documents) == 1 and not documents[0].classified and KIND in documents[0].text:
        try:
            return as_dict(yamldoc.load(documents[0].text)).get("kind") == KIND
        except yamldoc.YAMLError:
            return False
    return False


def run(text: str, settings_for: Callable[[Any], Settings], *, rules: Iterable[ModuleType] = REGISTRY) -> Outcome:
    """Patch the ResourceList in `text`; `settings_for(functionConfig)` resolves the run's settings."""
    try:
        return _run(text, settings_for, tuple(rules))
    except (KRMError, SettingsError, pipeline.InputError) as err:
        message = str(err)
        return Outcome(output=error_output(text, message), error=message)


def _run(text: str, settings_for: Callable[[Any], Settings], rules: tuple[ModuleType, ...]) -> Outcome:
    if stream.cr_only(text):  # as plain render does: handled as LF, written back as CR
        outcome = _run(text.replace("\r", "\n"), settings_for, rules)
        outcome.output = outcome.output.replace("\n", "\r")
        return outcome
    parsed_stream, document, parsed = _parse(text)
    settings = settings_for(_function_config(parsed.data))
    edited = _edit_items(document, parsed, settings, rules)
    if edited is None:
        return _edit_whole(text, settings, rules)
    output, findings = edited
    texts = [output if d is document else d.text for d in parsed_stream.documents]
    return Outcome(output=parsed_stream.join(texts), findings=findings)


def _edit_whole(text: str, settings: Settings, rules: tuple[ModuleType, ...]) -> Outcome:
    """The list as one document, its workloads patched under `/items/N` like a `kind: List`. Each op
    re-parses the whole list, so this is the slow path for lists the item-by-item path cannot cut."""
    result = pipeline.run(text, settings, rules=rules)
    document = next(d for d in result.documents if _is_list(d))
    items = as_list(document.data.get("items"))
    findings = result.findings
    added = [_new_item(f) for f in findings if f.new_object is not None]
    results = [result_item(f, items) for f in findings]
    ops = [{"op": "add", "path": "/items/-", "value": item} for item in added]
    ops += _results_ops(document.data, results)
    output = document.output
    if ops:
        output = _apply(output, ops)
    texts = [d.output if d is not document else output for d in result.documents]
    return Outcome(output=result.stream.join(texts), findings=findings)


# -- item by item ---------------------------------------------------------------------------------
@dataclass
class _Item:
    """One item's text, cut out of the list: from its `-` line up to the next item's."""

    start: int  # offsets in the list's text
    end: int
    dash: int  # column of the item's `-`
    column: int  # column of the item's keys
    text: str

    def body(self) -> str | None:
        """The item as a document of its own: `-` blanked, dedented to column 0 (None: not possible)."""
        lines = self.text.splitlines(keepends=True)
        lines[0] = lines[0][: self.dash] + " " + lines[0][self.dash + 1 :]
        indent = " " * self.column
        body = []
        for line in lines:
            if line.startswith(indent):
                body.append(line[self.column :])
            elif not line.strip():
                body.append(line.lstrip(" \t"))
            else:
                return None  # a line left of the item's keys (a comment): keep the slow path
        return "".join(body)

    def restore(self, body: str) -> str:
        """The inverse of `body()` for an edited body."""
        indent = " " * self.column
        text = "".join(line if not line.strip() else indent + line for line in body.splitlines(keepends=True))
        return text[: self.dash] + "-" + text[self.dash + 1 :]


def _items(text: str, root: Any) -> list[_Item] | None:
    """The items of a block `items:` sequence as text slices (None when the list has another shape)."""
    node = yamldoc.mapping_value(root, "items")
    if not isinstance(node, SequenceNode) or node.flow_style or not node.value:
        return None
    dash = node.start_mark.column
    starts = []
    for item in node.value:
        if not isinstance(item, MappingNode) or item.flow_style or not item.value:
            return None
        line = text.rfind("\n", 0, item.start_mark.index) + 1
        while not (text[line : line + dash].strip(" ") == "" and text[line + dash : line + dash + 1] == "-"):
            if line == 0:
                return None
            line = text.rfind("\n", 0, line - 1) + 1
        starts.append((line, item.start_mark.column))
    end = patch.after_line(text, yamldoc.node_end(node))
    bounds = [s for s, _ in starts] + [end]
    return [_Item(start=bounds[i], end=bounds[i + 1], dash=dash, column=column, text=text[bounds[i] : bounds[i + 1]]) for i, (_, column) in enumerate(starts)]


def _edit_items(document: stream.Document, parsed: yamldoc.Parsed, settings: Settings, rules: tuple[ModuleType, ...]) -> tuple[str, list[Finding]] | None:
    """Patch the list item by item: its items become a stream of documents for the pipeline (which
    then parses only workloads and their context, each on its own), and the edited items go back in
    place. None when the list's text cannot be cut into items; the caller takes the slow path."""
    text, root, data = document.text, parsed.root, parsed.data
    if parsed.shared:  # an alias may point into another item: items cannot be read one by one
        return None
    items = _items(text, root)
    if items is None:
        return _no_items(text, root, data)
    bodies = [item.body() for item in items]
    if any(b is None for b in bodies):
        return None
    separator = "---" + document.newline
    result = pipeline.run("".join(separator + b for b in bodies), settings, rules=rules)  # type: ignore[operator]
    outputs = result.documents
    if len(outputs) != len(items):
        return None
    edits: list[tuple[int, int, str]] = []
    for item, body, out in zip(items, bodies, outputs):
        if out.ops:  # the pipeline checked the edited body; check that it goes back as it came out
            if item.restore(body) != item.text:  # type: ignore[arg-type]
                return None
            edited = stream.split(out.output).documents[0].text[len(separator) :]  # without appended documents
            edits.append((item.start, item.end, item.restore(edited)))
    findings = result.findings
    for f in findings:  # from the item stream to the list: item N's pointer is /items/N
        i = f.document - 1
        first_line = document.line + text.count("\n", 0, items[i].start)
        f.path = f"/items/{i}{f.path}" if f.path else ""
        f.locate(document=document.number, index=0, source=f.source, line=first_line + (f.line - outputs[i].document.line - 1) if f.line else first_line)
    added = [_new_item(f) for f in findings if f.new_object is not None]
    results = [result_item(f, data["items"]) for f in findings]
    items_key = yamldoc.mapping_key(root, "items")
    seq_indent = max(0, items[0].dash - (items_key.start_mark.column if items_key is not None else 0))
    nl = document.newline
    if added:
        block = "".join(line + nl for value in added for line in emit.block_item(value, items[0].dash, seq_indent))
        if yamldoc.load(block) != added:
            return None
        edits.append((items[-1].end, items[-1].end, block))
    if results and "results" not in data:
        column = root.value[0][0].start_mark.column if root is not None else 0
        block = "".join(line + nl for line in emit.block_entry("results", results, column, seq_indent))
        if yamldoc.load(block) != {"results": results}:
            return None
        edits.append((patch.after_line(text, yamldoc.node_end(root)), patch.after_line(text, yamldoc.node_end(root)), block))
    output = patch.splice(text, edits, nl)
    if "results" in data:  # rare: a list that already carries results (our own, run twice)
        output = patch.apply(output, _results_ops(data, results))
    return output, findings


def _results_ops(data: dict[str, Any], results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Ops that leave exactly `results` in the list; none at all when there are none."""
    if not results:
        return [{"op": "remove", "path": "/results"}] if "results" in data else []
    return [{"op": "replace" if "results" in data else "add", "path": "/results", "value": results}]


def _no_items(text: str, root: Any, data: dict[str, Any]) -> tuple[str, list[Finding]] | None:
    """A list without items has nothing to patch; a flow-style one is left to the whole-list path."""
    node = yamldoc.mapping_value(root, "items")
    if node is None or (isinstance(node, ScalarNode) and data.get("items") is None) or data.get("items") == []:
        return text, []
    return None


def _is_list(doc: pipeline.DocumentResult) -> bool:
    return isinstance(doc.data, dict) and doc.data.get("kind") == KIND


def _parse(text: str) -> tuple[stream.Stream, stream.Document, yamldoc.Parsed]:
    parsed_stream = stream.split(text)
    documents = [d for d in parsed_stream.documents if d.has_content]
    if len(documents) != 1:
        raise KRMError(f"stdin holds {len(documents)} documents; a ResourceList must be the only one")
    parsed = pipeline.parse_document(documents[0])
    data = parsed.data
    if not isinstance(data, dict) or data.get("kind") != KIND:
        raise KRMError("stdin is not a ResourceList; expected kind: ResourceList")
    version = data.get("apiVersion")
    if version not in API_VERSIONS:
        raise KRMError(f"ResourceList apiVersion {version!r} is not supported; expected {' or '.join(API_VERSIONS)}")
    items = data.get("items")
    line = documents[0].line - 1  # the stream's line of the document's first line, less one
    if items is not None and not isinstance(items, list):
        at = line + (yamldoc.line_of(parsed.root, ["items"]) or 1)
        raise KRMError(f"ResourceList items (line {at}) is not a list; it must list the resources")
    for i, item in enumerate(items or []):
        if not isinstance(item, dict):
            at = line + (yamldoc.line_of(parsed.root, ["items", str(i)]) or 1)
            raise KRMError(f"ResourceList items[{i}] (line {at}) is not an object; every item must be a Kubernetes resource")
    return parsed_stream, documents[0], parsed


def _function_config(resource_list: dict[str, Any]) -> Any:
    config = resource_list.get("functionConfig")
    if config is None or config == {}:
        return None
    if not isinstance(config, dict):
        raise KRMError("functionConfig is not a mapping; use a ConfigMap or a zdrender.io/v1alpha1 ZdRender")
    kind, version = config.get("kind"), str(config.get("apiVersion", ""))
    if kind == "ConfigMap" or (kind == "ZdRender" and version.startswith(CONFIG_GROUP)):
        return config
    raise KRMError(
        f"functionConfig {version or '(no apiVersion)'} {kind or '(no kind)'} is not supported; "
        "use a ConfigMap (settings under data) or apiVersion zdrender.io/v1alpha1, kind ZdRender (settings under spec)"
    )


def _new_item(finding: Finding) -> dict[str, Any]:
    if not isinstance(finding.new_object, dict):  # a rule's bug, not the user's input
        raise KRMError(f"rule {finding.rule} added something that is not an object; please report this")
    return yamldoc.copy_data(finding.new_object)


def _apply(text: str, ops: list[dict[str, Any]]) -> str:
    """The ops applied to the list's text, checked against the plan: every item comes back (a missing one is deleted)."""
    import jsonpatch

    expected = jsonpatch.apply_patch(yamldoc.load(text), ops)
    try:
        edited, _ = rewrite.checked_edit(text, ops, expected)
    except rewrite.RewriteError as err:
        raise KRMError(f"the ResourceList could not be edited without changing more than its patch ({err}); nothing was written; please report this") from None
    return edited


# -- results -----------------------------------------------------------------------------------------
def result_item(finding: Finding, items: list[Any]) -> dict[str, Any]:
    """One kyaml `framework.Result`: message, severity, resourceRef, field, file, tags."""
    entry: dict[str, Any] = {"message": f"[{finding.rule}] {finding.message}", "severity": finding.severity}
    index, parts = _item_of(finding, items)
    if index is not None:
        item = items[index]
        meta = as_dict(item.get("metadata"))
        ref = {"apiVersion": item.get("apiVersion"), "kind": item.get("kind"), "name": meta.get("name")}
        if meta.get("namespace"):
            ref["namespace"] = meta["namespace"]
        entry["resourceRef"] = {k: str(v) for k, v in ref.items() if v is not None}
        if parts:
            entry["field"] = {"path": field_path(item, parts)}
        file = _file_of(as_dict(meta.get("annotations")))
        if file:
            entry["file"] = file
    entry["tags"] = {"rule": finding.rule, "fixed": "true" if finding.fixed else "false"}
    return entry


def _item_of(finding: Finding, items: list[Any]) -> tuple[int | None, list[str]]:
    """The item a finding is about (from its path `/items/N/...`, else its kind and name), and the
    path inside that item."""
    parts = patch.split_pointer(finding.path) if finding.path else []
    if len(parts) >= 2 and parts[0] == "items" and parts[1].isdigit() and int(parts[1]) < len(items):
        return int(parts[1]), parts[2:]
    for i, item in enumerate(items):
        meta = as_dict(item.get("metadata"))
        if finding.name and item.get("kind") == finding.kind and meta.get("name") == finding.name and meta.get("namespace") == finding.namespace:
            return i, []
    return None, []


def field_path(item: Any, parts: list[str]) -> str:
    """A JSON pointer's parts as a kpt field path: `spec.template.spec.containers[0].lifecycle`.

    Sequence indexes are told from mapping keys by the item's data (a missing node: digits are an
    index); keys that hold a dot or a bracket are quoted, `metadata.annotations['proxy.istio.io/config']`.
    """
    path = ""
    node = item
    for part in parts:
        if isinstance(node, list) or (not isinstance(node, dict) and part.isdigit()):
            path += f"[{part}]"
            node = node[int(part)] if isinstance(node, list) and part.isdigit() and int(part) < len(node) else None
            continue
        if any(c in part for c in ".[]'"):
            path += "['" + part.replace("'", "\\'") + "']"
        else:
            path += ("." if path else "") + part
        node = node.get(part) if isinstance(node, dict) else None
    return path


def _file_of(annotations: dict[str, Any]) -> dict[str, Any] | None:
    path = next((annotations[k] for k in PATH_ANNOTATIONS if annotations.get(k)), None)
    if path is None:
        return None
    file: dict[str, Any] = {"path": str(path)}
    index = next((annotations[k] for k in INDEX_ANNOTATIONS if annotations.get(k) is not None), None)
    if index is not None and re.fullmatch(r"[0-9]{1,18}", str(index).strip()):  # isdigit() takes "²", int() does not
        file["index"] = int(str(index).strip())
    return file


def error_output(text: str, message: str) -> str:
    """What to print on failure, next to a non-zero exit: the input unchanged with an error result
    (kpt shows it under `Results:`), or a list of just that result when the input is no mapping."""
    error = [{"message": message, "severity": "error"}]
    documents = [d for d in stream.split(text).documents if d.has_content]
    try:
        data = yamldoc.load(documents[0].text) if len(documents) == 1 else None
        if isinstance(data, dict):
            output = patch.apply(text, _results_ops(data, error))
            if yamldoc.load(output) == {**data, "results": error}:
                return output
    except (patch.PatchError, yamldoc.YAMLError):
        pass
    lines = [f"apiVersion: {API_VERSIONS[0]}", f"kind: {KIND}", *emit.block_entry("results", error, 0, 0)]
    return "\n".join(lines) + "\n"
