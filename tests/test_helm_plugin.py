"""The Helm 4 plugin manifest (plugin.yaml at the repository root) and its launcher, checked without Helm.

Helm 4 decodes a v1 plugin.yaml strictly (yaml KnownFields): a key it does not know makes the plugin
fail to load, and `--post-renderer zdrender` then reports it "not found". The keys below are those of
helm.sh/helm/v4@v4.3.1 internal/plugin (MetadataV1, RuntimeConfigSubprocess, PlatformCommand).
"""

from __future__ import annotations

import os
import re
import subprocess

import yaml

import zdrender

from conftest import ROOT

PLUGIN = yaml.safe_load((ROOT / "plugin.yaml").read_text())
METADATA_V1_KEYS = {"apiVersion", "name", "type", "runtime", "version", "sourceURL", "config", "runtimeConfig"}
SUBPROCESS_KEYS = {"platformCommand", "platformHooks", "protocolCommands"}
PLATFORM_COMMAND_KEYS = {"os", "arch", "command", "args"}
SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$")


def commands() -> list[dict]:
    config = PLUGIN["runtimeConfig"]
    hooks = [c for entries in config.get("platformHooks", {}).values() for c in entries]
    return config["platformCommand"] + hooks


def test_plugin_version_is_the_package_version():
    assert PLUGIN["version"] == zdrender.__version__
    assert SEMVER.match(PLUGIN["version"])


def test_plugin_yaml_uses_only_keys_helm4_knows():
    assert set(PLUGIN) <= METADATA_V1_KEYS
    assert (PLUGIN["apiVersion"], PLUGIN["type"], PLUGIN["runtime"], PLUGIN["name"]) == (
        "v1",
        "postrenderer/v1",
        "subprocess",
        "zdrender",
    )
    assert set(PLUGIN["runtimeConfig"]) <= SUBPROCESS_KEYS
    assert set(PLUGIN["runtimeConfig"].get("platformHooks", {})) <= {"install", "update", "delete"}
    for command in commands():
        assert set(command) <= PLATFORM_COMMAND_KEYS


def test_plugin_commands_point_at_the_launcher():
    """Helm splits `command` on single spaces and expands ${HELM_PLUGIN_DIR} in each part."""
    for command in commands():
        program = command["command"].split(" ")[0]
        assert program.startswith("${HELM_PLUGIN_DIR}/")
        path = ROOT / program.removeprefix("${HELM_PLUGIN_DIR}/")
        assert path.is_file() and os.access(path, os.X_OK), f"{path} is not an executable file"


def test_launcher_is_posix_sh():
    """Helm runs the launcher directly; its #! is /bin/sh, dash on Debian: it must parse there."""
    launcher = ROOT / "scripts" / "helm-plugin-run"
    assert launcher.read_text().startswith("#!/bin/sh\n")
    result = subprocess.run(["sh", "-n", str(launcher)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
