"""zdrender never crashes: real workloads, structurally mutated, through every mode.

Workloads from the corpus and from tests/fixtures get wrong-typed subtrees, deleted keys, duplicated
containers, odd numbers and odd annotation values (most of them objects the API server would reject).
For each input zdrender either succeeds, and then the engine's guarantees hold (tests/guarantees.py),
or refuses with a one-line error that names the document: never a traceback, in render, check,
explain, diff, timeline and KRM function mode alike.

ZDRENDER_ROBUSTNESS_EXAMPLES raises the number of examples for a long local hunt (e.g. 2000); the
default keeps the test well under 30 s.
"""

from __future__ import annotations

import copy
import functools
import json
import os
import re
import subprocess
import sys
import time
import zlib

import pytest
import yaml
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from typer.testing import CliRunner

from zdrender import krm, pipeline, report, stream, yamldoc
from zdrender.report import one_line
from zdrender.settings import SettingsError
from zdrender.workload import CONTEXT_KINDS, TEMPLATE_POINTERS, WORKLOAD_KINDS

from conftest import FIXTURES, corpus_files, require
from guarantees import check
from helpers import make_settings

EXAMPLES = int(os.environ.get("ZDRENDER_ROBUSTNESS_EXAMPLES", "150"))
ERROR_LINE = re.compile(r"zdrender: [^\n]+\n")


# -- the documents to mutate ---------------------------------------------------------------------
@functools.lru_cache(maxsize=1)
def pools() -> tuple[list[dict], list[dict]]:
    """(workloads, Services/HPAs/PDBs) parsed from the corpus and the fixtures."""
    workloads, context = [], []
    for path in corpus_files() + sorted(FIXTURES.rglob("*.yaml")):
        for doc in stream.split(path.read_text(encoding="utf-8")).documents:
            if doc.kind not in WORKLOAD_KINDS and doc.kind not in CONTEXT_KINDS:
                continue
            data = yamldoc.load(doc.text)
            if isinstance(data, dict):
                (workloads if doc.kind in WORKLOAD_KINDS else context).append(data)
    return workloads, context


def _require_corpus() -> None:
    require(bool(corpus_files()), "the corpus is absent (set ZDRENDER_CORPUS or lay out shared/corpus)")


# -- values of the wrong type (and right-typed values at the edges) ------------------------------
@st.composite
def nested(draw):
    """A value nested 20 to 160 levels deep (past the parser's depth limit sometimes)."""
    value: object = draw(st.sampled_from([1, "x", None, [], {}]))
    for _ in range(draw(st.integers(min_value=20, max_value=160))):
        value = [value] if draw(st.booleans()) else {"a": value}
    return value


ODD_STRINGS = [
    "",
    "x",
    "3",
    "30",
    "-1",
    "0",
    "10%",
    "x%",
    "²",
    "٣",
    "²%",
    " 7 ",
    "on",
    "yes",
    "null",
    "~",
    "true",
    "sleep 5",
    "sh -c app",
    "1" * 400,
    "1" * 400 + "s",
    "9999999999999999999h",
    "1e3",
    "0x1F",
    "SIGQUIT",
    "-",
    "1" * 5000,
    "1" * 5000 + "%",  # more digits than int() converts
]
ODD_NUMBERS = [0, 1, -1, -5, 2, 3, 2**31, 2**63, 2**64 + 1, 10**30, -(2**63), 0.5, 1.5, -0.0, 1e300, float("inf"), float("-inf"), float("nan")]
wrong = st.one_of(
    st.sampled_from(ODD_STRINGS),
    st.sampled_from(ODD_NUMBERS),
    st.booleans(),
    st.none(),
    st.sampled_from([{}, [], [None], [[]], ["x"], [{}], {"a": None}]),
    st.lists(st.integers(min_value=-3, max_value=3), max_size=3),
    st.dictionaries(st.sampled_from(["a", "seconds", "command", "name", "port"]), st.sampled_from([1, "x", None, []]), max_size=2),
    nested(),
)

