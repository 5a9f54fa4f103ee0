"""What every image tar images/build.py writes must be, for zdrender's images (tests/test_images.py)
and the proof harness's test apps (tests/test_app_images.py): an OCI image layout and a
docker-archive that name the same blobs, each blob named by its digest."""

from __future__ import annotations

import gzip
import hashlib
import json
import tarfile
from dataclasses import dataclass
from pathlib import Path

from images import build

BLOBS = "blobs/sha256/"


@dataclass(frozen=True)
class Archive:
    files: dict[str, bytes]
    descriptor: dict  # index.json's one manifest
    manifest: dict
    config: dict
    layers: list[bytes]  # the layers' uncompressed tars, bottom first


def read_archive(path: Path, ref: str) -> Archive:
    """The archive at `path`, checked to be the image `ref` both ways."""
    with tarfile.open(path) as tar:
        members = tar.getmembers()
        files = {m.name: tar.extractfile(m).read() for m in members if m.isfile()}  # type: ignore[union-attr]
    assert {m.mtime for m in members} == {build.EPOCH} and {(m.uid, m.gid) for m in members} == {(0, 0)}
    for name, data in files.items():
        if name.startswith(BLOBS):
            assert hashlib.sha256(data).hexdigest() == name.removeprefix(BLOBS), f"{name} is not named by its digest"
    assert json.loads(files["oci-layout"]) == {"imageLayoutVersion": "1.0.0"}
    index = json.loads(files["index.json"])
    (descriptor,) = index["manifests"]
    assert descriptor["annotations"] == {"io.containerd.image.name": ref, "org.opencontainers.image.ref.name": ref.rsplit(":", 1)[1]}
    manifest_blob = files[BLOBS + descriptor["digest"][7:]]
    assert descriptor["size"] == len(manifest_blob)
    manifest = json.loads(manifest_blob)
    config_blob = files[BLOBS + manifest["config"]["digest"][7:]]
    assert manifest["config"]["size"] == len(config_blob)
    config = json.loads(config_blob)
    assert (config["architecture"], config["os"]) == (build.ARCH, "linux")
    blobs = [files[BLOBS + d["digest"][7:]] for d in manifest["layers"]]
    assert [d["size"] for d in manifest["layers"]] == [len(b) for b in blobs]
    layers = [gzip.decompress(b) for b in blobs]
    assert config["rootfs"]["diff_ids"] == ["sha256:" + hashlib.sha256(raw).hexdigest() for raw in layers]
    (docker,) = json.loads(files["manifest.json"])
    assert docker == {"Config": BLOBS + manifest["config"]["digest"][7:], "RepoTags": [ref], "Layers": [BLOBS + d["digest"][7:] for d in manifest["layers"]]}
    return Archive(files, descriptor, manifest, config, layers)
