"""The composite GitHub Action (action.yml) without GitHub: its structure read with PyYAML, its shell
logic (scripts/action/check.sh) run here with the inputs in INPUT_* variables and a fake GITHUB_OUTPUT,
on examples/rendered.yaml and on a clean manifest, and actionlint (scripts/install-test-tools.sh) on
action.yml and the README's copy-paste workflow."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, tool

pytestmark = pytest.mark.e2e

ACTION = ROOT / "action.yml"
SCRIPT = ROOT / "scripts" / "action" / "check.sh"
RENDERED = ROOT / "examples" / "rendered.yaml"
CLEAN = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {mode: fast}\n"
SYSTEM_PATH = "/usr/bin:/bin"


def action() -> dict:
    return yaml.safe_load(ACTION.read_text())


def steps() -> list[dict]:
    return action()["runs"]["steps"]


def step(name: str) -> dict:
    return next(s for s in steps() if s.get("name") == name)


def script_commands(run: str) -> list[str]:
    """The check.sh subcommands a run: line calls, after checking it calls the script by the action's path."""
    calls = re.findall(r'"\$GITHUB_ACTION_PATH/([^"]+)" (\w+)', run)
    assert calls, run
    for path, _ in calls:
        assert (ROOT / path).is_file() and os.access(ROOT / path, os.X_OK), path
    return [command for _, command in calls]


# --- action.yml's structure ----------------------------------------------------------------------


def test_action_is_composite_with_the_inputs_of_the_issue():
    meta = action()
    assert meta["runs"]["using"] == "composite"
    assert meta["name"] and meta["description"]
    inputs = meta["inputs"]
    assert inputs["files"]["required"] is True
    assert {"kube-version", "config", "set", "format", "fail-on", "sarif-file", "version", "python-version"} <= set(inputs)
    assert inputs["format"]["default"] == "sarif" and inputs["fail-on"]["default"] == "warning"
    assert inputs["sarif-file"]["default"] == "zdrender.sarif" and inputs["version"]["default"] == ""
    assert all(i.get("description") for i in inputs.values())
    assert set(meta["outputs"]) == {"exit-code", "sarif-file"}


def test_every_input_used_is_declared_and_every_declared_one_used():
    text = ACTION.read_text()
    used = set(re.findall(r"\$\{\{[^}]*?\binputs\.([A-Za-z0-9_-]+)", text))
    used |= set(re.findall(r"(?:^|[\s(!&|])inputs\.([A-Za-z0-9_-]+)", "\n".join(s.get("if", "") for s in steps())))
    assert used == set(action()["inputs"])
    # Inputs reach the shell through env only, never pasted into a script (no injection).
    assert all("${{" not in s.get("run", "") for s in steps())


def test_steps_install_check_upload_then_fail():
    names = [s.get("uses", "").split("@")[0] or script_commands(s["run"])[0] for s in steps()]
    assert names == ["actions/setup-python", "install", "check", "github/codeql-action/upload-sarif", "finish"]
    assert all(re.fullmatch(r"[\w./-]+@v\d+", s["uses"]) for s in steps() if "uses" in s)  # majors pinned
    assert step("Set up Python")["with"]["python-version"] == "${{ inputs.python-version }}"
    assert all(s["shell"] == "bash" for s in steps() if "run" in s)
    upload = step("Upload SARIF to code scanning")
    assert upload["uses"] == "github/codeql-action/upload-sarif@v3"
    assert upload["with"] == {"sarif_file": "${{ steps.check.outputs.sarif-file }}", "category": "zdrender"}
    assert "inputs.format == 'sarif'" in upload["if"]
    check = step("zdrender check")
    assert check["id"] == "check" and "continue-on-error" not in check
    assert step("Fail on findings")["env"]["ZDRENDER_EXIT_CODE"] == "${{ steps.check.outputs.exit-code }}"
    # The env the steps hand over is what the script reads, and the outputs are what it writes.
    script = SCRIPT.read_text()
    for s in steps():
        for name in s.get("env", {}):
            assert "${" + name in script, name
    for name, out in action()["outputs"].items():
        assert out["value"] == "${{ steps.check.outputs." + name + " }}"
        assert f"output {name} " in script


