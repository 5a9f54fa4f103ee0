"""zdrender's judgments that the workload views, the rules and the timeline share: which containers
are sidecars (and which of those carry the app's traffic), which preStop handlers count as a sleep, and
how long an injected mesh proxy stays. Facts Kubernetes fixes live in kube.py; these are choices
zdrender makes, kept in one place so that every floor makes them alike.
"""

from __future__ import annotations

import fnmatch
import re

from . import yamldoc
from .kube import ISTIO_CONFIG, LINKERD_WAIT, MAX_SECONDS, as_dict, as_list, go_duration_seconds, whole_seconds
from .shell import shell_script

TYPE_CHECKING = False  # typing's, without importing typing on the render path (record.py says why)
if TYPE_CHECKING:
    from typing import Any

    from .workload import Container

# Helpers that must outlive the app: (kind, pattern matched against the container name or image).
# Image patterns end at a tag (`:`), a digest (`@`) or the end, so `linkerd/proxy@sha256:...` matches
# and `nginx-exporter` does not look like anything here. Metrics exporters are deliberately absent:
# they carry no traffic for the app, so they stay main containers.
KNOWN_SIDECARS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(pattern))
    for kind, pattern in (
        # v2 image: gcr.io/cloud-sql-connectors/cloud-sql-proxy; v1 image: gcr.io/cloudsql-docker/gce-proxy
        ("cloud-sql-proxy", r"cloud[-_]?sql[-_]?proxy|cloudsql-docker/gce-proxy|(^|/)gce-proxy($|[:@])"),
        ("alloydb-auth-proxy", r"alloydb[-_]auth[-_]proxy"),
        ("istio-proxy", r"(^|/)istio-proxy$|(^|/)proxyv2($|[:@])"),
        ("linkerd-proxy", r"(^|/)linkerd-proxy$|linkerd/proxy($|[:@])|linkerd2-proxy"),
        ("envoy", r"(^|/)envoy($|[:@-])|envoyproxy/envoy"),
        ("oauth2-proxy", r"oauth2[-_]proxy"),
        ("vault-agent", r"(^|/)vault-agent(?!-injector)"),
        ("fluent-bit", r"fluent[-_]?bit"),
        ("fluentd", r"(^|/)fluentd($|[:@-])"),
        ("log-shipper", r"^log[-_]?shipper"),  # by container name only: the image is often busybox
    )
)
# Sidecars whose death does not drop requests: they ship logs or renew secrets.
HELPER_SIDECARS = frozenset({"vault-agent", "fluent-bit", "fluentd", "log-shipper"})


def sidecar_kind(raw: dict[str, Any], extra_names: tuple[str, ...]) -> str | None:
    name, image = str(raw.get("name") or ""), str(raw.get("image") or "")
    if name in extra_names:
        return name
    for kind, pattern in KNOWN_SIDECARS:
        if pattern.search(name) or pattern.search(image):
            return kind
    return None


# A proxy's shutdown manager: Contour's and Envoy Gateway's Envoy pods run one beside Envoy
# (`contour envoy shutdown-manager`, `envoy-gateway envoy shutdown-manager`) only to hold Envoy's
# preStop hook until it has drained. It is never the app: Envoy is.
_SHUTDOWN_MANAGER = re.compile(r"(^|[-_/])shutdown-manager($|[-_:@])")


def can_be_app(raw: dict[str, Any]) -> bool:
    """Whether a container that is not a known sidecar can be the app a sidecar beside it serves: not a
    metrics exporter (every port it declares is a metrics port) and not a proxy's shutdown manager. A
    pod whose other containers are all such helpers has no app for a proxy to serve: the proxy is the
    app (an Envoy gateway beside its exporter or shutdown manager)."""
    ports = [p for p in as_list(raw.get("ports")) if isinstance(p, dict)]
    if ports and all(metrics_port(p) for p in ports):
        return False
    words = [str(raw.get("name") or "")] + [str(w) for w in as_list(raw.get("command")) + as_list(raw.get("args"))]
    return not any(_SHUTDOWN_MANAGER.search(word) for word in words)


def carries_traffic(container: Container) -> bool:
    """A sidecar the app's requests pass through (a proxy), not a helper beside it."""
    return (container.sidecar or container.name) not in HELPER_SIDECARS


# Few charts write a preStop sleep: compiled on first use (by `re`'s cache), as start-up is paid by every render.
_SLEEP_SCRIPT = r"^\s*(?:exec\s+)?(?:/[\w/]*/)?sleep\s+([0-9]+)(?:s)?\s*(?:$|[;&|])"
_SLEEP_ARGUMENT = r"([0-9]+)s?"


def sleep_seconds(handler: Any) -> int | None:
    """Seconds a preStop handler sleeps: native `sleep`, `exec: [sleep, N]` or a shell `sleep N`."""
    handler = as_dict(handler)
    native = as_dict(handler.get("sleep")).get("seconds")
    if isinstance(native, int) and not isinstance(native, bool):
        return native if native <= MAX_SECONDS else None
    command = [str(c) for c in as_list(as_dict(handler.get("exec")).get("command"))]
    argument = re.fullmatch(_SLEEP_ARGUMENT, command[1]) if len(command) >= 2 else None
    if argument and command[0].rsplit("/", 1)[-1] == "sleep":
        return whole_seconds(argument.group(1))
    script = shell_script(command)
    if script is not None:
        match = re.match(_SLEEP_SCRIPT, command[script[1]])
        if match:
            return whole_seconds(match.group(1))
    return None


