"""The timeline in a terminal: one text lane per container on a shared time axis, at most 80 columns.

Every mark is a distinct character, so the picture reads the same without colour (Rich drops colour
when stdout is not a terminal, or when NO_COLOR is set).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from .model import MAX_REPLICAS, Life, Rollout, Termination
from .scale import axis_end, rollout_span, termination_span, tick_step

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

    from .compare import Comparison

WIDTH = 80
LABEL = 14  # "  " + 12 characters of name
LEGEND = "~ traffic still arrives  ░ preStop  ▓ drain  ┤ exit  ✕ killed  │ SIGKILL  ! risk"
SPARK = "▁▂▃▄▅▆▇█"


class Lane:
    """A row of cells on a time axis of `seconds` per cell."""

    def __init__(self, cells: int, seconds: float):
        self.chars = [" "] * cells
        self.styles = [""] * cells
        self.seconds = seconds

    def col(self, t: float) -> int:
        return max(0, min(len(self.chars) - 1, int(t / self.seconds + 1e-9)))

    def fill(self, start: float, end: float, char: str, style: str) -> None:
        if end <= start:
            return
        last = max(self.col(start), min(len(self.chars), math.ceil(end / self.seconds - 1e-9)) - 1)
        for i in range(self.col(start), last + 1):
            self.chars[i], self.styles[i] = char, style

    def mark(self, t: float, char: str, style: str, *, only_blank: bool = False) -> None:
        i = self.col(t)
        if not only_blank or self.chars[i] == " ":
            self.chars[i], self.styles[i] = char, style

    def text(self, label: str, label_style: str = "") -> Text:
        from rich.text import Text

        line = Text("  " + _fit(label, LABEL - 3).ljust(LABEL - 2), style=label_style)
        for char, style in zip(self.chars, self.styles):
            line.append(char, style=style or None)
        line.rstrip()
        return line


def para(text: str, style: str = "", *, indent: int = 2, hang: int = 4, width: int = WIDTH) -> list[Text]:
    """`text` wrapped to `width`, its continuation lines indented by `hang` more columns."""
    import textwrap

    from rich.text import Text

    wrapped = textwrap.wrap(text, width, initial_indent=" " * indent, subsequent_indent=" " * (indent + hang)) or [""]
    return [Text(line, style=style) for line in wrapped]


def _fit(text: str, size: int) -> str:
    return text if len(text) <= size else text[: size - 1] + "…"


def axis(cells: int, seconds: float, step: int, unit: str = "s") -> tuple[Text, Text]:
    from rich.text import Text

    labels, rule = [" "] * cells, ["─"] * cells
    t = 0
    while t / seconds < cells - 0.5:
        i = int(t / seconds + 1e-9)
        rule[i] = "┼" if t else "├"
        word = f"{t}{unit}" if t and (t + step) / seconds >= cells - 0.5 else str(t)
        if i + len(word) <= cells and all(c == " " for c in labels[max(0, i - 1) : i + len(word)]):
            labels[i : i + len(word)] = word
        t += step
    pad = " " * LABEL
    return Text((pad + "".join(labels)).rstrip(), style="dim"), Text(pad + "".join(rule), style="dim")


def _s(seconds: float) -> str:
    return f"{seconds:g}s"


def termination_lines(term: Termination, cells: int, seconds: float, width: int = WIDTH) -> list[Text]:
    from rich.text import Text

    lines = []
    traffic = Lane(cells, seconds)
    traffic.fill(0, term.propagation, "~", "cyan")
    lines.append(traffic.text("traffic", "cyan"))
    for life in term.lives:
        lines.append(_life_lane(life, term, cells, seconds).text(life.name, "" if life.is_sidecar else "bold"))
    if term.risks:
        risk = Lane(cells, seconds)
        for r in term.risks:
            risk.fill(r.start, r.end, "!", "bold red")
        lines.append(risk.text("risk", "bold red"))
        for r in term.risks:
            lines.extend(para(f"! {_s(r.start)}–{_s(r.end)} ({_s(r.seconds)}) {r.kind}: {r.reason}", "red", width=width))
    else:
        lines.append(Text("  ✓ no dropped-request window", style="green"))
    for note in term.notes:
        lines.extend(para(f"· {note}", "dim", width=width))
    return lines


def _life_lane(life: Life, term: Termination, cells: int, seconds: float) -> Lane:
    lane = Lane(cells, seconds)
    lane.fill(0, life.prestop_end, "░", "yellow")
    lane.fill(life.prestop_end, life.sigterm, "─", "dim")  # a native sidecar waiting for its turn
    if life.hook == "unknown":
        lane.mark(0, "?", "yellow")
    lane.fill(life.sigterm, life.exit, "▓", "blue")
    lane.mark(term.sigkill, "│", "red", only_blank=True)
    lane.mark(life.exit, "✕" if life.killed else "┤", "bold red" if life.killed else "bold")
    return lane


def rollout_lines(rollout: Rollout | None, cells: int, seconds: float, label: str, width: int = WIDTH) -> list[Text]:
    from rich.text import Text

    if rollout is None:
        return [Text(f"  {label:<{LABEL - 2}}no rolling update drawn: this kind does not roll, or it has more than {MAX_REPLICAS} replicas", style="dim")]
    lane = Lane(cells, seconds)
    for i in range(cells):
        t = (i + 0.5) * seconds
        if t > rollout.duration + seconds and i:
            break
        ready = rollout.ready_at(t)
        if ready <= 0:
            lane.chars[i], lane.styles[i] = "·", "bold red"
        else:
            level = min(len(SPARK), math.ceil(ready / max(rollout.desired, 1) * len(SPARK)))
            lane.chars[i], lane.styles[i] = SPARK[level - 1], "red" if ready < rollout.desired else "green"
    lines = [lane.text(label, "bold")]
    who = "1 pod per node" if rollout.per_node else f"{rollout.desired} desired"
    facts = f"{rollout.strategy}, {who}, maxSurge {rollout.surge}, maxUnavailable {rollout.unavailable}, a new pod ready after {_s(rollout.ready_after)}"
    if rollout.min_ready:
        facts += f" + minReadySeconds {rollout.min_ready}"
    lines.extend(para(facts, "dim", indent=LABEL, hang=2, width=width))
    style = "bold red" if rollout.empty_seconds else ("yellow" if rollout.dip_seconds else "green")
    lines.extend(para(rollout.verdict(), style, indent=LABEL, hang=2, width=width))
    for note in rollout.notes:
        lines.extend(para(f"· {note}", "dim", indent=LABEL, hang=2, width=width))
    return lines


def comparison_lines(c: Comparison, width: int = WIDTH) -> list[Text]:
    from rich.text import Text

    width = min(width, WIDTH)
    cells = max(20, width - LABEL - 1)
    lines: list[Text] = []
    title = Text(c.ref, style="bold")
    if c.namespace:
        title.append(f" (namespace {c.namespace})")
    title.append(f"  {c.file + ', ' if c.file else ''}document {c.document}", style="dim")
    lines.append(title)
    changed = ", ".join(c.rules) if c.rules else "nothing"
    lines.append(Text(f"zdrender changes: {changed}", style="dim"))

    span = termination_span(c)
    step = tick_step(span, cells // 6)
    seconds = axis_end(span, step) / cells
    lines.append(Text(f"Termination of one pod: seconds after deletion; drain budget {_s(c.drain)}", style="bold"))
    lines.extend(axis(cells, seconds, step))
    for name, timeline in (("before", c.before), ("after", c.after)):
        term = timeline.termination
        lines.append(Text(f"{name} · grace {term.grace}s · endpoints catch up after {_s(term.propagation)}", style="bold"))
        lines.extend(termination_lines(term, cells, seconds, width))

    if c.before.rollout is None and c.after.rollout is None:
        return lines
    span = rollout_span(c)
    step = tick_step(span, cells // 6)
    seconds = axis_end(span, step) / cells
    lines.append(Text("Rolling update: ready pods over time (full block = desired count)", style="bold"))
    lines.extend(axis(cells, seconds, step))
    lines.extend(rollout_lines(c.before.rollout, cells, seconds, "before", width))
    lines.extend(rollout_lines(c.after.rollout, cells, seconds, "after", width))
    return lines


def render(comparisons: list[Comparison], console: Console) -> None:
    from rich.text import Text

    width = min(console.width, WIDTH)
    console.print(Text(LEGEND, style="dim"), width=width)
    for c in comparisons:
        console.print(width=width)
        for line in comparison_lines(c, width):
            console.print(line, width=width)


def to_text(comparisons: list[Comparison], *, width: int = WIDTH, color: bool = False) -> str:
    """The drawing as a string (for tests and files)."""
    import io

    from rich.console import Console

    buffer = io.StringIO()
    console = Console(file=buffer, width=width, force_terminal=color, color_system="standard" if color else None, highlight=False)
    render(comparisons, console)
    return buffer.getvalue()
