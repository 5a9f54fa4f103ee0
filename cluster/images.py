"""The test apps as container images, built here: no registry and no container daemon exist.

Each image is one layer holding static Go programs (cluster/apps) and, for the shell-entrypoint
image, Debian's static busybox as /bin/sh. The layer and its config are written as a docker-archive
tar that `ctr images import` reads. Images and the host-side load generator are cached by a
fingerprint of their sources, outside the clone.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import tarfile
from pathlib import Path

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
LAYOUT_VERSION = 1  # bump when _layer or _docker_archive change what they write


def image_ref(name: str) -> str:
    return f"{REGISTRY}/{name}"


def _build_dir(paths: Paths) -> Path:
    sources = [p for p in APPS.rglob("*") if p.is_file() and p.suffix in (".go", ".mod", ".sum")]
    layout = json.dumps([IMAGES, ENTRYPOINTS, LAYOUT_VERSION]).encode()
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
        layer = _layer({dest: Path(src[5:]) if src.startswith("host:") else bin_dir / src[4:] for dest, src in files.items()})
        (out / f"{name.replace(':', '-')}.tar").write_bytes(_docker_archive(image_ref(name), layer, ENTRYPOINTS[name]))
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
        if image_ref(name) in have and current == out.name:
            continue
        ctr(paths, "images", "import", "--no-unpack=false", str(out / f"{name.replace(':', '-')}.tar"))
        imported.append(name)
    marker.write_text(out.name)
    return ("imported " + ", ".join(imported)) if imported else "already there"


def _layer(files: dict[str, Path]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        dirs = {"etc": 0o755, "tmp": 0o1777} | {str(Path(d).parent): 0o755 for d in files if "/" in d}
        for d, mode in sorted(dirs.items()):
            info = tarfile.TarInfo(d)
            info.type, info.mode = tarfile.DIRTYPE, mode
            tar.addfile(info)
        passwd = b"root:x:0:0:root:/:/web\nnobody:x:65534:65534:nobody:/:/web\n"
        info = tarfile.TarInfo("etc/passwd")
        info.size, info.mode = len(passwd), 0o644
        tar.addfile(info, io.BytesIO(passwd))
        for dest, src in sorted(files.items()):
            data = src.read_bytes()
            info = tarfile.TarInfo(dest)
            info.size, info.mode = len(data), 0o755
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _docker_archive(ref: str, layer: bytes, entrypoint: list[str]) -> bytes:
    diff_id = "sha256:" + hashlib.sha256(layer).hexdigest()
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "created": "2026-01-01T00:00:00Z",  # fixed, so the same sources give the same image id
            "config": {"Entrypoint": entrypoint, "Env": ["PATH=/bin:/"], "WorkingDir": "/"},
            "rootfs": {"type": "layers", "diff_ids": [diff_id]},
            "history": [{"created_by": "zdrender cluster/images.py"}],
        }
    ).encode()
    config_name = hashlib.sha256(config).hexdigest() + ".json"
    manifest = json.dumps([{"Config": config_name, "RepoTags": [ref], "Layers": ["layer.tar"]}]).encode()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in ((config_name, config), ("layer.tar", layer), ("manifest.json", manifest)):
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o644
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()
