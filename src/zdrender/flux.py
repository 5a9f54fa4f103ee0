"""zdrender's changes as Flux `HelmRelease.spec.postRenderers`: kustomize patches, one JSON 6902 patch
per changed object, for helm-controller, which cannot run an executable post-renderer.

Each patch is the object's RFC 6902 ops (the ones `zdrender explain` prints), targeted by group,
version, kind, name and (when the rendered object has one) namespace. An object inside a `kind: List`
is patched as the item it becomes once Helm's output reaches kustomize (the /items/N prefix is
stripped). What patches cannot express is left out with a warning: objects a rule adds (the PDB of
the opt-in disruption-budget rule) and ops on a List itself rather than on one of its items.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from yaml.nodes import MappingNode, ScalarNode

from . import emit, patch, rewrite, stream, yamldoc
from .pipeline import Result
from .workload import LIST_KINDS

_ITEM = re.compile(r"^/items/(\d+)(/.*)$")


@dataclass
class Patches:
    entries: list[dict[str, Any]] = field(default_factory=list)  # {"target": {...}, "patch": str}
    warnings: list[str] = field(default_factory=list)
    ops: int = 0


def target(obj: dict[str, Any]) -> dict[str, str]:
    """The kustomize selector of exactly this object. kustomize reads name and namespace as anchored
    regular expressions, so the dots a Kubernetes name may hold are escaped."""
    api_version = str(obj.get("apiVersion", ""))
    group, _, version = api_version.rpartition("/")
    meta = _meta(obj)
    selector = {"group": group, "version": version, "kind": str(obj.get("kind", "")), "name": _literal(str(meta.get("name", "")))}
    if not group:
        del selector["group"]  # the core group: kustomize matches "" as any group, so say nothing
    if meta.get("namespace"):
        selector["namespace"] = _literal(str(meta["namespace"]))
    return selector


def _meta(obj: Any) -> dict[str, Any]:
    meta = obj.get("metadata") if isinstance(obj, dict) else None
    return meta if isinstance(meta, dict) else {}


def _literal(text: str) -> str:
    return re.sub(r"([.^$*+?()\[\]{}|\\])", r"\\\1", text)


def patch_text(ops: list[dict[str, Any]]) -> str:
    """A JSON 6902 patch as a YAML list of JSON ops, one a line (JSON reads the same in any YAML)."""
    return "".join(f"- {emit.json_text(op)}\n" for op in ops)


def _where(obj: Any, file: str | None) -> str:
    name = f"{obj.get('kind') if isinstance(obj, dict) else '?'}/{_meta(obj).get('name')}"
    return f"{file}: {name}" if file and file != "-" else name


def collect(result: Result, into: Patches | None = None, file: str | None = None) -> Patches:
    """The patches of one pipeline result, added to `into`."""
    found = into if into is not None else Patches()
    for doc in result.documents:
        data = doc.data
        for finding in doc.findings:
            if finding.new_object is not None:
                new = finding.new_object
                found.warnings.append(
                    f"{_where(new, file)}: skipped: rule {finding.rule} would add this object, and Flux postRenderers patches can only change objects the chart renders; "
                    "add it to the chart or next to the HelmRelease"
                )
        if not doc.ops or not isinstance(data, dict):
            continue
        if data.get("kind") in LIST_KINDS:
            per_item: dict[int, list[dict[str, Any]]] = {}
            for op in doc.ops:
                match = _ITEM.match(op["path"])
                if match is None or "from" in op:
                    found.warnings.append(f"{_where(data, file)}: skipped op {op['op']} {op['path']}: it changes the List itself, which kustomize splits into its items")
                    continue
                per_item.setdefault(int(match.group(1)), []).append({**op, "path": match.group(2)})
            for index, ops in per_item.items():
                _add(found, data["items"][index], ops)
        else:
            _add(found, data, doc.ops)
    return found


def _add(found: Patches, obj: dict[str, Any], ops: list[dict[str, Any]]) -> None:
    found.entries.append({"target": target(obj), "patch": patch_text(ops)})
    found.ops += len(ops)


def value(found: Patches) -> list[dict[str, Any]]:
    """The `postRenderers` list."""
    return [{"kustomize": {"patches": found.entries}}] if found.entries else []


def block(found: Patches, column: int = 0) -> list[str]:
    """`postRenderers:` and its list as block YAML lines (the patches as literal blocks), at `column`."""
    pad = " " * column
    if not found.entries:
        return [pad + "postRenderers: []"]
    lines = [pad + "postRenderers:", pad + "  - kustomize:", pad + "      patches:"]
    for entry in found.entries:
        lines.append(pad + "        - target:")
        lines += [pad + f"            {key}: {_scalar(text)}" for key, text in entry["target"].items()]
        lines.append(pad + "          patch: |")
        lines += [pad + "            " + line for line in entry["patch"].splitlines()]
    return lines


def _scalar(text: str) -> str:
    """A plain scalar, or single-quoted when it must be quoted and can be: 'web\\.app' reads better
    than the double-quoted form, which doubles the backslash."""
    written = emit.scalar(text)
    if written.startswith('"') and "\\" in written and "'" not in text and text.isprintable():
        return f"'{text}'"
    return written


def fragment(found: Patches) -> str:
    return "".join(line + "\n" for line in block(found))


class HelmReleaseError(ValueError):
    pass


def helmrelease(text: str, found: Patches, name: str = "the HelmRelease file") -> str:
    """`text` (one or more documents) with the HelmRelease's spec.postRenderers replaced or added, the
    rest of the file as it was. The edit is checked: the result must read back as the planned object."""
    split = stream.split(text)
    outputs = [d.text for d in split.documents]
    edited = 0
    for i, doc in enumerate(split.documents):
        if not doc.has_content:
            continue
        try:
            parsed = yamldoc.parse(doc.text)
        except yamldoc.YAMLError as err:
            raise HelmReleaseError(f"{name}: document {doc.number}: {err.message}") from None
        data = parsed.data
        if not isinstance(data, dict) or data.get("kind") != "HelmRelease":
            continue
        if not isinstance(data.get("spec"), dict):
            raise HelmReleaseError(f"{name}: document {doc.number}: the HelmRelease has no spec mapping")
        expected = yamldoc.copy_data(data)
        expected["spec"]["postRenderers"] = value(found)
        outputs[i] = _edit_spec(doc.text, parsed, expected, found)
        edited += 1
    if not edited:
        raise HelmReleaseError(f"{name}: holds no HelmRelease")
    return split.join(outputs)


def _edit_spec(text: str, parsed: yamldoc.Parsed, expected: Any, found: Patches) -> str:
    spliced = _splice(text, parsed, found)
    if spliced is not None:
        try:
            if yamldoc.load(spliced) == expected:
                return spliced
        except yamldoc.YAMLError:
            pass
    op = {"op": "add", "path": "/spec/postRenderers", "value": value(found)}
    try:
        edited, _ = rewrite.checked_edit(text, [op], expected, parsed)
    except rewrite.RewriteError as err:
        raise HelmReleaseError(f"cannot edit spec.postRenderers in place: {err}") from None
    return edited


def _splice(text: str, parsed: yamldoc.Parsed, found: Patches) -> str | None:
    """The block replaced (or added at the end of spec) as text, when spec is a block mapping."""
    root = parsed.root
    spec = _value(root, "spec")
    if not isinstance(spec, MappingNode) or spec.flow_style or not spec.value or id(spec) in parsed.shared:
        return None
    nl = "\r\n" if "\r\n" in text else "\n"
    column = spec.value[0][0].start_mark.column
    lines = block(found, column)
    for key, node in spec.value:
        if isinstance(key, ScalarNode) and yamldoc.scalar_key(key) == "postRenderers":
            start = text.rfind("\n", 0, key.start_mark.index) + 1
            end = patch.after_line(text, yamldoc.node_end(node, text, parsed.shared))
            return text[:start] + "".join(line + nl for line in lines) + text[end:]
    end = patch.after_line(text, yamldoc.node_end(spec.value[-1][1], text, parsed.shared))
    before = text[:end] if text[:end].endswith("\n") or not text[:end] else text[:end] + nl
    return before + "".join(line + nl for line in lines) + text[end:]


def _value(mapping: Any, key: str) -> Any:
    if not isinstance(mapping, MappingNode):
        return None
    for k, v in mapping.value:
        if isinstance(k, ScalarNode) and yamldoc.scalar_key(k) == key:
            return v
    return None
