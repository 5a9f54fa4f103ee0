"""docs/proof.md: what the node measured for every scenario, without and with zdrender, beside what
`zdrender timeline`'s model predicted for the same manifests.

The page is generated from the runs' JSON (cluster/scenarios.py saves one per run), so it always
shows measured numbers; `scripts/cluster proof` runs every scenario first, `--from DIR` reuses runs.
"""

from __future__ import annotations

import html
import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .scenarios import (
    CHART,
    KUBE_VERSION,
    RESULTS,
    ROOT,
    SCENARIOS,
    Scenario,
    run_scenarios,
    set_args,
)

DOCS = ROOT / "docs"
# Seconds kube-proxy keeps routing to a deleted pod on this node: its endpoint and iptables updates
# land within about a second (measured: the failures of the prestop-sleep scenario span ~1-2 s).
NODE_PROPAGATION = 1.0
# Seconds the test app takes to drain: its requests are short, so Shutdown returns at once (a deleted
# pod was gone 0.8 s after deletion in recreate-eviction); the model's default is the 20 s budget.
NODE_DRAIN = 1.0


@dataclass
class Prediction:
    """What the timeline model says about the scenario's workload."""

    drops: bool  # does it predict a window of dropped requests?
    risk_seconds: float  # per deleted pod
    empty_seconds: float  # of the rollout: no ready pod
    risks: list[str]
    verdict: str


def predict(scenario: Scenario) -> dict[str, Prediction]:
    """The timeline model's prediction for the scenario's workload, "without" and "with" zdrender: its
    chart through `helm template`, then the model, in this process (one render and one pipeline run)."""
    from zdrender.render import settings_from_args
    from zdrender.timeline.compare import compare

    from .scenarios import helm_binary

    rendered = subprocess.run([helm_binary(), "template", "web", str(CHART), *set_args(scenario.values)], capture_output=True, text=True, check=True, timeout=60).stdout
    assignments = [scenario.zdrender_args[i + 1] for i, a in enumerate(scenario.zdrender_args) if a == "--set"]
    settings = settings_from_args(KUBE_VERSION, assignments, None)
    for c in compare(rendered, settings, propagation=NODE_PROPAGATION, drain=NODE_DRAIN):
        if c.ref.endswith("/web"):
            return {"without": _prediction(c.before, scenario), "with": _prediction(c.after, scenario)}
    return {}


def _prediction(timeline: Any, scenario: Scenario) -> Prediction:
    t, r = timeline.termination, timeline.rollout
    empty = r.empty_seconds if (r and scenario.action == "upgrade") else 0.0
    risks = [f"{k.kind} ({k.container}) {k.start:g}-{k.end:g}s" for k in t.risks]
    return Prediction(bool(t.risk_seconds or empty), round(t.risk_seconds, 1), round(empty, 1), risks, r.verdict() if r else "")


def load_runs(folder: Path) -> dict[tuple[str, str], dict[str, Any]]:
    runs = {}
    for f in sorted(folder.glob("*.json")):
        data = json.loads(f.read_text())
        runs[(data["scenario"], data["variant"])] = data
    return runs


def failure_picture(scenario: Scenario, without: dict[str, Any], with_: dict[str, Any]) -> str:
    """An SVG of requests per second, failed ones in red, without zdrender above and with it below."""
    width, left, right, row, gap, top = 760, 70, 20, 80, 40, 46
    seconds = max(len(without["by_second"]), len(with_["by_second"]), 1)
    peak = max([s.get("sent", 0) for r in (without, with_) for s in r["by_second"]] + [1])
    step = (width - left - right) / seconds
    parts = [f'<text x="{left}" y="18" font-size="13" font-weight="bold">{html.escape(scenario.id)}: requests per second, failed in red</text>']
    for i, (label, run) in enumerate((("without zdrender", without), ("with zdrender", with_))):
        y0 = top + i * (row + gap)
        parts.append(f'<text x="{left - 8}" y="{y0 + row / 2}" font-size="11" text-anchor="end">{label.split()[0]}</text>')
        parts.append(f'<text x="{left - 8}" y="{y0 + row / 2 + 13}" font-size="11" text-anchor="end">zdrender</text>')
        parts.append(f'<line x1="{left}" y1="{y0 + row}" x2="{width - right}" y2="{y0 + row}" stroke="#999"/>')
        for s in run["by_second"]:
            x = left + s["second"] * step
            ok_h = row * s.get("ok", 0) / peak
            bad_h = row * s.get("failed", 0) / peak
            parts.append(f'<rect x="{x:.1f}" y="{y0 + row - ok_h:.1f}" width="{max(step - 1, 1):.1f}" height="{ok_h:.1f}" fill="#c8d3de"/>')
            if bad_h:
                parts.append(f'<rect x="{x:.1f}" y="{y0 + row - ok_h - bad_h:.1f}" width="{max(step - 1, 1):.1f}" height="{bad_h:.1f}" fill="#d62728"/>')
        if run.get("action_done_s"):
            a, b = run["action_at_s"], run["action_done_s"]
            parts.append(
                f'<rect x="{left + a * step:.1f}" y="{y0 - 4}" width="{max((b - a) * step, 1):.1f}" height="3" fill="#1f77b4"/>'
                f'<text x="{left + a * step:.1f}" y="{y0 - 7}" font-size="10" fill="#1f77b4">{"upgrade" if scenario.action == "upgrade" else scenario.action}</text>'
            )
        parts.append(f'<text x="{width - right}" y="{y0 - 7}" font-size="11" text-anchor="end">{run["failed"]} of {run["sent"]} failed</text>')
    axis_y = top + 2 * row + gap + 14
    for t in range(0, seconds + 1, 5):
        parts.append(f'<text x="{left + t * step:.1f}" y="{axis_y}" font-size="10" text-anchor="middle">{t}s</text>')
    height = axis_y + 10
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif">'
        f'<rect width="{width}" height="{height}" fill="white"/>' + "".join(parts) + "</svg>\n"
    )


