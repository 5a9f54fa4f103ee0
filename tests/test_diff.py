"""`zdrender diff`: a unified diff of what render would change, that `git apply` can apply."""

from __future__ import annotations

import shutil
import subprocess

import pytest
import yaml

from zdrender.unidiff import unified, unified_pieces

from conftest import ROOT, corpus_files, require
from lint_support import BROKEN, CLEAN, DATA, WEB, invoke, only

BASE = only("prestop-sleep", "grace-period")


def test_diff_of_a_file(snapshot, monkeypatch):
    monkeypatch.chdir(ROOT)
    result = invoke(["diff", *BASE, "tests/data/lint/web.yaml", "tests/data/lint/clean.yaml"])
    assert result.exit_code == 0
    assert result.stdout.startswith("--- a/tests/data/lint/web.yaml\n+++ b/tests/data/lint/web.yaml\n@@ ")
    assert "clean.yaml" not in result.stdout, "unchanged files print nothing"
    assert result.stdout == snapshot


def test_exit_code_like_git():
    assert invoke(["diff", "--exit-code", *BASE, str(WEB)]).exit_code == 1
    unchanged = invoke(["diff", "--exit-code", str(CLEAN)])
    assert (unchanged.exit_code, unchanged.stdout) == (0, "")
    assert invoke(["diff", *BASE, str(WEB)]).exit_code == 0


def test_stdin_is_named_stdin():
    result = invoke(["diff", *BASE], input=WEB.read_text())
    assert result.stdout.startswith("--- a/stdin\n+++ b/stdin\n")


def test_diff_applies_to_the_input_and_gives_the_render_output(tmp_path, monkeypatch):
    git = shutil.which("git")
    require(git is not None, "git is not installed")
    monkeypatch.chdir(tmp_path)
    for name in ("web.yaml", "no-newline.yaml"):
        shutil.copy(DATA / name, tmp_path / name)
        patch = invoke(["diff", *BASE, name]).stdout
        assert patch
        rendered = invoke(["--quiet", *BASE], input=(DATA / name).read_text()).stdout
        subprocess.run([git, "apply", "-"], input=patch, text=True, cwd=tmp_path, check=True)
        assert (tmp_path / name).read_text() == rendered


def test_missing_final_newline_is_marked():
    text = unified("a: 1\nb: 2", "a: 1\nb: 3", "x.yaml")
    assert text == "--- a/x.yaml\n+++ b/x.yaml\n@@ -1,2 +1,2 @@\n a: 1\n-b: 2\n\\ No newline at end of file\n+b: 3\n\\ No newline at end of file\n"
    assert unified("same", "same", "x.yaml") == ""
    assert unified("a\n", "b\n", "/abs/x.yaml").startswith("--- a/abs/x.yaml\n+++ b/abs/x.yaml\n")


def test_bad_input_is_exit_2_with_one_line():
    result = invoke(["diff", str(WEB), "/nonexistent.yaml"])
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == "zdrender: cannot read /nonexistent.yaml: No such file or directory\n"
    empty = invoke(["diff"], input="\n# nothing\n")
    assert (empty.exit_code, empty.stderr) == (2, "zdrender: stdin: holds no manifests; check that the renderer produced output\n")
    bad = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: [x}\n"
    result = invoke(["diff"], input=bad)
    assert result.exit_code == 2 and result.stderr.startswith("zdrender: document 1, line 3: ")


def test_diff_refuses_a_broken_document_as_render_does():
    # render refuses a ConfigMap that is not YAML even though it would not patch it; so does diff.
    result = invoke(["diff", "--exit-code", str(BROKEN)])
    assert (result.exit_code, result.stdout) == (2, "")
    assert "document 2, line 10: did not find expected ',' or ']'" in result.stderr


WORKLOAD = (
    "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  selector: {matchLabels: {app: web}}\n"
    "  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers:\n      - name: app\n        image: x\n"
    "        ports: [{containerPort: 80}]"
)


