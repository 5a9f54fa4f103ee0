"""`zdrender timeline`: the model's numbers on hand-made pods and on the talk's cases, the terminal and
SVG drawings, the SVG rendered to a PNG by headless Chromium, and the render path never loading it."""

from __future__ import annotations

import copy
import shutil
import struct
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
import zlib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from zdrender import kube
from zdrender.cli import app
from zdrender.rules import rule_ids
from zdrender.timeline import model, svg, terminal
from zdrender.timeline.compare import compare, matches
from zdrender.workload import StreamContext, Workload

from conftest import ROOT, require
from helpers import make_settings

DATA = Path(__file__).resolve().parent / "data" / "timeline"
DEMO = DATA / "talk-demo.yaml"
CLOUDSQL = DATA / "cloudsql.yaml"


def needs_rule(rule: str):
    """The after-picture of a case depends on a rule: expect failure while it is not registered."""
    return pytest.mark.xfail(rule not in rule_ids(), reason=f"the {rule} rule is not registered yet", strict=True)


# -- hand-made pods ----------------------------------------------------------------------------------
def container(name: str = "app", *, port: int | None = 8080, prestop=None, **extra) -> dict:
    c = {"name": name, "image": f"example.com/{name}:1", **extra}
    if port is not None:
        c["ports"] = [{"containerPort": port}]
    if prestop is not None:
        c["lifecycle"] = {"preStop": prestop}
    return c


def deployment(*containers: dict, grace: int | None = None, replicas: int | None = 1, init=(), strategy=None, kind="Deployment", **spec) -> Workload:
    pod: dict = {"containers": list(containers)}
    if grace is not None:
        pod["terminationGracePeriodSeconds"] = grace
    if init:
        pod["initContainers"] = list(init)
    body: dict = {"selector": {"matchLabels": {"app": "x"}}, "template": {"metadata": {"labels": {"app": "x"}}, "spec": pod}, **spec}
    if replicas is not None:
        body["replicas"] = replicas
    if strategy is not None:
        body["updateStrategy" if kind in ("DaemonSet", "StatefulSet") else "strategy"] = strategy
    return Workload({"apiVersion": "apps/v1", "kind": kind, "metadata": {"name": "x"}, "spec": body}, "", StreamContext())


def sleep(seconds: int) -> dict:
    return {"sleep": {"seconds": seconds}}


def spans(term: model.Termination) -> list[tuple[str, float, float]]:
    return [(r.kind, r.start, r.end) for r in term.risks]


def test_no_prestop_stops_accepting_while_traffic_still_arrives():
    term = model.terminate(deployment(container()), drain=20)
    (app,) = term.lives
    assert (app.hook, app.sigterm, app.exit, term.grace, term.sigkill) == ("none", 0, 20, 30, 30)
    assert spans(term) == [("not accepting", 0, 5)]
    assert term.risks[0].seconds == 5 and term.risk_seconds == 5


def test_a_prestop_sleep_longer_than_propagation_closes_the_window():
    term = model.terminate(deployment(container(prestop=sleep(10))), drain=20)
    assert (term.lives[0].sigterm, term.lives[0].exit, term.end) == (10, 30, 30)
    assert term.risks == []


def test_a_short_sleep_leaves_part_of_the_window():
    term = model.terminate(deployment(container(prestop={"exec": {"command": ["sh", "-c", "sleep 3"]}})), drain=20)
    assert spans(term) == [("not accepting", 3, 5)]
    assert "preStop sleep of 3s" in term.risks[0].reason


def test_propagation_is_a_knob():
    assert model.terminate(deployment(container()), drain=20, propagation=0).risks == []
    assert spans(model.terminate(deployment(container(prestop=sleep(10))), drain=20, propagation=12)) == [("not accepting", 10, 12)]


