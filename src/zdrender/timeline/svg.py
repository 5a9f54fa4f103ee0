"""The timeline as one standalone SVG file, written by hand (no drawing library).

Per workload: the shutdown of one pod before and after zdrender's patches on one time axis (the
propagation band, each container's preStop, drain and exit, the SIGKILL line, dropped-request risk
windows in red with their seconds), then the ready capacity of a rolling update before and after,
side by side, against the desired count.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from xml.sax.saxutils import escape, quoteattr

from .model import MAX_REPLICAS, Rollout, Termination
from .scale import axis_end, rollout_span, termination_span, tick_step

if TYPE_CHECKING:
    from .compare import Comparison

WIDTH = 960
LEFT = 170  # x of t = 0 on the termination axis
RIGHT = WIDTH - 30
ROW = 22
BAR = 14
FONT = "DejaVu Sans, Helvetica, Arial, sans-serif"
COLORS = {
    "traffic": "#9ecae1",
    "band": "#deebf7",
    "prestop": "#f2b01e",
    "unknown": "#f7d98b",
    "drain": "#3b73c4",
    "running": "#c7c7c7",
    "risk": "#d62728",
    "kill": "#7f0000",
    "ok": "#2e7d32",
    "ready": "#2e7d32",
    "pods": "#8a8a8a",
    "desired": "#333333",
    "text": "#222222",
    "muted": "#666666",
}
LEGEND = (
    ("band", "traffic still arrives"),
    ("prestop", "preStop sleep"),
    ("unknown", "preStop of unknown length"),
    ("drain", "SIGTERM, then drain"),
    ("running", "running (native sidecar)"),
    ("risk", "dropped-request risk"),
)


def _s(seconds: float) -> str:
    return f"{seconds:g} s"


class Canvas:
    """SVG elements in drawing order, and the height used so far."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.y = 0.0

    def add(self, element: str) -> None:
        self.parts.append(element)

    def rect(self, x: float, y: float, w: float, h: float, fill: str, **extra: str) -> None:
        attrs = "".join(f" {k.replace('_', '-')}={quoteattr(v)}" for k, v in extra.items())
        self.add(f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(w, 0):.1f}" height="{h:.1f}" fill="{fill}"{attrs}/>')

    def line(self, x1: float, y1: float, x2: float, y2: float, stroke: str, width: float = 1, dash: str = "") -> None:
        dashed = f' stroke-dasharray="{dash}"' if dash else ""
        self.add(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{stroke}" stroke-width="{width}"{dashed}/>')

    def text(self, x: float, y: float, words: str, *, size: int = 12, fill: str = COLORS["text"], anchor: str = "start", weight: str = "normal") -> None:
        self.add(f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" fill="{fill}" text-anchor="{anchor}" font-weight="{weight}">{escape(words)}</text>')

    def svg(self, title: str) -> str:
        height = int(self.y + 20)
        head = (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" '
            f'font-family="{FONT}">\n<title>{escape(title)}</title>\n<rect width="100%" height="100%" fill="#ffffff"/>\n'
        )
        return head + "\n".join(self.parts) + "\n</svg>\n"


class Axis:
    def __init__(self, x0: float, x1: float, end: float):
        self.x0, self.x1, self.end = x0, x1, end

    def x(self, t: float) -> float:
        return self.x0 + (self.x1 - self.x0) * min(max(t, 0.0), self.end) / self.end


def _ticks(canvas: Canvas, axis: Axis, step: int, top: float, bottom: float, label_y: float) -> None:
    t = 0
    while t <= axis.end + 1e-9:
        x = axis.x(t)
        canvas.line(x, top, x, bottom, "#e3e3e3")
        canvas.text(x, label_y, f"{t}", size=11, fill=COLORS["muted"], anchor="middle")
        t += step


def legend(canvas: Canvas) -> None:
    x = 20.0
    for key, words in LEGEND + (("kill", "SIGKILL at the grace period"),):
        width = 26 + 6.6 * len(words)
        if x + width > WIDTH - 20:
            x, canvas.y = 20.0, canvas.y + 20
        if key == "kill":
            canvas.line(x + 7, canvas.y - 1, x + 7, canvas.y + 13, COLORS["kill"], 2, "4 2")
        else:
            canvas.rect(x, canvas.y, 14, 12, COLORS[key])
        canvas.text(x + 19, canvas.y + 10.5, words, size=12)
        x += width
    canvas.y += 30


def termination(canvas: Canvas, term: Termination, axis: Axis, label: str) -> None:
    """One lane group: a header, the traffic row, a row per container, a row per risk."""
    top = canvas.y
    canvas.text(20, top + 14, label, size=14, weight="bold")
    canvas.text(LEFT, top + 14, f"grace period {_s(term.grace)} · SIGKILL at {_s(term.sigkill)}", size=12, fill=COLORS["muted"])
    rows_top = top + 22
    rows = 1 + len(term.lives) + max(len(term.risks), 1)
    bottom = rows_top + rows * ROW
    canvas.rect(axis.x(0), rows_top, axis.x(term.propagation) - axis.x(0), bottom - rows_top, COLORS["band"])
    y = rows_top
    canvas.text(LEFT - 10, y + 15, "traffic", anchor="end", fill=COLORS["muted"])
    canvas.rect(axis.x(0), y + (ROW - BAR) / 2, axis.x(term.propagation) - axis.x(0), BAR, COLORS["traffic"])
    canvas.text(axis.x(term.propagation) + 6, y + 15, f"endpoints still send traffic until {_s(term.propagation)}", size=11, fill=COLORS["muted"])
    for life in term.lives:
        y += ROW
        bar = y + (ROW - BAR) / 2
        role = "" if life.role == "app" else f" ({life.role})"
        canvas.text(LEFT - 10, y + 15, life.name + role, anchor="end", weight="bold" if life.role == "app" else "normal")
        hook = COLORS["unknown"] if life.hook == "unknown" else COLORS["prestop"]
        canvas.rect(axis.x(0), bar, axis.x(life.prestop_end) - axis.x(0), BAR, hook)
        canvas.rect(axis.x(life.prestop_end), bar, axis.x(life.sigterm) - axis.x(life.prestop_end), BAR, COLORS["running"])
        if life.hook == "unknown":
            canvas.text(axis.x(0) + 3, y + 15, "preStop ?", size=11)
        canvas.rect(axis.x(life.sigterm), bar, axis.x(life.exit) - axis.x(life.sigterm), BAR, COLORS["drain"])
        end = axis.x(life.exit)
        if life.killed:
            canvas.add(f'<path d="M{end - 5:.1f},{bar:.1f} l10,{BAR} m0,-{BAR} l-10,{BAR}" stroke="{COLORS["kill"]}" stroke-width="2.5"/>')
        else:
            canvas.rect(end - 1, bar - 3, 2.5, BAR + 6, COLORS["text"])
        canvas.text(end + 6, y + 15, "killed" if life.killed else f"exit {_s(life.exit)}", size=11, fill=COLORS["muted"])
    if term.risks:
        for risk in term.risks:
            y += ROW
            canvas.text(LEFT - 10, y + 15, f"risk: {risk.kind}", anchor="end", fill=COLORS["risk"], weight="bold")
            x0, x1 = axis.x(risk.start), axis.x(risk.end)
            canvas.rect(x0, y + 2, x1 - x0, ROW - 4, COLORS["risk"], fill_opacity="0.85")
            words = f"{_s(risk.seconds)} · {risk.container}"
            if x1 - x0 > 7 * len(words) + 8:
                canvas.text((x0 + x1) / 2, y + 15, words, fill="#ffffff", anchor="middle", weight="bold")
            else:
                canvas.text(x1 + 6, y + 15, words, fill=COLORS["risk"], weight="bold")
    else:
        y += ROW
        canvas.text(LEFT, y + 15, "✓ no dropped-request window", fill=COLORS["ok"], weight="bold")
    kill = axis.x(term.sigkill)
    canvas.line(kill, rows_top - 2, kill, bottom, COLORS["kill"], 2, "5 3")
    canvas.text(kill + 4, rows_top + 9, f"SIGKILL {_s(term.sigkill)}", size=10, fill=COLORS["kill"])
    canvas.y = bottom + 4
    for note in term.notes:
        canvas.text(LEFT, canvas.y + 12, f"· {note}", size=11, fill=COLORS["muted"])
        canvas.y += 16
    canvas.y += 8


def capacity(canvas: Canvas, rollout: Rollout | None, x0: float, width: float, top: float, end: float, label: str, ceiling: int) -> float:
    """A step chart of ready pods (and all pods) against the desired count; returns its bottom."""
    height = 110
    canvas.text(x0, top + 14, label, size=14, weight="bold")
    if rollout is None:
        canvas.text(x0, top + 40, f"no rolling update drawn: this kind does not roll, or it has more than {MAX_REPLICAS} replicas", fill=COLORS["muted"])
        return top + 60
    plot_top, plot_left = top + 26, x0 + 34
    plot_bottom = plot_top + height
    axis = Axis(plot_left, x0 + width, end)

    def y(value: float) -> float:
        return plot_bottom - height * value / max(ceiling, 1)

    step = tick_step(end, 6)
    _ticks(canvas, axis, step, plot_top, plot_bottom, plot_bottom + 14)
    canvas.text(x0 + width, plot_bottom + 28, "seconds after the update starts", size=10, fill=COLORS["muted"], anchor="end")
    every = max(1, -(-ceiling // 5))
    for value in range(0, ceiling + 1, every):
        canvas.text(plot_left - 6, y(value) + 4, str(value), size=10, fill=COLORS["muted"], anchor="end")
    canvas.line(plot_left, plot_bottom, x0 + width, plot_bottom, COLORS["muted"])
    steps = rollout.steps
    ends = [s.t for s in steps[1:]] + [max(rollout.duration, end)]
    for s, stop in zip(steps, ends):
        if s.ready < rollout.desired:
            canvas.rect(axis.x(s.t), y(rollout.desired), axis.x(stop) - axis.x(s.t), y(s.ready) - y(rollout.desired), COLORS["risk"], fill_opacity="0.3")
    canvas.line(plot_left, y(rollout.desired), x0 + width, y(rollout.desired), COLORS["desired"], 1.5, "6 4")
    canvas.text(x0 + width, y(rollout.desired) - 4, f"desired {rollout.desired}", size=10, fill=COLORS["desired"], anchor="end")
    for key, stroke in (("pods", 1.5), ("ready", 3)):
        points = []
        for s, stop in zip(steps, ends):
            v = getattr(s, key)
            points += [f"{axis.x(s.t):.1f},{y(v):.1f}", f"{axis.x(stop):.1f},{y(v):.1f}"]
        dash = ' stroke-dasharray="3 3"' if key == "pods" else ""
        canvas.add(f'<polyline points="{" ".join(points)}" fill="none" stroke="{COLORS[key]}" stroke-width="{stroke}"{dash}/>')
    color = COLORS["risk"] if rollout.dip_seconds else COLORS["ok"]
    canvas.text(x0, plot_bottom + 46, rollout.verdict(" · "), size=12, fill=color, weight="bold")
    who = "1 pod per node" if rollout.per_node else f"{rollout.desired} desired"
    facts = f"{rollout.strategy} · {who} · maxSurge {rollout.surge} · maxUnavailable {rollout.unavailable} · ready {_s(rollout.ready_after)} after start"
    if rollout.min_ready:
        facts += f" + minReadySeconds {rollout.min_ready}"
    canvas.text(x0, plot_bottom + 62, facts, size=11, fill=COLORS["muted"])
    bottom = plot_bottom + 62
    for note in rollout.notes:
        bottom += 15
        canvas.text(x0, bottom, f"· {note}", size=10, fill=COLORS["muted"])
    return bottom


def comparison(canvas: Canvas, c: Comparison) -> None:
    canvas.text(20, canvas.y + 20, c.ref + (f"  (namespace {c.namespace})" if c.namespace else ""), size=18, weight="bold")
    changed = ", ".join(c.rules) if c.rules else "nothing"
    where = f"{c.file}, document {c.document}" if c.file else f"document {c.document}"
    canvas.text(20, canvas.y + 38, f"{where} · zdrender changes: {changed} · drain budget {_s(c.drain)}", fill=COLORS["muted"])
    canvas.y += 56
    canvas.text(20, canvas.y + 12, "Termination of one pod (seconds after deletion)", size=13, weight="bold")
    span = termination_span(c)
    step = tick_step(span, 12)
    axis = Axis(LEFT, RIGHT, axis_end(span, step))
    ticks_at = canvas.y + 32
    canvas.y += 38
    top, index = canvas.y, len(canvas.parts)
    termination(canvas, c.before.termination, axis, "before")
    termination(canvas, c.after.termination, axis, "after")
    _grid_under(canvas, index, axis, step, top, ticks_at)
    if c.before.rollout is None and c.after.rollout is None:
        canvas.y += 10
        return
    canvas.text(20, canvas.y + 12, "Rolling update: ready pods (solid) and all pods (dotted) against the desired count", size=13, weight="bold")
    top = canvas.y + 20
    end = axis_end(rollout_span(c), tick_step(rollout_span(c), 6))
    ceiling = max(t.rollout.peak if t.rollout else 0 for t in (c.before, c.after))
    ceiling = max([ceiling] + [t.rollout.desired for t in (c.before, c.after) if t.rollout])
    half = (WIDTH - 60) / 2
    bottoms = [
        capacity(canvas, c.before.rollout, 20, half - 20, top, end, "before", ceiling),
        capacity(canvas, c.after.rollout, 40 + half, half - 20, top, end, "after", ceiling),
    ]
    canvas.y = max(bottoms) + 20
    canvas.line(20, canvas.y, WIDTH - 20, canvas.y, "#dddddd")
    canvas.y += 16


def _grid_under(canvas: Canvas, index: int, axis: Axis, step: int, top: float, label_y: float) -> None:
    """Grid lines and tick labels for lanes already drawn from `index` on: inserted before them, so
    they lie underneath."""
    grid = Canvas()
    _ticks(grid, axis, step, top, canvas.y - 8, label_y)
    canvas.parts[index:index] = grid.parts


def render(comparisons: list[Comparison], title: str = "zdrender timeline") -> str:
    canvas = Canvas()
    canvas.y = 16
    canvas.text(20, canvas.y + 16, title, size=20, weight="bold")
    canvas.y += 30
    legend(canvas)
    for c in comparisons:
        comparison(canvas, c)
    return canvas.svg(title)
