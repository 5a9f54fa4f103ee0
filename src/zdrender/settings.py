"""Settings: built-in defaults < config file < flags (or KRM functionConfig) < workload annotations.

Every setting is a `Knob` declared next to the code that reads it (global ones here, rule knobs in
their rule module). Values from text (flags, annotations, environment) are parsed by the knob, so an
invalid value fails with the key, where it came from, and what is allowed.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Mapping

TYPE_CHECKING = False  # typing's, without importing typing on the render path (record.py says why)
if TYPE_CHECKING:
    from typing import Any, NamedTuple
else:
    from .record import NamedTuple

ANNOTATION_PREFIX = "zdrender.io/"
RECORD_ANNOTATION = ANNOTATION_PREFIX + "changed"  # written by zdrender (record-changes), not a setting


class SettingsError(Exception):
    """An invalid setting; the message names the key, its source and the allowed values."""


class Knob(NamedTuple):
    """One setting: its key, default and help, how its values are read and checked."""

    key: str
    default: Any
    help: str
    kind: str = "int"  # int | bool | str | version | list | map | choice
    choices: tuple[str, ...] = ()
    minimum: int | None = None
    per_workload: bool = False  # may be overridden by a zdrender.io/<key> annotation
    aliases: tuple[str, ...] = ()  # other keys accepted for this knob (e.g. a documented annotation name)
    # The rule's own check of a parsed value (it may normalise it; ValueError refuses it): values are
    # judged when settings are loaded, never inside a rule's plan.
    check: Callable[[Any], Any] | None = None

    def parse(self, value: Any, source: str) -> Any:
        try:
            parsed = _PARSERS[self.kind](self, value)
            return self.check(parsed) if self.check is not None else parsed
        except (ValueError, TypeError) as err:
            raise SettingsError(f"setting {self.key} ({source}): {err}") from None

    def describe_default(self) -> str:
        value = self.default
        if self.kind == "bool":
            return "true" if value else "false"
        if self.kind == "list":
            return ",".join(value) or "(none)"
        if self.kind == "map":
            return ",".join(f"{k}={v}" for k, v in value.items()) or "(none)"
        if self.kind == "version":
            return "{}.{}".format(*value)
        return str(value)


def _int(knob: Knob, value: Any) -> int:
    if isinstance(value, bool) or not (isinstance(value, int) or (isinstance(value, str) and re.fullmatch(r"\s*\d+\s*", value))):
        floor = knob.minimum if knob.minimum is not None else 0
        raise ValueError(f"expected a whole number >= {floor}, got {value!r}")
    number = int(value)
    if knob.minimum is not None and number < knob.minimum:
        raise ValueError(f"expected a whole number >= {knob.minimum}, got {number}")
    return number


def _bool(knob: Knob, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "yes", "on", "1"):
        return True
    if text in ("false", "no", "off", "0"):
        return False
    raise ValueError(f"expected true or false, got {value!r}")


def _str(knob: Knob, value: Any) -> str:
    if not isinstance(value, (str, int, float)) or isinstance(value, bool):
        raise ValueError(f"expected a string, got {value!r}")
    return str(value)


def _choice(knob: Knob, value: Any) -> str:
    text = str(value).strip()
    if text not in knob.choices:
        raise ValueError(f"expected one of {', '.join(knob.choices)}, got {value!r}")
    return text


# The oldest Kubernetes zdrender writes for: the PodDisruptionBudget it adds is policy/v1 (1.21), and
# every field its rules set exists there.
MIN_KUBE_VERSION = (1, 21)


def _version(knob: Knob, value: Any) -> tuple[int, int]:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        # `kube-version: 1.30` in YAML is the number 1.3: the version would silently become 1.3.
        raise ValueError(f'{value!r} was read as a number, and YAML reads 1.30 as 1.3: quote the version, e.g. kube-version: "1.30"')
    version = parse_version(str(value))
    if version < MIN_KUBE_VERSION:
        raise ValueError(f"{version[0]}.{version[1]} is older than the oldest Kubernetes zdrender supports, {MIN_KUBE_VERSION[0]}.{MIN_KUBE_VERSION[1]}")
    return version


def _list(knob: Knob, value: Any) -> tuple[str, ...]:
    if isinstance(value, (list, tuple)):
        items = [str(v).strip() for v in value]
    elif isinstance(value, str):
        items = [v.strip() for v in value.split(",")]
    else:
        raise ValueError(f"expected a comma-separated list, got {value!r}")
    items = [v for v in items if v]
    if knob.choices:
        unknown = [v for v in items if v not in knob.choices]
        if unknown:
            raise ValueError(f"unknown {', '.join(unknown)}; allowed: {', '.join(knob.choices)}")
    return tuple(items)


def _map(knob: Knob, value: Any) -> dict[str, str]:
    if isinstance(value, Mapping):
        return {str(k): str(v) for k, v in value.items()}
    if isinstance(value, str):
        result = {}
        for item in filter(None, (v.strip() for v in value.split(","))):
            name, sep, mapped = item.partition("=")
            if not sep or not name.strip():
                raise ValueError(f"expected key=value pairs separated by commas, got {item!r}")
            result[name.strip()] = mapped.strip()
        return result
    raise ValueError(f"expected a mapping or key=value pairs, got {value!r}")


_PARSERS: dict[str, Callable[[Knob, Any], Any]] = {
    "int": _int,
    "bool": _bool,
    "str": _str,
    "choice": _choice,
    "version": _version,
    "list": _list,
    "map": _map,
}


def parse_version(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"\s*v?(\d+)\.(\d+)(?:\.\d+)?(?:[-+].*)?\s*", text)
    if not match:
        raise ValueError(f"expected a Kubernetes version such as 1.30, got {text!r}")
    return int(match.group(1)), int(match.group(2))


GLOBAL_KNOBS = (
    Knob(
        "kube-version",
        (1, 30),
        "Kubernetes version of the target cluster; gates native preStop sleep (1.30), native sidecars (1.29).",
        kind="version",
    ),
    Knob("skip-rules", (), "Rules not to run (comma-separated ids).", kind="list", per_workload=True),
    Knob("skip", False, "Leave the workload untouched (annotation zdrender.io/skip).", kind="bool", per_workload=True),
    Knob(
        "patch-immutable",
        False,
        "Also patch the pod template of Jobs and bare Pods, which the API refuses to change once created "
        "(a `helm upgrade` of an installed release would fail); by default their fixes are reported, not applied.",
        kind="bool",
        per_workload=True,
    ),
    Knob("include-hooks", False, "Also patch Helm hooks (helm.sh/hook), which are left alone by default.", kind="bool"),
    Knob(
        "record-changes",
        True,
        "List the rules that changed a workload in its zdrender.io/changed annotation (on the workload's own metadata, "
        "never the pod template, so no pod restarts for it): `helm get manifest` and `kubectl get -o yaml` then show it.",
        kind="bool",
        per_workload=True,
    ),
    Knob("feature-gates", {}, "Kubernetes feature gates enabled on the target cluster (Gate=true,...).", kind="map"),
    Knob(
        "assume-serving",
        False,
        "Treat a workload that declares a port (not a metrics port) as serving even when no Service in the input selects it "
        "(its Service is in another release or directory). By default a selecting Service or a host port makes a workload serving, "
        "and a declared port does only when the input holds no Service with a selector.",
        kind="bool",
        per_workload=True,
    ),
)


class Settings:
    """Resolved values by key, plus the knobs that give them meaning."""

    def __init__(self, knobs: dict[str, Knob], values: dict[str, Any] | None = None) -> None:
        self.knobs = knobs
        self.values = values if values is not None else {}

    @classmethod
    def defaults(cls, knobs: Iterable[Knob]) -> Settings:
        by_key = {k.key: k for k in knobs}
        return cls(knobs=by_key, values={k: knob.default for k, knob in by_key.items()})

    def __getitem__(self, key: str) -> Any:
        return self.values[key]

    def merged(self, overrides: Mapping[str, Any], source: str, *, annotations: bool = False) -> Settings:
        values = dict(self.values)
        # An alias first, so that the knob's own key wins when both are given.
        for key, raw in sorted(overrides.items(), key=lambda item: item[0] in self.knobs):
            knob = self.knob(key)
            if knob is None:
                allowed = ", ".join(sorted(self.knobs))
                raise SettingsError(f"unknown setting {key!r} ({source}); known settings: {allowed}")
            if annotations and not knob.per_workload:
                raise SettingsError(f"setting {key} ({source}) cannot be set per workload; set it for the whole run")
            values[knob.key] = knob.parse(raw, source)
        return Settings(knobs=self.knobs, values=values)

    def knob(self, key: str) -> Knob | None:
        """The knob named `key`, or the one that accepts `key` as an alias."""
        if key in self.knobs:
            return self.knobs[key]
        return next((k for k in self.knobs.values() if key in k.aliases), None)

    def for_annotations(self, annotations: Mapping[str, Any], where: str) -> Settings:
        overrides = {
            key[len(ANNOTATION_PREFIX) :]: value
            for key, value in annotations.items()
            if isinstance(key, str) and key.startswith(ANNOTATION_PREFIX) and self.knob(key[len(ANNOTATION_PREFIX) :]) is not None
        }
        if not overrides:
            return self
        return self.merged(overrides, f"annotation on {where}", annotations=True)

    def unknown_annotations(self, annotations: Mapping[str, Any]) -> list[str]:
        """zdrender.io/* annotations that name no setting (a typo would otherwise be silently ignored)."""
        return [key for key in annotations if isinstance(key, str) and key.startswith(ANNOTATION_PREFIX) and key != RECORD_ANNOTATION and self.knob(key[len(ANNOTATION_PREFIX) :]) is None]

    @property
    def kube_version(self) -> tuple[int, int]:
        return self.values["kube-version"]

    def at_least(self, major: int, minor: int) -> bool:
        return self.kube_version >= (major, minor)


def settings_from_document(data: Any, source: str) -> dict[str, Any]:
    """Keys from a config file or KRM functionConfig: a plain mapping, a ConfigMap's `data`, or a
    `zdrender.io/v1alpha1` `ZdRender` object's `spec`."""
    return settings_body(data, source)[1]


def settings_body(data: Any, source: str) -> tuple[list[str], dict[str, Any]]:
    """(the path of the mapping that holds the settings, its keys), as `settings_from_document` reads them."""
    if data is None:
        return [], {}
    if not isinstance(data, Mapping):
        raise SettingsError(f"{source}: expected a mapping of settings")
    for kind, key in (("ConfigMap", "data"), ("ZdRender", "spec")):
        if data.get("kind") == kind:
            body = data.get(key)
            if body is not None and not isinstance(body, Mapping):  # dict("x") would raise ValueError
                raise SettingsError(f"{source}: the {kind}'s {key} is not a mapping of settings")
            return [key], dict(body or {})
    return [], {k: v for k, v in data.items() if k not in ("apiVersion", "kind", "metadata")}


def load(
    knobs: Iterable[Knob],
    *,
    config_file: str | None = None,
    flags: Mapping[str, Any] | None = None,
    function_config: Any = None,
) -> Settings:
    """Resolve the run's settings (annotations are applied later, per workload)."""
    from . import yamldoc

    settings = Settings.defaults(knobs)
    path = config_file or os.environ.get("ZDRENDER_CONFIG")
    if path:
        try:
            with open(path, encoding="utf-8") as handle:
                text = handle.read()
        except OSError as err:
            raise SettingsError(f"config file {path}: {err.strerror}") from None
        try:
            parsed = yamldoc.parse(text)
        except yamldoc.YAMLError as err:
            raise SettingsError(f"config file {path}, line {err.line}: {err.message}") from None
        prefix, values = settings_body(parsed.data, f"config file {path}")
        # One by one, so that an error names the key's line; aliases first, as `merged` orders them.
        for key, value in sorted(values.items(), key=lambda item: item[0] in settings.knobs):
            line = yamldoc.line_of(parsed.root, [*prefix, str(key)])
            settings = settings.merged({key: value}, f"config file {path}" + (f", line {line}" if line else ""))
    if function_config is not None:
        settings = settings.merged(settings_from_document(function_config, "functionConfig"), "functionConfig")
    if flags:
        settings = settings.merged(flags, "command line")
    return settings


def parse_assignments(pairs: Iterable[str]) -> dict[str, str]:
    """`--set key=value` pairs."""
    result = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise SettingsError(f"--set {pair!r}: expected key=value")
        result[key.strip()] = value
    return result
