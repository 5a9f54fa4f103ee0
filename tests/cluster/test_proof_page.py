"""docs/proof.md is generated from measured runs: the page and its pictures say what the runs say."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from cluster.proof import Prediction, render_page


def run(sid: str, variant: str, failed: int, by_second: list[tuple[int, int]]) -> dict[str, Any]:
    return {
        "scenario": sid,
        "variant": variant,
        "sent": sum(ok + bad for ok, bad in by_second),
        "ok": sum(ok for ok, _ in by_second),
        "failed": failed,
        "by_cause": {"refused": failed} if failed else {},
        "by_second": [{"second": i, "sent": ok + bad, "ok": ok, "failed": bad} for i, (ok, bad) in enumerate(by_second)],
        "restarts": 0,
        "action_at_s": 1.0,
        "action_done_s": 2.5,
        "first_failure_s": 1.2 if failed else None,
        "last_failure_s": 1.9 if failed else None,
        "seconds_without_serving": 0,
        "termination_s": None,
        "findings": [],
        "patch_paths": ["Deployment/web add /spec/template/spec/containers/0/lifecycle"] if variant == "with" else [],
    }


def test_page_shows_measured_numbers_model_agreement_and_a_picture_per_scenario() -> None:
    runs = {
        ("prestop-sleep", "without"): run("prestop-sleep", "without", 7, [(100, 0), (93, 7), (100, 0)]),
        ("prestop-sleep", "with"): run("prestop-sleep", "with", 0, [(100, 0), (100, 0), (100, 0)]),
    }
    predictions = {
        ("prestop-sleep", "without"): Prediction(True, 1.0, 0.0, [], ""),
        ("prestop-sleep", "with"): Prediction(True, 0.5, 0.0, [], ""),  # wrong on purpose: the page must say so
    }
    page, pictures = render_page(runs, predictions)
    assert "| [prestop-sleep](#prestop-sleep) | `prestop-sleep` | 300 / 300 | **7** | **0** |" in page
    assert "| model and node agree on drops | yes | no: model predicts drops, node measured 0 |" in page
    assert "`add /spec/template/spec/containers/0/lifecycle`" in page
    assert "![failed requests per second, prestop-sleep](proof-prestop-sleep.svg)" in page
    assert "ingress-controller" not in page.split("## prestop-sleep")[0].split("|---|")[-1]  # scenarios without runs are left out
    svg = ET.fromstring(pictures["proof-prestop-sleep.svg"])
    red = [r for r in svg.iter("{http://www.w3.org/2000/svg}rect") if r.get("fill") == "#d62728"]
    assert len(red) == 1 and float(red[0].get("x", 0)) > 70  # one second with failures, drawn after the axis
