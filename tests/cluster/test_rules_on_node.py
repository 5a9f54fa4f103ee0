"""Every rule judged by a real node: the run without zdrender fails the way the rule says it would, the
run with zdrender drops nothing. Each scenario is a real Helm 3 install and upgrade under bounded load
(cluster/scenarios.py); the runs are saved to .cluster-results/ for docs/proof.md.
"""

from __future__ import annotations

import pytest

from cluster import node
from cluster.proof import predict
from cluster.scenarios import SCENARIOS, Run, run_once, save

from node_support import node_paths  # noqa: F401  (the session's node)

pytestmark = pytest.mark.cluster

DROPPING = ["prestop-sleep", "ingress-controller", "sidecar", "native-sidecar", "stop-signal", "recreate-eviction"]


def both(paths: node.Paths, sid: str) -> tuple[Run, Run]:
    """Both runs of a scenario; where a pod is deleted or rolled, `zdrender timeline`'s model must agree
    with the node on whether requests drop (its window of dropped requests is empty exactly when none failed)."""
    runs = []
    for variant in ("without", "with"):
        run = run_once(paths, SCENARIOS[sid], variant)
        save(run)
        runs.append(run)
    if SCENARIOS[sid].action != "steady":  # the model has no probes: it predicts rollouts and deletions
        predictions = predict(SCENARIOS[sid])
        for run in runs:
            predicted = predictions.get(run.variant)
            assert predicted is not None and predicted.drops == (run.failed > 0), f"timeline model and node disagree: model {predicted}, {explain(run)}"
    return runs[0], runs[1]


def explain(run: Run) -> str:
    return f"{run.variant} zdrender: {run.failed} of {run.sent} failed {run.by_cause}, {run.restarts} restarts, failures {run.first_failure_s}-{run.last_failure_s}s"


@pytest.mark.parametrize("sid", DROPPING)
def test_rollout_drops_nothing_with_zdrender(node_paths: node.Paths, sid: str) -> None:
    without, with_ = both(node_paths, sid)
    assert without.failed > 0, "the scenario must show the gotcha, or this test could not fail: " + explain(without)
    assert with_.failed == 0 and with_.restarts == 0, explain(with_)
    assert with_.patch_paths, "zdrender changed nothing, yet the run passed: the scenario does not isolate its rule"


def test_probes_restart_nothing_with_zdrender(node_paths: node.Paths) -> None:
    without, with_ = both(node_paths, "probes")
    assert without.restarts > 0, "identical liveness must restart stalled containers: " + explain(without)
    assert with_.restarts == 0 and with_.failed == 0, explain(with_)
    assert any("probe-balance" in f and "same check" in f for f in without.findings + with_.findings)


def test_shell_entrypoint_takes_the_whole_grace_period(node_paths: node.Paths) -> None:
    """zdrender cannot rewrite a script, so it warns; the node shows why: SIGTERM never reaches the app."""
    without, with_ = both(node_paths, "shell-entrypoint")
    assert without.termination_s is not None and with_.termination_s is not None
    assert without.termination_s >= 29, f"the shell should ignore SIGTERM until SIGKILL at 30s: gone after {without.termination_s}s"
    assert with_.termination_s >= 29
    assert any(f.startswith("warning signals") and "does not exec" in f for f in with_.findings), with_.findings
    assert with_.failed == 0, explain(with_)


def test_recreate_outage_is_moved_not_lengthened(node_paths: node.Paths) -> None:
    """A Recreate Deployment has an outage whatever the hooks: the preStop sleep must not make it longer
    (it only moves it later, while the terminating pod keeps serving)."""
    without, with_ = both(node_paths, "recreate")
    assert without.failed > 0 and without.seconds_without_serving > 0, explain(without)
    # Whole seconds with no successful request: 1-2 either way on this node. Were the 10 s sleep added to
    # the outage (the old timeline model), it would be 10 more; 2 absorbs where the outage falls in a second.
    # With no patch at all both runs install the same manifests, and their outages differ only by the
    # node's own variance (1 s and 4 s were seen for the same StatefulSet); any patch must not lengthen it.
    if with_.patch_paths:
        assert with_.seconds_without_serving <= without.seconds_without_serving + 2, f"{explain(without)}; {explain(with_)}"
    assert with_.first_failure_s is not None and without.first_failure_s is not None
    assert with_.first_failure_s >= without.first_failure_s + 5, "the terminating pod keeps serving during its sleep"


def test_single_replica_statefulset_gets_no_sleep(node_paths: node.Paths) -> None:
    """Its successor starts only after the pod is gone: a sleep would only postpone the outage (measured
    before the rule skipped it: 1 s without, 1-4 s with), so zdrender leaves it alone and says why."""
    without, with_ = both(node_paths, "statefulset")
    assert without.failed > 0 and without.seconds_without_serving > 0, explain(without)
    assert not any("lifecycle" in p for p in with_.patch_paths), with_.patch_paths
    assert any(f.startswith("info prestop-sleep") and "1-replica StatefulSet" in f for f in with_.findings), with_.findings
    # With no patch at all both runs install the same manifests, and their outages differ only by the
    # node's own variance (1 s and 4 s were seen for the same StatefulSet); any patch must not lengthen it.
    if with_.patch_paths:
        assert with_.seconds_without_serving <= without.seconds_without_serving + 2, f"{explain(without)}; {explain(with_)}"
