"""The grace-period rule beyond its fixtures: native sleeps stay within a grace period no rule raises."""

from __future__ import annotations

from conftest import FIXTURES, fixture_args
from helpers import render


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
