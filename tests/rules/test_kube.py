"""Kubernetes facts (kube.py) read the way the API and its controllers read them."""

from __future__ import annotations

import pytest

from zdrender.kube import go_duration_seconds


@pytest.mark.parametrize("text, seconds", [("30s", 30), ("1m30s", 90), ("500ms", 0.5), ("1h", 3600), ("soon", None), ("", None), ("30", None)])
def test_go_durations(text, seconds):
    assert go_duration_seconds(text) == seconds
