"""The grace-period rule beyond its fixtures: native sleeps stay within a grace period no rule raises, native sidecars' shutdown chain, and the timeline drawing what the rule covers."""

from __future__ import annotations

from conftest import FIXTURES, fixture_args
from helpers import render, workload_views


def findings(case: str, rule: str | None = None):
    text = (FIXTURES / case).read_text(encoding="utf-8")
    result = render(text, fixture_args(text))
    return [f for f in result.findings if rule is None or f.rule == rule]


def test_native_sleeps_stay_within_the_grace_period_when_it_is_not_raised():
    # validateSleepAction (pkg/apis/core/validation): a sleep longer than terminationGracePeriodSeconds
    # is rejected, and with the grace-period rule skipped nothing raises the grace period.
    import yaml

    text = (FIXTURES / "grace-period/success/skipped-sleep-within-grace.yaml").read_text(encoding="utf-8")
    for doc in yaml.safe_load_all(render(text).output):
        pod = doc["spec"]["template"]["spec"]
        for c in pod["containers"]:
            sleep = c.get("lifecycle", {}).get("preStop", {}).get("sleep")
            if sleep:
                assert sleep["seconds"] <= pod["terminationGracePeriodSeconds"], c["name"]


def test_native_sidecars_chain_after_the_main_containers():
    """Kubernetes stops native sidecars after every regular container, last defined first, each once the
    one after it has exited; their own preStop hooks run from the deletion (kubelet killContainer:
    preStop, waitForTurn, stop). The grace period covers the regular containers, then each sidecar's
    later of its turn and its sleep's end, plus sidecar-exit-seconds."""
    from zdrender.rules.grace_period import required_seconds

    found = {w.name: w for w in workload_views((FIXTURES / "grace-period/failure/native-sidecars-stop-last.yaml").read_text(encoding="utf-8"))}
    assert required_seconds(found["web"], 20, 5)[0] == 10 + 20 + 5 + 5  # envoy's 5s sleep ended long before its turn
    assert required_seconds(found["batch-api"], 20, 5)[0] == 45 + 5  # the shipper's own sleep outlasts the app's 30s
    assert required_seconds(found["web"], 40, 3)[0] == 10 + 40 + 3 + 3
    covered = workload_views((FIXTURES / "grace-period/success/native-sidecars-covered.yaml").read_text(encoding="utf-8"))
    assert required_seconds(covered[0], 20, 5)[0] == 40  # envoy's 25s sleep ran while the app drained: not 30 + 25 + 5 + 5


def test_the_timeline_draws_the_shutdown_the_grace_period_covers():
    """After zdrender, the timeline model of every native-sidecar case ends within the grace period with
    nobody killed, and its pod is gone no later than the rule reckoned (the rule adds each sidecar's
    exit allowance, the model exits at SIGTERM)."""
    from zdrender.rules.grace_period import required_seconds
    from zdrender.timeline import model

    for case in ("grace-period/failure/native-sidecars-stop-last.yaml", "interplay/sidecars-native-stop-last.yaml", "interplay/linkerd-control-plane.yaml"):
        text = (FIXTURES / case).read_text(encoding="utf-8")
        for workload in workload_views(render(text, fixture_args(text)).output):
            term = model.terminate(workload, drain=20)
            assert not [life.name for life in term.lives if life.killed], (case, workload.ref)
            assert term.risks == [], (case, workload.ref, term.risks)
            assert term.end <= required_seconds(workload, 20, 5)[0] <= workload.grace_period, (case, workload.ref)


def test_the_message_names_the_chain():
    (web, shipper) = findings("grace-period/failure/native-sidecars-stop-last.yaml", "grace-period")
    assert web.message == (
        'terminationGracePeriodSeconds 30 is shorter than "web"\'s 10s sleep + 20s drain, then native sidecar "envoy"\'s 5s to exit, '
        'then native sidecar "cloud-sql-proxy"\'s 5s to exit, so the kubelet kills native sidecar "cloud-sql-proxy" mid-drain; '
        "fix: terminationGracePeriodSeconds 40"
    )
    assert shipper.message.endswith('native sidecar "fluent-bit"\'s 45s sleep + 5s to exit, so the kubelet kills native sidecar "fluent-bit" mid-drain; fix: terminationGracePeriodSeconds 50')


def test_native_sidecars_without_main_containers_do_not_crash():
    """`containers: null` beside native sidecars (found by the mutation test): max() of no needs raised."""
    text = (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n"
        "    metadata: {labels: {app: web}}\n    spec:\n      initContainers:\n"
        "        - {name: envoy, image: envoyproxy/envoy:v1.31.0, restartPolicy: Always, lifecycle: {preStop: {sleep: {seconds: 5}}}}\n"
        "      containers: null\n"
    )
    result = render(text, ["--kube-version=1.30"])
    assert [f.rule for f in result.findings if f.severity == "error"] == []
    planned = [op["value"] for op in result.documents[0].ops if op["path"].endswith("terminationGracePeriodSeconds")]
    assert planned in ([], [30])  # 5 s sleep + 5 s exit is under the default 30 s
