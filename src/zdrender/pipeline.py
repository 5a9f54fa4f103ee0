"""One pass over a stream: documents in -> workload views -> rule plans -> text edits -> documents out.

Only documents that matter are parsed (workloads, Lists, and the Services, HPAs, PDBs, Ingresses and
other objects that rules look at: workload.CONTEXT_KINDS); everything else is carried as text. Each
patched document is parsed again and compared with the planned result, so the text edits are checked,
not trusted; if the minimal edit cannot be made or does not match, that one document is re-emitted and
a finding says so.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from types import ModuleType

from . import emit, patch, rewrite, stream, yamldoc
from .finding import Finding
from .record import Record
from .rules import REGISTRY
from .rules.base import RuleContext, Unsettable, set_op
from .settings import ANNOTATION_PREFIX, RECORD_ANNOTATION, Settings, SettingsError
from .workload import CONTEXT_KINDS, IMMUTABLE_TEMPLATE_KINDS, LIST_KINDS, WORKLOAD_KINDS, StreamContext, Workload, context_objects, escape, workloads_in

TYPE_CHECKING = False  # typing's, without importing typing on the render path (record.py says why)
if TYPE_CHECKING:
    from typing import Any

FILENAME_ANNOTATION = "postrenderer.helm.sh/postrender-filename"
CHANGED_ANNOTATION = RECORD_ANNOTATION  # which rules changed the workload, on its own metadata
_SOURCE = re.compile(r"^# Source: (.+?)\r?$", re.MULTILINE)
_INTERESTING = WORKLOAD_KINDS | CONTEXT_KINDS | LIST_KINDS
# Kinds the API refuses without a pod template, as Helm then does: zdrender refuses them too, by line.
TEMPLATE_REQUIRED = frozenset({"Deployment", "StatefulSet", "DaemonSet"})


class InputError(Exception):
    """Input zdrender refuses; the message is one line naming the document and line."""


# A trusted classification (stream.classify) proves the root is a block mapping of plain keys at column
# 0, so such a line proves an apiVersion; without one the document is parsed and judged by its data.
_API_VERSION_LINE = re.compile(r"^apiVersion[ \t]*:[ \t]*[^\s#]", re.MULTILINE)


def refuse_non_object(doc: stream.Document, parsed: yamldoc.Parsed) -> None:
    """Refuse a document that is no Kubernetes object, as Helm's install (the API's decoder) and kubectl
    do: a bare value, a YAML list (only `kind: List` holds several objects), a mapping without
    apiVersion or kind. A null document is an empty one, which they skip."""
    data = parsed.data
    if data is None:
        return
    if isinstance(data, dict):
        missing = [key for key in ("apiVersion", "kind") if not isinstance(data.get(key), str) or not data.get(key)]
        if not missing:
            return
        what = f"has no {' and no '.join(missing)}, so it is no Kubernetes object"
    elif isinstance(data, list):
        what = "is a YAML list, not a Kubernetes object (several objects go in separate documents or a `kind: List`)"
    else:
        shown = str(data) if len(str(data)) <= 40 else str(data)[:37] + "..."
        what = f"is a bare value ({emit.quoted(shown)}), not a Kubernetes object"
    line = doc.line + (parsed.root.start_mark.line if parsed.root is not None else 0)
    source = _SOURCE.search(doc.text)
    where = f"document {doc.number}" + (f" ({source.group(1)})" if source else "")
    raise InputError(f"{where}, line {line}: the document {what}; Helm and kubectl refuse it: fix the template that printed it or remove it")


class Identity(Record):
    """What names a parsed document's object, kept when its data is released (keep_nodes=False)."""

    __slots__ = ("filename", "holds_object", "kind", "name", "namespace")

    def __init__(self, holds_object: bool, kind: Any = None, name: Any = None, namespace: Any = None, filename: str | None = None):
        self.holds_object = holds_object
        self.kind, self.name, self.namespace = kind, name, namespace
        self.filename = filename  # the Helm 4 FILENAME_ANNOTATION

    @classmethod
    def of(cls, data: Any) -> Identity:
        if not isinstance(data, dict):
            return cls(data is not None)
        meta = data["metadata"] if isinstance(data.get("metadata"), dict) else {}
        annotations = meta.get("annotations")
        filename = annotations.get(FILENAME_ANNOTATION) if isinstance(annotations, dict) else None
        return cls(True, data.get("kind"), meta.get("name"), meta.get("namespace"), str(filename) if filename else None)


