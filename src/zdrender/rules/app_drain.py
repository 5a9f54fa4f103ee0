"""How long the app of a pod takes to stop, for the rules whose helpers must outlive it (sidecars, mesh).

Not a rule: a shared measure. The app stops receiving traffic after its preStop sleep, then drains for
the drain budget; a proxy it talks through must still be there at the end of both.
"""

from __future__ import annotations

from ..settings import Settings
from ..workload import Workload


def app_stop_seconds(workload: Workload, settings: Settings) -> tuple[int, str]:
    """Longest preStop sleep of the main containers + the drain budget, and how it was reckoned.

    A main container whose preStop hook is not a recognisable sleep is assumed to take
    `prestop-seconds` (we cannot know how long a script runs); one without a hook takes 0.
    """
    drain = settings["drain-seconds"]
    longest, who = 0, ""
    for c in workload.main_containers:
        if c.prestop is None:
            continue
        seconds, note = (c.prestop_sleep, "sleeps") if c.prestop_sleep is not None else (settings["prestop-seconds"], "has a preStop hook assumed to take")
        if seconds > longest:
            longest, who = seconds, f'"{c.name}" {note} {seconds}s'
    reason = f"{who} + {drain}s drain" if who else f"{drain}s drain; no main container sleeps"
    return longest + drain, reason