# Fields the rules read, with values to put there: where -> key -> values ("@wrong": any of `wrong`).
TARGETS: dict[str, dict[str, list]] = {
    "root": {
        "apiVersion": [5, None, [], "extensions/v1beta1", "apps/v1beta1", "apps/v1beta2", "argoproj.io/v1alpha1"],
        "metadata": ["x", None, [], {}],
        "spec": ["x", None, [], {}],
    },
    "spec": {
        "replicas": ["3", -1, 0, 1, 2, 2**31, 10**30, 1.5, True, None, [], {}],
        "strategy": [
            None,
            "RollingUpdate",
            [],
            {"type": 5},
            {"type": "Recreate"},
            {"rollingUpdate": "x"},
            {"rollingUpdate": None},
            {"rollingUpdate": {"maxSurge": "x%", "maxUnavailable": -1}},
            {"rollingUpdate": {"maxSurge": "1" * 30 + "%", "maxUnavailable": "100%"}},
            {"rollingUpdate": {"maxSurge": 0, "maxUnavailable": 0}},
            {"rollingUpdate": {"maxSurge": 1.5, "maxUnavailable": True}},
            {"rollingUpdate": {"maxSurge": 10**30, "maxUnavailable": 10**30}},
            {"rollingUpdate": {"maxSurge": "²%"}},
            {"canary": "x"},
            {"canary": {"maxSurge": "²", "maxUnavailable": "200"}},
            {"canary": {"trafficRouting": 5}},
            {"blueGreen": 5},
        ],
        "updateStrategy": [
            None,
            "x",
            {"type": 5},
            {"type": "OnDelete"},
            {"rollingUpdate": "x"},
            {"rollingUpdate": {"maxSurge": "x", "maxUnavailable": "²%"}},
            {"rollingUpdate": {"maxSurge": 2**64, "maxUnavailable": -3}},
            {"rollingUpdate": {"partition": "x"}},
        ],
        "minReadySeconds": ["5", -1, None, 2**64],
        "selector": [
            "x",
            None,
            {"matchLabels": "x"},
            {"matchLabels": {"app": 5}},
            {"matchExpressions": "x"},
            {"matchExpressions": [{"key": 5, "operator": "In", "values": "x"}]},
            {"matchExpressions": [None, {"operator": []}]},
        ],
        "template": ["x", None, [], {}, {"spec": None}, {"spec": "x"}, {"spec": {}}, {"metadata": "x", "spec": {"containers": "x"}}],
        "jobTemplate": ["x", None, {"spec": "x"}, {"spec": {"template": []}}],
        "rollbackTo": [{"revision": 1}, 5],
        "templateGeneration": [5, "x"],
        "serviceName": [5, None],
    },
    "pod": {
        "terminationGracePeriodSeconds": ["30", -5, 0, 1, 2**70, 1e300, True, None, 1.5, float("nan")],
        "containers": [None, "x", [], {}, [None], [[]], ["x"], [{}], [{"name": "a"}], [{"name": 5, "ports": [{"containerPort": 80}]}]],
        "initContainers": [
            None,
            "x",
            [None],
            [{}],
            [{"name": "proxy", "image": "envoyproxy/envoy:v1.31", "restartPolicy": "Always", "ports": [{"hostPort": 80}]}],
            [{"name": "sql", "image": "gcr.io/cloud-sql-connectors/cloud-sql-proxy:2", "restartPolicy": "Always", "lifecycle": []}],
        ],
        "hostNetwork": ["true", True, 1, None],
        "os": ["linux", {"name": 5}, {"name": "windows"}, None, []],
        "securityContext": ["x", {"windowsOptions": 5}, []],
        "volumes": ["x", [None], [{"persistentVolumeClaim": "x"}], [{"persistentVolumeClaim": {"claimName": 5}}]],
        "restartPolicy": [5, None, "Never", "OnFailure"],
    },
    "container": {
        "name": [5, None, [], "", "cloud-sql-proxy", "istio-proxy", "log-shipper", "x" * 300],
        "image": [5, None, [], "", "gcr.io/cloud-sql-connectors/cloud-sql-proxy:2", "envoyproxy/envoy:v1.31", "nginx@sha256:x", "nginx"],
        "ports": [
            {},
            "80",
            [80],
            [None],
            [{"containerPort": "http"}],
            [{"containerPort": 80, "hostPort": "x"}],
            [{"name": 5, "containerPort": 80}],
            [{"containerPort": 80, "hostPort": 2**40}],
            None,
            [{"name": "http", "containerPort": 80}, {"name": "http", "containerPort": 81}],
        ],
        "livenessProbe": "@probe",
        "readinessProbe": "@probe",
        "startupProbe": "@probe",
        "lifecycle": [
            [],
            "x",
            None,
            {},
            {"preStop": "sleep"},
            {"preStop": None},
            {"preStop": {}},
            {"preStop": {"sleep": {"seconds": "5"}}},
            {"preStop": {"sleep": {"seconds": -1}}},
            {"preStop": {"sleep": {"seconds": 2**64}}},
            {"preStop": {"sleep": {"seconds": 0}}},
            {"preStop": {"sleep": "x"}},
            {"preStop": {"sleep": {"seconds": True}}},
            {"preStop": {"exec": {"command": "sleep 5"}}},
            {"preStop": {"exec": {"command": ["sleep", "9" * 30]}}},
            {"preStop": {"exec": {"command": ["sleep", "²"]}}},
            {"preStop": {"exec": {"command": ["sleep"]}}},
            {"preStop": {"exec": {"command": ["sh", "-c", "sleep ٣"]}}},
            {"preStop": {"exec": {"command": ["sh", "-c", "sleep " + "9" * 400]}}},
            {"preStop": {"exec": {"command": [None, 5]}}},
            {"preStop": {"exec": {"command": ["/bin/sh", "-c", "kill -TERM 1"]}}},
            {"stopSignal": 5},
            {"stopSignal": "SIGQUIT"},
            {"preStop": {"httpGet": {"port": 80}}},
            {"preStop": {"exec": None}},
            {"postStart": "x", "preStop": [1]},
        ],
        "command": [
            "sh -c x",
            ["sh", "-c"],
            ["sh", "-c", ""],
            ["sh", "-c", "   "],
            [["sh"]],
            [None],
            [],
            ["sh", "-c", "a; b"],
            ["sh", "-o"],
            ["env"],
            ["env", "A=1"],
            ["busybox"],
            ["busybox", "sh", "-c", "a; b"],
            ["sh", "-c", "'unterminated"],
            ["sh", "-c", "x <<EOF"],
            ["sh", "-c", "$(("],
            ["bash", "-c", "fi"],
            ["bash", "-c", "if a; then b; fi"],
            ["sh", "-c", "a &"],
            ["sh", "-c", "done"],
            ["sh", "-c", "a\n#"],
            ["sh", "-c", "}"],
            ["sh", "-euo", "pipefail", "-c", "a; b"],
            ["sh", "-c", "a", "b"],
            ["sh", 5, "-c"],
        ],
        "args": ["x", [None], ["-c"], ["a; b"], [5, True]],
        "restartPolicy": ["Always", 5],
        "securityContext": ["x", {"windowsOptions": {}}],
    },
    "annotations": {
        "zdrender.io/prestop-seconds": [15, "15", True, -1, 0, 2**64, [], "x", 1.5, None, "²"],
        "zdrender.io/skip": [True, False, "yes", [], 5, None, "maybe"],
        "zdrender.io/skip-rules": [["rollout"], "rollout,signals", 5, {"a": 1}, "nope", None, ""],
        "zdrender.io/sidecars": [["app"], {"a": 1}, 5, "app,web", None],
        "zdrender.io/sidecar-names": [["web"], 5],
        "zdrender.io/sidecar-mode": ["native", 5, "off", [], "stagger"],
        "zdrender.io/drain-seconds": [-1, "40", 2**64, True, 0],
        "zdrender.io/disruption-budget": [True, "true", 5, []],
        "zdrender.io/stop-signals": [{"nginx": "SIGQUIT"}, "nginx=SIGFOO", "*=SIGQUIT", [], "=x", {"*": 5}, "*=²"],
        "zdrender.io/kube-version": ["1.28", 5],
        "zdrender.io/probe-startup": [True, "x"],
        "zdrender.io/readiness-from-port": [True, "x", 5],
        "zdrender.io/max-liveness-delay": [0, 30, "x", 2**64],
        "zdrender.io/keep-warm": [True, 5],
        "zdrender.io/mesh": [False, "x"],
        "zdrender.io/max-surge-percent": [1, 100, 0, "x", 2**64],
        "zdrender.io/min-ready-seconds": [5, "x", 2**64],
        "zdrender.io/probe-period-factor": [1, 3, 2**64, 0],
        "proxy.istio.io/config": [
            5,
            "terminationDrainDuration: 9999999999999999999h",
            "[",
            {"a": "b"},
            "terminationDrainDuration: ²s",
            "- x",
            "terminationDrainDuration: [1]",
            "terminationDrainDuration: " + "1" * 400 + "s",
            "terminationDrainDuration: 30s",
            "{terminationDrainDuration: 1s, holdApplicationUntilProxyStarts: true}",
            "terminationDrainDuration: 1s\n" * 2,
            "x: *a",
            "terminationDrainDuration: !!binary aGk=",
        ],
        "config.alpha.linkerd.io/proxy-wait-before-exit-seconds": [99999999999999999999, "²", "٣", "  7 ", 5.5, "-1", True, "1" * 400, "90"],
        "sidecar.istio.io/inject": [True, "true", 5],
        "sidecar.istio.io/nativeSidecar": [True, "true"],
        "linkerd.io/inject": ["enabled", 5, [], "ingress"],
        "config.beta.linkerd.io/proxy-enable-native-sidecar": [True, "true"],
        "helm.sh/hook": ["pre-install", 5, None],
        "postrenderer.helm.sh/postrender-filename": [5, "", "chart/templates/x.yaml", []],
        "internal.config.kubernetes.io/index": ["²", "1" * 5000, 5, "3"],
        "internal.config.kubernetes.io/path": ["x.yaml", 5, []],
    },
    "meta": {
        "name": [5, None, [], "x" * 300, "", "web", "a\nb", "a\u2028b"],
        "namespace": [5, None, [], "ns"],
        "labels": ["x", None, {"app": 5}, {"sidecar.istio.io/inject": True}, {"app": "web"}],
        "annotations": ["x", None, [], {}],
    },
}
PROBES = [
    "httpGet /",
    [],
    None,
    5,
    {},
    {"periodSeconds": -1},
    {"periodSeconds": 0, "failureThreshold": 0},
    {"periodSeconds": "10"},
    {"httpGet": "x"},
    {"httpGet": {"port": "http", "httpHeaders": "x"}},
    {"httpGet": {"port": [], "httpHeaders": [None, {"name": 5}]}},
    {"exec": {"command": "x"}},
    {"tcpSocket": None},
    {"grpc": {"port": "x"}},
    {"periodSeconds": 2**64, "failureThreshold": 2**64},
    {"timeoutSeconds": 1e300},
    {"initialDelaySeconds": -100},
    {"httpGet": {"port": 80}, "periodSeconds": 0, "timeoutSeconds": 0},
    {"tcpSocket": {"port": 80}, "periodSeconds": 1, "failureThreshold": 1, "timeoutSeconds": 5},
    {"httpGet": {"port": 80}, "periodSeconds": 0.5},
    {"exec": {"command": ["true"]}, "periodSeconds": True},
    {"httpGet": {"port": 80}, "successThreshold": 0, "failureThreshold": -1},
]


