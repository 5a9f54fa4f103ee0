"""The rules of uptime, one module each, in the order they run.

A rule module has `ID`, `SUMMARY`, a docstring (its rationale), `KNOBS` (its settings) and
`plan(workload, ctx) -> list[Finding]`. Rules run in this order and each sees the operations of the
rules before it already applied (the grace period must cover the sleeps just planned), so the
order is part of the contract.
"""

from __future__ import annotations

from types import ModuleType

from ..settings import GLOBAL_KNOBS, Knob
from . import disruption_budget, grace_period, mesh, prestop_sleep, probe_balance, rollout, sidecars, signals

REGISTRY: tuple[ModuleType, ...] = (
    prestop_sleep,
    sidecars,
    mesh,
    grace_period,
    probe_balance,
    rollout,
    signals,
    disruption_budget,
)


def rule_ids() -> tuple[str, ...]:
    return tuple(rule.ID for rule in REGISTRY)


def all_knobs() -> tuple[Knob, ...]:
    knobs = [k if k.key != "skip-rules" else Knob(**{**k.__dict__, "choices": rule_ids()}) for k in GLOBAL_KNOBS]
    for rule in REGISTRY:
        knobs.extend(rule.KNOBS)
    return tuple(knobs)


def rationale(rule: ModuleType) -> str:
    return " ".join((rule.__doc__ or "").split())