class DocumentResult(Record):
    __slots__ = ("document", "findings", "index", "ops", "output", "parsed", "released")

    def __init__(self, document: stream.Document, output: str = ""):
        self.document = document
        self.parsed: yamldoc.Parsed | None = None
        self.ops: list[dict[str, Any]] = []
        self.findings: list[Finding] = []
        self.output = output
        self.index: int | None = None  # 0-based among documents that hold an object
        self.released: Identity | None = None  # set when `parsed` was dropped after use (keep_nodes=False)

    @property
    def data(self) -> Any:
        return self.parsed.data if self.parsed else None

    @property
    def holds_object(self) -> bool:
        if self.parsed is not None:
            return self.parsed.data is not None
        if self.released is not None:
            return self.released.holds_object
        return self.document.has_content

    @property
    def source(self) -> str | None:
        match = _SOURCE.search(self.document.text)
        if match:
            return match.group(1)
        if self.parsed is None and self.released is not None:
            return self.released.filename
        return Identity.of(self.data).filename

    def identity(self) -> Identity:
        """Its object's kind, name and namespace; a document carried as text (a proven object, see
        `run`) is read only as far as its last apiVersion, kind and metadata keys (`_head_data`)."""
        if self.parsed is not None:
            return Identity.of(self.parsed.data)
        if self.released is not None:
            return self.released
        return Identity.of(_head_data(self.document))

    def release(self) -> None:
        """Drop the node graph and the data (~25x the document's text), keeping what reports read."""
        if self.parsed is not None:
            self.released = Identity.of(self.parsed.data)
            self.parsed = None


class Result(Record):
    __slots__ = ("documents", "stream")

    def __init__(self, stream: stream.Stream, documents: list[DocumentResult]):
        self.stream = stream
        self.documents = documents

    @property
    def output(self) -> str:
        return self.stream.join([d.output for d in self.documents])

    @property
    def findings(self) -> list[Finding]:
        return [f for d in self.documents for f in d.findings]


def parse_document(doc: stream.Document) -> yamldoc.Parsed:
    try:
        return yamldoc.parse(doc.text)
    except yamldoc.YAMLError as err:
        raise _input_error(doc, err) from None


def check_document(doc: stream.Document) -> None:
    try:
        yamldoc.check_syntax(doc.text)
    except yamldoc.YAMLError as err:
        raise _input_error(doc, err) from None


def _input_error(doc: stream.Document, err: yamldoc.YAMLError) -> InputError:
    source = _SOURCE.search(doc.text)
    where = f"document {doc.number}" + (f" ({source.group(1)})" if source else "")
    line = f", line {doc.line + err.line - 1}" if err.line else ""
    return InputError(f"{where}{line}: {err.message}; fix the YAML of this document")


def run(text: str | stream.Stream, settings: Settings, *, parse_all: bool = False, rules: Iterable[ModuleType] = REGISTRY, keep_nodes: bool = True, keep_found: bool = False) -> Result:
    """One pass over a stream, given as text or as documents (runner.read_stream). keep_nodes=False
    (render, check, explain) parses each workload when its turn comes and releases every document's node
    graph and data (~25x its text in memory) once planned: only one is alive at a time, and what stays
    is the documents' text, their edits and findings; with keep_found, a document with findings keeps
    its data (not its nodes: `parsed.root` is None), which KRM mode's results read."""
    if isinstance(text, stream.Stream):
        parsed_stream, cr_only = text, text.cr_only
    else:
        cr_only = stream.cr_only(text)  # old Mac line ends: split, read and edit as LF, written back as CR
        parsed_stream = stream.split(text.replace("\r", "\n") if cr_only else text)
        del text  # a caller that passes its only reference frees the stream's text here
    result = _run(parsed_stream, settings, parse_all=parse_all, rules=tuple(rules), keep_nodes=keep_nodes, keep_found=keep_found)
    if cr_only:
        for document in result.documents:
            document.document.text = document.document.text.replace("\n", "\r")
            document.output = document.output.replace("\n", "\r")
        parsed_stream.cr_only = False
    return result


