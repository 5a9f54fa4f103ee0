"""The prestop-sleep rule beyond its fixtures: what makes pods serving."""

from __future__ import annotations

from conftest import FIXTURES, fixture_args
from helpers import render


def findings(case: str, rule: str | None = None):
    text = (FIXTURES / case).read_text(encoding="utf-8")
    result = render(text, fixture_args(text))
    return [f for f in result.findings if rule is None or f.rule == rule]


def test_an_externalname_service_does_not_make_pods_serving():
    # endpointslice controller syncService: "services with Type ExternalName receive no endpoints".
    assert not findings("prestop-sleep/success/externalname-service.yaml", "prestop-sleep")
