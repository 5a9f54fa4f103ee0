"""The daemonless image builder (images/build.py) without a container runtime: the Dockerfiles say
what the builder builds (no daemon exists here to build them), layers are reproducible, the archive
is a consistent OCI layout and docker-archive, and the library check catches a missing library.
tests/cluster/test_images.py builds the real images and runs them in containerd."""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import shutil
import sys
import tarfile
from pathlib import Path

import pytest

import zdrender
from images import build

from conftest import ROOT
from image_support import read_archive


def dockerfile(path: str) -> dict[str, list[str]]:
    """Instruction -> its arguments, in order (continuation lines joined, comments dropped)."""
    text = re.sub(r"\\\n", " ", "\n".join(line for line in (ROOT / path).read_text().splitlines() if not line.lstrip().startswith("#")))
    instructions: dict[str, list[str]] = {}
    for line in text.splitlines():
        if line.strip():
            keyword, _, rest = line.strip().partition(" ")
            instructions.setdefault(keyword.upper(), []).append(rest.strip())
    return instructions


def dockerfile_env(instructions: dict[str, list[str]]) -> dict[str, str]:
    return dict(pair.split("=", 1) for line in instructions.get("ENV", []) for pair in line.split())


@pytest.mark.parametrize("name", sorted(build.IMAGES))
def test_the_dockerfile_builds_what_the_builder_builds(name):
    image = build.IMAGES[name]
    instructions = dockerfile(image.dockerfile)
    assert instructions["FROM"] == [f"python:{build.PYTHON.removeprefix('python')}-slim"]
    assert [json.loads(e) for e in instructions.get("ENTRYPOINT", [])] == ([list(image.entrypoint)] if image.entrypoint else [])
    assert [json.loads(c) for c in instructions.get("CMD", [])] == ([list(image.cmd)] if image.cmd else [])
    assert instructions["USER"] == [image.user]
    assert instructions.get("WORKDIR", ["/"])[-1] == image.workdir
    assert dockerfile_env(instructions) == image.env
    # zdrender from the same files the builder's wheel is made of (LICENSE lands in the wheel).
    copied = " ".join(instructions["COPY"])
    for source in ("pyproject.toml", "README.md", "LICENSE", "src"):
        assert re.search(rf"(^|\s){source}(\s|$)", copied), f"{image.dockerfile} does not copy {source}"
    assert f"{image.name}:{zdrender.__version__}" in (ROOT / image.dockerfile).read_text()


def test_the_sidecar_dockerfile_downloads_the_tools_the_builder_copies():
    args = dict(a.split("=", 1) for a in dockerfile(build.IMAGES["cmp"].dockerfile)["ARG"] if "=" in a)
    pins = build.tool_pins()
    assert (args["HELM_VERSION"], args["KUSTOMIZE_VERSION"]) == (pins["helm"], pins["kustomize"])
    assert args["TARGETARCH"] == build.ARCH
    useradd = next(r for r in dockerfile(build.IMAGES["cmp"].dockerfile)["RUN"] if "useradd" in r)
    assert f"--uid {build.ARGOCD_UID}" in useradd and "--home-dir /home/argocd" in useradd


def test_image_references_carry_the_package_version():
    assert {i.ref for i in build.IMAGES.values()} == {f"ghcr.io/zdrender/zdrender-{n}:{zdrender.__version__}" for n in ("krm", "cmp")}
    assert build.version() == zdrender.__version__


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("ZDRENDER_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache" / "images"


def fill_small_tree(stage: Path) -> None:
    (stage / "usr" / "bin").mkdir(parents=True)
    (stage / "usr" / "bin" / "hello").write_text("#!/bin/sh\necho hi\n")
    (stage / "usr" / "bin" / "hello").chmod(0o755)
    (stage / "bin").symlink_to("usr/bin")
    (stage / "home" / "argocd").mkdir(parents=True)


def test_layers_are_reproducible_and_cached(cache):
    calls = []

    def fill(stage: Path) -> None:
        calls.append(stage)
        fill_small_tree(stage)

    first = build.cached_layer("small", "k1", fill, set(), owners={"home/argocd": 999})
    again = build.cached_layer("small", "k1", fill, set(), owners={"home/argocd": 999})
    assert again == first and len(calls) == 1, "the second call must come from the cache"
    rebuilt = build.cached_layer("small", "k2", fill, set(), owners={"home/argocd": 999})
    assert (rebuilt.digest, rebuilt.diff_id) == (first.digest, first.diff_id), "same files, same digests"
    assert not first.blob.exists(), "a newer build of a layer replaces the older one"

    raw = gzip.decompress(rebuilt.blob.read_bytes())
    assert "sha256:" + hashlib.sha256(raw).hexdigest() == rebuilt.diff_id
    with tarfile.open(fileobj=rebuilt.blob.open("rb")) as tar:
        members = {m.name: m for m in tar.getmembers()}
    assert list(members) == sorted(members)
    assert {m.mtime for m in members.values()} == {build.EPOCH}
    assert members["home/argocd"].uid == 999 and members["usr/bin/hello"].uid == 0 and members["usr/bin/hello"].mode == 0o755
    assert members["bin"].issym() and members["bin"].linkname == "usr/bin"


def test_the_archive_is_an_oci_layout_and_a_docker_archive(cache, tmp_path):
    layer = build.cached_layer("small", "k", fill_small_tree, set())
    image = build.IMAGES["cmp"]
    archive = tmp_path / "image.tar"
    descriptor = build.write_archive(image, [layer], archive)
    written = read_archive(archive, image.ref)
    assert written.descriptor == descriptor and written.manifest["layers"][0]["digest"] == layer.digest
    config = written.config["config"]
    assert config["User"] == "999" and "HELM_CACHE_HOME=/tmp/helm/cache" in config["Env"] and "LANG=C.UTF-8" in config["Env"]
    assert config["Labels"]["org.opencontainers.image.version"] == zdrender.__version__
    again = tmp_path / "again.tar"
    build.write_archive(image, [layer], again)
    assert again.read_bytes() == archive.read_bytes()


def test_a_library_missing_from_the_image_fails_the_build(tmp_path):
    binary = Path(sys.executable).resolve()
    needed = build.needed_libraries(binary.read_bytes())
    assert "libc.so.6" in needed
    stage = tmp_path / "stage"
    (stage / "usr" / "bin").mkdir(parents=True)
    shutil.copy(binary, stage / "usr" / "bin" / "python")
    with pytest.raises(build.BuildError, match=r"/usr/bin/python needs .*libc\.so\.6"):
        build.check_libraries(stage, set())
    build.check_libraries(stage, set(needed))
    assert build.needed_libraries(b"#!/bin/sh\n") == []