def _run(parsed_stream: stream.Stream, settings: Settings, *, parse_all: bool, rules: tuple[ModuleType, ...], keep_nodes: bool, keep_found: bool = False) -> Result:
    results = [DocumentResult(document=d, output=d.text) for d in parsed_stream.documents]
    context = StreamContext()
    deferred: set[int] = set()  # parsed (again) when planned
    for result in results:
        doc = result.document
        if not doc.has_content:
            continue
        proven = doc.classified and _API_VERSION_LINE.search(doc.text) is not None  # an object, as far as Helm asks
        needed = parse_all or not proven or doc.kind in _INTERESTING
        if needed and proven and not keep_nodes and doc.kind in WORKLOAD_KINDS:
            deferred.add(id(result))
            continue
        try:
            if needed:
                result.parsed = parse_document(doc)
                refuse_non_object(doc, result.parsed)
            else:  # passed through as text, but only if it is YAML at all (fail closed)
                check_document(doc)
        except InputError:  # the first broken document is the one reported, as when reading in order
            for earlier in results[: results.index(result)]:
                if id(earlier) in deferred:
                    parse_document(earlier.document)
            raise
        if result.parsed is not None:
            for obj in context_objects(result.parsed.data):
                context.add(obj)
            if not keep_nodes:  # a List or a workload the text did not prove is parsed again when planned
                if next(workloads_in(result.parsed.data, context), None) is not None:
                    deferred.add(id(result))
                    result.parsed = None
                else:
                    result.release()
    index = 0
    for result in results:
        if result.holds_object:
            result.index = index
            index += 1
    for result in results:
        if id(result) in deferred:  # proven an object by its text (see `proven`), or parsed before
            result.parsed = parse_document(result.document)
        if result.parsed is not None and result.parsed.data is not None:
            _plan_document(result, settings, context, rules)
        if not keep_nodes:
            data = result.data if keep_found and result.findings else None
            result.release()
            if data is not None:
                result.parsed = yamldoc.Parsed(None, data, set(), False)
    return Result(stream=parsed_stream, documents=results)


def _resolve(document: Any, pointer: str) -> Any:
    node = document
    for part in pointer.split("/")[1:]:
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


def _plan_document(result: DocumentResult, settings: Settings, context: StreamContext, rules: tuple[ModuleType, ...]) -> None:
    import jsonpatch

    doc, parsed = result.document, result.parsed
    assert parsed is not None, "only parsed documents are planned"
    original = parsed.data
    targets = list(workloads_in(original, context))
    if not targets:
        return
    working = yamldoc.copy_data(original)
    for target in targets:
        annotations_line = yamldoc.line_of(parsed.root, patch.split_pointer(target.pointer + "/metadata/annotations"))
        where = f"{target.ref} (document {doc.number}, line {doc.line + (annotations_line or 1) - 1})"
        try:
            local = settings.for_annotations(target.annotations, where)
        except SettingsError as err:
            raise InputError(str(err)) from None
        if local["skip"] or (target.is_hook and not local["include-hooks"]):
            continue
        for key in settings.unknown_annotations(target.annotations):
            close = difflib.get_close_matches(key, [ANNOTATION_PREFIX + k for k in settings.knobs], n=1)
            hint = f"; did you mean {close[0]}?" if close else "; see `zdrender rules` for the settings"
            result.findings.append(
                Finding(
                    "settings",
                    "warning",
                    f"annotation {key} names no zdrender setting and is ignored{hint}",
                    path=target.pointer + "/metadata/annotations",
                    kind=target.kind,
                    name=target.name,
                    namespace=target.namespace,
                )
            )
        extra = tuple(local.values.get("sidecar-names", ()))
        if target.kind in TEMPLATE_REQUIRED and not target.has_template:
            spec_line = yamldoc.line_of(parsed.root, patch.split_pointer(target.pointer + "/spec")) or 1
            raise InputError(
                f"document {doc.number}, line {doc.line + spec_line - 1}: {target.ref} has no pod template (spec.template.spec), which the API "
                "requires (a file cut short looks like this); fix the manifest"
            )
        covered = any(getattr(rule, "COVERS_SLEEPS", False) and rule.ID not in local["skip-rules"] and target.kind in rule.KINDS for rule in rules)
        changed: list[str] = []  # ids of the rules that changed this workload, for CHANGED_ANNOTATION
        for rule in rules:
            if rule.ID in local["skip-rules"] or target.kind not in rule.KINDS:
                continue
            view = Workload(_resolve(working, target.pointer), target.pointer, context, extra, local["assume-serving"])
            if not view.has_template:
                break
            ctx = RuleContext(settings=local, stream=context, document=working, sleeps_covered=covered)
            try:
                planned = rule.plan(view, ctx)
            except Unsettable as err:  # a malformed object the API rejects: skip the rule here, say why
                planned = [Finding(rule.ID, "warning", f"not applied: {err}; fix the manifest", path=err.path)]
            if ctx.capped:  # numbers past the API's int32/int64, capped by ctx.set
                why = "; ".join(message for _, message in ctx.capped)
                planned.append(Finding(rule.ID, "warning", f"{why}; check the values it was computed from", path=ctx.capped[0][0]))
            for finding in planned:
                if finding.ops:  # a value capped to what is already there (ctx.set) is no change
                    finding.ops = [op for op in finding.ops if not _already(working, op)]
                    if not finding.ops:
                        continue
                if finding.ops and view.kind in IMMUTABLE_TEMPLATE_KINDS and not local["patch-immutable"]:
                    _hold_back(finding, view.kind)
                if finding.ops:
                    jsonpatch.apply_patch(working, finding.ops, in_place=True)
                    result.ops.extend(finding.ops)
                if finding.fixed and rule.ID not in changed:
                    changed.append(rule.ID)
                finding.kind, finding.name, finding.namespace = view.kind, view.name, view.namespace
                result.findings.append(finding)
        record = _record_changes(working, target.pointer, changed) if changed and local["record-changes"] else None
        if record is not None:
            jsonpatch.apply_patch(working, [record], in_place=True)
            result.ops.append(record)
    source = result.source  # a search of the document's text: once, not per finding
    for finding in result.findings:
        line = yamldoc.line_of(parsed.root, patch.split_pointer(finding.path)) if finding.path else None
        finding.locate(document=doc.number, index=result.index, source=source, line=doc.line + line - 1 if line else doc.line)
    if result.ops:
        result.output = _edit(result, working)
    for finding in result.findings:
        # A ResourceList gets new documents as items (krm.py), not as `---` documents after it.
        if finding.new_object is not None and original.get("kind") != "ResourceList":
            result.output = _append_document(result.output, _new_document(finding, doc), doc.newline, _SOURCE.search(doc.text))


