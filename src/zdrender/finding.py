"""A finding: what a rule (or the engine) says about one object, with the patch that fixes it, and
where it is. A plain value: rules make them, the pipeline locates them, the reports print them.
"""

from __future__ import annotations

from .record import Record

TYPE_CHECKING = False  # typing's, without importing typing on the render path (record.py says why)
if TYPE_CHECKING:
    from typing import Any

SEVERITIES = ("info", "warning", "error")


class Finding(Record):
    """What a rule (or the engine) says about one object: a message, and the operations that fix it.

    A Record, not a dataclass (record.py says why)."""

    __slots__ = ("document", "file", "index", "kind", "line", "message", "name", "namespace", "new_object", "ops", "path", "rule", "severity", "source")

    def __init__(
        self,
        rule: str,
        severity: str,  # info | warning | error
        message: str,
        ops: list[dict[str, Any]] | None = None,
        path: str = "",  # JSON pointer (in the document) of the field the finding is about
        *,
        # Where it is, set by `locate` (the pipeline, per document) and `in_file` (the CLI):
        document: int = 0,  # 1-based document number in the stream
        index: int = -1,  # 0-based position among the documents that hold an object
        kind: str = "",
        name: str = "",
        namespace: str | None = None,
        source: str | None = None,  # Helm's `# Source:` template or the Helm 4 filename annotation
        line: int | None = None,  # 1-based line of the input stream
        new_object: dict[str, Any] | None = None,  # an object to add to the stream after this document (an operation on the stream)
        file: str | None = None,  # the input file named on the command line (None or "-": stdin); set by the CLI
    ):
        self.rule, self.severity, self.message = rule, severity, message
        self.ops: list[dict[str, Any]] = ops if ops is not None else []
        self.path = path
        self.document, self.index, self.kind, self.name, self.namespace = document, index, kind, name, namespace
        self.source, self.line, self.new_object, self.file = source, line, new_object, file

    def locate(self, *, document: int, index: int | None, source: str | None, line: int) -> Finding:
        """Place the finding in the stream: its document, that document's place among objects, the
        template it came from, and its line. The one place these are set."""
        self.document, self.index, self.source, self.line = document, index if index is not None else -1, source, line
        return self

    def in_file(self, path: str | None) -> Finding:
        """The input file it was found in (None or "-": stdin)."""
        self.file = path
        return self

    @property
    def ref(self) -> str:
        """`namespace/Kind/name` of the object it is about ("document" when it has no kind)."""
        ref = f"{self.kind}/{self.name}" if self.name else (self.kind or "document")
        return f"{self.namespace}/{ref}" if self.namespace else ref

    @property
    def file_label(self) -> str:
        return self.file if self.file not in (None, "-") else "stdin"

    def location(self) -> tuple[str, int | None]:
        """The file and line it points at, for tools that annotate files (SARIF, GitHub).

        A file named on the command line comes with the line in it. On stdin, Helm's `# Source:`
        template (or the Helm 4 filename annotation) names the file, but without a line, since the
        rendered stream's line numbers mean nothing in the template; failing that, "stdin" and the line.
        """
        if self.file not in (None, "-"):
            return self.file, self.line
        if self.source:
            return self.source, None
        return "stdin", self.line

    @property
    def new_document(self) -> str | None:
        """The added object as the YAML document zdrender writes for it (no `---`), for reports."""
        if self.new_object is None:
            return None
        from .emit import document_text

        return document_text(self.new_object)

    @property
    def fixed(self) -> bool:
        return bool(self.ops) or self.new_object is not None

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "rule": self.rule,
            "severity": self.severity,
            "message": self.message,
            "document": self.document,
            "kind": self.kind,
            "name": self.name,
            "namespace": self.namespace,
            "source": self.source,
            "line": self.line,
            "path": self.path,
            "patch": self.ops,
            "new_document": self.new_document,
        }
