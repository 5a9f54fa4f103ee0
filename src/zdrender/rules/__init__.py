"""The rules of uptime, one module each, in the order they run.

A rule module has `ID`, `SUMMARY`, `KINDS` (the workload kinds it judges), `REMEDIATION` (what to
change in the chart), a docstring (its rationale, then FAIL/PASS examples that a test runs, in
yamllint's manner), `KNOBS` (its settings) and `plan(workload, ctx) -> list[Finding]`. Rules run in this order and each sees the operations of the
rules before it already applied (the grace period must cover the sleeps just planned), so the
order is part of the contract.
"""

from __future__ import annotations

import re
from types import ModuleType

from ..settings import GLOBAL_KNOBS, Knob
from . import disruption_budget, grace_period, load_balancer, mesh, prestop_sleep, probe_balance, readiness, rollout, sidecars, signals, spread

REGISTRY: tuple[ModuleType, ...] = (
    prestop_sleep,
    load_balancer,  # after prestop-sleep (it raises that sleep), before sidecars and mesh (they outlive it) and grace-period (it covers it)
    sidecars,
    mesh,
    grace_period,
    readiness,  # before probe-balance: it balances liveness against the readiness probe this one adds, in the same render
    probe_balance,
    rollout,
    signals,
    disruption_budget,
    spread,
)


def rule_ids() -> tuple[str, ...]:
    return tuple(rule.ID for rule in REGISTRY)


def all_knobs() -> tuple[Knob, ...]:
    knobs = [k if k.key != "skip-rules" else k._replace(choices=rule_ids()) for k in GLOBAL_KNOBS]
    for rule in REGISTRY:
        knobs.extend(rule.KNOBS)
    return tuple(knobs)


_EXAMPLES = "\nExamples"
_EXAMPLE = r"^(FAIL|PASS): (.+)\n\n((?:    .*\n|\n)+)"  # compiled on first use: docs and tests read examples, renders do not


def description(rule: ModuleType) -> str:
    """The rule's docstring up to its examples, paragraphs kept."""
    return (rule.__doc__ or "").split(_EXAMPLES, 1)[0].strip()


def rationale(rule: ModuleType) -> str:
    """The rule's description as one paragraph."""
    return " ".join(description(rule).split())


def examples(rule: ModuleType) -> list[tuple[str, str, str]]:
    """(FAIL or PASS, what it shows, the YAML stream) for each example in the rule's docstring."""
    import textwrap  # not on the render path

    doc = rule.__doc__ or ""
    if _EXAMPLES not in doc:
        return []
    section = doc.split(_EXAMPLES, 1)[1] + "\n"
    return [(m.group(1), m.group(2), textwrap.dedent(m.group(3)).strip("\n") + "\n") for m in re.finditer(_EXAMPLE, section, re.MULTILINE)]