# --- check.sh run here --------------------------------------------------------------------------


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    space = tmp_path / "workspace"
    (space / "rendered" / "team").mkdir(parents=True)
    return space


@pytest.fixture
def bin_dir(tmp_path: Path) -> Path:
    """`zdrender` on PATH: this test environment's, whatever installed it."""
    folder = tmp_path / "bin"
    folder.mkdir()
    wrapper = folder / "zdrender"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m zdrender "$@"\n')
    wrapper.chmod(0o755)
    return folder


def run_script(command: str, cwd: Path, bin_dir: Path, github_output: Path | None = None, *, source: bool = True, **inputs: str) -> subprocess.CompletedProcess[str]:
    """check.sh COMMAND with `name=value` as INPUT_NAME (UPPER_CASE names as they are); source: the
    test environment's PYTHONPATH (this checkout's src/) passes on; pip's settings always do."""
    env = {"PATH": f"{bin_dir}:{SYSTEM_PATH}", "LANG": "C.UTF-8", "HOME": str(cwd), "TMPDIR": str(cwd.parent)}
    env |= {k: v for k, v in os.environ.items() if k.startswith("PIP_") or k.lower().endswith("_proxy") or (source and k == "PYTHONPATH")}
    if github_output is not None:
        github_output.touch()
        env["GITHUB_OUTPUT"] = str(github_output)
    env |= {("INPUT_" + k.upper()) if not k.isupper() else k: v for k, v in inputs.items()}
    return subprocess.run(["bash", str(SCRIPT), command], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def outputs(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines())


def test_findings_write_sarif_record_exit_1_and_leave_the_failure_to_the_last_step(workspace, bin_dir, tmp_path):
    (workspace / "rendered" / "app.yaml").write_text(RENDERED.read_text())
    out = tmp_path / "github_output"
    run = run_script("check", workspace, bin_dir, out, files="rendered/*.yaml")
    assert run.returncode == 0, run.stdout + run.stderr  # so the upload step runs
    assert outputs(out) == {"sarif-file": "zdrender.sarif", "exit-code": "1"}
    assert "rendered/app.yaml:117: warning [prestop-sleep]" in run.stdout  # text in the log
    sarif = json.loads((workspace / "zdrender.sarif").read_text())
    results = sarif["runs"][0]["results"]
    assert sarif["version"] == "2.1.0" and len(results) == run.stdout.count(": warning [") + run.stdout.count(": info [")  # one per finding in the log
    assert {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results} == {"rendered/app.yaml"}
    # The same SARIF as `zdrender check --format sarif` prints.
    direct = subprocess.run(
        [str(bin_dir / "zdrender"), "check", "--format", "sarif", "rendered/app.yaml"], cwd=workspace, capture_output=True, text=True, env=os.environ | {"PATH": f"{bin_dir}:{SYSTEM_PATH}"}
    )
    assert json.loads(direct.stdout) == sarif
    assert not list(tmp_path.glob("zdrender.*"))  # the temporary report folder is gone
    finish = run_script("finish", workspace, bin_dir, ZDRENDER_EXIT_CODE="1")
    assert finish.returncode == 1 and "::error title=zdrender::findings reach fail-on" in finish.stdout


def test_clean_manifests_exit_0(workspace, bin_dir, tmp_path):
    (workspace / "rendered" / "config.yaml").write_text(CLEAN)
    out = tmp_path / "github_output"
    run = run_script("check", workspace, bin_dir, out, files="rendered/config.yaml", sarif_file="out/z.sarif")
    assert run.returncode == 0, run.stdout + run.stderr
    assert outputs(out) == {"sarif-file": "out/z.sarif", "exit-code": "0"}
    assert json.loads((workspace / "out" / "z.sarif").read_text())["runs"][0]["results"] == []
    assert run_script("finish", workspace, bin_dir, ZDRENDER_EXIT_CODE="0").returncode == 0
    # Outside a workflow (no GITHUB_OUTPUT) the script exits with zdrender's code itself.
    assert run_script("check", workspace, bin_dir, files="rendered/config.yaml").returncode == 0


def test_without_github_output_the_script_exits_with_zdrenders_code(workspace, bin_dir):
    (workspace / "rendered" / "app.yaml").write_text(RENDERED.read_text())
    run = run_script("check", workspace, bin_dir, files="rendered/app.yaml")
    assert run.returncode == 1, run.stdout + run.stderr
    assert (workspace / "zdrender.sarif").exists()


def test_globs_paths_and_settings_reach_zdrender(workspace, bin_dir, tmp_path):
    (workspace / "rendered" / "app.yaml").write_text(RENDERED.read_text())
    (workspace / "rendered" / "team" / "config.yaml").write_text(CLEAN)
    (workspace / "extra.yaml").write_text(CLEAN)
    out = tmp_path / "github_output"
    run = run_script(
        "check",
        workspace,
        bin_dir,
        out,
        files="rendered/**/*.yaml extra.yaml\n  nothing/*.yaml\n",
        set="\n  prestop-seconds=15\n# a comment\ndrain-seconds=25  \n",
        kube_version="1.29",
        fail_on="error",
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "::warning title=zdrender::files: nothing/*.yaml matches nothing" in run.stdout
    assert "--set prestop-seconds=15 --set drain-seconds=25" in run.stdout and "--kube-version 1.29" in run.stdout
    assert "in 3 files" in run.stdout and "fix: preStop exec `sleep 15`" in run.stdout  # 1.29: no native sleep
    assert outputs(out)["exit-code"] == "0"  # warnings only, fail-on error
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in json.loads((workspace / "zdrender.sarif").read_text())["runs"][0]["results"]}
    assert uris == {"rendered/app.yaml"}


def test_config_file_is_passed(workspace, bin_dir):
    (workspace / "rendered" / "app.yaml").write_text(RENDERED.read_text())
    (workspace / "zdrender.yaml").write_text("prestop-seconds: 12\n")
    run = run_script("check", workspace, bin_dir, files="rendered/app.yaml", config="zdrender.yaml")
    assert run.returncode == 1 and "fix: preStop sleep 12s" in run.stdout, run.stdout + run.stderr


def test_github_format_prints_annotations_and_writes_no_sarif(workspace, bin_dir, tmp_path):
    (workspace / "rendered" / "app.yaml").write_text(RENDERED.read_text())
    out = tmp_path / "github_output"
    run = run_script("check", workspace, bin_dir, out, files="rendered/app.yaml", format="github")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "::warning file=rendered/app.yaml,line=117,title=zdrender prestop-sleep::" in run.stdout
    assert outputs(out) == {"exit-code": "1"}
    assert not (workspace / "zdrender.sarif").exists()


def test_bad_input_is_exit_2_and_still_leaves_sarif(workspace, bin_dir, tmp_path):
    out = tmp_path / "github_output"
    run = run_script("check", workspace, bin_dir, out, files="rendered/missing.yaml")
    assert run.returncode == 0 and outputs(out)["exit-code"] == "2", run.stdout + run.stderr
    assert "cannot read rendered/missing.yaml" in run.stderr
    assert run_script("finish", workspace, bin_dir, ZDRENDER_EXIT_CODE="2").returncode == 2
    assert run_script("finish", workspace, bin_dir, ZDRENDER_EXIT_CODE="").returncode == 2


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ({"files": "none/*.yaml"}, "files: no manifests to check"),
        ({"files": "", "format": "json"}, "format must be sarif or github"),
        ({"files": "a.yaml", "set": "prestop-seconds"}, "set: 'prestop-seconds' is not key=value"),
    ],
)
def test_misuse_fails_the_check_step(workspace, bin_dir, tmp_path, inputs, message):
    out = tmp_path / "github_output"
    run = run_script("check", workspace, bin_dir, out, **inputs)
    assert run.returncode == 2 and f"::error title=zdrender::{message}" in run.stdout, run.stdout + run.stderr
    assert out.read_text() == ""


