"""Safe YAML parsing with node marks, for the documents zdrender has to read.

Only libyaml's composer is used (PyYAML's C binding, pure-Python fallback when it is missing): it
builds the node graph with start/end marks and never constructs objects from tags. Values are built
from the nodes here, so a `!!python/object` tag is just data, and alias expansion is bounded so that
an alias bomb fails fast instead of eating the machine.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, Callable

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

try:  # libyaml is ~20x faster; the pure-Python loader gives the same nodes
    from yaml import CSafeLoader as _BaseLoader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _BaseLoader  # type: ignore[assignment]

# Nodes built again through aliases, per document (an alias bomb's expansion). Nodes written out in
# the text are not counted: their number is bounded by the input's size, and a big ResourceList from
# kustomize or kpt holds millions.
MAX_NODES = 250_000
# Collections nested in each other; the corpus's deepest (a CRD's schema) has 38. Everything that walks a
# document recurses (building it here, copies, comparisons, re-emitting), so a deeper one would end in
# a RecursionError well before libyaml's own limit of 1000.
MAX_DEPTH = 128

_MERGE = "tag:yaml.org,2002:merge"
_SCALAR_TYPES = {
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
}
_constructor = yaml.SafeLoader("")  # only its scalar constructors are used
# Called directly: construct_object would also remember every node it saw, for the whole run.
_SCALAR_CONSTRUCTORS = {
    tag: constructor.__get__(_constructor)
    for tag, constructor in yaml.constructor.SafeConstructor.yaml_constructors.items()
    if tag in _SCALAR_TYPES
}
_TAG_CACHE: dict[tuple[str, tuple[bool, bool]], str] = {}
_CACHED_LENGTH = 64  # short scalars repeat (names, ports, `true`); long ones rarely do
_CACHED_SPELLINGS = 50_000  # a bound on the memory it takes


class _Loader(_BaseLoader):  # type: ignore[misc,valid-type]
    """libyaml's composer with the implicit tag of each scalar resolved once per spelling.

    The composer calls the resolver, written in Python, for every scalar; Kubernetes documents repeat
    the same few hundred short values. Safe loaders have no path resolvers, so a scalar's tag depends
    only on its text and on whether it was quoted.
    """

    def resolve(self, kind, value, implicit):  # noqa: ANN001 - PyYAML's signature
        if kind is not ScalarNode or len(value) > _CACHED_LENGTH:
            return super().resolve(kind, value, implicit)
        tag = _TAG_CACHE.get((value, implicit))
        if tag is None:
            if len(_TAG_CACHE) >= _CACHED_SPELLINGS:
                _TAG_CACHE.clear()
            tag = _TAG_CACHE[(value, implicit)] = super().resolve(kind, value, implicit)
        return tag

    def descend_resolver(self, current_node, current_index):  # noqa: ANN001 - no path resolvers
        pass

    def ascend_resolver(self):
        pass


assert not _Loader.yaml_path_resolvers, "path resolvers would make a scalar's tag depend on its place"


class YAMLError(Exception):
    """A document that cannot be read; `line` is 1-based within the document's text."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.message = message
        self.line = line


@dataclass
class Parsed:
    root: Node | None
    data: Any
    shared: set[int]  # ids of nodes reached more than once (anchors with aliases)
    has_merge: bool


def compose(text: str) -> Node | None:
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as err:
        raise _marked(text, err) from None
    except yaml.YAMLError as err:
        raise _unmarked(text, err) from None
    finally:
        loader.dispose()
    return node


def _marked(text: str, err: yaml.MarkedYAMLError) -> YAMLError:
    """libyaml's error with its line; a tab where YAML wants indentation is named, with its column."""
    mark = err.problem_mark or err.context_mark
    problem = err.problem or err.context or "invalid YAML"
    if mark is None:
        return YAMLError(problem)
    line_start = text.rfind("\n", 0, mark.index) + 1 if 0 <= mark.index <= len(text) else -1
    if line_start >= 0:
        end = text.find("\n", line_start)
        line = text[line_start : end if end >= 0 else len(text)]
        indent = line[: len(line) - len(line.lstrip(" \t"))]
        if "\t" in indent and ("tab" in problem or "cannot start any token" in problem):
            return YAMLError(f"a tab at column {indent.index(chr(9)) + 1}: YAML indents with spaces only", mark.line + 1)
    return YAMLError(problem, mark.line + 1)


def _unmarked(text: str, err: yaml.YAMLError) -> YAMLError:
    """A reader error (a character YAML does not allow) with its line and column, not a character offset."""
    if isinstance(err, yaml.reader.ReaderError) and isinstance(err.position, int) and 0 <= err.position <= len(text):
        line = text.count("\n", 0, err.position) + 1
        column = err.position - text.rfind("\n", 0, err.position)
        code = err.character if isinstance(err.character, int) else ord(str(err.character)[:1] or "?")
        return YAMLError(f"character U+{code:04X} at column {column} is not allowed in YAML ({err.reason})", line)
    return YAMLError(str(err).splitlines()[0])


def check_syntax(text: str) -> None:
    """Raise YAMLError when the text is not well-formed YAML, without building anything: libyaml's
    parser runs over it in C (~10 ms/MB), so documents zdrender passes through as text are still
    checked, and a broken stream fails here rather than in the tool after us."""
    loader = _Loader(text)
    try:
        if hasattr(loader, "raw_parse"):
            loader.raw_parse()
        else:  # pragma: no cover - the pure-Python parser has no C loop
            while loader.check_event():
                loader.get_event()
    except yaml.MarkedYAMLError as err:
        raise _marked(text, err) from None
    except yaml.YAMLError as err:
        raise _unmarked(text, err) from None
    finally:
        loader.dispose()