def _walk(node, prefix=()):
    """Every path below `node`, parents before children."""
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in items:
        yield (*prefix, key)
        yield from _walk(value, (*prefix, key))


def _get(node, path):
    for part in path:
        node = node[part]
    return node


def _dict_at(node, path) -> dict | None:
    for part in path:
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node if isinstance(node, dict) else None


def _pod_template(obj: dict) -> dict | None:
    pointer = TEMPLATE_POINTERS.get(obj.get("kind"), None) if isinstance(obj.get("kind"), str) else None
    if pointer is None:
        return None
    return _dict_at(obj, pointer.split("/")[1:])


def _containers(obj: dict) -> list[dict]:
    pod = _dict_at(_pod_template(obj) or {}, ["spec"]) or {}
    found = []
    for key in ("containers", "initContainers"):
        if isinstance(pod.get(key), list):
            found += [c for c in pod[key] if isinstance(c, dict)]
    return found


def _value(draw, choices):
    if choices == "@probe":
        choices = PROBES
    return copy.deepcopy(draw(st.one_of(st.sampled_from(choices), wrong) if draw(st.integers(0, 4)) == 0 else st.sampled_from(choices)))


def replace_subtree(draw, obj: dict) -> None:
    paths = list(_walk(obj))
    if paths:
        path = draw(st.sampled_from(paths))
        _get(obj, path[:-1])[path[-1]] = copy.deepcopy(draw(wrong))