@pytest.mark.parametrize(("version", "spec"), [("", "<action>"), ("0.1.0", "zdrender==0.1.0"), (" v0.2.0rc1 ", "zdrender==0.2.0rc1"), ("zdrender>=0.1,<0.3", "zdrender>=0.1,<0.3")])
def test_install_picks_the_pip_requirement(workspace, bin_dir, tmp_path, version, spec):
    fake = tmp_path / "python"
    fake.write_text('#!/bin/sh\necho "$@" > "$(dirname "$0")/pip-args"\n')
    fake.chmod(0o755)
    action_path = tmp_path / "action"
    run = run_script("install", workspace, bin_dir, version=version, ZDRENDER_PYTHON=str(fake), GITHUB_ACTION_PATH=str(action_path))
    assert run.returncode == 0, run.stdout + run.stderr
    args = (tmp_path / "pip-args").read_text().split()
    assert args[:2] == ["-m", "pip"] and "install" in args
    assert args[-1] == spec.replace("<action>", str(action_path))


def test_install_from_the_action_checkout_then_check_with_what_it_installed(workspace, tmp_path):
    """The action's flow with a real install: a fresh venv stands for setup-python's Python, `install`
    pip-installs this checkout (GITHUB_ACTION_PATH) into it, and `check` runs the zdrender it installed."""
    venv = tmp_path / "python"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    bin_dir = venv / "bin"
    env = {"GITHUB_ACTION_PATH": str(ROOT), "PIP_CACHE_DIR": os.environ.get("PIP_CACHE_DIR", str(Path.home() / ".cache" / "pip"))}
    installed = run_script("install", workspace, bin_dir, source=False, **env, version="")
    assert installed.returncode == 0, installed.stdout + installed.stderr
    assert f"pip install {ROOT}" in installed.stdout and "zdrender 0.1.0" in installed.stdout
    (workspace / "rendered" / "app.yaml").write_text(RENDERED.read_text())
    out = tmp_path / "github_output"
    checked = run_script("check", workspace, bin_dir, out, source=False, files="rendered/app.yaml")
    assert checked.returncode == 0 and outputs(out)["exit-code"] == "1", checked.stdout + checked.stderr
    assert json.loads((workspace / "zdrender.sarif").read_text())["runs"][0]["results"]


