"""ResourceLists for timing zdrender's KRM function mode, in the shapes the real tools send, built
from the corpus of rendered releases (read in place; everything is written under `workdir`).

    kpt_source(workdir)           `kpt fn source DIR` over one file per release (comments, kpt's annotations)
    kustomize_exec(workdir)       what `kustomize build --enable-exec` hands an exec transformer (kyaml)
    dumped(objects, ...)          hand variants: items' `-` at column 0 or 2, items indented by 4,
                                  with or without functionConfig, with comments
    as_json(objects)              one JSON document (flow style throughout)

`shapes(workdir)` builds them all, each ~8 MB with the whole corpus, as {name: text}.

    .venv/bin/python bench/krm_inputs.py /tmp/krm-inputs     # writes NAME.yaml per shape there
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path(os.environ.get("ZDRENDER_CORPUS", ROOT.parent / "shared" / "corpus"))
KUSTOMIZE = Path(os.environ.get("ZDRENDER_KUSTOMIZE", ROOT / ".tools" / "bin" / "kustomize"))
HEAD = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\n"
FUNCTION_CONFIG = {
    "apiVersion": "zdrender.io/v1alpha1",
    "kind": "ZdRender",
    "metadata": {"name": "zdrender", "annotations": {"config.kubernetes.io/local-config": "true"}},
    "spec": {"prestop-seconds": 10},
}


def releases() -> list[Path]:
    files = sorted(CORPUS.glob("*.yaml"))
    if not files:
        raise SystemExit(f"krm_inputs: no corpus at {CORPUS}; set ZDRENDER_CORPUS to the folder of rendered releases")
    return files


def objects(files: list[Path] | None = None) -> list[dict[str, Any]]:
    """Every object of the releases, in order."""
    found = []
    for path in files or releases():
        for obj in yaml.load_all(path.read_text(), Loader=yaml.CSafeLoader):
            if isinstance(obj, dict):
                found.append(obj)
    return found


def _ids(path: Path) -> set[tuple[str, str, str, str]]:
    ids = set()
    for obj in objects([path]):
        meta = obj.get("metadata") or {}
        ids.add((str(obj.get("apiVersion")), str(obj.get("kind")), str(meta.get("namespace") or ""), str(meta.get("name"))))
    return ids


def distinct_releases() -> list[Path]:
    """The releases whose objects clash with no earlier one's (kustomize refuses a repeated id)."""
    chosen, seen = [], set()
    for path in releases():
        ids = _ids(path)
        if not ids & seen:
            chosen.append(path)
            seen |= ids
    return chosen


def kpt_source(workdir: Path) -> str:
    """`kpt fn source` over a package holding each release as one file."""
    package = workdir / "kpt-package"
    shutil.rmtree(package, ignore_errors=True)
    package.mkdir(parents=True)
    for path in releases():
        shutil.copy(path, package / path.name)
    return subprocess.run(["kpt", "fn", "source", str(package)], capture_output=True, text=True, check=True).stdout


def kustomize_exec(workdir: Path, *, function_config: bool = True) -> str:
    """The ResourceList kustomize hands an exec transformer, captured by a script that echoes it."""
    folder = workdir / "kustomize-build"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    files = distinct_releases()
    for path in files:
        shutil.copy(path, folder / path.name)
    captured = workdir / "kustomize-captured.yaml"
    script = folder / "capture.sh"
    script.write_text(f"#!/bin/sh\ntee {captured}\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    config = {**FUNCTION_CONFIG, "metadata": {"name": "zdrender", "annotations": {"config.kubernetes.io/function": "exec:\n  path: ./capture.sh\n"}}}
    if not function_config:
        config.pop("spec")
    (folder / "fn.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    kustomization = {"resources": [p.name for p in files], "transformers": ["fn.yaml"]}
    (folder / "kustomization.yaml").write_text(yaml.safe_dump(kustomization, sort_keys=False))
    subprocess.run([str(KUSTOMIZE), "build", "--enable-alpha-plugins", "--enable-exec", str(folder)], capture_output=True, check=True)
    return captured.read_text()


def _indented(text: str, by: int) -> str:
    return "".join((" " * by + line) if line.strip() else line for line in text.splitlines(keepends=True))


def _dump(data: Any) -> str:
    return yaml.dump(data, Dumper=yaml.CSafeDumper, sort_keys=False, width=10_000)


def dumped(items: list[dict[str, Any]], *, dash: int = 0, keys: int = 2, function_config: bool = True, comments: bool = False) -> str:
    """A block-style list as libyaml writes it: each item's `-` at column `dash`, its keys at column
    `keys`; optionally a comment line above each item and after each `kind`."""
    parts = [HEAD, "items:\n"]
    for i, item in enumerate(items):
        body = _dump(item)
        if comments:
            body = body.replace("\nkind: ", f"\n# item {i}\nkind: ", 1)
            parts.append(" " * dash + f"# item {i} of {len(items)}\n")
        lines = _indented(body, keys).splitlines(keepends=True)
        lines[0] = " " * dash + "-" + lines[0][dash + 1 :]
        parts.append(_indented("".join(lines), 0))
    if function_config:
        parts.append("functionConfig:\n" + _indented(_dump(FUNCTION_CONFIG), 2))
    return "".join(parts)


def as_json(items: list[dict[str, Any]], *, function_config: bool = True) -> str:
    resource_list: dict[str, Any] = {"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList", "items": items}
    if function_config:
        resource_list["functionConfig"] = FUNCTION_CONFIG
    return json.dumps(resource_list, indent=1) + "\n"


def shapes(workdir: Path) -> dict[str, str]:
    items = objects()
    return {
        "kpt-source": kpt_source(workdir),
        "kustomize-exec": kustomize_exec(workdir),
        "kustomize-exec-no-config": kustomize_exec(workdir, function_config=False),
        "dash0": dumped(items),
        "dash2": dumped(items, dash=2, keys=4),
        "indent4": dumped(items, dash=4, keys=6),
        "wide-dash": dumped(items, dash=0, keys=4),
        "no-config": dumped(items, function_config=False),
        "comments": dumped(items, comments=True),
        "json": as_json(items),
    }


def plain_stream(resource_list: str) -> str:
    """The same objects as a plain multi-document stream (what `zdrender -q` is timed on to compare)."""
    items = yaml.load(resource_list, Loader=yaml.CSafeLoader)["items"]
    return yaml.dump_all(items, Dumper=yaml.CSafeDumper, sort_keys=False, width=10_000)


if __name__ == "__main__":
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "krm-inputs")
    out.mkdir(parents=True, exist_ok=True)
    for name, text in shapes(out / "work").items():
        (out / f"{name}.yaml").write_text(text)
        (out / f"{name}.plain.yaml").write_text(plain_stream(text))
        print(f"{name}: {len(text.encode()) / 1e6:.1f} MB")