def delete_key(draw, obj: dict) -> None:
    paths = [p for p in _walk(obj) if isinstance(_get(obj, p[:-1]), dict)]
    if paths:
        path = draw(st.sampled_from(paths))
        del _get(obj, path[:-1])[path[-1]]


def duplicate(draw, obj: dict) -> None:
    """Duplicate an item of a list (containers, ports, env...), or turn a mapping into a list of two."""
    listed = (_dict_at(_pod_template(obj) or {}, ["spec"]) or {}).get("containers")
    containers = [c for c in listed if isinstance(c, dict)] if isinstance(listed, list) else []
    lists = [p for p in _walk(obj) if isinstance(_get(obj, p), list) and _get(obj, p)]
    maps = [p for p in _walk(obj) if isinstance(_get(obj, p), dict)]
    choice = draw(st.integers(0, 2))
    if choice == 0 and containers:
        pod = _dict_at(_pod_template(obj), ["spec"])
        pod["containers"].append(copy.deepcopy(draw(st.sampled_from(containers))))
    elif choice == 1 and lists:
        target = _get(obj, draw(st.sampled_from(lists)))
        target.append(copy.deepcopy(draw(st.sampled_from(target))))
    elif maps:
        path = draw(st.sampled_from(maps))
        value = _get(obj, path)
        _get(obj, path[:-1])[path[-1]] = [value, copy.deepcopy(value)]


def targeted(draw, obj: dict) -> None:
    where = draw(st.sampled_from(sorted(TARGETS)))
    key = draw(st.sampled_from(sorted(TARGETS[where])))
    value = _value(draw, TARGETS[where][key])
    template = _pod_template(obj)
    if where == "root":
        target = obj
    elif where == "spec":
        target = obj.get("spec") if obj.get("kind") != "Pod" else None
        if key == "template" and template is not None and obj.get("kind") == "CronJob":
            target = _dict_at(obj, ["spec", "jobTemplate", "spec"])
    elif where == "pod":
        target = _dict_at(template or {}, ["spec"])
    elif where == "container":
        found = _containers(obj)
        target = draw(st.sampled_from(found)) if found else None
    elif where == "annotations":
        meta = draw(st.sampled_from([obj.get("metadata"), (template or {}).get("metadata")]))
        if isinstance(meta, dict) and not isinstance(meta.get("annotations"), dict):
            meta["annotations"] = {}
        target = meta.get("annotations") if isinstance(meta, dict) else None
    else:
        target = draw(st.sampled_from([obj.get("metadata"), (template or {}).get("metadata")]))
    if isinstance(target, dict):
        target[key] = value


MUTATIONS = [replace_subtree, delete_key, duplicate, targeted, targeted, targeted]


@st.composite
def context_docs(draw, obj: dict) -> list:
    """A Service, HPA or PDB about the workload (or a mutated real one)."""
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    tmeta = (_pod_template(obj) or {}).get("metadata")
    labels = tmeta.get("labels") if isinstance(tmeta, dict) else None
    selector = draw(st.sampled_from([labels, labels, "x", None, {"app": 5}, {}, [labels]]))
    docs: list = []
    if draw(st.booleans()):
        docs.append({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "svc"}, "spec": {"selector": copy.deepcopy(selector), "ports": [{"port": 80}]}})
    if draw(st.booleans()):
        ref = draw(st.sampled_from([{"kind": obj.get("kind"), "name": meta.get("name")}, "x", None, {"kind": 5}]))
        minimum = draw(st.sampled_from(["2", -1, 0, 1, 2, 3, 2**31, 1.5, None, True, 10**30]))
        docs.append({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "hpa"}, "spec": {"scaleTargetRef": ref, "minReplicas": minimum, "maxReplicas": 10}})
    if draw(st.booleans()):
        pdb_selector = draw(st.sampled_from([{"matchLabels": labels}, "x", {"matchLabels": "x"}, {"matchExpressions": [{"operator": "In"}]}, None]))
        docs.append({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "pdb"}, "spec": {"maxUnavailable": 1, "selector": copy.deepcopy(pdb_selector)}})
    if draw(st.booleans()):
        real = copy.deepcopy(draw(st.sampled_from(pools()[1])))
        if draw(st.booleans()):
            replace_subtree(draw, real)
        docs.append(real)
    return docs


FLAGS = [
    "sidecar-mode=native",
    "sidecar-mode=off",
    "disruption-budget=true",
    "probe-startup=true",
    "readiness-from-port=true",
    "max-liveness-delay=0",
    "keep-warm=true",
    "min-ready-seconds=5",
    "feature-gates=ContainerStopSignals=true",
    "stop-signals=nginx=SIGQUIT",
    "stop-signals=*=SIGQUIT",
    "include-hooks=true",
    "mesh=false",
    "max-surge-percent=100",
    "max-surge-percent=1",
    "prestop-seconds=1",
    "drain-seconds=0",
    "probe-window-factor=5",
]