def test_an_unknown_hook_is_timed_as_zero_and_said_so():
    term = model.terminate(deployment(container(prestop={"exec": {"command": ["/bin/drain.sh"]}})), drain=20)
    assert term.lives[0].hook == "unknown" and term.lives[0].sigterm == 0
    assert spans(term) == [("not accepting", 0, 5)]
    assert any("preStop exec hook of unknown duration" in note for note in term.notes)
    http = model.terminate(deployment(container(prestop={"httpGet": {"path": "/stop", "port": 8080}})), drain=20)
    assert http.lives[0].hook == "unknown" and any("httpGet" in note for note in http.notes)


def test_sigkill_cuts_a_drain_that_outlasts_the_grace_period():
    term = model.terminate(deployment(container(prestop=sleep(10)), grace=25), drain=20)
    app = term.lives[0]
    assert (app.exit, app.done, app.killed) == (25, 30, True)
    assert spans(term) == [("killed", 25, 30)]


def test_a_shell_as_pid_1_serves_until_sigkill_and_drops_nothing():
    """Measured on the node (cluster scenario shell-entrypoint): the pod takes its whole grace period, no request fails."""
    term = model.terminate(deployment(container(command=["/bin/sh", "-c", "/web; echo stopped"])), drain=20)
    (app,) = term.lives
    assert (app.sigterm, app.exit, term.end) == (30, 30, 30)
    assert term.risks == [] and any("ignores SIGTERM" in note for note in term.notes)
    execs = model.terminate(deployment(container(command=["/bin/sh", "-c", "exec /web"])), drain=20)
    assert spans(execs) == [("not accepting", 0, 5)]


def test_an_app_that_drains_on_another_signal_drops_its_in_flight_requests_at_sigterm():
    """Measured on the node (cluster scenario stop-signal): SIGTERM stops such an app at once; its stopSignal fixes it."""
    signals = {"example.com/app": "quit"}
    term = model.terminate(deployment(container(prestop=sleep(10))), drain=20, stop_signals=signals)
    assert spans(term) == [("killed", 10, 30)] and "drains only on SIGQUIT" in term.risks[0].reason
    fixed = deployment(container(prestop={"sleep": {"seconds": 10}}) | {"lifecycle": {"preStop": sleep(10), "stopSignal": "SIGQUIT"}})
    assert model.terminate(fixed, drain=20, stop_signals=signals).risks == []
    assert model.terminate(deployment(container(prestop=sleep(10))), drain=20, stop_signals={"other/*": "SIGQUIT"}).risks == []


def test_a_recreate_outage_starts_at_sigterm_and_a_sleep_only_moves_it():
    """Measured on the node (cluster scenarios recreate, statefulset): kube-proxy serves the terminating pod
    while none is ready, so the outage runs from SIGTERM to the new pod's readiness, as long with a sleep."""
    probe = {"readinessProbe": {"httpGet": {"path": "/", "port": 8080}, "periodSeconds": 1}}
    for kind, strategy in (("Deployment", {"type": "Recreate"}), ("StatefulSet", None)):
        plain = model.model(deployment(container(**probe), kind=kind, strategy=strategy), drain=1)
        slept = model.model(deployment(container(prestop=sleep(10), **probe), kind=kind, strategy=strategy), drain=1)
        assert plain.rollout and slept.rollout
        assert plain.rollout.empty_seconds == slept.rollout.empty_seconds == 2, kind  # 1 s to go + 1 s to be ready
        assert slept.rollout.duration == plain.rollout.duration + 10


def test_a_sleep_past_the_grace_period_is_noted_and_killed():
    term = model.terminate(deployment(container(prestop=sleep(40))), drain=20)
    assert term.lives[0].sigterm == 30 and term.lives[0].killed
    assert any("longer than the 30s grace period" in note for note in term.notes)


def cloudsql_proxy(**extra) -> dict:
    return container("cloud-sql-proxy", port=None, **extra) | {"image": "gcr.io/cloud-sql-connectors/cloud-sql-proxy:2.11.4"}


def test_a_proxy_sidecar_that_dies_at_sigterm_strands_the_app():
    term = model.terminate(deployment(container(), cloudsql_proxy()), drain=20)
    _app, proxy = term.lives
    assert (proxy.role, proxy.proxy, proxy.sigterm, proxy.exit, proxy.receives_traffic) == ("sidecar", True, 0, 0, False)
    assert spans(term) == [("not accepting", 0, 5), ("sidecar gone", 0, 20)]
    assert term.risk_seconds == 20  # the union: the windows overlap


