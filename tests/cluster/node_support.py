"""The real node for the `cluster` tests: brought up once per session, taken down after.

The node needs root and, on a new machine, 5-9 minutes to build Kubernetes; so outside CI these
tests run only when asked (ZDRENDER_CLUSTER=1). Under CI=true a node that cannot start fails them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from cluster import node

from conftest import IN_CI, require


@pytest.fixture(scope="session")
def node_paths() -> Iterator[node.Paths]:
    if not (IN_CI or os.environ.get("ZDRENDER_CLUSTER")):
        pytest.skip("cluster tests run under CI=true or ZDRENDER_CLUSTER=1 (root; a new machine first builds Kubernetes, 5-9 min)")
    require(os.geteuid() == 0, "the node needs root")
    paths = node.default_paths()
    was_up = node.is_up(paths)
    node.up(paths)  # under CI a NodeError here fails every cluster test, with the step that failed
    yield paths
    if not was_up and not os.environ.get("ZDRENDER_KEEP_NODE"):
        node.down(paths)
        leftovers = [name for name in node.PROCESSES if node.running_pid(paths, name) is not None]
        assert not paths.state.exists() and not leftovers, f"`down` left {paths.state} or processes {leftovers}"