@st.composite
def cases(draw):
    """(stream text, CLI args, the objects it holds when it is a plain stream of them, else None)."""
    workloads, _ = pools()
    obj = copy.deepcopy(draw(st.sampled_from(workloads)))
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        draw(st.sampled_from(MUTATIONS))(draw, obj)
    objs = [*draw(context_docs(obj)), obj]
    if draw(st.integers(0, 5)) == 0:
        objs.insert(draw(st.integers(0, len(objs))), draw(st.sampled_from([5, "x", ["a"], True])))  # a scalar or list document
    plain = True
    if draw(st.integers(0, 5)) == 0:
        items = objs + draw(st.lists(st.sampled_from([5, "x", None, [], {}]), max_size=2))
        objs, plain = [{"apiVersion": "v1", "kind": "List", "items": items}], False
    flow = draw(st.sampled_from([False, False, True, None]))
    text = ""
    for o in objs:
        head = draw(st.sampled_from(["---\n", "---\n# Source: chart/templates/x.yaml\n"]))
        text += head + yaml.safe_dump(o, default_flow_style=flow, sort_keys=False, allow_unicode=draw(st.booleans()), width=draw(st.sampled_from([80, 1 << 20])))
    if draw(st.integers(0, 6)) == 0:  # text-level damage: duplicate keys, a cut, stray characters
        lines = text.splitlines(keepends=True)
        at = draw(st.integers(0, len(lines) - 1))
        damage = draw(st.sampled_from(["duplicate", "cut", "tab", "nul"]))
        if damage == "duplicate":
            lines.insert(at, lines[at])
        elif damage == "cut":
            lines = lines[:at] + [lines[at][: len(lines[at]) // 2]]
        else:
            lines[at] = ("\t" if damage == "tab" else "\x00") + lines[at]
        text, plain = "".join(lines), False
    args = [f"--kube-version={draw(st.sampled_from(['1.24', '1.28', '1.29', '1.30', '1.31', '1.33']))}"]
    for flag in draw(st.lists(st.sampled_from(FLAGS), max_size=3, unique=True)):
        args += ["--set", flag]
    return text, args, objs if plain else None


# -- what every mode must do with an input ------------------------------------------------------
def assert_refusal(err: Exception) -> None:
    message = one_line(str(err))  # as the CLI prints it
    assert message.splitlines() == [message] and message.strip() == message, f"not one line: {message!r}"
    assert "document" in message or "functionConfig" in message, f"does not name the document: {message}"


def other_modes(text: str, settings) -> None:
    """explain, the reports, timeline: each succeeds or refuses with one line."""
    from zdrender.timeline import svg, terminal
    from zdrender.timeline.compare import compare

    try:
        result = pipeline.run(text, settings, parse_all=True)
        json.dumps(pipeline.explain(result), default=str)
        for fmt in report.FORMATS:
            report.format_findings(fmt, result.findings, mode="check", files=1)
        report.summary_lines(result.findings, verbose=True)
        report.to_json(result.findings, mode="render")
    except (pipeline.InputError, SettingsError) as err:
        assert_refusal(err)
    try:
        comparisons = compare(text, settings)
    except (pipeline.InputError, SettingsError) as err:
        assert_refusal(err)
    else:
        if comparisons:
            terminal.to_text(comparisons)
            svg.render(comparisons)


def krm_mode(objs: list, args: list[str], settings, stream_result) -> None:
    """The same objects as a ResourceList: refused with one line and an error result, or patched as
    in stream mode."""
    from helpers import make_settings as settings_for_args

    resource_list = {"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList", "items": objs}
    text = yaml.safe_dump(resource_list, sort_keys=False)
    # Flow style (and aliases, which safe_dump writes for shared values) take the whole-list path.
    text = yaml.safe_dump(resource_list, sort_keys=False, default_flow_style=[False, True, None][zlib.crc32(text.encode()) % 3])
    outcome = krm.run(text, lambda function_config: settings_for_args(args))
    output = yamldoc.load(outcome.output)
    assert isinstance(output, dict) and output.get("kind") == "ResourceList"
    if outcome.error is not None:
        assert "\n" not in outcome.error and outcome.error
        assert output["results"][-1] == {"message": outcome.error, "severity": "error"}
        return
    if stream_result is None:
        return
    items = output.get("items") or []
    expected = [yamldoc.load(stream.split(d.output).documents[0].text) for d in stream_result.documents]
    assert items[: len(expected)] == expected, "KRM mode patched the items differently from stream mode"


def cli_modes(text: str, args: list[str]) -> None:
    """check, diff, explain and flux through the Typer app, in-process."""
    from zdrender.cli import app

    runner = CliRunner()
    for command, codes in (("check", (0, 1, 2)), ("diff", (0, 2)), ("explain", (0, 2)), ("flux", (0, 2))):
        outcome = runner.invoke(app, [command, *args], input=text)
        assert outcome.exception is None or isinstance(outcome.exception, SystemExit), (command, outcome.exception)
        assert outcome.exit_code in codes, (command, outcome.exit_code, outcome.output)


@hsettings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
)
@given(cases())
def test_mutated_workloads_never_crash(case):
    _require_corpus()
    text, args, objs = case
    settings = make_settings(args)
    version = args[0].split("=")[1]
    try:
        result = check(text, settings, validate_version=version if version in ("1.28", "1.30") else None)
    except (pipeline.InputError, SettingsError) as err:
        assert_refusal(err)
        result = None
    other_modes(text, settings)
    if objs is not None:
        krm_mode(objs, args, settings, result)
    if EXAMPLES <= 100 or zlib.crc32(text.encode()) % 10 == 0:  # Typer's runner is the slow part of an example
        cli_modes(text, args)


# -- streams spelled from YAML's own tokens ------------------------------------------------------
TOKENS = [
    "---\n",
    "...\n",
    "kind: ",
    "Deployment",
    "List",
    "ResourceList",
    "apiVersion: ",
    "config.kubernetes.io/v1",
    "items:",
    "\n",
    "  ",
    "- ",
    "{",
    "}",
    "[",
    "]",
    ":",
    ",",
    "&a ",
    "*a",
    "!!int ",
    "!!bool ",
    "!!float ",
    "<<: ",
    "? ",
    "|",
    ">",
    "#",
    "'",
    '"',
    "\t",
    "\r\n",
    "\ufeff",
    "%YAML 1.1\n",
    "spec:",
    "template:",
    "containers:",
    "name: x",
    "ports: [{containerPort: 80}]",
    "\x00",
    "\u2028",
    "é",
    "9" * 30,
]


@hsettings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(TOKENS), max_size=60).map("".join))
def test_token_soup_never_crashes(text):
    """Text no renderer would write: every mode reads it or refuses it in one line."""
    from zdrender.timeline.compare import compare

    settings = make_settings()
    for run in (lambda: pipeline.run(text, settings), lambda: pipeline.explain(pipeline.run(text, settings, parse_all=True)), lambda: compare(text, settings)):
        try:
            run()
        except (pipeline.InputError, SettingsError) as err:
            assert_refusal(err)
    if krm.is_resource_list(text):
        outcome = krm.run(text, lambda function_config: settings)
        assert yamldoc.load(outcome.output)["kind"] == "ResourceList"
        assert outcome.error is None or one_line(outcome.error) == outcome.error


