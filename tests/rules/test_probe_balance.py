"""The probe-balance rule beyond its fixtures: sidecars' probes belong to their vendor; a proxy alone in its pod is the app there."""

from __future__ import annotations

from zdrender import pipeline
from zdrender.rules import probe_balance

from helpers import make_settings

SIDECAR_POD = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: app}
spec:
  replicas: 2
  selector: {matchLabels: {app: app}}
  template:
    metadata: {labels: {app: app}}
    spec:
      containers:
        - name: app
          image: example/app:1
          readinessProbe: {httpGet: {path: /ready, port: 8080}}
          livenessProbe: {httpGet: {path: /healthz, port: 8080}}
        - name: cloud-sql-proxy
          image: gcr.io/cloud-sql-connectors/cloud-sql-proxy:2.11.0
          readinessProbe: {httpGet: {path: /readiness, port: 9090}}
          livenessProbe: {httpGet: {path: /liveness, port: 9090}}
"""


def test_sidecar_probes_are_left_to_their_vendor():
    result = pipeline.run(SIDECAR_POD, make_settings(), rules=(probe_balance,))
    paths = [op["path"] for op in result.documents[0].ops if not op["path"].startswith("/metadata/annotations")]  # but the record
    assert paths and all(p.startswith("/spec/template/spec/containers/0/") for p in paths), paths


def test_a_lone_helper_is_judged_as_the_main_container():
    """A proxy image alone in its pod is the app there (not a sidecar), so its probes are balanced."""
    app_start = SIDECAR_POD.index("        - name: app\n")
    proxy_start = SIDECAR_POD.index("        - name: cloud-sql-proxy")
    alone = SIDECAR_POD[:app_start] + SIDECAR_POD[proxy_start:]
    result = pipeline.run(alone, make_settings(), rules=(probe_balance,))
    paths = [op["path"] for op in result.documents[0].ops if not op["path"].startswith("/metadata/annotations")]  # but the record
    assert paths and all(p.startswith("/spec/template/spec/containers/0/livenessProbe") for p in paths), paths
