"""Kubernetes facts (kube.py) read the way the API, its controllers and the meshes' injectors read them."""

from __future__ import annotations

import pytest

from zdrender.kube import go_duration_seconds, istio_injected


@pytest.mark.parametrize("text, seconds", [("30s", 30), ("1m30s", 90), ("500ms", 0.5), ("1h", 3600), ("soon", None), ("", None), ("30", None)])
def test_go_durations(text, seconds):
    assert go_duration_seconds(text) == seconds


@pytest.mark.parametrize(
    ("image", "none"),
    [
        ("gcr.io/distroless/static-debian12:nonroot", True),
        ("gcr.io/distroless/java17@sha256:abc", True),
        ("docker.io/istio/proxyv2:1.22.0-distroless", True),
        ("cgr.dev/chainguard/nginx:latest", True),
        ("cgr.dev/chainguard/nginx:latest-dev", False),
        ("gcr.io/cloud-sql-connectors/cloud-sql-proxy:2.14.0", True),
        ("gcr.io/cloud-sql-connectors/cloud-sql-proxy", True),
        ("gcr.io/cloud-sql-connectors/cloud-sql-proxy:2.14.0-alpine", False),
        ("gcr.io/cloud-sql-connectors/cloud-sql-proxy:2.14.0-bookworm", False),
        ("gcr.io/cloudsql-docker/gce-proxy:1.33.2", True),
        ("gcr.io/cloudsql-docker/gce-proxy:1.33.2-buster", False),
        ("gcr.io/alloydb-connectors/alloydb-auth-proxy:1.10.0", True),
        ("nginx:1.27", False),
        ("example/distroless-looking-name:1", False),
    ],
)
def test_images_known_to_ship_no_sleep(image, none):
    from zdrender.policy import ships_no_sleep

    assert ships_no_sleep(image) is none


# Istio's injector (pkg/kube/inject/inject.go injectRequired) reads sidecar.istio.io/inject, the label
# before the annotation: y/yes/true/on inject, any other non-empty value refuses. Its webhooks
# (istiod chart mutatingwebhook.yaml) call it for the label "true" and for any istio.io/rev label,
# never for the label "false".
@pytest.mark.parametrize(
    "labels, annotations, injected",
    [
        ({}, {}, False),
        ({"istio.io/rev": "default"}, {}, True),
        ({"istio.io/rev": "1-24-2"}, {}, True),
        ({"istio.io/rev": ""}, {}, False),
        ({"sidecar.istio.io/inject": "true"}, {}, True),
        ({}, {"sidecar.istio.io/inject": "true"}, True),  # the namespace's label reaches it
        ({"istio.io/rev": "default", "sidecar.istio.io/inject": "false"}, {"sidecar.istio.io/inject": "false"}, False),  # istiod itself
        ({"istio.io/rev": "canary"}, {"sidecar.istio.io/inject": "false"}, False),  # the annotation still refuses
        ({"istio.io/rev": "canary", "sidecar.istio.io/inject": "true"}, {"sidecar.istio.io/inject": "false"}, True),  # the label wins
        ({"istio.io/rev": "canary", "sidecar.istio.io/inject": "yes"}, {}, True),
        ({"sidecar.istio.io/inject": "yes"}, {}, False),  # no webhook selects a "yes" label without a revision
        ({"istio.io/rev": "canary", "sidecar.istio.io/inject": "disabled"}, {}, False),
    ],
)
def test_istio_injection_as_its_webhook_and_injector_decide(labels, annotations, injected):
    assert istio_injected({"labels": labels, "annotations": annotations}) is injected
