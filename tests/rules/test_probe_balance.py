"""The probe-balance rule beyond its fixtures: sidecars' probes belong to their vendor; a proxy alone in its pod is the app there; a
long start gets a startupProbe with liveness's handler; the warnings that carry no patch stay on a second run, which plans nothing."""

from __future__ import annotations

import json

import pytest

from zdrender import pipeline, stream, yamldoc
from zdrender.rules import probe_balance

from conftest import FIXTURES, fixture_args
from helpers import make_settings

SIDECAR_POD = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: app}
spec:
  replicas: 2
  selector: {matchLabels: {app: app}}
  template:
    metadata: {labels: {app: app}}
    spec:
      containers:
        - name: app
          image: example/app:1
          readinessProbe: {httpGet: {path: /ready, port: 8080}}
          livenessProbe: {httpGet: {path: /healthz, port: 8080}}
        - name: cloud-sql-proxy
          image: gcr.io/cloud-sql-connectors/cloud-sql-proxy:2.11.0
          readinessProbe: {httpGet: {path: /readiness, port: 9090}}
          livenessProbe: {httpGet: {path: /liveness, port: 9090}}
"""


def test_sidecar_probes_are_left_to_their_vendor():
    result = pipeline.run(SIDECAR_POD, make_settings(), rules=(probe_balance,))
    paths = [op["path"] for op in result.documents[0].ops if not op["path"].startswith("/metadata/annotations")]  # but the record
    assert paths and all(p.startswith("/spec/template/spec/containers/0/") for p in paths), paths


def test_a_lone_helper_is_judged_as_the_main_container():
    """A proxy image alone in its pod is the app there (not a sidecar), so its probes are balanced."""
    app_start = SIDECAR_POD.index("        - name: app\n")
    proxy_start = SIDECAR_POD.index("        - name: cloud-sql-proxy")
    alone = SIDECAR_POD[:app_start] + SIDECAR_POD[proxy_start:]
    result = pipeline.run(alone, make_settings(), rules=(probe_balance,))
    paths = [op["path"] for op in result.documents[0].ops if not op["path"].startswith("/metadata/annotations")]  # but the record
    assert paths and all(p.startswith("/spec/template/spec/containers/0/livenessProbe") for p in paths), paths


# -- start-up: a startupProbe instead of a long liveness initialDelaySeconds ----------------------------

KAFKA = """\
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: kafka}
spec:
  serviceName: kafka
  replicas: 3
  selector: {matchLabels: {app: kafka}}
  template:
    metadata: {labels: {app: kafka}}
    spec:
      containers:
        - name: kafka
          image: example/kafka:3
          livenessProbe: LIVENESS
          readinessProbe: {tcpSocket: {port: 9092}, initialDelaySeconds: 5, timeoutSeconds: 5, failureThreshold: 6}
"""
HANDLERS = {
    "httpGet": {"httpGet": {"path": "/live", "port": "admin", "scheme": "HTTPS", "httpHeaders": [{"name": "X-Probe", "value": "live"}]}},
    "tcpSocket": {"tcpSocket": {"port": 9093}},
    "grpc": {"grpc": {"port": 9000, "service": "liveness"}},
    "exec": {"exec": {"command": ["sh", "-c", "kafka-broker-api-versions.sh --bootstrap-server localhost:9092"]}},
}


def kafka(liveness: dict, **more) -> str:
    return KAFKA.replace("LIVENESS", json.dumps({**liveness, **more}))


def container(output: str) -> dict:
    (doc,) = [yamldoc.load(d.text) for d in stream.split(output).documents if d.has_content]
    return doc["spec"]["template"]["spec"]["containers"][0]


def run(text: str, *args: str) -> pipeline.Result:
    return pipeline.run(text, make_settings(list(args)), rules=(probe_balance,))


@pytest.mark.parametrize("kind", sorted(HANDLERS))
def test_a_long_start_gets_a_startup_probe_with_livenesss_handler_copied_exactly(kind):
    """kafka's probes would need liveness initialDelaySeconds 130 (2 x (5s + 6 x 10s)), more than the
    60s cap: a startupProbe with the very same handler covers the 130s, and liveness keeps its 10s."""
    result = run(kafka(HANDLERS[kind], initialDelaySeconds=10, timeoutSeconds=5))
    out = container(result.output)
    startup = out["startupProbe"]
    assert {k: v for k, v in startup.items() if k not in ("periodSeconds", "failureThreshold", "timeoutSeconds")} == HANDLERS[kind]
    assert startup["periodSeconds"] == 10 and startup["failureThreshold"] == 13 and startup["timeoutSeconds"] == 5
    assert out["livenessProbe"]["initialDelaySeconds"] == 10
    assert (out["livenessProbe"]["periodSeconds"], out["livenessProbe"]["failureThreshold"]) == (20, 6)
    (start,) = [f for f in result.findings if f.path.endswith("/startupProbe")]
    assert "initialDelaySeconds 130 would be more than the 60s cap" in start.message
    assert start.message.endswith("fix: startupProbe with liveness's handler, periodSeconds 10, failureThreshold 13 (130s to start)")


def test_at_or_below_the_cap_liveness_waits_as_before():
    text = kafka(HANDLERS["tcpSocket"], initialDelaySeconds=10)
    out = container(run(text, "--set", "max-liveness-delay=130").output)
    assert "startupProbe" not in out and out["livenessProbe"]["initialDelaySeconds"] == 130
    out = container(run(text, "--set", "max-liveness-delay=129").output)
    assert out["startupProbe"]["failureThreshold"] == 13 and out["livenessProbe"]["initialDelaySeconds"] == 10


def test_the_startup_probe_never_allows_a_shorter_start_than_the_charts_liveness():
    """The chart's liveness let a start take 120 + 6 x 30 = 300s, more than the 130s readiness needs."""
    out = container(run(kafka(HANDLERS["tcpSocket"], initialDelaySeconds=120, periodSeconds=30, failureThreshold=6)).output)
    assert out["startupProbe"]["periodSeconds"] * out["startupProbe"]["failureThreshold"] >= 300