def test_a_proxy_that_sleeps_past_the_app_is_safe():
    term = model.terminate(deployment(container(prestop=sleep(10)), cloudsql_proxy(prestop=sleep(30)), grace=35), drain=20)
    assert [(life.name, life.sigterm, life.exit) for life in term.lives] == [("app", 10, 30), ("cloud-sql-proxy", 30, 30)]
    assert term.risks == []


def test_the_proxys_own_sigterm_delay_keeps_it_for_the_drain():
    term = model.terminate(deployment(container(prestop=sleep(10)), cloudsql_proxy(args=["--max-sigterm-delay=30s", "db"]), grace=40), drain=20)
    assert term.lives[1].exit == 30 and term.risks == []
    v1 = model.terminate(deployment(container(prestop=sleep(10)), cloudsql_proxy(command=["/cloud_sql_proxy", "-term_timeout", "15s"])), drain=20)
    assert spans(v1) == [("sidecar gone", 15, 30)]
    assert [(kube.go_duration_seconds(t) or 0) for t in ("30s", "1m30s", "500ms", "2h", "abc", "")] == [30, 90, 0.5, 7200, 0, 0]


def test_a_log_shipper_is_no_request_risk():
    shipper = container("fluent-bit", port=None) | {"image": "fluent/fluent-bit:3.0"}
    term = model.terminate(deployment(container(prestop=sleep(10)), shipper), drain=20)
    assert term.lives[1].is_sidecar and not term.lives[1].proxy
    assert term.risks == []


def test_native_sidecars_stop_after_the_apps_in_reverse_order():
    """The kubelet runs every preStop hook from the deletion, native sidecars' too, and holds a native
    sidecar's SIGTERM until the regular containers and the native sidecars defined after it are gone
    (killContainer: preStop, then terminationOrdering.waitForTurn, then stop)."""
    first = cloudsql_proxy(restartPolicy="Always")
    second = container("envoy", port=None, restartPolicy="Always", prestop=sleep(5)) | {"image": "envoyproxy/envoy:v1.30"}
    term = model.terminate(deployment(container(prestop=sleep(10)), init=(first, second), grace=60), drain=20)
    lives = {life.name: life for life in term.lives}
    assert lives["envoy"].role == "native sidecar"
    # envoy's 5s sleep ran from 0; it waits for the app (gone at 10 + 20) before SIGTERM
    assert (lives["envoy"].prestop_end, lives["envoy"].sigterm, lives["envoy"].exit) == (5, 30, 30)
    assert (lives["cloud-sql-proxy"].prestop_end, lives["cloud-sql-proxy"].sigterm) == (0, 30)
    assert term.risks == [] and term.end == 30


def test_a_native_sidecars_own_sleep_and_drain_delay_the_ones_before_it():
    first = cloudsql_proxy(restartPolicy="Always", args=["--max-sigterm-delay=10s"])
    second = container("envoy", port=None, restartPolicy="Always", prestop=sleep(40)) | {"image": "envoyproxy/envoy:v1.30"}
    term = model.terminate(deployment(container(prestop=sleep(10)), init=(first, second), grace=60), drain=20)
    lives = {life.name: life for life in term.lives}
    assert (lives["envoy"].sigterm, lives["envoy"].exit) == (40, 40)  # its sleep outlasts the app's 30s
    assert (lives["cloud-sql-proxy"].sigterm, lives["cloud-sql-proxy"].exit) == (40, 50)  # then its own 10s drain
    tight = model.terminate(deployment(container(prestop=sleep(10)), init=(first,), grace=35), drain=20)
    assert tight.lives[1].exit == 35 and tight.lives[1].killed
    assert any("cloud-sql-proxy: SIGKILL at 35s ends it 5s before it is done" in note for note in tight.notes)


def test_injected_mesh_proxies_are_noted():
    w = deployment(container(prestop=sleep(10)))
    w.obj["spec"]["template"]["metadata"]["annotations"] = {"linkerd.io/inject": "enabled"}
    assert any("linkerd-proxy is injected at admission" in n for n in model.terminate(w, drain=20).notes)