def _record_changes(document: Any, pointer: str, changed: list[str]) -> dict[str, Any] | None:
    """The op that lists `changed` in the workload's CHANGED_ANNOTATION, after the rules it already
    names (None when it names them all): on the object's own metadata, never the pod template, which
    would restart its pods. Helm 3 shows a post-renderer's stderr only when it fails, so this is how
    `helm get manifest` and `kubectl get -o yaml` tell what zdrender did."""
    metadata = _resolve(document, pointer).get("metadata")
    annotations = metadata.get("annotations") if isinstance(metadata, dict) else None
    current = annotations.get(CHANGED_ANNOTATION) if isinstance(annotations, dict) else None
    named = [part.strip() for part in str(current).split(",") if part.strip()] if current is not None else []
    value = ",".join(named + [rule for rule in changed if rule not in named])
    if value == current:
        return None
    try:
        return set_op(document, f"{pointer}/metadata/annotations/{escape(CHANGED_ANNOTATION)}", value)
    except Unsettable:  # metadata or annotations of a type the API rejects: the rules said so already
        return None


def _already(document: Any, op: dict[str, Any]) -> bool:
    """Does `document` already hold what this add/replace op writes?"""
    import jsonpointer

    if op["op"] not in ("add", "replace"):
        return False
    missing = object()
    parent_path, _, _ = op["path"].rpartition("/")
    try:
        parent = jsonpointer.resolve_pointer(document, parent_path, missing)
        current = jsonpointer.resolve_pointer(document, op["path"], missing)
    except jsonpointer.JsonPointerException:
        return False
    if op["op"] == "add" and not isinstance(parent, dict):  # an add into a list inserts, whatever is there
        return False
    return current is not missing and current == op["value"] and type(current) is type(op["value"])


def _hold_back(finding: Finding, kind: str) -> None:
    """Report a fix to an immutable pod template instead of applying it: the object may already exist,
    and then the whole `helm upgrade` / `kubectl apply` fails on a field it cannot change."""
    finding.ops = []
    finding.message += (
        f" (not applied: a {kind}'s pod template cannot change once created, so an upgrade of an installed release would fail; apply it in the chart, or set patch-immutable=true for new installs)"
    )