# -- the executable, on a few mutated inputs -----------------------------------------------------
def zdrender(*args: str, stdin: bytes, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "zdrender", *args], input=stdin, capture_output=True, timeout=timeout)


def assert_contract(proc: subprocess.CompletedProcess, codes: tuple[int, ...] = (0, 2), krm_mode: bool = False) -> None:
    err = proc.stderr.decode("utf-8", "replace")
    assert "Traceback" not in err, err
    assert proc.returncode in codes, (proc.returncode, err)
    if proc.returncode == 2:
        assert ERROR_LINE.fullmatch(err), f"not one line starting zdrender: {err!r}"
        if krm_mode:
            assert yamldoc.load(proc.stdout.decode())["results"][-1]["severity"] == "error"
        else:
            assert proc.stdout == b""


@hsettings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(cases())
def test_executable_keeps_its_contract_on_mutated_inputs(case):
    _require_corpus()
    text, args, objs = case
    data = text.encode()
    assert_contract(zdrender(*args, stdin=data))
    assert_contract(zdrender("check", *args, stdin=data), codes=(0, 1, 2))
    for command in ("explain", "diff", "timeline"):
        assert_contract(zdrender(command, *args, stdin=data))
    if objs is not None:
        resource_list = yaml.safe_dump({"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList", "items": objs}, sort_keys=False)
        assert_contract(zdrender(*args, stdin=resource_list.encode()), krm_mode=True)


# -- regressions: one test per crash the mutations found -----------------------------------------
def web() -> dict:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": "nginx", "ports": [{"containerPort": 80}]}]},
            },
        },
    }


def stream_of(*objs) -> str:
    return "".join("---\n" + yaml.safe_dump(o, sort_keys=False) for o in objs)


def deep(levels: int) -> object:
    value: object = "x"
    for _ in range(levels):
        value = [value]
    return value


def test_nesting_to_the_depth_limit_works_everywhere_and_deeper_is_one_line():
    # Depths from ~490 to libyaml's 1000 used to end in a RecursionError traceback.
    obj = web()
    obj["spec"]["template"]["spec"]["x"] = deep(yamldoc.MAX_DEPTH - 4)  # 4 mappings above it
    text = stream_of(obj)
    check(text, make_settings())
    other_modes(text, make_settings())
    krm_mode([obj], [], None, None)
    obj["spec"]["template"]["spec"]["x"] = deep(yamldoc.MAX_DEPTH)
    with pytest.raises(pipeline.InputError, match=rf"^document 1, line \d+: collections nested more than {yamldoc.MAX_DEPTH} deep"):
        pipeline.run(stream_of(obj), make_settings())


def test_an_alias_inside_what_it_refers_to_is_one_line():
    text = "---\nkind: Service\nspec: &s\n  ports: []\n  <<: *s\n"
    with pytest.raises(pipeline.InputError, match=r"^document 1, line \d+: collections nested more than 128 deep \(an alias inside"):
        pipeline.run(text, make_settings())


def test_many_nodes_without_aliases_are_not_an_alias_bomb():
    # A 50 MB ResourceList of ConfigMaps was refused as "more than 250000 nodes after expanding aliases".
    assert len(yamldoc.load("[" + "1, " * (yamldoc.MAX_NODES + 10) + "]")) == yamldoc.MAX_NODES + 10


@pytest.mark.parametrize("kind", [{}, [], {"a": 1}, ["Deployment"]])
def test_a_kind_that_is_not_a_string_is_refused_without_a_crash(kind):
    # `obj.get("kind") in LIST_KINDS` raised TypeError: unhashable type. Inside a List it is carried (the
    # List is judged by its own kind); as a document it is no object, which Helm and kubectl refuse.
    listed = {"apiVersion": "v1", "kind": "List", "items": [{**web(), "kind": kind}, {"kind": kind}]}
    text = stream_of(listed)
    result = check(text, make_settings())
    assert result.output == text and not result.findings
    with pytest.raises(pipeline.InputError, match=r"^document 2, line \d+: the document has no kind, so it is no Kubernetes object; Helm and kubectl refuse it"):
        check(stream_of(listed, {"apiVersion": "v1", "kind": kind, "spec": {"selector": {"app": "web"}}}), make_settings())


