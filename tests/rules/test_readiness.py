"""The readiness rule beyond its fixtures: which containers it reports, the port its opt-in probe checks,
that it runs before probe-balance (which balances liveness against the added probe in the same render),
and that a second run adds nothing."""

from __future__ import annotations

import pytest

from zdrender import pipeline, stream, yamldoc
from zdrender.rules import REGISTRY, probe_balance, readiness

from helpers import make_settings

SERVICE = "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {selector: {app: web}, ports: [{port: 80, targetPort: TARGET}]}\n---\n"
WEB = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - name: web
          image: example/web:1
          ports: PORTS
"""
ON = ["--set", "readiness-from-port=true"]


def web(ports: str, target: str = "8080") -> str:
    return SERVICE.replace("TARGET", target) + WEB.replace("PORTS", ports)


def run(text: str, args: list[str], rules=(readiness,)) -> pipeline.Result:
    return pipeline.run(text, make_settings(args), rules=rules)


def containers(output: str) -> list[dict]:
    docs = [yamldoc.load(d.text) for d in stream.split(output).documents if d.has_content]
    return [c for d in docs if d["kind"] == "Deployment" for c in d["spec"]["template"]["spec"]["containers"]]


def test_it_runs_before_probe_balance():
    ids = [rule.ID for rule in REGISTRY]
    assert ids.index("readiness") == ids.index("probe-balance") - 1


@pytest.mark.parametrize(
    "ports, target, port",
    [
        ("[{name: http, containerPort: 8080}]", "http", "http"),  # by name when it has one
        ("[{containerPort: 8080}]", "8080", 8080),
        ("[{name: metrics, containerPort: 9090}, {containerPort: 8080}]", "8080", 8080),  # never the metrics port
        ("[{containerPort: 53, protocol: UDP}, {containerPort: 8080, protocol: TCP}]", "8080", 8080),  # TCP only
        ("[{name: probe, containerPort: 8081}, {name: webhook, containerPort: 7000}]", "webhook", "webhook"),  # the Service's target first
        ("[{name: probe, containerPort: 8081}, {name: webhook, containerPort: 7000}]", "7000", "webhook"),  # targeted by number
        ("[{name: probe, containerPort: 8081}, {name: webhook, containerPort: 7000}]", "9999", "probe"),  # no target declared: the first
    ],
)
def test_the_probe_checks_the_port_traffic_arrives_on(ports, target, port):
    result = run(web(ports, target), ON)
    assert containers(result.output)[0]["readinessProbe"] == {"tcpSocket": {"port": port}}
    (finding,) = result.findings
    assert finding.message.endswith(f"; fix: readinessProbe tcpSocket port {port}")


def test_off_by_default_a_warning_that_names_what_to_do():
    result = run(web("[{name: http, containerPort: 8080}]"), [])
    (finding,) = result.findings
    assert not finding.ops and finding.severity == "warning" and "fix:" not in finding.message
    assert "gets traffic as soon as the container starts" in finding.message and finding.message.endswith("readiness-from-port=true for a tcpSocket check on port http")


@pytest.mark.parametrize(
    "change",
    [
        lambda t: t.replace("          ports: PORTS\n", "          ports: PORTS\n          readinessProbe: {exec: {command: [ready]}}\n"),  # has one
        lambda t: t.replace("PORTS", "[{name: metrics, containerPort: 9090}]"),  # a metrics port only
        lambda t: t.replace("          ports: PORTS\n", ""),  # no port at all: nothing says what it serves on
        lambda t: t.replace("{app: web}, ports", "{app: other}, ports"),  # no Service in the input routes to it
        lambda t: t.replace("image: example/web:1", "image: gcr.io/cloud-sql-connectors/cloud-sql-proxy:2").replace(
            "      containers:\n", "      containers:\n        - {name: app, image: example/app:1, readinessProbe: {exec: {command: [ready]}}}\n"
        ),  # a known sidecar
    ],
)
def test_left_alone(change):
    text = change(SERVICE.replace("TARGET", "8080") + WEB).replace("PORTS", "[{containerPort: 8080}]")
    assert not run(text, ON).findings


def test_probe_balance_balances_liveness_against_the_added_probe_in_one_render():
    text = web("[{name: http, containerPort: 8080}]").replace("          ports:", "          livenessProbe: {httpGet: {path: /live, port: http}}\n          ports:")
    once = run(text, ON, rules=REGISTRY)
    (out,) = containers(once.output)
    assert out["readinessProbe"] == {"tcpSocket": {"port": "http"}}
    assert out["livenessProbe"]["periodSeconds"] == 20 and out["livenessProbe"]["initialDelaySeconds"] == 60
    assert any(f.rule == probe_balance.ID and f.ops for f in once.findings)
    again = run(once.output, ON, rules=REGISTRY)
    assert again.output == once.output and not [op for d in again.documents for op in d.ops]


@pytest.mark.corpus
def test_the_corpus_count_and_a_second_run_adds_nothing(corpus):
    """Four corpus containers serve without a readiness probe (argo-cd's applicationset controller, dex
    and redis, the argo-rollouts dashboard); the other main containers without one are controllers no
    Service routes to, exporters with a metrics port only, Jobs and Helm test pods."""
    warned = []
    for path in corpus:
        text = path.read_text(encoding="utf-8")
        once = run(text, ON)
        warned += [f"{f.name}/{f.message.split(chr(34))[1]}" for f in once.findings]
        assert not [op for d in run(once.output, ON).documents for op in d.ops]
    assert sorted(warned) == [
        "argo-rollouts-dashboard/argo-rollouts-dashboard",
        "argocd-applicationset-controller/applicationset-controller",
        "argocd-dex-server/dex-server",
        "argocd-redis/redis",
    ]