def mesh_proxy_stays(pod_metadata: Any) -> list[tuple[float, str]]:
    """Seconds an injected mesh proxy keeps running after the deletion, from the pod template's
    annotations: Istio's terminationDrainDuration, Linkerd's wait before exit."""
    annotations = as_dict(as_dict(pod_metadata).get("annotations"))
    stays: list[tuple[float, str]] = []
    config = annotations.get(ISTIO_CONFIG)
    if isinstance(config, str) and "terminationDrainDuration" in config:
        try:
            parsed = yamldoc.load(config)
        except yamldoc.YAMLError:
            parsed = None
        drain = go_duration_seconds(as_dict(parsed).get("terminationDrainDuration"))
        if drain is not None:
            stays.append((drain, f"istio-proxy's {as_dict(parsed)['terminationDrainDuration']} drain"))
    wait = whole_seconds(annotations.get(LINKERD_WAIT))
    if wait is not None:
        stays.append((float(wait), f"linkerd-proxy's {wait}s wait before exit"))
    return stays


def yaml_annotation(text: str) -> tuple[Any, str | None]:
    """An annotation that holds YAML (Istio's ProxyConfig) read as its reader does: (value, None), an
    empty one as {}, or (None, why) when it is not YAML."""
    if not text.strip():
        return {}, None
    try:
        value = yamldoc.load(text)
    except yamldoc.YAMLError as err:
        return None, err.message
    return ({} if value is None else value), None


def yaml_annotation_with(text: str, mapping: dict[str, Any], key: str, value: Any) -> str:
    """The YAML text of an annotation with `key` set to `value`, its other keys and formatting kept
    (a checked edit); flow style when no such edit exists, which is still YAML to its reader."""
    from . import emit, rewrite
    from .rules.base import set_op
    from .workload import escape

    if not text.strip():
        return f"{emit.scalar(key)}: {emit.scalar(value)}"
    expected = {**mapping, key: value}
    try:
        return rewrite.checked_edit(text, [set_op(mapping, "/" + escape(key), value)], expected)[0]
    except rewrite.RewriteError:
        return emit.flow(expected)


# Images known to ship no `sleep` binary: an `exec: [sleep, N]` preStop hook fails at once there (the
# kubelet records FailedPreStopHook and sends SIGTERM without waiting), so below Kubernetes 1.30, which
# has no native sleep action, no sleep can be added to them. Distroless and Chainguard's static images
# have no shell or coreutils; cloud-sql-proxy's and alloydb-auth-proxy's default tags are distroless
# (their -alpine, -bullseye and -bookworm tags have a shell). Asked only below 1.30: compiled on first use.
_NO_SLEEP_IMAGES = (
    r"(^|/)distroless/"
    r"|[:-]distroless($|[-@.])"
    r"|^cgr\.dev/chainguard/(?!.*:[^@]*-dev($|@))"
    r"|(cloud-sql-proxy|gce-proxy|alloydb-auth-proxy)(:(?![^@]*-(alpine|bullseye|bookworm|buster))[^@]*)?(@|$)"
)


def ships_no_sleep(image: str) -> bool:
    """Whether `image` is one known to have no `sleep` binary (see _NO_SLEEP_IMAGES)."""
    return re.search(_NO_SLEEP_IMAGES, image) is not None


# Ports that only serve scrapes, by name: a failed scrape is retried at the next interval and drops no
# user's request, so a workload reached only on them is not serving (kube-state-metrics' `http-metrics`,
# `metrics`, `prometheus`, `prom-metrics`, `monitoring`, `telemetry`).
_METRICS_PORT = re.compile(r"(?:^|[-_])(?:metrics?|prometheus|prom|monitoring|telemetry)(?:$|[-_])", re.IGNORECASE)


def metrics_port(port: Any) -> bool:
    """Whether a container port or Service port is for metrics only, by its name (or a Service port's
    named targetPort)."""
    port = as_dict(port)
    names = [port.get("name"), port.get("targetPort")]
    return any(isinstance(name, str) and _METRICS_PORT.search(name) is not None for name in names)


def image_matches(pattern: str, image: str) -> bool:
    """Whether a user's image pattern names `image`: a glob over the image without tag or digest, or over
    any trailing part of it split at /; a pattern with a tag or digest is matched against the whole image."""
    if ":" in pattern or "@" in pattern:
        return fnmatch.fnmatchcase(image, pattern)
    repository = image.split("@", 1)[0]
    head, _, last = repository.rpartition("/")
    repository = (head + "/" if head else "") + last.split(":", 1)[0]
    parts = repository.split("/")
    return any(fnmatch.fnmatchcase("/".join(parts[i:]), pattern) for i in range(len(parts)))