def parse(text: str) -> Parsed:
    root = compose(text)
    builder = _Builder(track_shared="*" in text)  # no `*`, no alias: no node is reached twice
    data = builder.build(root) if root is not None else None
    return Parsed(root=root, data=data, shared=builder.shared, has_merge=builder.has_merge)


def load(text: str) -> Any:
    return parse(text).data


class _Builder:
    def __init__(self, track_shared: bool = True) -> None:
        self.track_shared = track_shared
        self.count = 0
        self.seen: set[int] = set()
        self.shared: set[int] = set()
        self.has_merge = False

    def build(self, node: Node, depth: int = 0) -> Any:
        if self.track_shared:
            if id(node) in self.seen:
                self.shared.add(id(node))
                self.count += 1
                if self.count > MAX_NODES:
                    raise YAMLError(
                        f"more than {MAX_NODES} nodes after expanding aliases (an alias bomb?)",
                        node.start_mark.line + 1,
                    )
            else:
                self.seen.add(id(node))
        if isinstance(node, ScalarNode):
            return scalar_value(node)
        if depth >= MAX_DEPTH:
            # With aliases, most likely one inside the collection it refers to, which has no end.
            why = "an alias inside the collection it refers to?" if self.shared else "no Kubernetes object nests like that"
            raise YAMLError(f"collections nested more than {MAX_DEPTH} deep ({why})", node.start_mark.line + 1)
        depth += 1
        if isinstance(node, SequenceNode):
            return [self.build(item, depth) for item in node.value]
        result: dict[Any, Any] = {}
        merged: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                self.has_merge = True
                value = self.build(value_node, depth)
                sources = value if isinstance(value, list) else [value]
                for source in reversed(sources):
                    if not isinstance(source, dict):
                        raise YAMLError("a merge key (<<) must refer to mappings", key_node.start_mark.line + 1)
                    merged.update(source)
                continue
            key = scalar_key(key_node) if isinstance(key_node, ScalarNode) else repr(self.build(key_node, depth))
            result[key] = self.build(value_node, depth)
        if merged:
            merged.update(result)
            return merged
        return result


def scalar_value(node: ScalarNode) -> Any:
    """The value of a scalar with YAML 1.1 meanings (as Kubernetes reads them), never an object."""
    constructor = _SCALAR_CONSTRUCTORS.get(node.tag)
    if constructor is None:  # str, timestamps, binary and any unknown or local tag: the text itself
        return node.value
    try:
        return constructor(node)
    except (ValueError, KeyError, IndexError) as err:  # `!!int abc`, `!!bool x`, `!!int` of nothing, 4300+ digits
        shown = node.value if len(node.value) <= 30 else node.value[:27] + "..."
        why = "it has more digits than Python reads" if isinstance(err, ValueError) and "digits" in str(err) else "it is not one"
        raise YAMLError(f"{shown!r} cannot be read as {node.tag.rsplit(':', 1)[-1]}: {why}", node.start_mark.line + 1) from None


def scalar_key(node: ScalarNode) -> str:
    # Mapping keys in Kubernetes objects are strings; `on:` or `1:` keep their text.
    return node.value


_ATOMS = (str, int, float, type(None))  # bool is an int


def copy_data(value: Any) -> Any:
    """A deep copy of what `load` builds (dicts, lists, scalars), several times faster than
    copy.deepcopy; anything else is handed to deepcopy."""
    if type(value) is dict:
        return {key: copy_data(item) for key, item in value.items()}
    if type(value) is list:
        return [copy_data(item) for item in value]
    if isinstance(value, _ATOMS):
        return value
    return copy.deepcopy(value)


def mapping_value(mapping: Any, key: str) -> Node | None:
    """The value node under `key` in a mapping node (the last duplicate wins, as when loading)."""
    if not isinstance(mapping, MappingNode):
        return None
    found = None
    for k, v in mapping.value:
        if isinstance(k, ScalarNode) and k.value == key:
            found = v
    return found


def node_end(node: Node, visit: Callable[[Node], None] | None = None) -> int:
    """Offset just after the node's own text: libyaml ends a block collection at the next token
    (after comments and blank lines), so a block collection ends where its last child does.
    `visit` sees every node on the way (the patcher refuses aliased ones)."""
    if visit is not None:
        visit(node)
    if isinstance(node, MappingNode) and not node.flow_style and node.value:
        return node_end(node.value[-1][1], visit)
    if isinstance(node, SequenceNode) and not node.flow_style and node.value:
        return node_end(node.value[-1], visit)
    return node.end_mark.index


def line_of(root: Node | None, parts: list[str]) -> int | None:
    """1-based line (within the document) of the deepest node that exists along `parts`."""
    node = root
    if node is None:
        return None
    line = node.start_mark.line
    for part in parts:
        if isinstance(node, MappingNode):
            value = mapping_value(node, part)
            if value is None:
                break
            node = value
        elif isinstance(node, SequenceNode) and part.isdigit() and int(part) < len(node.value):
            node = node.value[int(part)]
        else:
            break
        line = node.start_mark.line
    return line + 1