def test_digits_that_are_not_ascii_are_no_seconds():
    # "²".isdigit() is True and int("²") raised ValueError; "٣" (an Arabic-Indic 3) is no number to sleep.
    from zdrender.policy import sleep_seconds

    assert sleep_seconds({"exec": {"command": ["sleep", "²"]}}) is None
    assert sleep_seconds({"exec": {"command": ["sh", "-c", "sleep ٣"]}}) is None
    assert sleep_seconds({"exec": {"command": ["sleep", "15s"]}}) == 15
    obj = web()
    pod = obj["spec"]["template"]
    pod["metadata"]["annotations"] = {"linkerd.io/inject": "enabled", "config.alpha.linkerd.io/proxy-wait-before-exit-seconds": "²"}
    pod["spec"]["containers"].append({"name": "envoy", "image": "envoyproxy/envoy:v1.31", "lifecycle": {"preStop": {"exec": {"command": ["sleep", "²"]}}}})
    result = check(stream_of(obj), make_settings())
    assert any(f.rule == "mesh" and "not a whole number of seconds" in f.message for f in result.findings)


@pytest.mark.parametrize("scalar", ["!!int abc", "!!bool x", "!!float x", "!!int", "!!int " + "9" * 5000])
def test_a_scalar_that_cannot_be_its_type_is_one_line(scalar):
    # `!!bool x` raised KeyError and `!!int` of nothing IndexError (tracebacks); `!!int abc` and 5000
    # digits raised ValueError whose message named no document.
    text = f"---\napiVersion: v1\nkind: Service\nmetadata: {{name: s}}\nspec:\n  x: {scalar}\n"
    with pytest.raises(pipeline.InputError, match=r"^document 1, line 6: '.*' cannot be read as (int|bool|float)"):
        pipeline.run(text, make_settings())


@pytest.mark.parametrize("digits", ["1" * 5000, "²", "1" * 5000 + "%"])
def test_numbers_in_strings_int_cannot_read_are_not_judged(digits):
    # int() refuses more than 4300 digits, and "²".isdigit() is True: ValueError tracebacks in the
    # sleep, Linkerd wait, maxSurge and KRM index readers.
    obj = web()
    obj["metadata"]["annotations"] = {"internal.config.kubernetes.io/path": "web.yaml", "internal.config.kubernetes.io/index": digits}
    pod = obj["spec"]["template"]
    pod["metadata"]["annotations"] = {"linkerd.io/inject": "enabled", "config.alpha.linkerd.io/proxy-wait-before-exit-seconds": digits}
    pod["spec"]["containers"][0]["lifecycle"] = {"preStop": {"exec": {"command": ["sleep", digits]}}}
    obj["spec"]["strategy"] = {"rollingUpdate": {"maxSurge": digits, "maxUnavailable": digits}}
    check(stream_of(obj), make_settings())
    other_modes(stream_of(obj), make_settings())
    krm_mode([obj], [], None, None)


def test_waits_beyond_int64_are_not_judged():
    # A 400-digit Go duration became float inf (math.ceil raised OverflowError); sleep 10^30 asked for a
    # grace period no int64 holds.
    obj = web()
    pod = obj["spec"]["template"]
    pod["metadata"]["annotations"] = {"proxy.istio.io/config": "terminationDrainDuration: " + "1" * 400 + "s"}
    pod["spec"]["containers"][0]["lifecycle"] = {"preStop": {"exec": {"command": ["sleep", "9" * 30]}}}
    result = check(stream_of(obj), make_settings())
    assert all(not isinstance(op.get("value"), int) or op["value"] < 2**63 for op in result.documents[0].ops)
    assert not any(op["path"].endswith("terminationGracePeriodSeconds") for op in result.documents[0].ops)


@pytest.mark.parametrize("lifecycle", [[], "x", 5, [{"preStop": {}}]])
def test_a_field_under_a_wrongly_typed_value_is_skipped_with_a_warning(lifecycle):
    # `lifecycle: []` raised JsonPointerException in RuleContext.set; `lifecycle: "x"` was overwritten.
    obj = web()
    obj["spec"]["template"]["spec"]["containers"][0]["lifecycle"] = lifecycle
    result = check(stream_of(obj), make_settings())
    skipped = [f for f in result.findings if f.rule == "prestop-sleep"]
    assert len(skipped) == 1 and skipped[0].severity == "warning" and not skipped[0].ops
    assert "/spec/template/spec/containers/0/lifecycle is " in skipped[0].message and "where Kubernetes expects a mapping" in skipped[0].message
    assert yamldoc.load(result.output)["spec"]["template"]["spec"]["containers"][0]["lifecycle"] == lifecycle


def test_a_stop_signal_a_rule_rejects_names_the_workload_and_document():
    # Checked when the annotation is read (settings are judged when loaded, never inside a rule's plan).
    obj = web()
    obj["metadata"]["annotations"] = {"zdrender.io/stop-signals": "nginx=SIGFOO"}
    with pytest.raises(pipeline.InputError) as err:
        pipeline.run(stream_of({"apiVersion": "v1", "kind": "ConfigMap"}, obj), make_settings())
    assert_refusal(err.value)
    assert re.match(r"setting stop-signals \(annotation on Deployment/web \(document 2, line \d+\)\): 'SIGFOO'", str(err.value))


@pytest.mark.parametrize("replicas, desired", [(2**31 - 1, None), (10**30, None), (-1, 0), (1000, 1000)])
def test_timeline_of_huge_or_negative_replica_counts(replicas, desired):
    # 2^31 replicas hung the simulation (or raised OverflowError); -1 raised ValueError (min of nothing).
    from zdrender.timeline import svg, terminal
    from zdrender.timeline.compare import compare

    obj = web()
    obj["spec"]["replicas"] = replicas
    started = time.monotonic()
    (comparison,) = compare(stream_of(obj), make_settings())
    rollout = comparison.before.rollout
    assert (rollout.desired if rollout else None) == desired
    terminal.to_text([comparison])
    svg.render([comparison])
    assert time.monotonic() - started < 10