def _causes(run: dict[str, Any]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(run["by_cause"].items())) or "-"


def _window(run: dict[str, Any]) -> str:
    if run["first_failure_s"] is None:
        return "-"
    return f"{run['first_failure_s']:.1f}-{run['last_failure_s']:.1f}s"


def render_page(runs: dict[tuple[str, str], dict[str, Any]], predictions: dict[tuple[str, str], Prediction | None]) -> tuple[str, dict[str, str]]:
    pictures: dict[str, str] = {}
    lines = [
        "# Proof: dropped requests on a real node, without and with zdrender",
        "",
        (
            "Generated by `scripts/cluster proof` from runs on a single-node Kubernetes "
            f"v{_node_version()} (containerd, iptables kube-proxy) on this project's CI machine: 2 CPUs, the load generator on the node, a new TCP "
            "connection per request to the Service's ClusterIP, conntrack flushed before each run. Each scenario installs "
            "[`cluster/chart`](../cluster/chart) with real Helm 3 and upgrades it under load, once as the chart is and once "
            "with `--post-renderer zdrender`. Numbers are single runs; the tests in `tests/cluster/` re-run them on every CI run "
            "and fail when a run with zdrender drops a request."
        ),
        "",
        "| scenario | rule | requests | failed without | failed with | restarts without / with | seconds without a serving pod, without / with |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for sid, scenario in SCENARIOS.items():
        w, z = runs.get((sid, "without")), runs.get((sid, "with"))
        if not (w and z):
            continue
        lines.append(
            f"| [{sid}](#{sid}) | `{scenario.rule}` | {w['sent']} / {z['sent']} | **{w['failed']}** | **{z['failed']}** | "
            f"{w['restarts']} / {z['restarts']} | {w['seconds_without_serving']} / {z['seconds_without_serving']} |"
        )
    for sid, scenario in SCENARIOS.items():
        w, z = runs.get((sid, "without")), runs.get((sid, "with"))
        if not (w and z):
            continue
        pictures[f"proof-{sid}.svg"] = failure_picture(scenario, w, z)
        lines += ["", f"## {sid}", "", f"{scenario.title}. Without the `{scenario.rule}` rule: {scenario.why}.", ""]
        lines += ["| | without zdrender | with zdrender |", "|---|---|---|"]
        rows = [
            ("requests sent / failed", f"{w['sent']} / {w['failed']}", f"{z['sent']} / {z['failed']}"),
            ("failures by cause", _causes(w), _causes(z)),
            ("failures between (s after load start)", _window(w), _window(z)),
            (f"{scenario.action} from-to (s)", f"{w['action_at_s']}-{w['action_done_s']}", f"{z['action_at_s']}-{z['action_done_s']}"),
            ("container restarts", str(w["restarts"]), str(z["restarts"])),
            ("seconds without a serving pod", str(w["seconds_without_serving"]), str(z["seconds_without_serving"])),
        ]
        if w.get("termination_s") is not None:
            rows.append(("deleted pod gone after (s)", str(w["termination_s"]), str(z["termination_s"])))
        pw, pz = predictions.get((sid, "without")), predictions.get((sid, "with"))
        if pw and pz:
            rows.append(
                (
                    "timeline model (`zdrender timeline`): drop window per deleted pod / rollout seconds with no serving pod",
                    f"{pw.risk_seconds:g}s / {pw.empty_seconds:g}s",
                    f"{pz.risk_seconds:g}s / {pz.empty_seconds:g}s",
                )
            )
            rows.append(("model and node agree on drops", _agree(pw, w), _agree(pz, z)))
        lines += [f"| {a} | {b} | {c} |" for a, b, c in rows]
        changed = sorted({p.split(" ", 1)[1] for p in z.get("patch_paths", [])})
        if changed:
            lines += ["", "zdrender's patch: " + "; ".join(f"`{p}`" for p in changed[:8]) + (" ..." if len(changed) > 8 else "")]
        lines += ["", f"![failed requests per second, {sid}](proof-{sid}.svg)"]
    return "\n".join(lines) + "\n", pictures


def _agree(p: Prediction, run: dict[str, Any]) -> str:
    measured = run["failed"] > 0
    if p.drops == measured:
        return "yes"
    return f"no: model {'predicts' if p.drops else 'predicts no'} drops, node measured {run['failed']}"


def _node_version() -> str:
    from .node import KUBERNETES_VERSION

    return KUBERNETES_VERSION


def write_proof(results: str | None = None) -> Path:
    folder = Path(results) if results else RESULTS
    if results is None:
        run_scenarios(None)
    runs = load_runs(folder)
    predictions = {(sid, v): p for sid, s in SCENARIOS.items() if (sid, "without") in runs for v, p in predict(s).items()}
    page, pictures = render_page(runs, predictions)
    DOCS.mkdir(exist_ok=True)
    for name, svg in pictures.items():
        (DOCS / name).write_text(svg)
    out = DOCS / "proof.md"
    out.write_text(page)
    print(f"wrote {out} and {len(pictures)} pictures")
    return out