# --- actionlint ---------------------------------------------------------------------------------


def readme_workflow() -> str:
    section = (ROOT / "README.md").read_text().split("## GitHub Actions", 1)[1].split("\n## ", 1)[0]
    return re.search(r"```yaml\n(.*?)```", section, re.S).group(1)


def actionlint(repo: Path, workflow: str) -> subprocess.CompletedProcess[str]:
    binary = tool("actionlint")
    (repo / ".github" / "workflows").mkdir(parents=True, exist_ok=True)
    (repo / ".git").mkdir(exist_ok=True)  # actionlint finds the project by its .git
    path = repo / ".github" / "workflows" / "zdrender.yml"
    path.write_text(workflow)
    return subprocess.run([binary, "-no-color", "-shellcheck=", "-pyflakes=", str(path)], cwd=repo, capture_output=True, text=True, timeout=60)


def test_readme_workflow_is_what_the_issue_asks_and_lints_clean(tmp_path):
    text = readme_workflow()
    flow = yaml.safe_load(text)
    assert flow[True] == "pull_request"  # YAML 1.1 reads the key `on` as true
    assert flow["permissions"] == {"contents": "read", "security-events": "write"}
    uses = [s for s in flow["jobs"]["check"]["steps"] if s.get("uses", "").startswith("zdrender/")]
    assert uses[0]["uses"] == "zdrender/zdrender@v0.1.0" and uses[0]["with"]["files"]
    from zdrender import REPOSITORY, __version__

    assert REPOSITORY.endswith("/zdrender/zdrender") and uses[0]["uses"].endswith("@v" + __version__)
    run = actionlint(tmp_path, text)
    assert run.returncode == 0, run.stdout + run.stderr


def test_actionlint_checks_the_workflow_against_action_yml(tmp_path):
    # With `uses: ./` actionlint reads this action.yml and checks the inputs the workflow gives it.
    (tmp_path / "action.yml").write_text(ACTION.read_text())
    local = readme_workflow().replace("zdrender/zdrender@v0.1.0", "./")
    run = actionlint(tmp_path, local)
    assert run.returncode == 0, run.stdout + run.stderr
    run = actionlint(tmp_path, local.replace("kube-version:", "kube_version:"))
    assert run.returncode == 1 and "kube_version" in run.stdout, run.stdout + run.stderr
