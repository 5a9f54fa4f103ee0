"""The test apps as container images, built here: no registry and no container daemon exist.

Each image is one layer holding static Go programs (cluster/apps) and, for the shell-entrypoint
image, Debian's static busybox as /bin/sh. The layer is staged in a folder and written by the writer
of zdrender's own images (images/build.py): one tar, an OCI layout and a docker-archive, that
`ctr images import` reads. Images and the host-side load generator are cached by a fingerprint of
their sources, outside the clone.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

from images import build

from .node import NodeError, Paths, ctr, fingerprint, sh

APPS = Path(__file__).resolve().parent / "apps"
REGISTRY = "localhost/zdrender-test"
BUSYBOX = Path("/bin/busybox")
# image name -> files in its one layer: path in the image -> binary built from cluster/apps (or a host file)
IMAGES: dict[str, dict[str, str]] = {
    "pause:1": {"pause": "app:pause"},
    # Like a distroless image: the app and the proxy, no shell and no `sleep`.
    "app:1": {"web": "app:web", "proxy": "app:proxy"},
    # The same app started by a shell script, as many charts do.
    "shell-app:1": {"web": "app:web", "bin/sh": f"host:{BUSYBOX}"},
}
ENTRYPOINTS = {"pause:1": ["/pause"], "app:1": ["/web"], "shell-app:1": ["/web"]}
ENV = {"PATH": "/bin:/"}  # the images' only variable: no base image below
PASSWD = "root:x:0:0:root:/:/web\nnobody:x:65534:65534:nobody:/:/web\n"
MODES = {"tmp": 0o1777, "etc/passwd": 0o644}  # of the staged files and folders; the others 0755
LAYOUT_VERSION = 2  # bump when write_image or images/build.py change how they write an image


def image(name: str) -> build.Image:
    """The test image `name` (repository:tag) as images/build.py describes an image."""
    repository, tag = name.split(":")
    return build.Image(repository, (repository,), entrypoint=tuple(ENTRYPOINTS[name]), env=ENV, registry=REGISTRY, tag=tag, product=False)


def write_image(name: str, files: dict[str, Path], out: Path) -> Path:
    """The image `name` holding `files` (path in the image -> file on this machine), /etc/passwd and
    /tmp, as a tar in `out`."""
    described = image(name)
    with tempfile.TemporaryDirectory(dir=out, prefix="stage-") as tmp:
        stage = Path(tmp) / "layer"
        (stage / "etc").mkdir(parents=True)
        (stage / "tmp").mkdir()
        (stage / "etc" / "passwd").write_text(PASSWD)
        for dest, src in files.items():
            (stage / dest).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, stage / dest)
        for path in stage.rglob("*"):  # whatever this machine's umask
            path.chmod(MODES.get(path.relative_to(stage).as_posix(), 0o755))
        build.check_libraries(stage, set())  # static programs only: the image has no libraries
        layer = build.staged_layer(name, stage, Path(tmp) / "layer.tar.gz")
        archive = out / described.file_name
        build.write_archive(described, [layer], archive)
    return archive


def _build_dir(paths: Paths) -> Path:
    sources = [p for p in APPS.rglob("*") if p.is_file() and p.suffix in (".go", ".mod", ".sum")]
    layout = json.dumps([IMAGES, ENTRYPOINTS, ENV, PASSWD, MODES, LAYOUT_VERSION]).encode()
    return paths.cache / "test-images" / (fingerprint(*sources, BUSYBOX) + hashlib.sha256(layout).hexdigest()[:8])


def load_generator(paths: Paths) -> Path:
    """The host-side load generator, built if its sources changed since the node came up."""
    ensure_images(paths)
    return _build_dir(paths) / "bin" / "load"


def ensure_images(paths: Paths) -> str:
    out = _build_dir(paths)
    if (out / "done").exists():
        return f"cached in {out}"
    if not BUSYBOX.exists():
        raise NodeError(f"{BUSYBOX} is missing: install Debian's busybox-static")
    bin_dir = out / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, CGO_ENABLED="0", GOTOOLCHAIN="local", GOFLAGS="-mod=mod")
    sh("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", f"{bin_dir}/", "./...", env=env, cwd=APPS, timeout=900)
    for name, files in IMAGES.items():
        write_image(name, {dest: Path(src[5:]) if src.startswith("host:") else bin_dir / src[4:] for dest, src in files.items()}, out)
    (out / "done").write_text("")
    for old in out.parent.iterdir():  # images of older sources
        if old != out:
            shutil.rmtree(old, ignore_errors=True)
    return f"built into {out}"


def import_images(paths: Paths) -> str:
    """Import the images into the node's containerd, again whenever their sources changed (same tags)."""
    out = _build_dir(paths)
    marker = paths.state / "images.imported"
    current = marker.read_text() if marker.exists() else ""
    have = set(ctr(paths, "images", "ls", "-q").stdout.split())
    imported = []
    for name in IMAGES:
        if image(name).ref in have and current == out.name:
            continue
        ctr(paths, "images", "import", "--no-unpack=false", str(out / image(name).file_name))
        imported.append(name)
    marker.write_text(out.name)
    return ("imported " + ", ".join(imported)) if imported else "already there"
