"""Safe YAML parsing with node marks, for the documents zdrender has to read.

Only libyaml's composer is used (PyYAML's C binding, pure-Python fallback when it is missing): it
builds the node graph with start/end marks and never constructs objects from tags. Values are built
from the nodes here, so a `!!python/object` tag is just data, and alias expansion is bounded so that
an alias bomb fails fast instead of eating the machine.
"""

from __future__ import annotations

import copy
import math
import re
import struct

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

TYPE_CHECKING = False  # typing's, without importing typing on the render path (record.py says why)
if TYPE_CHECKING:
    from typing import Any

try:  # libyaml is ~20x faster; the pure-Python loader gives the same nodes
    from yaml import CSafeLoader as _BaseLoader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _BaseLoader

# Nodes built again through aliases, per document (an alias bomb's expansion). Nodes written out in
# the text are not counted: their number is bounded by the input's size, and a big ResourceList from
# kustomize or kpt holds millions.
MAX_NODES = 250_000
# Collections nested in each other; the corpus's deepest (a CRD's schema) has 38. Everything that walks a
# document recurses (building it here, copies, comparisons, re-emitting), so a deeper one would end in
# a RecursionError well before libyaml's own limit of 1000.
MAX_DEPTH = 128

MERGE = "tag:yaml.org,2002:merge"
STR = "tag:yaml.org,2002:str"
_BOOL = "tag:yaml.org,2002:bool"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_NULL = "tag:yaml.org,2002:null"
_TAG_CACHE: dict[tuple[str, tuple[bool, bool]], str] = {}
_CACHED_LENGTH = 64  # short scalars repeat (names, ports, `true`); long ones rarely do
_CACHED_SPELLINGS = 50_000  # a bound on the memory it takes

# -- YAML 1.1 as Kubernetes reads it ------------------------------------------------------------------
# kubectl, Helm and the API server read YAML with sigs.k8s.io/yaml, which is go-yaml v2 (YAML 1.1 types)
# with every mapping key made a string. Its plain-scalar resolution (goyaml.v2/resolve.go) differs from
# PyYAML's YAML 1.1 resolver: `y`/`n` are booleans, `1e3` and `08` are floats, `0o17` is an int, `1:30`
# is a string. A plain scalar is resolved here the way go-yaml v2 does it, so what zdrender compares and
# writes is what the cluster reads (tests/tools/k8syaml runs the real library as the tests' oracle).
_GO_WORDS: dict[str, tuple[str, Any]] = {
    **dict.fromkeys(("y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"), (_BOOL, True)),
    **dict.fromkeys(("n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"), (_BOOL, False)),
    **dict.fromkeys(("", "~", "null", "Null", "NULL"), (_NULL, None)),
    **dict.fromkeys((".nan", ".NaN", ".NAN"), (_FLOAT, math.nan)),
    **dict.fromkeys((".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"), (_FLOAT, math.inf)),
    **dict.fromkeys(("-.inf", "-.Inf", "-.INF"), (_FLOAT, -math.inf)),
    "<<": (MERGE, "<<"),
}
_GO_INT = re.compile(r"([-+]?)(?:0[xX]([0-9a-fA-F]+)|0[bB]([01]+)|0[oO]([0-7]+)|(0[0-7]*)|([1-9][0-9]*))")
_GO_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?")  # yamlStyleFloat
# What Go's ParseFloat takes after a '.': Go's float syntax, where `_` may stand between two digits.
_GO_DOT_FLOAT = r"\.[0-9](?:_?[0-9])*(?:[eE][-+]?[0-9](?:_?[0-9])*)?"  # compiled on first use: rare
_INT64 = (-(1 << 63), (1 << 63) - 1)


