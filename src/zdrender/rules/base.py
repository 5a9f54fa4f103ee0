"""What every rule module shares: the context a rule plans in, and op builders (findings: finding.py)."""

from __future__ import annotations

from ..kube import as_dict, as_list
from ..policy import ships_no_sleep
from ..settings import Settings
from ..workload import Container, StreamContext, Workload, escape

TYPE_CHECKING = False  # typing's, without importing typing on the render path (record.py says why)
if TYPE_CHECKING:
    from typing import Any

NATIVE_SLEEP = (1, 30)  # PodLifecycleSleepAction: alpha 1.29, beta and on by default 1.30, GA 1.34


class RuleContext:
    """What a rule plans with besides the workload: its settings, the stream, and the op builders."""

    def __init__(self, settings: Settings, stream: StreamContext, document: dict[str, Any], sleeps_covered: bool = True) -> None:
        self.settings = settings  # with the workload's own annotations applied
        self.stream = stream
        self.document = document  # the working copy of the whole document, for op builders
        # A rule that runs after (one with COVERS_SLEEPS) raises the grace period over every sleep.
        self.sleeps_covered = sleeps_covered
        self._planned: Any = None  # the document as this rule's `set` calls leave it (see `_writable`)
        self._owned: set[int] = set()  # ids of the containers `_planned` holds as its own copies
        self.capped: list[tuple[str, str]] = []  # (path, why) of values `set` capped

    def at_least(self, major: int, minor: int) -> bool:
        return self.settings.at_least(major, minor)

    def sleep_handler(self, seconds: int) -> dict[str, Any]:
        """A preStop handler that sleeps: the native action where the cluster has it, else `sleep`
        from the image."""
        if self.at_least(*NATIVE_SLEEP):
            return {"sleep": {"seconds": seconds}}
        return {"exec": {"command": ["sleep", str(seconds)]}}

    def sleep_cap(self, workload: Workload) -> int | None:
        """The longest preStop sleep the pod can take as it is: its grace period when no rule that runs
        for it raises the grace period to cover the sleeps (the API rejects a native sleep longer than
        terminationGracePeriodSeconds); None when one does."""
        return None if self.sleeps_covered else workload.grace_period

    def no_sleep_reason(self, container: Container) -> str | None:
        """Why no preStop sleep can be added to `container` on the target cluster, or None when one can:
        below 1.30 the hook runs `sleep` from the image, which some images do not have."""
        if self.at_least(*NATIVE_SLEEP) or not ships_no_sleep(container.image):
            return None
        major, minor = self.settings.kube_version
        return f'Kubernetes {major}.{minor} has no native sleep action and its image "{container.image}" ships no `sleep` binary, so an exec sleep would fail at once'

    def raise_sleep(self, container: Container, seconds: int) -> dict[str, Any] | None:
        """An op making a native `sleep` or an `exec: [sleep, N]` preStop hook sleep `seconds`; None
        for any other hook (a shell script that sleeps is the user's to change)."""
        hook = container.prestop or {}
        path = f"{container.pointer}/lifecycle/preStop"
        if "seconds" in as_dict(hook.get("sleep")):
            return self.set(f"{path}/sleep/seconds", seconds)
        command = as_list(as_dict(hook.get("exec")).get("command"))
        if len(command) >= 2 and str(command[0]).rsplit("/", 1)[-1] == "sleep":
            return self.set(f"{path}/exec/command/1", str(seconds))
        return None

    def set(self, path: str, value: Any) -> dict[str, Any]:
        """An op making `path` hold `value`, built against the document as this rule's earlier
        `set` calls leave it (two siblings under a missing parent must not both create it). The
        view the rule reads stays as it was; the pipeline applies the returned ops."""
        import jsonpatch

        value = _within_api_range(value, path.rsplit("/", 1)[-1], path, self.capped)
        op = set_op(self._writable(path), path, value)
        jsonpatch.apply_patch(self._planned, [op], in_place=True)
        return op

    def _writable(self, path: str) -> Any:
        """`_planned` with every container on `path` its own shallow copy, so that an op on `path`
        changes none of `document`: copying the whole document per rule and workload made a big
        `kind: List` quadratic. What no op walks through stays shared with `document`."""
        if self._planned is None:
            self._planned = self.document.copy() if isinstance(self.document, (dict, list)) else self.document
            self._owned = {id(self._planned)}
        node = self._planned
        for part in _parts(path)[:-1]:
            child = _child(node, part)
            if not isinstance(child, (dict, list)):
                break
            if id(child) not in self._owned:
                child = child.copy()
                self._owned.add(id(child))
                node[int(part) if isinstance(node, list) else part] = child
            node = child
        return self._planned


INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1
# The integer fields zdrender writes that the API declares int64; every other one (probe timings,
# replicas, ports, maxSurge) is int32. A value past its type is rejected by the API server.
INT64_FIELDS = frozenset({"terminationGracePeriodSeconds", "seconds", "activeDeadlineSeconds"})


def _within_api_range(value: Any, key: str, path: str, capped: list[tuple[str, str]]) -> Any:
    """`value` with every integer capped at the largest its API field holds; each cap said in `capped`."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        wide = key in INT64_FIELDS
        cap = INT64_MAX if wide else INT32_MAX
        if value > cap:
            capped.append((path, f"{path} would be {value}, more than the API's {'int64' if wide else 'int32'} holds: capped at {cap}"))
            return cap
        return value
    if isinstance(value, dict):
        return {k: _within_api_range(v, str(k), f"{path}/{k}", capped) for k, v in value.items()}
    if isinstance(value, list):
        return [_within_api_range(v, key, f"{path}/{i}", capped) for i, v in enumerate(value)]
    return value


def set_op(document: Any, path: str, value: Any) -> dict[str, Any]:
    """One RFC 6902 op that makes `path` hold `value`, creating missing (or null) parent mappings."""
    parts = _parts(path)
    node = document
    for depth, part in enumerate(parts[:-1]):
        _check_parent(node, part, parts[:depth])
        child = _child(node, part)
        if child is not None and not isinstance(child, (dict, list)):
            raise Unsettable(parts[: depth + 1], child)
        if not isinstance(child, (dict, list)):
            # Build the rest as nested mappings and add (or replace a null) at this depth.
            nested: Any = value
            for key in reversed(parts[depth + 1 :]):
                nested = {key: nested}
            here = "".join("/" + escape(p) for p in parts[: depth + 1])
            return {"op": "replace" if child is None and _has(node, part) else "add", "path": here, "value": nested}
        node = child
    _check_parent(node, parts[-1], parts[:-1])
    exists = _has(node, parts[-1])
    return {"op": "replace" if exists else "add", "path": path, "value": value}


def _parts(path: str) -> list[str]:
    """The unescaped parts of a JSON pointer."""
    return [p.replace("~1", "/").replace("~0", "~") for p in path.split("/")[1:]]


class Unsettable(Exception):
    """A field a rule would set lies under a value of the wrong type (`lifecycle: []`, `spec: "x"`).
    The API server rejects such an object, and overwriting the value would lose what the user wrote:
    the pipeline skips the rule for this workload and says why."""

    def __init__(self, parts: list[str], value: Any):
        self.path = "".join("/" + escape(p) for p in parts)
        shown = repr(value)
        kind = "a list" if isinstance(value, list) else shown if len(shown) <= 40 else shown[:37] + "..."
        super().__init__(f"{self.path or '/'} is {kind} where Kubernetes expects a mapping")


def _check_parent(node: Any, part: str, parts: list[str]) -> None:
    """The node an op goes through at `parts` must be a mapping, or a list that `part` indexes."""
    if isinstance(node, dict) or (isinstance(node, list) and (part == "-" or part.isdigit())):
        return
    raise Unsettable(parts, node)


def _child(node: Any, part: str) -> Any:
    if isinstance(node, dict):
        return node.get(part)
    if isinstance(node, list) and part.isdigit() and int(part) < len(node):
        return node[int(part)]
    return None


def _has(node: Any, part: str) -> bool:
    if isinstance(node, dict):
        return part in node
    return isinstance(node, list) and part.isdigit() and int(part) < len(node)


__all__ = ["RuleContext", "Unsettable", "Workload", "set_op"]
