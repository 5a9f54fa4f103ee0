"""The guarantees over generated manifests: many shapes and spellings of the same objects."""

from __future__ import annotations

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zdrender import stream

from guarantees import check
from helpers import make_settings

names = st.from_regex(r"[a-z][a-z0-9-]{0,8}", fullmatch=True)
seconds = st.integers(min_value=0, max_value=120)


@st.composite
def probes(draw):
    probe = draw(
        st.sampled_from(
            [
                {"httpGet": {"path": "/healthz", "port": 8080}},
                {"tcpSocket": {"port": 8080}},
                {"exec": {"command": ["cat", "/tmp/ready"]}},
            ]
        )
    )
    for key in ("initialDelaySeconds", "periodSeconds", "timeoutSeconds", "failureThreshold"):
        if draw(st.booleans()):
            probe[key] = draw(st.integers(min_value=1, max_value=60))
    return probe


@st.composite
def containers(draw, name):
    container = {"name": name, "image": draw(st.sampled_from(["nginx:1.27", "example/app:1", "gcr.io/cloud-sql-connectors/cloud-sql-proxy:2.14.1", "envoyproxy/envoy:v1.31"]))}
    if draw(st.booleans()):
        container["ports"] = [{"containerPort": draw(st.integers(min_value=1, max_value=65535))}]
    if draw(st.booleans()):
        container["readinessProbe"] = draw(probes())
    if draw(st.booleans()):
        container["livenessProbe"] = draw(probes())
    lifecycle = draw(st.sampled_from([None, {}, {"postStart": {"exec": {"command": ["true"]}}}, {"preStop": {"sleep": {"seconds": 3}}}]))
    if lifecycle is not None:
        container["lifecycle"] = lifecycle
    if draw(st.booleans()):
        container["command"] = draw(st.sampled_from([["sh", "-c", "exec app"], ["sh", "-c", "app"], ["app", "--flag"]]))
    return container


