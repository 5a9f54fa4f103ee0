"""Kubernetes facts, each written once: the API's defaults and ranges, how it reads durations, whole
seconds and IntOrString amounts, which pods bind ports on their node, which signal names Linux has, and
when a mesh injects its proxy at admission.

The workload views, the rules and the timeline all read them here, so what zdrender patches and what
its timeline draws cannot drift apart (they did: the timeline missed Linkerd's `ingress` injection and
host ports of restartable init containers).
"""

from __future__ import annotations

import re

TYPE_CHECKING = False  # typing's, without importing typing on the render path (record.py says why)
if TYPE_CHECKING:
    from typing import Any, NamedTuple

    from .workload import Workload
else:
    from .record import NamedTuple

# -- API defaults and ranges -------------------------------------------------------------------------
DEFAULT_GRACE_SECONDS = 30
PROBE_DEFAULTS = {
    "initialDelaySeconds": 0,
    "periodSeconds": 10,
    "timeoutSeconds": 1,
    "successThreshold": 1,
    "failureThreshold": 3,
}
# maxSurge / maxUnavailable when a rolling update does not set them (SetDefaults_Deployment, _DaemonSet;
# Argo Rollouts' canary uses the Deployment's).
ROLLING_DEFAULTS: dict[str, tuple[int | str, int | str]] = {"Deployment": ("25%", "25%"), "Rollout": ("25%", "25%"), "DaemonSet": (0, 1)}
PROBE_TIMING = frozenset(PROBE_DEFAULTS) | {"terminationGracePeriodSeconds"}
# SetDefaults_Probe replaces 0 as well as a missing value for these (an initialDelaySeconds of 0 is 0).
PROBE_ZERO_IS_DEFAULT = frozenset({"periodSeconds", "timeoutSeconds", "successThreshold", "failureThreshold"})
MAX_SECONDS = 2**63 - 1  # the API keeps seconds in an int64: a longer wait is not one Kubernetes can hold


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


# -- durations and whole seconds ---------------------------------------------------------------------
# Few manifests hold a duration or a number as a string: these are compiled on first use (by `re`'s cache),
# as start-up is paid by every render.
_GO_DURATION = r"([0-9]+(?:\.[0-9]+)?)(ms|us|µs|ns|h|m|s)"  # ASCII digits, as Go reads them
_WHOLE = r"0*[0-9]{1,19}"  # int64 has 19 digits; int() refuses strings of more than 4300
_UNIT_SECONDS = {"h": 3600, "m": 60, "s": 1, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}


def go_duration_seconds(value: Any) -> float | None:
    """Seconds of a Go duration ("30s", "1m30s", "500ms"); None when it is not one."""
    if value is None:
        return None
    text = str(value).strip()
    if not text or re.sub(_GO_DURATION, "", text) != "":
        return None
    seconds = sum(float(n) * _UNIT_SECONDS[unit] for n, unit in re.findall(_GO_DURATION, text))
    return seconds if seconds <= MAX_SECONDS else None  # also drops inf ("1" * 400 + "s")


def whole_seconds(value: Any) -> int | None:
    """A whole number of seconds from an int or a string of ASCII digits ("15", " 7 "), within int64;
    None otherwise. (`str.isdigit` also takes "²", which int() rejects.)"""
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and re.fullmatch(_WHOLE, value.strip()):
        value = int(value.strip())
    return value if isinstance(value, int) and 0 <= value <= MAX_SECONDS else None


# -- IntOrString: maxSurge, maxUnavailable --------------------------------------------------------
_PERCENT = re.compile(r"([0-9]{1,18})%")
_ARGO_PERCENT = r"([0-9]{1,18})%?"  # compiled on first use (rare); Argo Rollouts reads "25" as 25% (its own default is "25")


