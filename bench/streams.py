"""The benchmark's input streams, built from the corpus of rendered releases (read in place).

Every stream is written once into a scratch folder; the timed runs only read those files. The
ResourceLists of the KRM function mode are written by the real tools: `kpt fn source` and kustomize
(an exec transformer that saves what kyaml hands it).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import yaml

from zdrender import stream
from zdrender.workload import WORKLOAD_KINDS

ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path(os.environ.get("ZDRENDER_CORPUS", ROOT.parent / "shared" / "corpus"))
LARGE = "argo-cd.yaml"  # the largest release (~1.9 MB, CRDs included)
SMALL = "prometheus-pushgateway.yaml"  # a few KB: start-up dominates
NON_WORKLOAD_BASE = 1_000_000  # bytes of the 1x non-workload stream for the linear-growth check


@dataclass
class Input:
    name: str
    path: Path
    size: int  # bytes
    documents: int
    deployments: int  # what the kustomize patch must reach
    workloads: int
    note: str = ""


@dataclass
class Doc:
    text: str
    obj: dict | None

    @property
    def kind(self) -> str | None:
        return self.obj.get("kind") if self.obj else None


def corpus_files() -> list[Path]:
    files = sorted(CORPUS.glob("*.yaml"))
    if not files:
        raise SystemExit(f"bench: no corpus at {CORPUS}; set ZDRENDER_CORPUS to the folder of rendered releases")
    return files


def documents(text: str) -> list[Doc]:
    docs = []
    for d in stream.split(text).documents:
        obj = yaml.load(d.text, Loader=yaml.CSafeLoader) if d.has_content else None
        docs.append(Doc(d.text, obj if isinstance(obj, dict) else None))
    return docs


def resource_id(obj: dict) -> tuple[str, str, str, str]:
    """What kustomize keys a resource by: API group, kind, namespace ('' and default are one), name."""
    api = str(obj.get("apiVersion", ""))
    meta = obj.get("metadata") or {}
    return (api.split("/")[0] if "/" in api else "", str(obj.get("kind")), meta.get("namespace") or "default", str(meta.get("name")))


def renamed(text: str, suffix: str) -> str:
    """The document with `suffix` appended to metadata.name, the one byte range changed."""
    root = yaml.compose(text, Loader=yaml.CSafeLoader)
    meta = next(v for k, v in root.value if k.value == "metadata")
    name = next(v for k, v in meta.value if k.value == "name")
    end = name.end_mark.index - (1 if name.style in ("'", '"') else 0)
    return text[:end] + suffix + text[end:]


def all_releases(releases: list[list[Doc]]) -> tuple[str, int]:
    """All releases concatenated; documents whose id an earlier release already used get a name suffix.

    kustomize refuses two resources with one id, and 103 documents of the corpus repeat one (chart
    variants rendered twice: cert-manager and cert-manager-ha-crds, argo-rollouts with and without
    the dashboard, ...). Renaming keeps every byte of every release but a few, for every tool.
    """
    seen: set[tuple[str, str, str, str]] = set()
    parts = []
    renames = 0
    for docs in releases:
        for doc in docs:
            text = doc.text
            if doc.obj is not None:
                rid = resource_id(doc.obj)
                if rid in seen:
                    renames += 1
                    text = renamed(text, f"-dup{renames}")
                    rid = resource_id(yaml.load(text, Loader=yaml.CSafeLoader))
                seen.add(rid)
            parts.append(text)
    return "".join(parts), renames


def round_robin(groups: list[list[Doc]], limit: int) -> list[Doc]:
    """Take one document from each group in turn until `limit` bytes: a mix of every release."""
    picked, size = [], 0
    queues = [list(g) for g in groups if g]
    while queues and size < limit:
        for queue in list(queues):
            if not queue:
                queues.remove(queue)
                continue
            doc = queue.pop(0)
            picked.append(doc)
            size += len(doc.text.encode("utf-8"))
            if size >= limit:
                break
    return picked


def describe(name: str, path: Path, docs: list[Doc], note: str = "") -> Input:
    docs = [d for d in docs if d.obj is not None]
    return Input(
        name=name,
        path=path,
        size=path.stat().st_size,
        documents=len(docs),
        deployments=sum(1 for d in docs if d.kind == "Deployment"),
        workloads=sum(1 for d in docs if d.kind in WORKLOAD_KINDS),
        note=note,
    )


def build(folder: Path) -> tuple[list[Input], dict[str, Input]]:
    """(inputs compared with kustomize, {name: stream} for the linear-growth check)."""
    files = corpus_files()
    releases = {p.name: documents(p.read_text(encoding="utf-8")) for p in files}
    compared = [describe(name, CORPUS / release, releases[release], release) for name, release in (("small", SMALL), ("large", LARGE))]
    text, renames = all_releases(list(releases.values()))
    everything = folder / "all-releases.yaml"
    everything.write_text(text, encoding="utf-8")
    all_docs = [d for docs in releases.values() for d in docs]  # the renames change no kind
    compared.append(describe("all", everything, all_docs, f"{len(files)} releases, {renames} duplicate ids renamed"))

    workload_docs, other_docs = [], []
    for docs in releases.values():
        workload_docs += [d for d in docs if d.kind in WORKLOAD_KINDS]
        other_docs.append([d for d in docs if d.obj is not None and d.kind not in WORKLOAD_KINDS])
    bases = {"non-workload": round_robin(other_docs, NON_WORKLOAD_BASE), "workload": workload_docs}
    growth = {}
    for kind, base in bases.items():
        for times in (1, 10):
            path = folder / f"{kind}-{times}x.yaml"
            path.write_text("".join(d.text for d in base) * times, encoding="utf-8")
            growth[f"{kind} {times}x"] = describe(f"{kind} {times}x", path, base * times)
    return compared, growth


def repeated(folder: Path, name: str, base: Input, times: int, note: str) -> Input:
    """`base`'s stream `times` over, one file: the same documents, `times` as many bytes."""
    path = folder / f"{name.replace(' ', '-')}.yaml"
    text = base.path.read_text(encoding="utf-8")
    with path.open("w", encoding="utf-8") as out:
        for _ in range(times):
            out.write(text)
    return Input(name, path, path.stat().st_size, base.documents * times, base.deployments * times, base.workloads * times, note)


