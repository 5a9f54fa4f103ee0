"""`zdrender check`: findings without rewriting, exit codes by --fail-on, and the four output formats."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys

import pytest

from zdrender import report
from zdrender.finding import Finding

from lint_support import BROKEN, CLEAN, DATA, WEB, fake_rule, invoke, only, use_rules

BASE = only("prestop-sleep", "grace-period")


def rel(path) -> str:
    return os.path.relpath(path)


def test_text_has_one_line_per_finding_and_a_total():
    result = invoke(["check", *BASE, rel(WEB), rel(CLEAN)])
    assert result.exit_code == 1
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f'{rel(WEB)}:29: warning [prestop-sleep] shop/Deployment/web: container "web": ')
    assert lines[0].endswith("[fixable]")
    assert lines[-1] == "zdrender: 1 warning in 2 files; fixable: 1 finding in 1 workload (prestop-sleep 1), which render with zdrender applies"
    assert len(lines) == 2
    assert "\x1b[" not in result.stdout, "no colour when stdout is not a terminal"


def test_check_never_rewrites_its_input():
    before = WEB.read_bytes()
    assert invoke(["check", str(WEB)]).exit_code == 1
    assert WEB.read_bytes() == before


def test_stdin_is_read_with_dash_or_no_file():
    text = WEB.read_text()
    for args in ([], ["-"]):
        result = invoke(["check", *BASE, *args], input=text)
        assert result.exit_code == 1
        # On stdin the text names the Helm template next to the workload.
        assert result.stdout.startswith("stdin:29: warning [prestop-sleep] shop/Deployment/web (web/templates/deployment.yaml): ")


def test_clean_input_passes_at_every_threshold():
    for threshold in ("info", "warning", "error"):
        result = invoke(["check", "--fail-on", threshold, str(CLEAN)])
        assert (result.exit_code, result.stdout) == (0, "zdrender: no findings in 1 file\n")


@pytest.mark.parametrize(
    ("severity", "threshold", "code"),
    [
        ("info", "info", 1),
        ("info", "warning", 0),
        ("info", "error", 0),
        ("warning", "info", 1),
        ("warning", "warning", 1),
        ("warning", "error", 0),
        ("error", "warning", 1),
        ("error", "error", 1),
    ],
)
def test_fail_on_threshold(monkeypatch, severity, threshold, code):
    use_rules(monkeypatch, fake_rule(severity))
    result = invoke(["check", "--fail-on", threshold, str(WEB)])
    assert result.exit_code == code, result.output
    assert f": {severity} [fake-rule] shop/Deployment/web: a test finding" in result.stdout


def test_default_threshold_is_warning_and_fixable_findings_count(monkeypatch):
    use_rules(monkeypatch, fake_rule("warning", fix=True))
    result = invoke(["check", str(WEB)])
    assert result.exit_code == 1
    assert "[fixable]" in result.stdout
    use_rules(monkeypatch, fake_rule("info", fix=True))
    assert invoke(["check", str(WEB)]).exit_code == 0


def test_bad_yaml_anywhere_is_exit_2_with_one_line(monkeypatch):
    # render checks the syntax of the documents it passes through as text, too: fail closed.
    rendered = invoke(["--quiet"], input=BROKEN.read_text())
    assert rendered.exit_code == 2 and rendered.stdout == ""
    assert rendered.stderr == "zdrender: document 2, line 10: did not find expected ',' or ']'; fix the YAML of this document\n"
    result = invoke(["check", str(BROKEN)])
    assert result.exit_code == 2
    assert result.stderr == f"zdrender: {BROKEN}: document 2, line 10: did not find expected ',' or ']'; fix the YAML of this document\n"
    assert result.stdout == ""


def test_other_files_are_still_reported_when_one_is_bad():
    result = invoke(["check", *BASE, rel(WEB), rel(BROKEN)])
    assert result.exit_code == 2, "bad input wins over findings"
    assert result.stdout.startswith(f"{rel(WEB)}:29: warning [prestop-sleep]")
    assert result.stderr.count("\n") == 1 and rel(BROKEN) in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--fail-on", "fatal"], "zdrender: --fail-on 'fatal': expected info, warning or error\n"),
        (["--format", "xml"], "zdrender: --format 'xml': expected text, json, sarif or github\n"),
        (["--set", "prestop-seconds=soon"], "zdrender: setting prestop-seconds (command line): expected a whole number >= 1, got 'soon'\n"),
        (["/nonexistent/in.yaml"], "zdrender: cannot read /nonexistent/in.yaml: No such file or directory\n"),
    ],
)
def test_usage_and_input_errors_are_one_line(args, message):
    result = invoke(["check", *args, *([] if args[0].startswith("/") else [str(CLEAN)])])
    assert (result.exit_code, result.stderr) == (2, message)


def test_empty_input_is_an_error_not_a_pass():
    # `helm template ... | zdrender check` must not pass when helm printed nothing.
    result = invoke(["check"], input="")
    assert result.exit_code == 2
    assert result.stderr == "zdrender: stdin: holds no manifests; check that the renderer produced output\n"


def test_json_format(monkeypatch):
    result = invoke(["check", *BASE, "--format", "json", rel(WEB), rel(CLEAN)])
    assert result.exit_code == 1
    payload = json.loads(result.stdout)
    assert payload["mode"] == "check"
    assert payload["summary"] == {"info": 0, "warning": 1, "error": 0, "fixable": 1}
    [finding] = payload["findings"]
    assert finding["file"] == rel(WEB)
    assert (finding["line"], finding["rule"], finding["kind"], finding["name"], finding["namespace"]) == (29, "prestop-sleep", "Deployment", "web", "shop")
    assert finding["source"] == "web/templates/deployment.yaml"
    assert finding["patch"][0]["path"] == "/spec/template/spec/containers/0/lifecycle"


def test_json_format_carries_the_error():
    result = invoke(["check", "--format", "json", str(BROKEN)])
    assert result.exit_code == 2
    payload = json.loads(result.stdout)
    assert payload["findings"] == []
    assert payload["error"].startswith(f"{BROKEN}: document 2, line 10:")


def test_github_format():
    result = invoke(["check", *BASE, "--format", "github", rel(WEB)])
    assert result.exit_code == 1
    assert result.stdout == (
        f'::warning file={rel(WEB)},line=29,title=zdrender prestop-sleep::shop/Deployment/web: container "web": '
        "no preStop sleep, so it stops serving while endpoints and load balancers still send it requests; fix: preStop sleep 10s [fixable]\n"
    )


def test_github_format_on_stdin_names_the_helm_template_without_a_line():
    result = invoke(["check", *BASE, "--format", "github"], input=WEB.read_text())
    assert result.stdout.startswith("::warning file=web/templates/deployment.yaml,title=zdrender prestop-sleep::")


def test_github_format_escapes_and_levels(monkeypatch):
    monkeypatch.setenv("GITHUB_WORKSPACE", str(DATA.parent))
    findings = [
        Finding("r1", "info", "100% done,\nnext: line", file=str(DATA / "a,b:c.yaml"), line=3, kind="Deployment", name="x"),
        Finding("r2", "error", "boom", file="-", line=7, kind="Pod", name="p"),
    ]
    out = report.to_github(findings, error="bad: input\nhere")
    assert out.splitlines() == [
        "::notice file=lint/a%2Cb%3Ac.yaml,line=3,title=zdrender r1::Deployment/x: 100%25 done,%0Anext: line",
        "::error title=zdrender r2::Pod/p: boom",
        "::error title=zdrender::bad: input%0Ahere",
    ]


def test_report_file_from_check(tmp_path):
    target = tmp_path / "lint.sarif"
    result = invoke(["check", *BASE, "--report", str(target), str(WEB)])
    assert result.exit_code == 1
    log = json.loads(target.read_text())
    assert [r["ruleId"] for r in log["runs"][0]["results"]] == ["prestop-sleep"]
    assert log["runs"][0]["properties"] == {"mode": "check"}


def test_console_script_colours_only_on_a_terminal():
    exe = os.path.join(os.path.dirname(sys.executable), "zdrender")
    args = [exe, "check", *BASE, str(WEB)]
    plain = subprocess.run(args, capture_output=True, text=True, env={**os.environ, "NO_COLOR": "", "TERM": "xterm"})
    assert plain.returncode == 1 and "\x1b[" not in plain.stdout
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "CI", "GITHUB_ACTIONS")}
    env.update(TERM="xterm-256color", COLUMNS="200")
    main, secondary = pty.openpty()
    process = subprocess.Popen(args, stdout=secondary, stderr=subprocess.PIPE, env=env)
    os.close(secondary)
    chunks = []
    while True:
        try:
            chunk = os.read(main, 4096)
        except OSError:  # EIO once the child has closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(main)
    assert process.wait(timeout=30) == 1
    coloured = b"".join(chunks).decode()
    assert "\x1b[" in coloured
    assert "prestop-sleep" in coloured and "shop/Deployment/web" in coloured


def test_rich_is_not_imported_for_plain_output():
    code = f"import sys\nfrom zdrender import cli\nsys.argv = ['zdrender', 'check', {str(CLEAN)!r}]\ntry:\n    cli.main()\nexcept SystemExit:\n    pass\nprint('rich' in sys.modules)\n"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.splitlines()[-1] == "False"