@st.composite
def workloads(draw):
    kind = draw(st.sampled_from(["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "Pod"]))
    name = draw(names)
    labels = {"app": name}
    count = draw(st.integers(min_value=1, max_value=3))
    pod_spec = {"containers": [draw(containers(f"c{i}")) for i in range(count)]}
    if draw(st.booleans()):
        pod_spec["terminationGracePeriodSeconds"] = draw(seconds)
    metadata = {"name": name}
    if draw(st.booleans()):
        metadata["annotations"] = draw(st.sampled_from([{"zdrender.io/prestop-seconds": "15"}, {"helm.sh/hook": "pre-install"}, {"note": "on"}, {"zdrender.io/drain-seconds": "40"}]))
    if kind == "Pod":
        return {"apiVersion": "v1", "kind": "Pod", "metadata": {**metadata, "labels": labels}, "spec": pod_spec}
    if kind == "Job":
        pod_spec["restartPolicy"] = "Never"
        return {"apiVersion": "batch/v1", "kind": "Job", "metadata": metadata, "spec": {"template": {"spec": pod_spec}}}
    spec = {"selector": {"matchLabels": labels}, "template": {"metadata": {"labels": labels}, "spec": pod_spec}}
    if kind in ("Deployment", "StatefulSet", "ReplicaSet") and draw(st.booleans()):
        spec["replicas"] = draw(st.integers(min_value=0, max_value=5))
    if kind == "StatefulSet":
        spec["serviceName"] = name
    return {"apiVersion": "apps/v1", "kind": kind, "metadata": metadata, "spec": spec}


def service(name):
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name}, "spec": {"selector": {"app": name}, "ports": [{"port": 80}]}}


@st.composite
def documents(draw):
    obj = draw(st.one_of(workloads(), names.map(service), names.map(lambda n: {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": n}, "data": {"mode": "0644", "flag": "on"}})))
    flow = draw(st.sampled_from([False, None, True]))
    indent = draw(st.sampled_from([2, 4]))
    body = yaml.safe_dump(obj, default_flow_style=flow, indent=indent, sort_keys=draw(st.booleans()), width=draw(st.sampled_from([80, 1 << 20])))
    if draw(st.booleans()):  # Helm-style indented sequences
        body = body.replace("\n- ", "\n  - ")
        body = yaml.safe_dump(obj, default_flow_style=flow, indent=indent, sort_keys=False) if not _parses_same(body, obj) else body
    lines = body.splitlines(keepends=True)
    for _ in range(draw(st.integers(min_value=0, max_value=3)) if flow is False else 0):  # full-line comments between block lines
        at = draw(st.integers(min_value=0, max_value=len(lines)))
        lines.insert(at, "# a comment\n")
    head = draw(st.sampled_from(["---\n", "--- # separator comment\n", "---\n# Source: chart/templates/x.yaml\n"]))
    tail = draw(st.sampled_from(["", "", "...\n"]))
    return head + "".join(lines) + tail


def _parses_same(text, obj):
    try:
        return yaml.safe_load(text) == obj
    except yaml.YAMLError:
        return False


@st.composite
def streams(draw):
    docs = draw(st.lists(documents(), min_size=1, max_size=5))
    text = "".join(docs)
    if draw(st.booleans()):
        text = text.replace("\n", "\r\n")
    if draw(st.booleans()):
        text = "\ufeff" + text
    return text


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(streams(), st.sampled_from(["1.30", "1.28"]))
def test_guarantees_hold_for_generated_streams(text, version):
    check(text, make_settings([f"--kube-version={version}"]), validate_version=version)


# A document whose edit path runs through an alias is re-emitted in full; its root may start on the `---`
# line itself (an anchor, a tag, a flow mapping). Issue 10: the separator was dropped and the document
# merged into the one before it, exit 0.
ALIASED = """apiVersion: apps/v1
kind: Deployment
metadata: {name: NAME}
spec:
  selector: {matchLabels: {app: NAME}}
  template:
    metadata: {labels: {app: NAME}}
    spec:
      containers: &c
        - {name: app, image: "example/app:1", ports: [{containerPort: 8080}]}
      initContainers: *c
"""
ALIASED_JSON = (
    '{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "NAME"}, "spec": {"selector": {"matchLabels": '
    '{"app": "NAME"}}, "template": {"metadata": {"labels": {"app": "NAME"}}, "spec": {"containers": &c [{"name": "app", '
    '"image": "example/app:1", "ports": [{"containerPort": 8080}]}], "initContainers": *c}}}}\n'
)


@st.composite
def reemitted_documents(draw):
    name = draw(names)
    head = draw(st.sampled_from(["--- &root\n", "--- !!map\n", "--- &root !!map\n", "---\n", "--- # comment\n"]))
    body = ALIASED.replace("NAME", name)
    if draw(st.booleans()):
        head, body = draw(st.sampled_from(["--- ", "--- &root ", "--- !!map "])), ALIASED_JSON.replace("NAME", name)
    return head + body


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(documents(), reemitted_documents()), min_size=2, max_size=5).filter(lambda d: any("&c" in x for x in d)))
def test_a_reemitted_document_keeps_its_separator(docs):
    text = "".join(docs)
    # assume-serving: a generated Service may select other pods, which would make the aliased one no server.
    result = check(text, make_settings(["--kube-version=1.30", "--set", "assume-serving=true"]))
    assert any(f.rule == "engine" for d in result.documents for f in d.findings), "the alias must force a re-emit"
    assert len(stream.split(result.output).documents) >= len(docs)


# -- one classification: the render path's text scan agrees with the parser ---------------------------
_KIND_SPELLINGS = [
    "kind: {k}",
    'kind: "{k}"',
    "kind: '{k}'",
    '"kind": {k}',
    "'kind': {k}",
    "kind : {k}",
    "kind: &k {k}",
    "kind: !!str {k}",
    'kind: "{head}\\x{code:02x}{tail}"',
    'kind: "{head}\\\n  {tail_all}"',
    "kind:\n  {k}",
    "kind: >-\n  {k}",
    "? kind\n: {k}",
    "<<: {{kind: {k}}}",
    "kind: {k} # the kind",
]
_DECOYS = [
    "",
    'note: "first line\nkind: {decoy}\n  last line"\n',
    "note: 'first line\nkind: {decoy}\n  last line'\n",
    "note: [a,\nkind: {decoy}\n  ]\n",
    "note: {{a: b,\nkind: {decoy}\n  }}\n",
    "note: |\n  kind: {decoy}\n",
    "rules:\n- kind: {decoy}\n",
    "# kind: {decoy}\n",
]


@st.composite
def classified_documents(draw):
    kind = draw(st.sampled_from(["Deployment", "StatefulSet", "Service", "ConfigMap", "Secret", "List"]))
    spelling = draw(st.sampled_from(_KIND_SPELLINGS))
    cut = draw(st.integers(min_value=1, max_value=len(kind) - 1))
    kind_line = spelling.format(k=kind, head=kind[:cut], code=ord(kind[cut]), tail=kind[cut + 1 :], tail_all=kind[cut:])
    decoy = draw(st.sampled_from(_DECOYS)).format(decoy=draw(st.sampled_from(["ConfigMap", "Deployment", "Secret"])))
    lines = ["apiVersion: v1\n", kind_line + "\n", "metadata:\n  name: x\n", decoy]
    indented = draw(st.booleans())
    if indented:  # the whole root indented, but for the decoy's lines after its first
        lines = ["".join("  " + line for line in piece.splitlines(keepends=True)) for piece in lines[:3]] + ["  " + decoy if decoy else ""]
    order = draw(st.permutations(range(len(lines))))
    body = "".join(lines[i] for i in order)
    if indented:
        body = "---\n" + body
    elif draw(st.booleans()):  # the root starts on the separator line
        body = draw(st.sampled_from(["--- !!map\n", "--- &root\n"])) + body
    if draw(st.booleans()):
        body = body.replace("\n", "\r\n")
    return body


@settings(max_examples=400, deadline=None)
@given(classified_documents())
def test_the_text_scan_classifies_as_the_parser_does(text):
    """Where the scan names a kind without parsing, the parser reads the same one (or none, then the
    document is no object at all); the render path skips a document only on that word."""
    from zdrender import yamldoc
    from zdrender.pipeline import _INTERESTING

    kind, has_content, classified = stream.classify(text)
    assert has_content
    try:
        data = yamldoc.load(text)
    except yamldoc.YAMLError:
        return  # refused in every mode alike
    if not classified:
        return
    parsed = data.get("kind") if isinstance(data, dict) else None
    assert parsed is None or parsed == kind or " " in str(parsed), (kind, parsed)
    assert (kind in _INTERESTING) == (parsed in _INTERESTING)