def test_the_startup_period_stays_above_its_timeout():
    """Polled at readiness's 10s with liveness's 10s timeout a hung check would only be judged after the
    next was due (a finding of this very rule): one second more."""
    text = kafka(HANDLERS["tcpSocket"], initialDelaySeconds=10).replace("timeoutSeconds: 5", "timeoutSeconds: 10")
    result = run(text)
    startup = container(result.output)["startupProbe"]
    assert startup["periodSeconds"] == 11 and startup["timeoutSeconds"] == 10 and startup["periodSeconds"] * startup["failureThreshold"] >= 130
    assert not [f for f in run(result.output).findings if f.path.endswith("/startupProbe") and "not below periodSeconds" in f.message]


def test_a_charts_own_startup_probe_is_respected():
    text = kafka(HANDLERS["tcpSocket"], initialDelaySeconds=10).replace("          livenessProbe:", "          startupProbe: {tcpSocket: {port: 9092}, failureThreshold: 3}\n          livenessProbe:")
    result = run(text)
    out = container(result.output)
    assert out["startupProbe"] == {"tcpSocket": {"port": 9092}, "failureThreshold": 3}
    assert out["livenessProbe"]["initialDelaySeconds"] == 10
    assert not [op for d in result.documents for op in d.ops if "initialDelaySeconds" in op["path"] or "startupProbe" in op["path"]]


def test_probe_startup_adds_one_below_the_cap_too():
    out = container(run(kafka(HANDLERS["tcpSocket"]), "--set", "max-liveness-delay=1000", "--set", "probe-startup=true").output)
    assert out["startupProbe"]["failureThreshold"] == 13 and "initialDelaySeconds" not in out["livenessProbe"]


# -- warnings that stay, and a second run ----------------------------------------------------------


def test_identical_handlers_are_warned_before_and_after_the_retiming():
    text = kafka({"tcpSocket": {"port": 9092}})  # readiness's own handler, liveness's default timings
    first = run(text)
    second = run(first.output)
    for result in (first, second):
        assert [f for f in result.findings if "run the same check" in f.message], [f.message for f in result.findings]
    assert not [op for d in second.documents for op in d.ops]


@pytest.mark.parametrize(
    "timing, warned",
    [
        ({"periodSeconds": 20, "failureThreshold": 5, "timeoutSeconds": 19}, False),  # 119s
        ({"periodSeconds": 20, "failureThreshold": 5, "timeoutSeconds": 20}, True),  # 120s
        ({"periodSeconds": 30, "failureThreshold": 10}, True),  # as written: 301s
    ],
)
def test_a_liveness_that_tolerates_minutes_of_failure_is_warned(timing, warned):
    text = KAFKA.replace("LIVENESS", json.dumps({"exec": {"command": ["alive"]}, **timing})).replace("initialDelaySeconds: 5, timeoutSeconds: 5, failureThreshold: 6", "timeoutSeconds: 1")
    result = run(text)
    long = [f for f in result.findings if "hung container" in f.message]
    assert bool(long) == warned
    assert all(not f.ops and "fix:" not in f.message and "lower its failureThreshold or periodSeconds" in f.message for f in long)


def test_a_long_liveness_forced_by_readiness_says_so():
    """kafka's readiness gives up after 60s, so a balanced liveness needs 120s of failures: the warning
    points at readiness."""
    result = run(kafka(HANDLERS["exec"], initialDelaySeconds=10, timeoutSeconds=5))
    (long,) = [f for f in result.findings if "hung container" in f.message]
    assert "up to 125s" in long.message and long.message.endswith("shorten readiness's window, then liveness's")


def test_every_message_says_what_is_wrong_then_the_fix():
    result = run(kafka(HANDLERS["tcpSocket"], initialDelaySeconds=10, failureThreshold=1))
    for f in result.findings:
        assert f.message.startswith('container "kafka": ')
        assert ("; fix: " in f.message) == bool(f.ops), f.message


@pytest.mark.corpus
def test_a_second_run_plans_nothing_on_the_fixtures_and_the_corpus(corpus):
    texts = [p.read_text(encoding="utf-8") for p in sorted((FIXTURES / "probe-balance").rglob("*.yaml")) + corpus]
    for text in texts:
        settings = make_settings(fixture_args(text))
        once = pipeline.run(text, settings, rules=(probe_balance,))
        again = pipeline.run(once.output, settings, rules=(probe_balance,))
        assert not [op for d in again.documents for op in d.ops]


@pytest.mark.corpus
def test_the_corpus_gets_startup_probes_where_a_delay_would_be_long(corpus):
    """Of the corpus containers whose liveness judged a start too early, 14 need at most the 60s cap and
    keep a longer initialDelaySeconds; 32 (kafka's 130s, etcd's 220s, rabbitmq's 200s, ...) get a
    startupProbe instead."""
    delays, startups = [], []
    for path in corpus:
        for f in run(path.read_text(encoding="utf-8")).findings:
            if f.path.endswith("/startupProbe") and f.ops:
                startups.append(f)
            elif "initialDelaySeconds" in str(f.ops):
                delays.append(f)
    assert (len(delays), len(startups)) == (14, 32)
    assert all(op["value"] <= 60 for f in delays for op in f.ops)
    kafka = next(f for f in startups if f.name == "kafka-controller")
    assert "initialDelaySeconds 130 would be more than the 60s cap" in kafka.message