def go_resolve(text: str) -> tuple[str, Any]:
    """(tag, value) of a plain scalar as go-yaml v2 resolves it."""
    word = _GO_WORDS.get(text)
    if word is not None:
        return word
    first = text[:1]
    if first == ".":
        if re.fullmatch(_GO_DOT_FLOAT, text) and not math.isinf(real := float(text.replace("_", ""))):
            return _FLOAT, real
    elif first and first in "+-0123456789":
        plain = text.replace("_", "")
        number = _GO_INT.fullmatch(plain)
        if number is not None:
            sign, hexa, binary, octal, octal0, decimal = number.groups()
            try:
                magnitude = int(hexa, 16) if hexa else int(binary, 2) if binary else int(octal or octal0 or "0", 8) if not decimal else int(decimal)
            except ValueError:  # more digits than Python converts (4300): far past uint64, so text
                magnitude = None
            signed = None if magnitude is None else -magnitude if sign == "-" else magnitude
            if signed is not None and (_INT64[0] <= signed <= _INT64[1] or (not sign and signed < 1 << 64)):
                return _INT, signed  # ParseInt, then ParseUint
        if _GO_FLOAT.fullmatch(plain) and not math.isinf(real := float(plain)):
            return _FLOAT, real
        # Past uint64 go-yaml v2 resolves a big.Int, which decoding into an interface{} keeps as the text.
    return STR, text


def go_key(value: Any) -> str | None:
    """A resolved mapping key as sigs.k8s.io/yaml makes it a string; None when it refuses the key."""
    if isinstance(value, str):
        return value
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value) if _INT64[0] <= value <= _INT64[1] else None
    if isinstance(value, float):
        return _go_float32(value)
    return None


def _go_float32(value: float) -> str:
    """strconv.FormatFloat(value, 'g', -1, 32), with go-yaml's names for infinities and NaN."""
    if math.isnan(value):
        return ".nan"
    try:
        single = struct.unpack("f", struct.pack("f", value))[0]
    except OverflowError:
        single = math.inf if value > 0 else -math.inf
    if math.isinf(single):
        return ".inf" if single > 0 else "-.inf"
    if single == 0:
        return "-0" if math.copysign(1, single) < 0 else "0"
    for precision in range(1, 10):  # the shortest digits that read back as the same float32
        spelled = f"{single:.{precision - 1}e}"
        if struct.unpack("f", struct.pack("f", float(spelled)))[0] == single:
            break
    mantissa, exponent = spelled.split("e")
    negative = mantissa.startswith("-")
    digits = mantissa.lstrip("-").replace(".", "").rstrip("0") or "0"
    power = int(exponent)
    if power < -4 or power >= 6:  # %e, as Go does for the shortest form
        text = digits[0] + ("." + digits[1:] if len(digits) > 1 else "") + f"e{'-' if power < 0 else '+'}{abs(power):02d}"
    elif power >= len(digits) - 1:
        text = digits + "0" * (power - len(digits) + 1)
    elif power >= 0:
        text = digits[: power + 1] + "." + digits[power + 1 :]
    else:
        text = "0." + "0" * (-power - 1) + digits
    return ("-" if negative else "") + text


class _Loader(_BaseLoader):
    """libyaml's composer, with each plain scalar's tag resolved as go-yaml v2 does, once per spelling.

    The composer calls the resolver, written in Python, for every scalar; Kubernetes documents repeat
    the same few hundred short values. Safe loaders have no path resolvers, so a scalar's tag depends
    only on its text and on whether it was quoted.
    """

    def resolve(self, kind, value, implicit):
        if kind is not ScalarNode:
            return super().resolve(kind, value, implicit)
        if not implicit[0]:  # quoted, or a `!` non-specific tag
            return STR
        if len(value) > _CACHED_LENGTH:
            return go_resolve(value)[0]
        tag = _TAG_CACHE.get((value, implicit))
        if tag is None:
            if len(_TAG_CACHE) >= _CACHED_SPELLINGS:
                _TAG_CACHE.clear()
            tag = _TAG_CACHE[(value, implicit)] = go_resolve(value)[0]
        return tag

    def descend_resolver(self, current_node, current_index):
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


