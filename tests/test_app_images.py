"""The proof harness's test app images (cluster/images.py), written by the writer of zdrender's own
images (images/build.py) without Go, busybox or a node: each tar is an OCI layout and a
docker-archive (image_support), under the names the node and the chart use, with the config the
harness's images always had. tests/cluster imports and runs the real ones in containerd."""

from __future__ import annotations

import io
import os
import sys
import tarfile
from pathlib import Path

import pytest
import yaml

from cluster import images
from images import build

from conftest import ROOT
from image_support import read_archive

REFS = {"pause:1": "localhost/zdrender-test/pause:1", "app:1": "localhost/zdrender-test/app:1", "shell-app:1": "localhost/zdrender-test/shell-app:1"}


def stand_ins(name: str, folder: Path) -> dict[str, Path]:
    """A small file for each program of the image (path in the image -> file)."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {}
    for dest, src in images.IMAGES[name].items():
        files[dest] = folder / dest.replace("/", "-")
        files[dest].write_text(f"#!stand-in for {src}\n")
        files[dest].chmod(0o600)  # the image's mode is its own
    return files


def write(name: str, files: dict[str, Path], out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    return images.write_image(name, files, out)


@pytest.mark.parametrize("name", sorted(images.IMAGES))
def test_a_test_app_image_is_an_oci_layout_and_a_docker_archive(name, tmp_path):
    files = stand_ins(name, tmp_path / "programs")
    archive = write(name, files, tmp_path / "out")
    assert archive.name == name.replace(":", "-") + ".tar" and sorted(p.name for p in archive.parent.iterdir()) == [archive.name], "no stage left behind"
    written = read_archive(archive, REFS[name])
    assert written.config["config"] == {"Entrypoint": images.ENTRYPOINTS[name], "Env": ["PATH=/bin:/"], "WorkingDir": "/"}
    (layer,) = written.layers
    with tarfile.open(fileobj=io.BytesIO(layer)) as tar:
        members = {m.name: m for m in tar.getmembers()}
        contents = {n: tar.extractfile(m).read() for n, m in members.items() if m.isfile()}  # type: ignore[union-attr]
    folders = {str(Path(dest).parent) for dest in files if "/" in dest}
    assert {n: (m.type, m.mode) for n, m in members.items()} == (
        {"etc": (tarfile.DIRTYPE, 0o755), "tmp": (tarfile.DIRTYPE, 0o1777), "etc/passwd": (tarfile.REGTYPE, 0o644)}
        | dict.fromkeys(folders, (tarfile.DIRTYPE, 0o755))
        | dict.fromkeys(files, (tarfile.REGTYPE, 0o755))
    )
    assert list(members) == sorted(members) and {(m.uid, m.gid, m.mtime) for m in members.values()} == {(0, 0, build.EPOCH)}
    assert all(contents[dest] == src.read_bytes() for dest, src in files.items())
    assert b"nobody:x:65534:65534:" in contents["etc/passwd"]


def test_the_same_programs_give_the_same_tar_whatever_the_umask(tmp_path):
    files = stand_ins("shell-app:1", tmp_path / "programs")
    first = write("shell-app:1", files, tmp_path / "first").read_bytes()
    umask = os.umask(0o077)
    try:
        again = write("shell-app:1", files, tmp_path / "again").read_bytes()
    finally:
        os.umask(umask)
    assert again == first


def test_a_program_linking_a_library_fails_the_image(tmp_path):
    with pytest.raises(build.BuildError, match=r"/web needs .*libc\.so\.6"):
        write("app:1", {"web": Path(sys.executable).resolve()}, tmp_path / "out")


def test_the_node_and_the_chart_use_the_images_written():
    assert {name: images.image(name).ref for name in images.IMAGES} == REFS
    assert f"sandbox = '{REFS['pause:1']}'" in (ROOT / "cluster" / "node.py").read_text()
    assert yaml.safe_load((ROOT / "cluster" / "chart" / "values.yaml").read_text())["image"] == REFS["app:1"]
    assert f"image: {REFS['shell-app:1']}" in (ROOT / "cluster" / "chart" / "templates" / "jobs.yaml").read_text()