def test_diff_applies_with_patch_for_any_line_ending(tmp_path, monkeypatch):
    """Issue 10: patch(1) splits lines at LF only; a CR-only stream was one 'line' ("malformed patch")."""
    tool = shutil.which("patch")
    require(tool is not None, "patch is not installed")
    monkeypatch.chdir(tmp_path)
    cases = {
        "lf.yaml": WORKLOAD + "\n",
        "no-final-newline.yaml": WORKLOAD,
        "crlf.yaml": WORKLOAD.replace("\n", "\r\n") + "\r\n",
        "cr-only.yaml": WORKLOAD.replace("\n", "\r") + "\r",
        "cr-only-no-final.yaml": WORKLOAD.replace("\n", "\r"),
    }
    for name, text in cases.items():
        (tmp_path / name).write_bytes(text.encode())
        diff = invoke(["diff", *BASE, name])  # bytes: Click's .stdout turns CRLF into LF
        assert diff.exit_code == 0 and diff.stdout_bytes, name
        rendered = invoke(["--quiet", *BASE], input=text).stdout_bytes
        subprocess.run([tool, "-p1", "--quiet"], input=diff.stdout_bytes, cwd=tmp_path, check=True)
        assert (tmp_path / name).read_bytes() == rendered, name
        assert b"\n" not in rendered or "\n" in text, f"{name}: a CR-only stream stays CR-only"


def test_a_character_yaml_forbids_is_named_by_line_and_column():
    result = invoke(["--quiet"], input="apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\nkind: ConfigMap\ndata:\n  b: x\x0cy\n")
    assert result.exit_code == 2
    assert "document 2, line 7: character U+000C at column 7 is not allowed in YAML" in result.stderr


def test_krm_mode_accepts_a_cr_only_resource_list_as_plain_render_does():
    items = "\n".join("  " + line if line else line for line in ("- " + WORKLOAD.replace("\n", "\n  ")).split("\n"))
    text = ("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n" + items + "\n").replace("\n", "\r")
    result = invoke(["--quiet"], input=text)
    assert result.exit_code == 0, result.stderr
    assert b"\n" not in result.stdout_bytes
    out = yaml.safe_load(result.stdout_bytes.decode().replace("\r", "\n"))
    assert out["items"][0]["spec"]["template"]["spec"]["containers"][0]["lifecycle"] == {"preStop": {"sleep": {"seconds": 10}}}


def test_a_tab_in_indentation_says_tab_and_its_column():
    for text, column in (("apiVersion: v1\nkind: ConfigMap\nmetadata:\n\tname: a\n", 1), ("kind: ConfigMap\ndata:\n  x: 1\n  \t  y: 2\n", 3)):
        result = invoke(["--quiet"], input=text)
        assert result.exit_code == 2
        assert f"a tab at column {column}: YAML indents with spaces only" in result.stderr, result.stderr


def test_pieces_give_the_whole_texts_diff():
    """Pieces (a stream's documents) compared one by one give the diff of the joined texts, also when a
    piece ends inside a line (it is joined to the next) and when changes in two pieces touch."""
    cases = [
        [("a: 1\nb: 2\n", "a: 1\nb: 3\n"), ("c: 1\n" * 10, "c: 1\n" * 10), ("d: 1\n", "d: 2\n")],
        [("a: 1", "a: 2"), ("\nb: 1\n", "\nb: 1\n")],  # a piece ends inside a line
        [("x: 1\n", "x: 2\n"), ("y: 1\n", "y: 2\n")],  # one change across two pieces
        [("same\n", "same\n"), ("", ""), ("end", "end\n")],
    ]
    for pairs in cases:
        before, after = "".join(a for a, _ in pairs), "".join(b for _, b in pairs)
        assert unified_pieces(pairs, "x.yaml") == unified(before, after, "x.yaml"), pairs
    assert unified_pieces([("a\n", "a\n"), ("b\n", "b\n")], "x.yaml") == ""


@pytest.mark.corpus
def test_diff_of_a_corpus_stream_applies_with_git(tmp_path, monkeypatch):
    """Releases of the corpus one after the other: hunks numbered in the whole stream's lines, however
    many documents lie between them."""
    git = shutil.which("git")
    require(git is not None, "git is not installed")
    files = corpus_files()
    require(bool(files), "the corpus is absent (set ZDRENDER_CORPUS)")
    text = "".join(path.read_text() for path in files[::4])  # every fourth release: a few MB, many documents
    monkeypatch.chdir(tmp_path)
    (tmp_path / "stream.yaml").write_text(text)
    diff = invoke(["diff", "stream.yaml"]).stdout
    assert diff.count("\n@@ ") > 10
    subprocess.run([git, "init", "-q", "."], cwd=tmp_path, check=True)
    subprocess.run([git, "apply", "--check", "-"], input=diff, text=True, cwd=tmp_path, check=True)
    subprocess.run([git, "apply", "-"], input=diff, text=True, cwd=tmp_path, check=True)
    assert (tmp_path / "stream.yaml").read_text() == invoke(["--quiet"], input=text).stdout
