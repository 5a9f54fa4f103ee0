"""Make sure SIGTERM (or the signal the app drains on) reaches the app.

A container's first process is PID 1, and the kernel gives PID 1 no default signal handlers: a shell
running a script (`sh -c "setup; app"`) ignores SIGTERM and does not pass it on, so the app never
starts draining and is killed when the grace period ends. The script's last command should be
`exec`ed, so that the app replaces the shell as PID 1. Shells exec a script that is one simple command
by themselves, and recent ones (bash 5.1+, dash 0.5.11+, busybox ash) sometimes the last command of a
longer one, but a trailing newline, a trap or a redirection defeats that: only `exec` is reliable.
Scripts that `trap` TERM handle it themselves; a preStop hook that `kill`s the app works around it.
Some apps drain on another signal (nginx on SIGQUIT; SIGTERM makes it stop at once): a configured
image -> signal map sets `lifecycle.stopSignal`, which Kubernetes has only from 1.33 behind the alpha
ContainerStopSignals feature gate, and only for pods that name their OS (`spec.os.name`). The node's
runtime must pass it on: containerd 2.3+ does; containerd 2.2 and 1.6 ignore it and send the image's
stop signal (measured on a real node: docs/proof.md, stop-signal).

Examples (each one run by tests/test_rule_examples.py with this rule alone):

FAIL: a shell as PID 1 that never passes SIGTERM on

    {apiVersion: v1, kind: Service, metadata: {name: web}, spec: {selector: {app: web}, ports: [{port: 80}]}}
    ---
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: web}
    spec:
      replicas: 2
      selector: {matchLabels: {app: web}}
      template:
        metadata:
          labels: {app: web}
        spec:
          containers:
          - name: web
            image: example/web:1
            command: [sh, -c, "node migrate.js; node server.js"]

PASS: the shell execs the app

    {apiVersion: v1, kind: Service, metadata: {name: web}, spec: {selector: {app: web}, ports: [{port: 80}]}}
    ---
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: web}
    spec:
      replicas: 2
      selector: {matchLabels: {app: web}}
      template:
        metadata:
          labels: {app: web}
        spec:
          containers:
          - name: web
            image: example/web:1
            command: [sh, -c, "node migrate.js && exec node server.js"]
"""

from __future__ import annotations

import re

from ..finding import Finding
from ..kube import signal_name
from ..policy import image_matches
from ..settings import Knob
from ..shell import swallowed
from ..workload import Container, Workload, as_dict, as_list
from .base import RuleContext

ID = "signals"
SUMMARY = "Warn when a shell script as PID 1 swallows SIGTERM; set lifecycle.stopSignal where the cluster allows it."
REMEDIATION = "`exec` the app as the last command of a shell entrypoint (or drop the shell), or set `lifecycle.stopSignal` to the signal the app drains on."
KNOBS = (
    Knob(
        "stop-signals",
        {},
        "Image pattern -> stop signal (e.g. nginx=SIGQUIT), set as lifecycle.stopSignal on Kubernetes 1.33+ "
        "with feature gate ContainerStopSignals=true. A pattern is a glob matched against the image without "
        "tag or digest, or against any trailing part of it split at /.",
        kind="map",
        per_workload=True,
        check=lambda mapping: {pattern: signal_name(value, pattern) for pattern, value in mapping.items()},
    ),
)
STOP_SIGNALS = (1, 33)  # ContainerStopSignals: alpha in 1.33, off by default
GATE = "ContainerStopSignals"
KINDS = frozenset({"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Rollout", "Pod"})  # not run-to-completion Jobs


def plan(workload: Workload, ctx: RuleContext) -> list[Finding]:
    if workload.kind not in KINDS:
        return []
    containers = workload.containers + [c for c in workload.init_containers if c.is_restartable_init]
    findings = [f for c in containers if (f := _shell_finding(c))]
    findings += _stop_signals(workload, containers, ctx)
    return findings