def kpt_resource_list(folder: Path, source: Input) -> Input:
    """The ResourceList `kpt fn source` writes for a package holding `source` (kpt's index and path
    annotations on every item, compact sequences, comments kept)."""
    package = folder / "kpt-package"
    package.mkdir()
    shutil.copyfile(source.path, package / "resources.yaml")
    path = folder / "resource-list-kpt.yaml"
    with path.open("wb") as out:
        subprocess.run(["kpt", "fn", "source", str(package)], stdout=out, check=True)
    shutil.rmtree(package)
    return _resource_list("krm (kpt fn source)", path, source)


# An exec KRM transformer configured as zdrender is (examples/kustomize), whose program saves its
# stdin (what kustomize hands a function, this config as functionConfig) and gives it back.
DUMP_SCRIPT = '#!/bin/sh\ntee "$(dirname "$0")/resource-list.yaml"\n'
DUMP_CONFIG = """apiVersion: zdrender.io/v1alpha1
kind: ZdRender
metadata:
  name: zdrender
  annotations:
    config.kubernetes.io/function: |
      exec:
        path: ./dump.sh
spec: {}
"""


def kustomize_resource_list(folder: Path, source: Input, kustomize: str) -> Input:
    """The ResourceList kustomize (kyaml) hands an exec transformer for a kustomization of `source`
    (ids must be unique: one release, or the "all" stream with its duplicates renamed)."""
    project = folder / "kustomize-dump"
    project.mkdir()
    shutil.copyfile(source.path, project / "stream.yaml")
    (project / "dump.sh").write_text(DUMP_SCRIPT, encoding="utf-8")
    (project / "dump.sh").chmod(0o755)
    (project / "dump.yaml").write_text(DUMP_CONFIG, encoding="utf-8")
    (project / "kustomization.yaml").write_text("resources:\n- stream.yaml\ntransformers:\n- dump.yaml\n", encoding="utf-8")
    subprocess.run([kustomize, "build", "--enable-alpha-plugins", "--enable-exec", str(project)], stdout=subprocess.DEVNULL, check=True)
    path = folder / "resource-list-kustomize.yaml"
    (project / "resource-list.yaml").rename(path)
    shutil.rmtree(project)
    return _resource_list("krm (kustomize exec)", path, source)


def _resource_list(name: str, path: Path, source: Input) -> Input:
    items = len((yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader) or {}).get("items") or [])
    if items != source.documents:
        raise SystemExit(f"bench: {name} holds {items} items for the {source.documents} documents of {source.name}")
    return Input(name, path, path.stat().st_size, source.documents, source.deployments, source.workloads, f"the {source.name} stream as one ResourceList")
