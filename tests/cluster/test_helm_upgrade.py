"""An installed release moved from unpatched to patched to patched again with real `helm upgrade`:
the first patched upgrade rolls the pods once, the second changes nothing (same pod template hash, same
generation), Jobs and hooks keep their (immutable) pod templates, and Helm reports no error."""

from __future__ import annotations

import pytest

from cluster import node
from cluster.scenarios import upgrade_sequence

from node_support import node_paths  # noqa: F401

pytestmark = pytest.mark.cluster


def test_patched_upgrade_is_idempotent(node_paths: node.Paths) -> None:
    install, patched, again = upgrade_sequence(node_paths)
    assert install.template_hash and patched.template_hash and again.template_hash
    assert patched.template_hash != install.template_hash, "the first patched upgrade must roll the pods onto the fixed template"
    assert again.template_hash == patched.template_hash and again.generation == patched.generation, "a second patched upgrade must start no rollout"
    assert again.replica_sets == patched.replica_sets
    assert install.job_template == patched.job_template == again.job_template, "a Job's pod template is immutable: zdrender must leave it alone"
    assert install.hook_ran is False and patched.hook_ran and again.hook_ran, "the pre-upgrade hook runs on each upgrade"
