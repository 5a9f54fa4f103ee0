"""Render mode's reports: the stderr summary, and --report FILE / $ZDRENDER_REPORT in JSON, SARIF or text."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from zdrender import report
from zdrender.cli import app
from zdrender.finding import Finding

from conftest import ROOT
from lint_support import WEB, only

BASE = only("prestop-sleep", "grace-period")
BAD = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: x: y\n"


def render(args, text=None, env=None):
    return CliRunner(env=env).invoke(app, args, input=WEB.read_text() if text is None else text)


def test_json_report_contents(tmp_path):
    target = tmp_path / "out.json"
    result = render([*BASE, "--quiet", "--report", str(target)])
    assert result.exit_code == 0 and result.stderr == ""
    payload = json.loads(target.read_text())
    assert payload["tool"]["name"] == "zdrender" and payload["mode"] == "render"
    assert payload["summary"] == {"info": 0, "warning": 1, "error": 0, "fixable": 1}
    assert "error" not in payload
    [finding] = payload["findings"]
    assert finding == {
        "file": None,
        "rule": "prestop-sleep",
        "severity": "warning",
        "message": finding["message"],
        "document": 2,
        "kind": "Deployment",
        "name": "web",
        "namespace": "shop",
        "source": "web/templates/deployment.yaml",
        "line": 29,
        "path": "/spec/template/spec/containers/0/lifecycle/preStop",
        "patch": [{"op": "add", "path": "/spec/template/spec/containers/0/lifecycle", "value": {"preStop": {"sleep": {"seconds": 10}}}}],
        "new_document": None,
    }


@pytest.mark.parametrize("name", ["out.sarif", "out.sarif.json"])
def test_sarif_report_from_the_extension(tmp_path, name):
    target = tmp_path / name
    assert render([*BASE, "--report", str(target)]).exit_code == 0
    log = json.loads(target.read_text())
    assert log["version"] == "2.1.0"
    run = log["runs"][0]
    assert run["properties"] == {"mode": "render"}
    [result] = run["results"]
    # On stdin the Helm template names the file (see test_sarif for schema validation).
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "web/templates/deployment.yaml"


def test_text_report_says_fixed(tmp_path):
    target = tmp_path / "out.txt"
    assert render([*BASE, "--report", str(target)]).exit_code == 0
    lines = target.read_text().splitlines()
    assert lines[0].startswith("stdin:29: warning [prestop-sleep] shop/Deployment/web (web/templates/deployment.yaml): container")
    assert lines[0].endswith("[fixed]")
    assert lines[-1] == "zdrender: 1 warning in 1 file; fixed 1 finding in 1 workload (prestop-sleep 1)"


@pytest.mark.parametrize(
    ("name", "read"),
    [
        ("out.json", lambda text: json.loads(text)["error"]),
        ("out.sarif", lambda text: json.loads(text)["runs"][0]["invocations"][0]["toolExecutionNotifications"][0]["message"]["text"]),
        ("out.txt", lambda text: text.splitlines()[-1].removeprefix("zdrender: error: ")),
    ],
)
def test_report_is_written_on_errors_too(tmp_path, name, read):
    # Helm 4 never shows a post-renderer's stderr: the report file is the only place the error shows.
    target = tmp_path / name
    result = render([], BAD, env={"ZDRENDER_REPORT": str(target)})
    assert (result.exit_code, result.stdout) == (2, "")
    message = result.stderr.removeprefix("zdrender: ").rstrip("\n")
    assert message.startswith("document 1, line 4: ")
    assert read(target.read_text()) == message


def test_flag_wins_over_environment(tmp_path):
    flag, env = tmp_path / "flag.json", tmp_path / "env.json"
    assert render([*BASE, "--report", str(flag)], env={"ZDRENDER_REPORT": str(env)}).exit_code == 0
    assert flag.exists() and not env.exists()


def test_unwritable_report_fails_closed(tmp_path):
    target = tmp_path / "missing-dir" / "out.json"
    result = render([*BASE, "--report", str(target)])
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == f"zdrender: cannot write the report {target}: No such file or directory; fix --report or $ZDRENDER_REPORT\n"


def test_stderr_summary_and_quiet():
    loud = render(BASE)
    assert loud.exit_code == 0
    assert loud.stderr == "zdrender: fixed 1 finding in 1 workload (prestop-sleep 1)\n"
    assert render([*BASE, "--quiet"]).stderr == ""
    verbose = render([*BASE, "--verbose"]).stderr.splitlines()
    assert verbose[0].startswith('zdrender: fixed: shop/Deployment/web [prestop-sleep]: container "web"')


def test_summary_shows_unfixed_warnings_and_hides_info():
    findings = [
        Finding("r", "warning", "needs a person", kind="Deployment", name="a"),
        Finding("r", "info", "fyi", kind="Deployment", name="a"),
        Finding("r", "warning", "done", ops=[{"op": "add", "path": "/x", "value": 1}], kind="Deployment", name="b", document=2),
    ]
    assert report.summary_lines(findings) == [
        "zdrender: warning: Deployment/a [r]: needs a person",
        "zdrender: fixed 1 finding in 1 workload (r 1)",
    ]


def test_counts_and_thresholds():
    findings = [Finding("r", s, "m") for s in ("info", "warning", "warning", "error")]
    assert report.counts(findings) == {"info": 1, "warning": 2, "error": 1, "fixable": 0}
    assert [report.reaches(f, "warning") for f in findings] == [False, True, True, True]
    assert report.totals_line(findings, files=2, mode="check") == "zdrender: 1 error, 2 warnings, 1 info in 2 files"
    assert report.report_format("A.SARIF") == "sarif" and report.report_format("x.sarif.json") == "sarif"
    assert report.report_format("x.json") == "json" and report.report_format("x.log") == "text"


def test_names_with_line_breaks_stay_on_their_line_in_every_line_format():
    """A name or value holding a line break (quoted YAML allows it) must not split a report line (issue 10, item 8)."""
    from zdrender import report
    from zdrender.finding import Finding

    finding = Finding("prestop-sleep", "warning", 'container "c\rd": no preStop sleep', kind="Deployment", name="we\nb\u2028x\x85y", line=3)
    for fmt in ("text", "github"):
        out = report.format_findings(fmt, [finding], error="bad\nthing", mode="check")
        assert len(out.splitlines()) == len(out.split("\n")) - 1, (fmt, out)
        assert "we" in out and "y" in out
    assert all(len(line.splitlines()) == 1 for line in report.summary_lines([finding], verbose=True))
    assert "we\\nb\\u2028x\\x85y" in report.to_text([finding], mode="check")
    for fmt in ("json", "sarif"):  # escaped as JSON does, NEL and LS included: no reader splits the line
        out = report.format_findings(fmt, [finding], mode="check")
        assert len(out.splitlines()) == len(out.split("\n")) - 1, fmt
        assert "we\\nb\\u2028x\\u0085y" in out


def test_check_and_render_count_fixes_in_the_same_words():
    """Issue 12: the render summary and `check` say the same thing about the same input."""
    from zdrender import pipeline

    from helpers import make_settings

    text = (ROOT / "examples" / "rendered.yaml").read_text(encoding="utf-8")
    findings = pipeline.run(text, make_settings([])).findings
    fixes = report.fix_count(findings)
    assert fixes == "7 findings in 2 workloads (prestop-sleep 2, rollout 1, sidecars 1, grace-period 1, probe-balance 2)"
    assert f"zdrender: fixed {fixes}" in report.summary_lines(findings)
    assert f"; fixable: {fixes}, which render with zdrender applies" in report.totals_line(findings, files=1, mode="check")