# -- rolling updates ---------------------------------------------------------------------------------
def test_scaling_rounds_surge_up_and_unavailable_down():
    assert kube.scaled("25%", 4, "25%", True) == 1 and kube.scaled("25%", 4, "25%", False) == 1
    assert kube.scaled("25%", 1, "25%", True) == 1 and kube.scaled("25%", 1, "25%", False) == 0
    assert kube.scaled("30%", 10, "25%", True) == 3 and kube.scaled("35%", 10, "25%", False) == 3
    assert kube.scaled(2, 10, "25%", True) == 2 and kube.scaled(None, 8, "25%", True) == 2
    assert kube.scaled("nonsense", 8, "25%", False) == 2


def probed(period=3, initial=0, success=1, **extra) -> dict:
    probe = {"httpGet": {"path": "/", "port": 8080}, "periodSeconds": period, "initialDelaySeconds": initial, "successThreshold": success}
    return container(readinessProbe=probe, **extra)


def steps(rollout: model.Rollout) -> list[tuple[float, int, int]]:
    return [(s.t, s.ready, s.pods) for s in rollout.steps]


def test_readiness_delay_from_the_probes():
    assert model.ready_delay(deployment(container())) == 0
    assert model.ready_delay(deployment(probed(period=3, initial=5, success=2))) == 11
    startup = {"httpGet": {"path": "/", "port": 8080}, "periodSeconds": 10}
    assert model.ready_delay(deployment(probed(period=3, initial=5, success=2, startupProbe=startup))) == 21


def test_four_replicas_at_25_percent_never_drop_below_three():
    r = model.rollout(deployment(probed(), replicas=4), pod_gone=20)
    assert (r.surge, r.unavailable, r.ready_after) == (1, 1, 3)
    # t=0: one old pod goes, two new start (5 pods, 3 ready); t=3: both ready, two more start and two
    # old go (still 3 ready); t=6: all four new ready, the last old goes.
    assert steps(r) == [(0, 3, 5), (6, 4, 4)]
    assert (r.lowest, r.dip_seconds, r.empty_seconds, r.duration, r.peak) == (3, 6, 0, 6, 5)
    assert r.ready_at(3) == 3 and r.ready_at(7) == 4


def test_one_replica_with_max_unavailable_one_has_no_capacity():
    r = model.rollout(deployment(probed(period=10), strategy={"rollingUpdate": {"maxUnavailable": 1}}), pod_gone=20)
    assert (r.surge, r.unavailable) == (1, 1)
    assert steps(r) == [(0, 0, 1), (10, 1, 1)]
    assert (r.lowest, r.empty_seconds) == (0, 10)


