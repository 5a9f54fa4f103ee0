"""The command line as Helm and shells call it: exit codes, stdout only on success, one-line errors."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import time

import pytest

from zdrender import __version__

GOOD = """\
---
# Source: demo/templates/deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: nginx
          ports: [{containerPort: 80}]
"""


def run(*args: str, stdin: str = GOOD, env: dict | None = None, timeout: float = 30) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "zdrender", *args],
        input=stdin.encode(),
        capture_output=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


def error_line(proc: subprocess.CompletedProcess) -> str:
    lines = proc.stderr.decode().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


def test_render_patches_and_summarises_on_stderr():
    proc = run()
    assert proc.returncode == 0
    assert b"sleep:\n                seconds: 10\n" in proc.stdout.replace(b"              preStop:\n", b"")
    assert "fixed 1 finding in 1 workload (prestop-sleep 1)" in proc.stderr.decode()
    assert run("--quiet").stderr == b""


def test_malformed_yaml_names_document_and_line_and_prints_nothing():
    broken = GOOD + "---\napiVersion: v1\nkind: ConfigMap\n---\n# Source: demo/templates/bad.yaml\nkind: Deployment\nmetadata:\n  name: x\n  labels: {a: b\n"
    proc = run(stdin=broken)
    assert proc.returncode == 2
    assert proc.stdout == b""
    assert re.fullmatch(r"zdrender: document 3 \(demo/templates/bad\.yaml\), line 2\d: .+", error_line(proc))


def test_invalid_annotation_names_the_key_and_the_workload():
    proc = run(stdin=GOOD.replace("      labels: {app: web}\n", "      labels: {app: web}\n      annotations: {zdrender.io/prestop-seconds: soon}\n"))
    assert proc.returncode == 2 and proc.stdout == b""
    line = error_line(proc)
    assert "prestop-seconds" in line and "Deployment/web" in line and "whole number" in line


def test_unknown_setting_lists_the_known_ones():
    proc = run("--set", "prestop=5")
    assert proc.returncode == 2
    assert "unknown setting 'prestop'" in error_line(proc) and "prestop-seconds" in error_line(proc)


def test_config_file_from_the_environment(tmp_path):
    config = tmp_path / "zdrender.yaml"
    config.write_text("prestop-seconds: 7\n")
    proc = run(env={"ZDRENDER_CONFIG": str(config)})
    assert b"seconds: 7\n" in proc.stdout
    # flags win over the file
    assert b"seconds: 8\n" in run("--set", "prestop-seconds=8", env={"ZDRENDER_CONFIG": str(config)}).stdout


def test_empty_input_is_refused_unless_allowed():
    proc = run(stdin="# Source: demo/templates/nothing.yaml\n")
    assert proc.returncode == 2 and proc.stdout == b""
    assert "no manifests" in error_line(proc)
    assert run("--allow-empty", stdin="---\n").returncode == 0


def test_alias_bomb_fails_fast_in_a_workload_and_passes_through_elsewhere():
    bomb = "a: &a [x,x,x,x,x,x,x,x,x]\n" + "".join(f"{chr(98 + i)}: &{chr(98 + i)} [{','.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(9))
    start = time.monotonic()
    proc = run(stdin=GOOD + "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: bomb\n" + bomb)
    assert time.monotonic() - start < 10
    assert proc.returncode == 2 and proc.stdout == b"" and "alias" in error_line(proc)
    configmap = "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bomb\n" + bomb
    proc = run(stdin=GOOD + configmap)
    assert proc.returncode == 0 and proc.stdout.decode().endswith(configmap)


def test_yaml_tags_never_construct_objects(tmp_path):
    marker = tmp_path / "owned"
    evil = GOOD.replace("image: nginx", f'image: !!python/object/apply:os.system ["touch {marker}"]')
    proc = run(stdin=evil)
    assert proc.returncode == 0
    assert not marker.exists()
    assert f'!!python/object/apply:os.system ["touch {marker}"]'.encode() in proc.stdout


def test_explain_lists_documents_that_hold_objects():
    stream = "# leading comment only\n" + GOOD + "---\n# only a comment\n---\napiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: prod}\n"
    proc = run("explain", stdin=stream)
    assert proc.returncode == 0
    entries = json.loads(proc.stdout)
    assert [(e["index"], e["kind"], e["name"], e["namespace"]) for e in entries] == [
        (0, "Deployment", "web", None),
        (1, "Service", "web", "prod"),
    ]
    assert entries[0]["patch"] == [
        {"op": "add", "path": "/spec/template/spec/containers/0/lifecycle", "value": {"preStop": {"sleep": {"seconds": 10}}}},
        {"op": "add", "path": "/metadata/annotations", "value": {"zdrender.io/changed": "prestop-sleep"}},  # the record, on the workload's own metadata
    ]
    assert entries[1]["patch"] == []


def test_version_and_help():
    assert run("--version").stdout.decode().strip() == f"zdrender {__version__}"
    help_text = run("--help").stdout.decode()
    assert "--post-renderer zdrender" in help_text and "explain" in help_text


def test_shell_completion_script_and_answers():
    """--show-completion prints the script a shell sources; the script runs `zdrender` with no arguments
    and _ZDRENDER_COMPLETE set, which must be answered by Click, not taken for a render of stdin."""
    # Typer detects the shell from the parent process: bash, kept as the parent by the `; true`.
    shown = f"{shlex.quote(sys.executable)} -m zdrender --show-completion; true"
    script = subprocess.run(["bash", "-c", shown], capture_output=True, text=True, timeout=30)
    assert script.returncode == 0 and "_ZDRENDER_COMPLETE=complete_bash" in script.stdout, script
    for words, expected in (("zdrender ex", "explain"), ("zdrender --kube", "--kube-version"), ("zdrender check --fail", "--fail-on")):
        env = {"_ZDRENDER_COMPLETE": "complete_bash", "COMP_WORDS": words, "COMP_CWORD": str(len(words.split()) - 1)}
        answer = run(stdin="", env=env)
        assert answer.returncode == 0 and expected in answer.stdout.decode().split(), (words, answer)


def test_report_file_gets_findings_and_errors(tmp_path):
    report = tmp_path / "report.json"
    assert run("--report", str(report)).returncode == 0
    findings = json.loads(report.read_text())["findings"]
    assert findings[0]["rule"] == "prestop-sleep" and findings[0]["source"] == "demo/templates/deployment.yaml"
    proc = run(stdin=GOOD + "---\nkind: Deployment\n  bad: [\n", env={"ZDRENDER_REPORT": str(report)})
    assert proc.returncode == 2
    assert "document 2" in json.loads(report.read_text())["error"]


@pytest.mark.parametrize("version", ["1.28", "1.30"])
def test_kube_version_picks_the_sleep_action(version):
    out = run("--kube-version", version).stdout.decode()
    assert ("sleep:\n" in out) == (version == "1.30")
    assert ("- sleep\n" in out) == (version == "1.28")


def test_a_broken_document_that_is_passed_through_still_fails_closed():
    broken = GOOD + "---\n# Source: demo/templates/cm.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\ndata: {a: [1, 2}\n"
    proc = run(stdin=broken)
    assert proc.returncode == 2 and proc.stdout == b""
    assert error_line(proc).startswith("zdrender: document 2 (demo/templates/cm.yaml), line 23: ")


@pytest.mark.parametrize(
    "argv",
    [
        ["--kube-version", "1.29", "check", "-"],
        ["--set", "prestop-seconds=5", "explain", "-"],
        ["--config", "zdrender.yaml", "diff", "-"],
        ["--report", "out.sarif", "check", "-"],
        ["-q", "timeline", "-"],
    ],
)
def test_render_options_before_a_command_are_a_usage_error(argv):
    """They were read for render and dropped: `zdrender --kube-version 1.29 check f` checked against the
    default version without a word (issue 12). Refused with a usage error, exit 2, naming the option."""
    from typer.testing import CliRunner

    from zdrender import options
    from zdrender.cli import app

    outcome = CliRunner().invoke(app, argv, input="apiVersion: v1\nkind: ConfigMap\n")
    assert outcome.exit_code == 2
    command = argv[2] if argv[0] != "-q" else argv[1]
    assert f"{options.BY_FLAG[argv[0]].flags[0]} given before `{command}`" in outcome.output


@pytest.mark.parametrize(
    "config, flags, message",
    [
        ("kube-version: 1.30\n", [], 'setting kube-version (config file CONFIG, line 1): 1.3 was read as a number, and YAML reads 1.30 as 1.3: quote the version, e.g. kube-version: "1.30"'),
        ("kube-version: 1.29\n", [], "1.29 was read as a number"),
        ('kube-version: "1.30"\n', ["--kube-version", "1.16"], "setting kube-version (command line): 1.16 is older than the oldest Kubernetes zdrender supports, 1.21"),
    ],
)
def test_a_kube_version_zdrender_would_misread_is_refused(tmp_path, config, flags, message):
    """`kube-version: 1.30` in a settings file is the YAML number 1.3, and was used as Kubernetes 1.3 (issue 12)."""
    path = tmp_path / "zdrender.yaml"
    path.write_text(config)
    proc = run("--config", str(path), *flags, stdin="apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n")
    assert proc.returncode == 2 and proc.stdout == b""
    assert message.replace("CONFIG", str(path)) in proc.stderr.decode()
