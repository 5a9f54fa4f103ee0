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

import fnmatch
import re

from ..finding import Finding
from ..kube import shell_script
from ..settings import Knob
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
_TRAP_TERM = re.compile(r"(?:^|[\s;&|(])trap\s[^\n;]*?(?<![\w-])(?:SIG)?(?:TERM|15)\b")
_COMPOUND = frozenset({"if", "while", "until", "for", "case", "select", "{", "(", "function"})
_LEADING = frozenset({"then", "else", "do", "elif", "{", "!"})


def plan(workload: Workload, ctx: RuleContext) -> list[Finding]:
    if workload.kind not in KINDS:
        return []
    containers = workload.containers + [c for c in workload.init_containers if c.is_restartable_init]
    findings = [f for c in containers if (f := _shell_finding(c))]
    findings += _stop_signals(workload, containers, ctx)
    return findings


# -- shells as PID 1 -----------------------------------------------------------------------------
def swallowed_by_shell(c: Container) -> tuple[str, int, str] | None:
    """(shell, index of the script in command + args, its last command) when a shell stays PID 1 and
    never passes SIGTERM on to the app; None when the container receives SIGTERM (as far as the
    manifest shows: args alone run under the image's entrypoint, which we cannot see)."""
    command = [str(a) for a in as_list(c.raw.get("command"))]
    if not command:
        return None
    argv = command + [str(a) for a in as_list(c.raw.get("args"))]
    found = shell_script(argv)
    if found is None:
        return None
    shell, index = found
    last = unexeced_command(argv[index])
    return None if last is None else (shell, index, last)


def _shell_finding(c: Container) -> Finding | None:
    swallowed = swallowed_by_shell(c)
    if swallowed is None:
        return None
    shell, index, last = swallowed
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


def unexeced_command(script: str) -> str | None:
    """The script's last command when the shell would stay PID 1 running it; None when it execs (or traps TERM)."""
    statements = split_statements(script)
    if not statements or _TRAP_TERM.search(script):
        return None
    last = statements[-1]
    words = last.split()
    if words[0] == "done":
        return "a loop ending in `done`"
    if words[0] in ("fi", "esac", "}"):
        # The end of an if/case: judge the command that ends the last branch.
        if len(statements) < 2:
            return last
        before = _strip_leading(statements[-2])
        return None if before.split()[:1] == ["exec"] else before
    if len(statements) == 1 and _simple(last):
        return None  # the shell execs a script that is one simple command
    command = _strip_leading(last)
    return None if command.split()[:1] == ["exec"] else command


def _strip_leading(statement: str) -> str:
    words = statement.split()
    while len(words) > 1 and words[0] in _LEADING:
        words = words[1:]
    return " ".join(words)


def _simple(statement: str) -> bool:
    words = statement.split()
    return words[0] not in _COMPOUND and not statement.endswith("&") and not _has_pipe(statement)


def _has_pipe(statement: str) -> bool:
    return any(part for part in _unquoted(statement) if "|" in part)


def _unquoted(text: str) -> list[str]:
    return re.split(r"'[^']*'|\"(?:\\.|[^\"\\])*\"", text)


def split_statements(script: str) -> list[str]:
    """The script's top-level statements, split at newlines, `;`, `&&`, `||` and `&` outside quotes,
    `$(...)` and here-documents; comments and line continuations removed. A statement put in the
    background keeps a trailing `&`. An approximation of the shell grammar, enough to find the last command."""
    statements: list[str] = []
    current: list[str] = []
    heredocs: list[tuple[str, bool]] = []
    quote = ""
    depth = 0
    i, n = 0, len(script)

    def flush() -> None:
        text = "".join(current).strip()
        if text:
            statements.append(text)
        current.clear()

    while i < n:
        ch = script[i]
        if quote:
            if ch == "\\" and quote != "'" and i + 1 < n:
                current.append(script[i : i + 2])
                i += 2
                continue
            if ch == quote:
                quote = ""
            current.append(ch)
            i += 1
            continue
        if ch in "'\"`":
            quote = ch
        elif ch == "\\" and i + 1 < n:
            current.append("" if script[i + 1] == "\n" else script[i : i + 2])
            i += 2
            continue
        elif ch == "#" and _last_char(current) in ("", " ", "\t", ";", "(", "|", "&"):
            end = script.find("\n", i)
            i = n if end < 0 else end
            continue
        elif ch == "$" and script.startswith("$(", i):
            depth += 1
            current.append("$(")
            i += 2
            continue
        elif depth and ch in "()":
            depth += 1 if ch == "(" else -1
        elif depth:
            pass
        elif script.startswith("<<", i) and not script.startswith("<<<", i):
            match = re.match(r"<<(-?)[ \t]*(['\"]?)([\w.-]+)\2", script[i:])
            if match:
                heredocs.append((match.group(3), bool(match.group(1))))
                current.append(match.group(0))
                i += len(match.group(0))
                continue
        elif ch == "\n":
            flush()
            i += 1
            for delimiter, tabs in heredocs:  # skip each here-document's body
                while i < n:
                    end = script.find("\n", i)
                    line = script[i : n if end < 0 else end]
                    i = n if end < 0 else end + 1
                    if (line.lstrip("\t") if tabs else line) == delimiter:
                        break
            heredocs.clear()
            continue
        elif ch == ";" or script.startswith("&&", i) or script.startswith("||", i):
            flush()
            i += 2 if script[i : i + 2] in (";;", "&&", "||") else 1
            continue
        elif ch == "&" and _last_char(current) not in ("<", ">") and not script.startswith("&>", i):
            current.append(" &")
            flush()
            i += 1
            continue
        current.append(ch)
        i += 1
    flush()
    return statements


def _last_char(parts: list[str]) -> str:
    for part in reversed(parts):
        if part:
            return part[-1]
    return ""


# -- stop signals --------------------------------------------------------------------------------
def signal_name(value: str, pattern: str) -> str:
    """A signal as the kubelet names it (SIGQUIT for `quit`); ValueError when Linux has no such signal."""
    name = str(value).strip().upper()
    name = name if name.startswith("SIG") else "SIG" + name
    if name not in LINUX_SIGNALS:
        raise ValueError(f"{value!r} (for images {pattern!r}) is not a Linux signal name; use one such as SIGQUIT or SIGINT")
    return name


def image_matches(pattern: str, image: str) -> bool:
    if ":" in pattern or "@" in pattern:
        return fnmatch.fnmatchcase(image, pattern)
    repository = image.split("@", 1)[0]
    head, _, last = repository.rpartition("/")
    repository = (head + "/" if head else "") + last.split(":", 1)[0]
    parts = repository.split("/")
    return any(fnmatch.fnmatchcase("/".join(parts[i:]), pattern) for i in range(len(parts)))


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
        message = f'container "{c.name}": lifecycle.stopSignal set to {signal} (stop-signals maps {pattern} to it), so it drains instead of stopping at once{note}'
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