def _edit(result: DocumentResult, expected: Any) -> str:
    """The document's text with the planned ops applied minimally, checked against `expected`."""
    doc = result.document
    cr_only = stream.cr_only(doc.text)  # the editor works in lines that end in LF
    source = doc.text.replace("\r", "\n") if cr_only else doc.text
    text = _edited(result, source, expected)
    return text.replace("\n", "\r") if cr_only else text


def _edited(result: DocumentResult, source: str, expected: Any) -> str:
    doc = result.document
    try:
        text, reason = rewrite.checked_edit(source, result.ops, expected, result.parsed)
    except rewrite.RewriteError as err:  # fail closed: never emit a document that is not the planned one
        raise InputError(
            f"document {doc.number} (line {doc.line}): zdrender could not re-write it without changing more than its patch ({err}); nothing was written; please report this with the document"
        ) from None
    if reason is not None:
        note = f"document re-written in full instead of edited in place ({reason}); comments, quoting and anchors are kept, indentation of untouched lines may differ"
        kind = str(expected.get("kind", "")) if isinstance(expected, dict) else ""
        result.findings.append(Finding("engine", "info", note, kind=kind).locate(document=doc.number, index=result.index, source=result.source, line=doc.line))
    return text


def _new_document(finding: Finding, doc: stream.Document) -> str:
    """The text of the object a rule adds to the stream; emitted text too, so it must read back as that
    object (fail closed)."""
    text = emit.document_text(finding.new_object or {})
    try:
        added = yamldoc.load(text)
    except yamldoc.YAMLError as err:
        added = err
    if added != finding.new_object or len(stream.split(text).documents) != 1:
        raise InputError(f"document {doc.number} (line {doc.line}): rule {finding.rule} added an object that does not read back as itself; nothing was written; please report this")
    return text


def _append_document(text: str, body: str, nl: str, source: re.Match[str] | None = None) -> str:
    """`text`, then `---` and `body` in the document's line endings. The new document carries its parent's
    `# Source:` line (`helm template --show-only` selects by it) and ends with a line break, so that the
    next document's `---` still starts a line."""
    if text and not text.endswith("\n"):
        text += nl
    body = body.replace("\r\n", "\n")
    if source and not body.startswith("# Source:"):
        body = source.group(0).rstrip("\r") + "\n" + body
    if not body.endswith("\n"):
        body += "\n"
    return text + "---" + nl + body.replace("\n", nl)


def explain(result: Result) -> list[dict[str, Any]]:
    """One entry per document that holds an object: where it is, and its RFC 6902 patch."""
    entries = []
    for doc in result.documents:
        if doc.index is None:
            continue
        identity = doc.identity()
        entries.append(
            {
                "index": doc.index,
                "kind": identity.kind,
                "name": identity.name,
                "namespace": identity.namespace,
                "source": doc.source or identity.filename,  # a document carried as text was not read for it
                "patch": doc.ops,
            }
        )
    return entries


# Root keys of a classified document (stream.classify): every one is a line like these at column 0, and
# every such line is one, unless it lies inside a quoted scalar or flow collection running over lines.
# Written to start with a literal (see stream._SEPARATOR); a key on the first line needs none.
# Compiled on first use (by `re`'s cache): only reports that name a document carried as text need them.
_IDENTITY_KEY = r"\n(?:apiVersion|kind|metadata)[ \t]*:(?:[ \t]|\r?$)"
_ROOT_KEY = r"\n[A-Za-z0-9_][A-Za-z0-9_./-]*[ \t]*:(?:[ \t]|\r?$)"


def _head_data(doc: stream.Document) -> Any:
    """The data of a classified document read up to the root key after its last apiVersion, kind and
    metadata keys: their values are the whole document's (a mapping's later keys change no earlier one,
    and an anchor comes before its aliases), for the cost of reading its head, not a CRD's schema. A
    cut inside a quoted scalar or flow collection that runs over lines leaves it unclosed, which libyaml
    refuses: then, and for a document not classified, the whole document is read."""
    if doc.classified:
        ends = [key.end() for key in re.finditer(_IDENTITY_KEY, doc.text, re.MULTILINE)]
        after = re.compile(_ROOT_KEY, re.MULTILINE).search(doc.text, ends[-1] if ends else 0)
        if after is not None:
            try:
                return yamldoc.parse(doc.text[: after.start() + 1]).data
            except yamldoc.YAMLError:
                pass
    return parse_document(doc).data
