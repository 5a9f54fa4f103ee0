"""The signals rule beyond its fixtures: the stop-signal field's schema, refusing unknown signal names, and the shell-script reader."""

from __future__ import annotations

import pytest

from zdrender import shell
from zdrender.settings import SettingsError

from conftest import require_module
from helpers import DEPLOYMENT, render


def test_stop_signal_schema_of_1_33_has_the_field():
    kubernetes_validate = require_module("kubernetes_validate")
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p"},
        "spec": {"os": {"name": "linux"}, "containers": [{"name": "c", "image": "nginx", "lifecycle": {"stopSignal": "SIGQUIT"}}]},
    }
    kubernetes_validate.validate(pod, "1.33", strict=True)
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(pod, "1.32", strict=True)


def test_unknown_stop_signal_is_a_one_line_error():
    # Checked whether or not an image matches, so a typo does not wait for the day one does.
    with pytest.raises(SettingsError, match=r"^setting stop-signals \(command line\): 'BOGUS' \(for images 'nginx'\) is not a Linux signal name"):
        render(DEPLOYMENT, ["--set", "stop-signals=nginx=BOGUS"])


@pytest.mark.parametrize(
    "argv, flagged",
    [
        (["sh", "-c", "app"], None),
        (["sh", "-c", "cd /srv && app"], "app"),
        (["/bin/sh", "-ec", "exec app"], None),
        (["bash", "-c", "set -e; exec app \\\n --flag"], None),
        (["sh", "-c", "a; b # exec in a comment"], "b"),
        (["sh", "-c", 'echo "x; exec y"; z'], "z"),
        (["sh", "-c", "app &\nwait"], "wait"),
        (["sh", "-c", "trap 'kill $p' SIGTERM; app & p=$!; wait"], None),
        (["sh", "-c", "trap 'exit' EXIT; app & wait"], "wait"),
        (["sh", "-c", "if x; then exec a; else exec b; fi"], None),
        (["sh", "-c", "if x; then exec a; else b; fi"], "b"),
        (["sh", "-c", "while :; do sleep 1; done"], "a loop ending in `done`"),
        (["sh", "-c", "cat <<EOF >f\nexec nope\nEOF\nrun"], "run"),
        (["sh", "-c", "a | b"], "a | b"),
        (["sh", "-c", "x=$(echo a; echo b) app"], None),
        (["busybox", "sh", "-c", "a; b"], "b"),
        (["/usr/bin/env", "FOO=1", "bash", "--noprofile", "-c", "a; b"], "b"),
        (["sh", "script.sh"], None),
        (["python3", "-c", "a; b"], None),
        (["tini", "--", "sh", "-c", "a; b"], None),  # an init as PID 1 handles signals
    ],
)
def test_shell_scripts(argv, flagged):
    found = shell.shell_script(argv)
    result = shell.unexeced_command(argv[found[1]]) if found else None
    assert result == flagged