# -- shells as PID 1 -----------------------------------------------------------------------------
def _shell_finding(c: Container) -> Finding | None:
    found = swallowed(c.command, c.args)
    if found is None:
        return None
    shell, index, last = found
    command = as_list(c.raw.get("command"))
    path = f"{c.pointer}/command/{index}" if index < len(command) else f"{c.pointer}/args/{index - len(command)}"
    shown = last if len(last) <= 60 else last[:57] + "..."
    shown = shown if shown.startswith("a loop") else f"`{shown}`"
    message = (
        f'container "{c.name}": its `{shell} -c` script does not exec its last command ({shown}), so the shell stays PID 1, '
        "which ignores SIGTERM and does not pass it on: the app never drains and is killed when the grace period ends; "
        "start the last command with `exec` (or trap TERM in the script and pass it on)"
    )
    if _prestop_kills(c):  # e.g. vault-helm's `kill -SIGTERM $(pidof vault)`: the chart already works around it
        return Finding(ID, "info", message + "; its preStop hook sends a signal itself, which works around this", path=path)
    return Finding(ID, "warning", message, path=path)


def _prestop_kills(c: Container) -> bool:
    command = " ".join(str(a) for a in as_list(as_dict(as_dict(c.prestop).get("exec")).get("command")))
    return re.search(r"(?:^|[\s;&|(])(?:kill|pkill|killall)\s", command) is not None


# -- stop signals --------------------------------------------------------------------------------
def _stop_signals(workload: Workload, containers: list[Container], ctx: RuleContext) -> list[Finding]:
    mapping = ctx.settings["stop-signals"]  # names checked and normalised when the settings were loaded
    wanted = []
    for c in containers:
        for pattern, signal in mapping.items():
            if image_matches(pattern, c.image):
                wanted.append((c, pattern, signal))
                break
    if not wanted:
        return []
    blocked = _blocked(workload, ctx)
    findings = []
    os_name = as_dict(workload.pod_spec.get("os")).get("name")
    for c, pattern, signal in wanted:
        path = f"{c.pointer}/lifecycle/stopSignal"
        current = c.lifecycle.get("stopSignal")
        if current == signal:
            continue
        if current is not None:
            findings.append(Finding(ID, "info", f'container "{c.name}" keeps its stopSignal {current} (stop-signals maps {pattern} to {signal})', path=path))
            continue
        reason: str | None = blocked
        if blocked is None and os_name == "windows" and signal not in ("SIGTERM", "SIGKILL"):
            reason = "the pod runs on Windows, which only has SIGTERM and SIGKILL"
        if reason is not None:
            findings.append(Finding(ID, "info", f'container "{c.name}": stop-signals maps {pattern} to {signal}, not applied: {reason}', path=path))
            continue
        ops = [ctx.set(path, signal)]
        if os_name is None:
            ops.insert(0, ctx.set(f"{workload.pod_spec_pointer}/os", {"name": "linux"}))
            os_name = "linux"  # once per pod
            note = "; spec.os.name set to linux, which Kubernetes requires for a stop signal"
        else:
            note = ""
        message = (
            f'container "{c.name}": the kubelet stops it with SIGTERM, on which it stops at once instead of draining '
            f"(stop-signals maps {pattern} to {signal}); fix: lifecycle.stopSignal {signal}{note}"
        )
        findings.append(Finding(ID, "warning", message, ops=ops, path=path))
    return findings


def _blocked(workload: Workload, ctx: RuleContext) -> str | None:
    """Why lifecycle.stopSignal cannot be set on this target, or None when it can."""
    gate = str(ctx.settings["feature-gates"].get(GATE, "")).strip().lower() == "true"
    if not ctx.at_least(*STOP_SIGNALS) or not gate:
        major, minor = ctx.settings.kube_version
        return (
            f"lifecycle.stopSignal needs Kubernetes 1.33+ with the alpha feature gate {GATE} (target {major}.{minor}, gate "
            f"{'on' if gate else 'off'}); pass --kube-version=1.33 --set feature-gates={GATE}=true if the cluster has it, "
            "or set STOPSIGNAL in the image"
        )
    if _windows_only_fields(workload):
        return "the pod sets securityContext.windowsOptions, so spec.os.name cannot be linux"
    return None


def _windows_only_fields(workload: Workload) -> bool:
    contexts = [as_dict(workload.pod_spec.get("securityContext"))]
    contexts += [as_dict(c.raw.get("securityContext")) for c in workload.containers + workload.init_containers]
    return any("windowsOptions" in sc for sc in contexts)