class Amount(NamedTuple):
    """An IntOrString maxSurge / maxUnavailable."""

    number: int
    percent: bool

    def pods(self, total: int, round_up: bool) -> int:
        if not self.percent:
            return self.number
        scaled = self.number * total
        return -(-scaled // 100) if round_up else scaled // 100

    @property
    def value(self) -> int | str:
        return f"{self.number}%" if self.percent else self.number

    def __str__(self) -> str:
        return str(self.value)


def amount(value: Any, argo: bool = False) -> Amount | None:
    """An IntOrString as the API reads it: a non-negative int or "N%" (Argo Rollouts also reads "N"); None otherwise."""
    if isinstance(value, int) and not isinstance(value, bool):
        return Amount(value, False) if value >= 0 else None
    if isinstance(value, str):
        match = re.fullmatch(_ARGO_PERCENT, value.strip()) if argo else _PERCENT.fullmatch(value.strip())
        if match:
            return Amount(int(match.group(1)), True)
    return None


def scaled(value: object, total: int, default: int | str, round_up: bool) -> int:
    """Pods an IntOrString such as 1 or "25%" comes to against `total`, the controller's way (a value the
    API would reject counts as the default)."""
    found = amount(value) or amount(default)
    return found.pods(total, round_up) if found else 0


# -- pods bound to their node ------------------------------------------------------------------------
def host_binding(workload: Workload) -> tuple[str, str] | None:
    """(why, path) when the pod binds ports on its node: hostNetwork, or a container hostPort."""
    if workload.pod_spec.get("hostNetwork") is True:
        return "uses hostNetwork", f"{workload.pod_spec_pointer}/hostNetwork"
    for c in workload.containers + [i for i in workload.init_containers if i.is_restartable_init]:
        ports = c.raw.get("ports")
        for i, port in enumerate(ports if isinstance(ports, list) else []):
            if isinstance(port, dict) and port.get("hostPort"):
                return f'container "{c.name}" binds hostPort {port["hostPort"]}', f"{c.pointer}/ports/{i}/hostPort"
    return None


# -- signals ---------------------------------------------------------------------------------------
# Signal names Kubernetes accepts for Linux pods (Windows: SIGTERM and SIGKILL only).
LINUX_SIGNALS = frozenset(
    [
        "SIGABRT",
        "SIGALRM",
        "SIGBUS",
        "SIGCHLD",
        "SIGCLD",
        "SIGCONT",
        "SIGFPE",
        "SIGHUP",
        "SIGILL",
        "SIGINT",
        "SIGIO",
        "SIGIOT",
        "SIGKILL",
        "SIGPIPE",
        "SIGPOLL",
        "SIGPROF",
        "SIGPWR",
        "SIGQUIT",
        "SIGSEGV",
        "SIGSTKFLT",
        "SIGSTOP",
        "SIGSYS",
        "SIGTERM",
        "SIGTRAP",
        "SIGTSTP",
        "SIGTTIN",
        "SIGTTOU",
        "SIGURG",
        "SIGUSR1",
        "SIGUSR2",
        "SIGVTALRM",
        "SIGWINCH",
        "SIGXCPU",
        "SIGXFSZ",
        "SIGRTMIN",
        "SIGRTMAX",
    ]
    + [f"SIGRTMIN+{n}" for n in range(1, 16)]
    + [f"SIGRTMAX-{n}" for n in range(1, 15)]
)


def signal_name(value: str, pattern: str) -> str:
    """A signal as the kubelet names it (SIGQUIT for `quit`); ValueError when Linux has no such signal."""
    name = str(value).strip().upper()
    name = name if name.startswith("SIG") else "SIG" + name
    if name not in LINUX_SIGNALS:
        raise ValueError(f"{value!r} (for images {pattern!r}) is not a Linux signal name; use one such as SIGQUIT or SIGINT")
    return name


# -- mesh injection at admission ---------------------------------------------------------------------
# Proxies injected at admission are not in the manifest; annotations ask for them and say how long they stay.
ISTIO_INJECT = "sidecar.istio.io/inject"
ISTIO_REVISION = "istio.io/rev"
ISTIO_NATIVE = "sidecar.istio.io/nativeSidecar"
ISTIO_CONFIG = "proxy.istio.io/config"
LINKERD_INJECT = "linkerd.io/inject"
LINKERD_NATIVE = ("config.beta.linkerd.io/proxy-enable-native-sidecar", "config.alpha.linkerd.io/proxy-enable-native-sidecar")
LINKERD_WAIT = "config.alpha.linkerd.io/proxy-wait-before-exit-seconds"


def is_true(value: Any) -> bool:
    return str(value).strip().lower() == "true"


# Values of sidecar.istio.io/inject that Istio's injector reads as yes (injectRequired: "y", "yes",
# "true", "on", any case); any other non-empty value is a no.
_ISTIO_YES = frozenset({"y", "yes", "true", "on"})


def istio_injected(pod_metadata: Any) -> bool:
    """Whether Istio's webhook injects its proxy, from what the pod template shows.

    Istio's MutatingWebhookConfiguration (istiod chart, templates/mutatingwebhook.yaml) calls the
    injector for a pod labelled `sidecar.istio.io/inject: "true"` (object.sidecar-injector) or labelled
    `istio.io/rev: <revision>` (rev.object.sidecar-injector: any revision's webhook, the default one's
    is "default"), and its objectSelector never calls it for `sidecar.istio.io/inject: "false"`. The
    injector (pkg/kube/inject/inject.go injectRequired) then reads sidecar.istio.io/inject, the label
    before the annotation: a yes injects, any other non-empty value refuses whatever asked, and no value
    injects by the revision's default policy (enabled). A "true" annotation alone counts too: the
    webhook reaches such a pod through its namespace's label, which zdrender cannot see. Namespace
    labels (istio-injection, istio.io/rev on the namespace) are not in the pod template and not read.
    """
    meta = as_dict(pod_metadata)
    labels, annotations = as_dict(meta.get("labels")), as_dict(meta.get("annotations"))
    choice = labels.get(ISTIO_INJECT) if ISTIO_INJECT in labels else annotations.get(ISTIO_INJECT)
    choice = "" if choice is None else str(choice).strip().lower()
    revision = labels.get(ISTIO_REVISION)
    by_revision = isinstance(revision, (str, int)) and not isinstance(revision, bool) and str(revision).strip() != ""
    if choice == "true":
        return True
    if choice:
        return choice in _ISTIO_YES and by_revision  # "no" refuses; "yes" injects once the revision's webhook calls it
    return by_revision


def linkerd_asked(annotations: Any) -> bool:
    return str(as_dict(annotations).get(LINKERD_INJECT, "")).strip() in ("enabled", "ingress")


def linkerd_injected(pod_metadata: Any) -> bool:
    """Linkerd's webhook sees the pod (its annotations) and the namespace, never the workload's own."""
    return linkerd_asked(as_dict(pod_metadata).get("annotations"))
