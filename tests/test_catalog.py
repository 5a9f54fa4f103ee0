"""`zdrender rules` and the README's rules table, both generated from the registry."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from zdrender import catalog, rules
from zdrender.settings import GLOBAL_KNOBS

from conftest import ROOT
from lint_support import invoke

README = ROOT / "README.md"


def test_readme_rules_section_matches_the_registry():
    text = README.read_text(encoding="utf-8") if README.exists() else ""
    assert catalog.README_START in text and catalog.README_END in text, "README.md has no rules section; run: python -m zdrender.catalog --update-readme"
    assert catalog.updated_readme(text) == text, "README.md's rules table differs from the rule registry; run: python -m zdrender.catalog --update-readme"


def test_every_registered_rule_and_knob_is_in_the_table():
    table = catalog.markdown()
    for rule in rules.REGISTRY:
        assert f"| [`{rule.ID}`](docs/rules/{rule.ID}.md) | {rule.SUMMARY.replace('|', chr(92) + '|')} |" in table
        for knob in rule.KNOBS:
            assert f"`{knob.key}` ({knob.describe_default()}" in table
    for knob in GLOBAL_KNOBS:
        assert f"| `{knob.key}`" in table


def test_update_readme_replaces_only_the_marked_section(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(f"# Title\n\nintro\n\n## Rules\n\n{catalog.README_START}\nstale table\n{catalog.README_END}\n\n## After\n\ntext\n")
    assert catalog.main([str(readme), "--check"]) == 1
    assert catalog.main([str(readme), "--update-readme"]) == 0
    text = readme.read_text()
    assert text.startswith("# Title\n\nintro\n\n## Rules\n\n" + catalog.README_START + "\n")
    assert text.endswith(catalog.README_END + "\n\n## After\n\ntext\n")
    assert "stale table" not in text and catalog.markdown() in text
    assert catalog.main([str(readme), "--check"]) == 0
    assert catalog.main([str(readme), "--update-readme"]) == 0 and readme.read_text() == text, "idempotent"


def test_update_readme_appends_a_rules_section_when_there_are_no_markers(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("# zdrender\n\nWords.\n")
    assert catalog.main([str(readme), "--update-readme"]) == 0
    assert readme.read_text() == "# zdrender\n\nWords.\n\n## Rules\n\n" + catalog.readme_section() + "\n"


def test_one_marker_alone_is_an_error(tmp_path, capsys):
    readme = tmp_path / "README.md"
    readme.write_text(f"# zdrender\n{catalog.README_START}\n")
    assert catalog.main([str(readme), "--update-readme"]) == 2
    assert "has only one of" in capsys.readouterr().err
    assert catalog.main([str(tmp_path / "missing.md"), "--check"]) == 2


def test_module_entry_point_runs():
    # The command people are told to run; --check on the real README doubles as the drift test.
    done = subprocess.run([sys.executable, "-m", "zdrender.catalog", str(README), "--check"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_rules_text_lists_ids_summaries_rationale_and_knobs():
    result = invoke(["rules"])
    assert result.exit_code == 0
    for rule in rules.REGISTRY:
        assert f"{rule.ID}: {rule.SUMMARY}\n  {rules.rationale(rule)}\n" in result.stdout
        for knob in rule.KNOBS:
            line = f"  --set {knob.key}=…  (default {knob.describe_default()}) {knob.help}"
            assert line in result.stdout
            if knob.per_workload:
                assert f"{line} Per workload: annotation zdrender.io/{knob.key}." in result.stdout
    assert "--set kube-version=…  (default 1.30)" in result.stdout, "versions print as 1.30, not (1, 30)"


@pytest.mark.parametrize("fmt", ["json", "markdown"])
def test_rules_machine_formats(fmt):
    result = invoke(["rules", "--format", fmt])
    assert result.exit_code == 0
    if fmt == "json":
        assert [e["id"] for e in json.loads(result.stdout)] == list(rules.rule_ids())
    else:
        assert result.stdout == catalog.markdown()


def test_rules_bad_format_is_one_line():
    result = invoke(["rules", "--format", "yaml"])
    assert (result.exit_code, result.stderr) == (2, "zdrender: --format 'yaml': expected text, json or markdown\n")


def test_the_readme_module_table_lists_every_module():
    """The architecture is visible from the README: every module of the package has a row (issue 11)."""
    from conftest import ROOT

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("| module | role |") :].split("\n\n", 1)[0]
    package = ROOT / "src" / "zdrender"
    for path in sorted(package.rglob("*.py")):
        relative = path.relative_to(package)
        if relative.name == "__init__.py":
            continue
        if len(relative.parts) == 1:
            named = f"`{relative.name}`" in table
        elif relative.parts[0] == "rules":  # one module per rule: the rules table names each by its id
            named = f"`{relative.name}`" in table or f"`{relative.stem.replace('_', '-')}`" in readme
        else:
            named = f"`{relative.parts[0]}/`" in table and f"`{relative.name}`" in table
        assert named, f"{relative} has no row in the README's module table"


def test_every_rule_has_its_page_in_step_with_the_registry():
    for rule in rules.REGISTRY:
        page = ROOT / catalog.DOCS_DIR / f"{rule.ID}.md"
        assert page.exists() and page.read_text(encoding="utf-8") == catalog.rule_page(rule), f"{page} is stale; run: python -m zdrender.catalog --update-readme"
        text = page.read_text(encoding="utf-8")
        assert rule.REMEDIATION in text and "**FAIL**" in text and "**PASS**" in text


def test_the_config_example_loads_back_as_every_default(tmp_path):
    """`zdrender rules --config-example` documents the settings file: it must be one zdrender accepts,
    setting every knob (the version quoted, or YAML reads 1.30 as 1.3) to exactly its default."""
    from zdrender.settings import Settings, load

    outcome = invoke(["rules", "--config-example"])
    assert outcome.exit_code == 0
    path = tmp_path / "zdrender.yaml"
    path.write_text(outcome.stdout)
    knobs = rules.all_knobs()
    assert load(knobs, config_file=str(path)).values == Settings.defaults(knobs).values
    for knob in knobs:
        assert f"\n{knob.key}: " in outcome.stdout, f"{knob.key} is missing from the example"
    assert '\nkube-version: "' in outcome.stdout


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("prestop-seconds: 10\nprestop-secs: 5\n", "unknown setting 'prestop-secs' (config file CONFIG, line 2)"),
        ("kind: ConfigMap\ndata:\n  mesh: true\n  prestop-seconds: soon\n", "setting prestop-seconds (config file CONFIG, line 4): expected a whole number >= 1, got 'soon'"),
    ],
)
def test_config_file_errors_name_the_line(tmp_path, text, message):
    from zdrender.settings import SettingsError, load

    path = tmp_path / "zdrender.yaml"
    path.write_text(text)
    with pytest.raises(SettingsError) as raised:
        load(rules.all_knobs(), config_file=str(path))
    assert message.replace("CONFIG", str(path)) in str(raised.value)


def test_the_readme_config_example_is_accepted(tmp_path):
    from zdrender.settings import load

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("--config-example > zdrender.yaml", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "zdrender.yaml"
    path.write_text(block)
    settings = load(rules.all_knobs(), config_file=str(path))
    assert settings.kube_version == (1, 29) and settings["prestop-seconds"] == 15 and settings["stop-signals"] == {"nginx": "SIGQUIT"}