def test_no_pdb_for_a_selector_that_misses_its_own_pods():
    # The PDB took the workload's selector, which did not select the template: it covered nothing, so
    # every run added one more (not idempotent).
    obj = web()
    obj["spec"]["replicas"] = 3
    obj["spec"]["selector"]["matchLabels"] = [{"app": "web"}]
    result = check(stream_of(obj), make_settings(["--set", "disruption-budget=true"]))
    assert [f.message for f in result.findings if f.rule == "disruption-budget"] == [
        "no PodDisruptionBudget added: spec.selector does not select the pod template's labels, which the API server rejects; fix the selector"
    ]


# -- hostile streams through the executable ------------------------------------------------------
MODES = [(), ("check",), ("explain",), ("diff",), ("timeline",)]
RESOURCE_LIST = b"apiVersion: config.kubernetes.io/v1\nkind: ResourceList\n"
HOSTILE = {
    "not UTF-8": (b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: \xff\xfe}\n", "stdin: document 1, line 3, column 18: byte 0xff is not UTF-8"),
    "NUL byte": (b"apiVersion: v1\nkind: ConfigMap\x00\nmetadata: {name: a}\n", "document 1"),
    "10000 [": (b"[" * 10000 + b"\n", "document 1, line 1: "),
    "500 deep in a workload": (stream_of(web()).encode() + b"  x: " + b"[" * 500 + b"]" * 500 + b"\n", "document 1, line 20: collections nested"),
    "bare scalar": (b"---\nhello\n", None),
    "top-level list": (b"---\n- a\n- b\n", None),
    "List of non-objects": (b"apiVersion: v1\nkind: List\nitems: [1, x, null, [1], {}]\n", None),
    "a name with line breaks": (stream_of({**web(), "metadata": {"name": "a\nb\u2028c", "annotations": {"zdrender.io/skip": "x"}}}).encode(), "Deployment/a\\nb\\u2028c"),
    "duplicate keys": (stream_of(web()).replace("kind: Deployment\n", "kind: Deployment\nkind: Deployment\n").encode(), None),
    "ResourceList items not a list": (RESOURCE_LIST + b"items: 5\n", "ResourceList items (line 3) is not a list"),
    "ResourceList of non-objects": (RESOURCE_LIST + b"items:\n- 5\n", "ResourceList items[0] (line 4) is not an object"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_streams_give_an_answer_or_one_line(name):
    data, error = HOSTILE[name]
    for mode in MODES:
        krm_input = data.startswith(RESOURCE_LIST) and not mode
        proc = zdrender(*mode, stdin=data)
        assert_contract(proc, codes=(0, 1, 2) if mode == ("check",) else (0, 2), krm_mode=krm_input)
        if error is not None and mode != ("timeline",) and not (data.startswith(RESOURCE_LIST) and mode):
            assert proc.returncode == 2 and error in proc.stderr.decode(), (mode, proc.stderr)


def test_a_50_mb_stream_of_configmaps_is_passed_through_within_bounded_memory(tmp_path):
    doc = "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-{}\ndata:\n  key: " + "x" * 400 + "\n"
    source = tmp_path / "big.yaml"
    with open(source, "w", encoding="utf-8") as handle:
        for n in range(50 * 1024 * 1024 // len(doc)):
            handle.write(doc.format(n))
    output = tmp_path / "out.yaml"
    # The child's peak memory, measured in a process of its own so no other child counts.
    probe = (
        "import resource, subprocess, sys, time\n"
        "start = time.monotonic()\n"
        f"with open({str(source)!r}, 'rb') as i, open({str(output)!r}, 'wb') as o:\n"
        "    code = subprocess.run([sys.executable, '-m', 'zdrender', '--quiet'], stdin=i, stdout=o).returncode\n"
        "print(code, time.monotonic() - start, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    )
    # Not a timed test (bench/ measures speed): the timeout only turns a hang into a failure.
    code, _, peak_kb = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=300).stdout.split()
    assert code == "0"
    assert output.read_bytes() == source.read_bytes()
    assert int(peak_kb) < 1024 * 1024, f"{int(peak_kb) // 1024} MB peak for 50 MB"  # measured: ~200 MB


@pytest.mark.parametrize(
    "function_config",
    [
        "{apiVersion: v1, kind: ConfigMap, data: x}",  # dict("x") raised ValueError: no ResourceList came back
        "{apiVersion: v1, kind: ConfigMap, data: [[a, b]]}",  # read as {a: b}
        "{apiVersion: zdrender.io/v1alpha1, kind: ZdRender, spec: [1]}",  # a TypeError traceback
        "{apiVersion: v1, kind: ConfigMap, data: {prestop-seconds: [1]}}",
        "{apiVersion: v1, kind: [ConfigMap]}",
        "[1]",
    ],
)
def test_a_malformed_function_config_is_an_error_result(function_config):
    data = (
        RESOURCE_LIST
        + f"functionConfig: {function_config}\nitems:\n".encode()
        + b"".join(b"- " + line.encode() + b"\n" if i == 0 else b"  " + line.encode() + b"\n" for i, line in enumerate(yaml.safe_dump(web()).splitlines()))
    )
    proc = zdrender(stdin=data)
    assert_contract(proc, krm_mode=True)
    assert proc.returncode == 2 and "functionConfig" in proc.stderr.decode()