class Parsed:
    """A document read: its node graph (kept for locating and editing) and its data."""

    def __init__(self, root: Node | None, data: Any, shared: set[int], has_merge: bool) -> None:
        self.root = root
        self.data = data
        self.shared = shared  # ids of nodes reached more than once (anchors with aliases)
        self.has_merge = has_merge


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
            if key_node.tag == MERGE:
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
    """The value of a scalar as Kubernetes reads it (go-yaml v2's YAML 1.1 types), never an object."""
    tag = node.tag
    if tag not in (_BOOL, _INT, _FLOAT, _NULL):  # str, timestamps (go-yaml keeps their text), binary, any other tag
        return node.value
    resolved, value = go_resolve(node.value)
    if resolved == tag:
        return value
    if tag == _FLOAT and resolved == _INT:
        return float(value)
    raise YAMLError(f"{_shown(node.value)!r} cannot be read as {tag.rsplit(':', 1)[-1]}: it is not one", node.start_mark.line + 1)


def _shown(text: str) -> str:
    return text if len(text) <= 30 else text[:27] + "..."


def scalar_key(node: ScalarNode) -> str:
    """A mapping key as Kubernetes reads it: a string, with `on`, `0x1f` or `1.5` written plain read as
    the bool, int or float it resolves to and made a string as sigs.k8s.io/yaml does ("true", "31")."""
    if node.tag == STR:
        return node.value
    key = go_key(scalar_value(node))
    if key is None:
        raise YAMLError(
            f"the mapping key {_shown(node.value)!r} is read as {node.tag.rsplit(':', 1)[-1]}, which Kubernetes cannot make a string key of; quote it",
            node.start_mark.line + 1,
        )
    return key


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


def mapping_entry(mapping: Any, key: str) -> tuple[Node, Node] | None:
    """The (key, value) nodes of `key` in a mapping node (the last duplicate wins, as when loading)."""
    if not isinstance(mapping, MappingNode):
        return None
    found = None
    for k, v in mapping.value:
        if isinstance(k, ScalarNode) and scalar_key(k) == key:
            found = (k, v)
    return found


def mapping_key(mapping: Any, key: str) -> Node | None:
    entry = mapping_entry(mapping, key)
    return entry[0] if entry else None


def mapping_value(mapping: Any, key: str) -> Node | None:
    """The value node under `key` in a mapping node."""
    entry = mapping_entry(mapping, key)
    return entry[1] if entry else None


# Where an alias token ends, from the end of the key it is the value of / the end of the sequence item
# before it: past `:` or `-`, blanks, comments and line breaks, then `*name`. Compiled on first use (by
# `re`'s cache): few streams hold an alias, and start-up is paid by every render.
_GAP = r"(?:[ \t]*(?:#[^\r\n]*)?\r?\n)*[ \t]*"
_ALIAS_AFTER_KEY = r"[ \t]*:" + _GAP + r"\*[^\s,\[\]{}]+"
_ALIAS_ITEM = _GAP + r"-(?:[ \t]+|" + _GAP + r")\*[^\s,\[\]{}]+"


def node_end(node: Node, text: str | None = None, shared: set[int] | frozenset[int] = frozenset()) -> int:
    """Offset just after the node's own text: libyaml ends a block collection at the next token
    (after comments and blank lines), so a block collection ends where its last child does.

    A child that is an alias (a node in `shared`, met after its anchor) has the marks of the anchored
    node, far from here; its end is that of its `*name` token, found in `text` after the key or the
    item before it (YAMLError when it is not there)."""
    while True:
        if isinstance(node, MappingNode) and not node.flow_style and node.value:
            key, value = node.value[-1]
            if id(value) in shared and value.start_mark.index < key.end_mark.index:
                return _alias_end(re.compile(_ALIAS_AFTER_KEY), text, key.end_mark.index)
            node = value
        elif isinstance(node, SequenceNode) and not node.flow_style and node.value:
            if id(node.value[-1]) not in shared:
                node = node.value[-1]
                continue
            # Walk the items in order from the first `-`: an item that starts before the end of the one
            # before it is an alias of a node anchored earlier, and ends with its token.
            at = node.start_mark.index
            for item in node.value:
                at = node_end(item, text, shared) if item.start_mark.index > at else _alias_end(re.compile(_ALIAS_ITEM), text, at)
            return at
        else:
            return node.end_mark.index


def _alias_end(pattern: re.Pattern[str], text: str | None, start: int) -> int:
    found = pattern.match(text, start) if text is not None else None
    if found is None:
        raise YAMLError("an alias whose `*name` could not be found in the text")
    return found.end()


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
