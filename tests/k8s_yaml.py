"""The tests' oracle: YAML read exactly as Kubernetes reads it, by sigs.k8s.io/yaml itself.

`tests/tools/k8syaml` (built by scripts/install-test-tools.sh) converts each document to JSON with
the library kubectl, Helm and the API server use; what zdrender reads must be the same object.
"""

from __future__ import annotations

import json
import subprocess
from typing import Any

from conftest import tool


class Refused(Exception):
    """sigs.k8s.io/yaml refuses the document; the message is its error."""


def read(texts: list[str]) -> list[Any]:
    """Each text's object as Kubernetes reads it, or a `Refused` in its place."""
    if not texts:
        return []
    run = subprocess.run([tool("k8syaml")], input="\0".join(texts).encode(), capture_output=True, check=True, timeout=60)
    results: list[Any] = []
    for line in run.stdout.decode().split("\n")[:-1]:  # not splitlines(): NEL and LS are not line ends here
        value = json.loads(line)
        results.append(Refused(value["k8syaml/error"]) if isinstance(value, dict) and set(value) == {"k8syaml/error"} else value)
    assert len(results) == len(texts), run.stderr
    return results
