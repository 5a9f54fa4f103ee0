"""Time axes shared by the terminal and SVG drawings: one span for before and after, round ticks."""

from __future__ import annotations

import math

from .compare import Comparison

_STEPS = (1, 2, 5, 10, 15, 20, 30, 60, 120, 300, 600, 1800, 3600)


def tick_step(span: float, most: int) -> int:
    """The smallest round step that puts at most `most` ticks on [0, span]."""
    for step in _STEPS:
        if span / step <= most:
            return step
    return math.ceil(span / most)


def axis_end(span: float, step: int) -> float:
    return max(step, math.ceil(span / step - 1e-9) * step)


def termination_span(c: Comparison) -> float:
    """Seconds that show both terminations whole, SIGKILL included, with a little room."""
    return max(c.before.termination.horizon, c.after.termination.horizon) + 1


def rollout_span(c: Comparison) -> float:
    durations = [t.rollout.duration for t in (c.before, c.after) if t.rollout is not None]
    return max(durations + [1.0]) * 1.1 + 1