def test_one_replica_kept_warm():
    r = model.rollout(deployment(probed(period=10), strategy={"rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}}), pod_gone=20)
    assert steps(r) == [(0, 1, 2), (10, 1, 1)] and r.dip_seconds == 0


def test_min_ready_seconds_holds_the_old_pod():
    r = model.rollout(deployment(probed(period=5), strategy={"rollingUpdate": {"maxUnavailable": 0}}, minReadySeconds=10), pod_gone=20)
    assert steps(r) == [(0, 1, 2), (5, 2, 2), (15, 1, 1)] and r.duration == 15


def test_fenceposts_make_an_unavailable_pod_when_both_round_to_zero():
    r = model.rollout(deployment(probed(), strategy={"rollingUpdate": {"maxSurge": 0, "maxUnavailable": "25%"}}), pod_gone=20)
    assert (r.surge, r.unavailable, r.lowest) == (0, 1, 0)


def test_a_large_surge_shows_in_the_pod_count():
    r = model.rollout(deployment(probed(), replicas=10, strategy={"rollingUpdate": {"maxSurge": "100%", "maxUnavailable": 0}}), pod_gone=20)
    assert (r.peak, r.lowest, r.duration) == (20, 10, 3)


def test_recreate_waits_for_the_old_pods_to_be_gone():
    r = model.rollout(deployment(probed(), replicas=3, strategy={"type": "Recreate"}), pod_gone=20)
    assert steps(r) == [(0, 0, 0), (20, 0, 3), (23, 3, 3)] and r.empty_seconds == 23


def test_daemonsets_are_drawn_per_node():
    default = model.rollout(deployment(probed(), kind="DaemonSet", replicas=None), pod_gone=20)
    assert (default.desired, default.surge, default.unavailable) == (1, 0, 1)
    assert steps(default) == [(0, 0, 0), (20, 0, 1), (23, 1, 1)] and default.empty_seconds == 23
    surge = model.rollout(deployment(probed(), kind="DaemonSet", replicas=None, strategy={"rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}), pod_gone=20)
    assert steps(surge) == [(0, 1, 2), (3, 1, 1)] and surge.dip_seconds == 0
    host = deployment(probed() | {"ports": [{"containerPort": 80, "hostPort": 80}]}, kind="DaemonSet", replicas=None, strategy={"rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}})
    assert any("stalls" in n for n in model.rollout(host, pod_gone=20).notes)


def test_statefulsets_replace_one_pod_at_a_time():
    r = model.rollout(deployment(probed(), kind="StatefulSet", replicas=3), pod_gone=20)
    assert (r.lowest, r.duration, r.dip_seconds) == (2, 69, 69)  # 3 x (20 s gone + 3 s ready), back to back
    on_delete = model.rollout(deployment(probed(), kind="StatefulSet", replicas=3, strategy={"type": "OnDelete"}), pod_gone=20)
    assert on_delete.strategy == "OnDelete" and on_delete.dip_seconds == 0


def test_argo_blue_green_brings_up_the_whole_set_first():
    w = deployment(probed(), replicas=3)
    w.obj.update(apiVersion="argoproj.io/v1alpha1", kind="Rollout")
    w.obj["spec"]["strategy"] = {"blueGreen": {"activeService": "x"}}
    r = model.rollout(w, pod_gone=20)
    assert (r.peak, r.lowest) == (6, 3)


def test_kinds_that_do_not_roll():
    for kind in ("Pod", "ReplicaSet", "Job"):
        w = deployment(container())
        w.obj["kind"] = kind
        if kind == "Pod":
            w.obj["spec"] = w.obj["spec"]["template"]["spec"]
        assert model.rollout(w, pod_gone=20) is None


# -- the talk's cases, through the pipeline ----------------------------------------------------------
@pytest.fixture(scope="module")
def demo():
    return {c.ref: c for c in compare(DEMO.read_text(), make_settings())}


@pytest.fixture(scope="module")
def cloudsql():
    (only,) = compare(CLOUDSQL.read_text(), make_settings())
    return only


def test_demo_nginx_before(demo):
    nginx = demo["Deployment/nginx"].before
    assert spans(nginx.termination) == [("not accepting", 0, 5)]
    assert (nginx.termination.grace, nginx.termination.end) == (30, 20)
    r = nginx.rollout
    assert (r.desired, r.surge, r.unavailable, r.ready_after) == (4, 1, 1, 3)
    assert (r.lowest, r.dip_seconds, r.duration) == (3, 6, 6)


def test_demo_nginx_after(demo):
    nginx = demo["Deployment/nginx"]
    assert "prestop-sleep" in nginx.rules
    life = nginx.after.termination.lives[0]
    assert (life.hook, life.sigterm, life.exit) == ("sleep", 10, 30)
    assert nginx.after.termination.risks == []
    assert nginx.after.rollout.lowest == 3  # 25% of four: the rollout stays within one pod


def test_demo_ingress_controller_before_has_no_capacity(demo):
    before = demo["Deployment/ingress-controller"].before.rollout
    assert (before.desired, before.unavailable, before.lowest, before.empty_seconds) == (1, 1, 0, 10)
    assert any("hostPort" in n for n in before.notes)


@needs_rule("rollout")
def test_demo_ingress_controller_after_keeps_its_pod(demo):
    after = demo["Deployment/ingress-controller"].after.rollout
    assert (after.unavailable, after.lowest, after.empty_seconds) == (0, 1, 0)


def test_cloudsql_before_strands_in_flight_requests(cloudsql):
    before = cloudsql.before
    assert spans(before.termination) == [("not accepting", 0, 5), ("sidecar gone", 0, 20)]
    assert before.rollout.desired == 1  # the HPA's minReplicas


@needs_rule("sidecars")
def test_cloudsql_after_has_no_risk(cloudsql):
    after = cloudsql.after.termination
    assert after.risks == [], [r.reason for r in after.risks]
    app, proxy = after.lives
    assert proxy.exit >= app.exit and after.grace >= proxy.exit


def test_workload_names_match_kind_in_any_case():
    assert matches("Deployment/web", "deployment/web") and matches("Deployment/web", "web")
    assert not matches("Deployment/web", "StatefulSet/web") and not matches("Deployment/web", "we")


# -- drawings ----------------------------------------------------------------------------------------
def test_terminal_fits_80_columns_without_colour(demo, cloudsql):
    text = terminal.to_text([*demo.values(), cloudsql])
    assert "\x1b[" not in text
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "! 0s–5s (5s) not accepting" in text and "NONE serving for 10s" in text
    assert "sidecar gone" in text
    narrow = terminal.to_text([cloudsql], width=60)
    assert max(len(line) for line in narrow.splitlines()) <= 60


def test_terminal_colour_on_request(cloudsql):
    assert "\x1b[" in terminal.to_text([cloudsql], color=True)


def test_svg_is_xml_with_lanes_risks_and_capacity(demo, cloudsql):
    doc = svg.render([cloudsql, demo["Deployment/ingress-controller"]], "timeline & test")
    root = ET.fromstring(doc)
    ns = "{http://www.w3.org/2000/svg}"
    assert root.tag == f"{ns}svg" and int(root.get("height")) > 600
    texts = [t.text or "" for t in root.iter(f"{ns}text")]
    assert "timeline & test" in texts
    assert "20 s · app" in texts and "5 s · app" in texts  # Cloud SQL before: the risk windows, in seconds
    assert "✓ no dropped-request window" in texts
    assert any(t.startswith("SIGKILL 30 s") for t in texts)
    assert "lowest 0/1 ready · NONE serving for 10s · done in 10s" in texts
    red = [r for r in root.iter(f"{ns}rect") if r.get("fill") == svg.COLORS["risk"]]
    assert len(red) >= 3
    assert len(list(root.iter(f"{ns}polyline"))) == 8  # ready and pods, before and after, two workloads


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    require(found is not None, "chromium is not installed; run scripts/install-chromium.sh")
    return found  # type: ignore[return-value]


def screenshot(svg_path: Path, png_path: Path, width: int, height: int) -> None:
    with tempfile.TemporaryDirectory() as profile:
        flags = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            f"--user-data-dir={profile}",
            f"--screenshot={png_path}",
            f"--window-size={width},{height}",
        ]
        subprocess.run([chromium(), *flags, svg_path.as_uri()], capture_output=True, timeout=120, check=True)


def decode_png(data: bytes) -> tuple[int, int, int, list[bytes]]:
    """Width, height, channels and unfiltered rows of an 8-bit, non-interlaced PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, header = 8, b"", None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
    width, height, depth, color, _, _, interlace = header
    assert depth == 8 and interlace == 0
    channels = {0: 1, 2: 3, 4: 2, 6: 4}[color]
    raw, stride, rows = zlib.decompress(idat), width * channels, []
    prev = bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up, corner = prev[i], prev[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 0xFF
        rows.append(bytes(line))
        prev = line
    return width, height, channels, rows


def test_svg_renders_in_headless_chromium(cloudsql, tmp_path):
    browser = chromium()
    assert browser
    doc = svg.render([cloudsql], "Cloud SQL proxy sidecar")
    height = int(ET.fromstring(doc).get("height"))
    svg_path, png_path = tmp_path / "timeline.svg", tmp_path / "timeline.png"
    svg_path.write_text(doc, encoding="utf-8")
    screenshot(svg_path, png_path, svg.WIDTH, height)
    data = png_path.read_bytes()
    assert len(data) > 20_000, "the PNG is too small to hold the drawing"
    width, png_height, channels, rows = decode_png(data)
    assert (width, png_height) == (svg.WIDTH, height)
    pixels = {row[i : i + 3] for row in rows[::4] for i in range(0, len(row), channels * 4)}
    assert len(pixels) > 20, "the picture is (almost) uniform"
    red = [p for p in pixels if p[0] > 180 and p[1] < 110 and p[2] < 110]
    blue = [p for p in pixels if p[2] > 150 and p[0] < 110]
    assert red and blue, "risk windows (red) and drain bars (blue) must show"


# -- the CLI, and the render path never loading the timeline ------------------------------------------
def test_cli_timeline_writes_svg_and_filters(tmp_path):
    out = tmp_path / "t.svg"
    result = CliRunner().invoke(app, ["timeline", str(DEMO), "--workload", "deployment/ingress-controller", "--svg", str(out)])
    assert result.exit_code == 0, result.output
    assert "Deployment/ingress-controller" in result.stdout and "Deployment/nginx" not in result.stdout
    assert "\x1b[" not in result.stdout
    assert ET.parse(out).getroot().tag.endswith("svg")
    stdin = CliRunner().invoke(app, ["timeline", "--propagation", "12"], input=CLOUDSQL.read_text())
    assert stdin.exit_code == 0 and "endpoints catch up after 12s" in stdin.stdout
    missing = CliRunner().invoke(app, ["timeline", str(DEMO), "--workload", "Deployment/none"])
    assert missing.exit_code == 2 and "serving workloads: Deployment/nginx, Deployment/ingress-controller" in missing.stderr
    nothing = CliRunner().invoke(app, ["timeline"], input="apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
    assert nothing.exit_code == 2 and "no serving workload" in nothing.stderr


def test_render_path_never_imports_the_timeline():
    """The real entry point, as Helm runs it: every module it loads shows in -X importtime."""
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "zdrender"], input=CLOUDSQL.read_bytes(), capture_output=True, cwd=ROOT, timeout=60)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    assert b"preStop" in done.stdout
    loaded = done.stderr.decode()
    assert "zdrender.pipeline" in loaded, "importtime shows zdrender's own modules"
    assert "zdrender.timeline" not in loaded
    check = "import sys, zdrender.pipeline, zdrender.cli; print(any(m.startswith('zdrender.timeline') for m in sys.modules))"
    assert subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, cwd=ROOT, timeout=60).stdout.strip() == "False"


def test_comparison_does_not_touch_its_input():
    text = CLOUDSQL.read_text()
    before = copy.copy(text)
    compare(text, make_settings())
    assert text == before


def test_timeline_and_rules_read_the_same_kubernetes_facts():
    """One module of Kubernetes facts (kube.py): with `linkerd.io/inject: ingress` the mesh rule patched
    the pod but the timeline drew no proxy; a restartable init container's hostPort stalled surge in the
    rollout rule but not in the timeline (issue 11, item 1)."""
    from zdrender.rules import mesh, rollout

    def workload(pod_annotations=None, init=None):
        pod = {"metadata": {"annotations": pod_annotations or {}}, "spec": {"containers": [{"name": "app", "image": "a:1"}]}}
        if init:
            pod["spec"]["initContainers"] = [init]
        obj = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "w"}, "spec": {"replicas": 2, "template": pod}}
        return Workload(obj, "", StreamContext())

    ingress = workload({"linkerd.io/inject": "ingress"})
    assert mesh.wants_linkerd(ingress)
    notes: list[str] = []
    model._mesh_notes(ingress, notes)
    assert any("linkerd-proxy" in note for note in notes)

    bound = workload(init={"name": "proxy", "image": "p:1", "restartPolicy": "Always", "ports": [{"containerPort": 80, "hostPort": 80}]})
    assert rollout.host_binding(bound) is not None
    timeline = model.rollout(bound, pod_gone=30)
    assert timeline is not None and any("hostPort" in note for note in timeline.notes)
