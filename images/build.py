"""zdrender's container images, built here without a container daemon.

Each image is a stack of layers this module assembles itself:

- `runtime`: Python 3.11 from Debian 12 packages (`apt-get download`, unpacked with the merged-/usr
  layout Debian 12 installs), bytecode compiled ahead (a read-only root cannot cache it), docs pruned;
- `zdrender`: zdrender's wheel and its dependencies' wheels (cp311, manylinux x86_64) installed into
  /usr/local/lib/python3.11/dist-packages, and the `zdrender` console script;
- `cmp-tools` (the Argo CD sidecar only): helm and kustomize (the Go builds of
  scripts/install-test-tools.sh, at the versions examples/argocd/Dockerfile downloads), dash as
  /bin/sh, and user 999 (`argocd`) with its home.

An image is written as one tar that is both an OCI image layout (index.json, blobs/sha256) and a
docker-archive (manifest.json), as `docker save` writes since Docker 25: `ctr images import` and
`docker load` read it. Files have fixed times and owners and sorted entries, layers are gzipped
without a time stamp, so the same inputs give the same digests. Host architecture only (amd64).
The proof harness's test app images (cluster/images.py) are written the same way.
Layers are cached under ${ZDRENDER_CACHE:-~/.cache/zdrender}/images by a fingerprint of their inputs.
"""

from __future__ import annotations

import compileall
import gzip
import hashlib
import io
import json
import os
import py_compile
import re
import shutil
import stat
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BUILDER = Path(__file__).resolve()
REGISTRY = "ghcr.io/zdrender"
ARCH = "amd64"
MULTIARCH = "x86_64-linux-gnu"
EPOCH = 1767225600  # 2026-01-01T00:00:00Z: every file's time and the images' creation time
PYTHON = "python3.11"
SITE_PACKAGES = "usr/local/lib/python3.11/dist-packages"  # on Debian's sys.path, as pip installs there
WHEEL_PLATFORMS = ("manylinux_2_28_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64")  # Debian 12: glibc 2.36

# The runtime's Debian packages: the interpreter, its standard library and the libraries they link.
# Not resolved from Depends: libpython3.11-stdlib depends on readline, ncurses, Berkeley DB, sqlite,
# libnsl/tirpc, libcrypt and libuuid for modules zdrender never imports; those modules are left out
# instead (LEFT_OUT_MODULES). The build checks every ELF file's DT_NEEDED against the libraries the
# layers hold, so a package missing from this list fails the build, not the container.
RUNTIME_PACKAGES = (
    "libc6",
    "libgcc-s1",
    "zlib1g",
    "libexpat1",
    "libssl3",
    "libffi8",
    "libbz2-1.0",
    "liblzma5",
    "libpython3.11-minimal",
    "libpython3.11-stdlib",
    "python3.11-minimal",
)
CMP_PACKAGES = ("dash",)  # /bin/sh for the plugins' `sh -c` generate commands
LEFT_OUT_MODULES = ("_crypt", "_curses", "_curses_panel", "_dbm", "_sqlite3", "_uuid", "nis", "readline")
# Standard-library folders and test modules no zdrender run imports (Debian already ships idlelib,
# tkinter, lib2to3 and ensurepip in packages of their own).
PRUNED_STDLIB = ("test", "pydoc_data")
PRUNED_DYNLOAD = re.compile(r"^(_test\w*|_ctypes_test|_xxtestfuzz|_xxsubinterpreters|xxlimited\w*)\.cpython-")
# Documentation, and glibc's iconv modules (Python's codecs are its own).
PRUNED_PATHS = ("usr/lib/x86_64-linux-gnu/gconv", "usr/share/doc", "usr/share/man", "usr/share/info", "usr/share/lintian", "usr/share/bug", "usr/share/gdb", "usr/share/menu")
MERGED_USR = ("bin", "sbin", "lib", "lib64")  # Debian 12: /bin -> usr/bin and so on

BASE_ENV = {"PATH": "/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"}  # as python:3.11-slim
PASSWD = "root:x:0:0:root:/root:/usr/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
GROUP = "root:x:0:\nnogroup:x:65534:\n"
ARGOCD_UID = 999


def tool_pins() -> dict[str, str]:
    """helm's and kustomize's versions, as scripts/install-test-tools.sh pins them."""
    text = (ROOT / "scripts" / "install-test-tools.sh").read_text()
    return {name: re.search(rf'^{var}="(v[\d.]+)"', text, re.M).group(1) for name, var in (("helm", "HELM3_VERSION"), ("kustomize", "KUSTOMIZE_VERSION"))}  # type: ignore[union-attr]


def version() -> str:
    """zdrender's version, read from the source the wheel is built from."""
    return re.search(r'^__version__ = "([^"]+)"', (ROOT / "src" / "zdrender" / "__init__.py").read_text(), re.M).group(1)  # type: ignore[union-attr]


@dataclass(frozen=True)
class Image:
    name: str
    layers: tuple[str, ...]
    dockerfile: str = ""  # builds the same image with a daemon (tests/test_images.py ties the two)
    entrypoint: tuple[str, ...] = ()
    cmd: tuple[str, ...] = ()
    user: str = ""
    workdir: str = "/"
    env: dict[str, str] = field(default_factory=dict)  # besides BASE_ENV (a product image)
    registry: str = REGISTRY
    tag: str = ""  # zdrender's version unless given
    # zdrender's own image: the Debian runtime's BASE_ENV below `env`, and the source and version
    # labels. cluster/images.py's test apps (static programs, no base) have neither.
    product: bool = True

    @property
    def ref(self) -> str:
        return f"{self.registry}/{self.name}:{self.tag or version()}"

    @property
    def file_name(self) -> str:
        return f"{self.name}-{self.tag or version()}.tar"


IMAGES = {
    # A KRM function: a ResourceList on stdin, the patched list on stdout (`kpt fn eval --image`,
    # kustomize's `container:` functions). kpt and kustomize run it as `nobody`, so the image does too.
    "krm": Image("zdrender-krm", ("runtime", "zdrender"), "images/krm/Dockerfile", entrypoint=("/usr/local/bin/zdrender",), user="65534:65534"),
    # The Argo CD config-management sidecar: Argo CD supplies the command (argocd-cmp-server) and
    # the plugin; helm keeps its files under /tmp, the sidecar's only writable folder.
    "cmp": Image(
        "zdrender-cmp",
        ("runtime", "zdrender", "cmp-tools"),
        "examples/argocd/Dockerfile",
        cmd=("/bin/sh",),
        user=str(ARGOCD_UID),
        workdir="/home/argocd",
        env={"HOME": "/home/argocd", "HELM_CACHE_HOME": "/tmp/helm/cache", "HELM_CONFIG_HOME": "/tmp/helm/config", "HELM_DATA_HOME": "/tmp/helm/data"},
    ),
}


class BuildError(RuntimeError):
    """A step that could not be done; one line for people."""


def cache_dir() -> Path:
    base = os.environ.get("ZDRENDER_CACHE") or os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "zdrender")
    return Path(base) / "images"


def run(*argv: str | os.PathLike[str], cwd: Path | None = None, timeout: float = 600) -> str:
    proc = subprocess.run([str(a) for a in argv], capture_output=True, text=True, cwd=cwd, timeout=timeout, check=False)
    if proc.returncode != 0:
        tail = " | ".join((proc.stderr or proc.stdout).strip().splitlines()[-3:])
        raise BuildError(f"`{' '.join(str(a) for a in argv)}` exited {proc.returncode}: {tail}")
    return proc.stdout


def digest_of(*parts: bytes | str | Path) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part.read_bytes() if isinstance(part, Path) else part.encode() if isinstance(part, str) else part)
        h.update(b"\0")
    return h.hexdigest()[:16]


# -- Debian packages -------------------------------------------------------------------------------------
def debs(packages: Iterable[str]) -> list[Path]:
    """The candidate version of each package, downloaded once into the cache (apt-get checks it
    against the signed archive index)."""
    out = cache_dir() / "debs"
    out.mkdir(parents=True, exist_ok=True)
    packages = list(packages)
    show = ("apt-cache", "show", "--no-all-versions", *(f"{p}:{ARCH}" for p in packages))
    try:
        info = run(*show)
    except BuildError as err:
        if os.geteuid() != 0:  # a machine whose package lists were cleaned, as in many CI images
            raise BuildError(f"apt does not know every Debian package of the image ({err}); run `apt-get update`") from None
        run("apt-get", "update", "-qq")
        info = run(*show)
    files = {}
    for paragraph in info.strip().split("\n\n"):
        fields = dict(re.findall(r"^(Package|Version|Architecture): (.+)$", paragraph, re.M))
        files[fields["Package"]] = out / f"{fields['Package']}_{fields['Version'].replace(':', '%3a')}_{fields['Architecture']}.deb"  # as apt-get download names it
    missing = [p for p in packages if not files[p].exists()]
    if missing:
        run("apt-get", "download", "-q", *(f"{p}:{ARCH}" for p in missing), cwd=out)
    return [files[p] for p in packages]


def unpack_deb(deb: Path, stage: Path) -> None:
    """The package's files under `stage`, /bin, /lib... moved under /usr (Debian 12's merged /usr)."""
    data = subprocess.run(["dpkg-deb", "--fsys-tarfile", str(deb)], capture_output=True, check=True).stdout

    def merged(name: str) -> str:
        name = name.removeprefix("./").rstrip("/")
        top = name.split("/", 1)[0]
        return f"usr/{name}" if top in MERGED_USR else name

    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        for member in tar.getmembers():
            name = merged(member.name)
            if not name or name.startswith(PRUNED_PATHS):
                continue
            dest = stage / name
            if member.isdir():
                dest.mkdir(parents=True, exist_ok=True)
                continue
            dest.parent.mkdir(parents=True, exist_ok=True)
            if dest.is_symlink() or dest.exists():
                dest.unlink()
            if member.issym():
                os.symlink(member.linkname, dest)
            elif member.islnk():
                shutil.copy2(stage / merged(member.linkname), dest)
            elif member.isfile():
                dest.write_bytes(tar.extractfile(member).read())  # type: ignore[union-attr]
                dest.chmod(member.mode & 0o7777)


# -- checks on what a layer holds ------------------------------------------------------------------------
def needed_libraries(data: bytes) -> list[str]:
    """DT_NEEDED of a 64-bit little-endian ELF file (empty for a static one or another file)."""
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        return []
    shoff = int.from_bytes(data[0x28:0x30], "little")
    shentsize, shnum = int.from_bytes(data[0x3A:0x3C], "little"), int.from_bytes(data[0x3C:0x3E], "little")
    sections = [data[shoff + i * shentsize : shoff + (i + 1) * shentsize] for i in range(shnum)]

    def field_(section: bytes, offset: int, size: int = 8) -> int:
        return int.from_bytes(section[offset : offset + size], "little")

    needed = []
    for section in sections:
        if field_(section, 4, 4) != 6:  # SHT_DYNAMIC
            continue
        strtab = sections[field_(section, 40, 4)]
        strings = field_(strtab, 24)
        offset, size = field_(section, 24), field_(section, 32)
        for entry in range(offset, offset + size, 16):
            tag, value = field_(data, entry), field_(data, entry + 8)
            if tag == 1:  # DT_NEEDED
                end = data.index(b"\0", strings + value)
                needed.append(data[strings + value : end].decode())
    return needed


def libraries_in(stage: Path) -> set[str]:
    return {p.name for p in (stage / "usr" / "lib" / MULTIARCH).glob("*.so*")}


def check_libraries(stage: Path, available: set[str]) -> None:
    """Every ELF file's libraries are in the image: a library missing from the package lists would
    otherwise fail only when the container imports the module that links it."""
    missing = {}
    for path in sorted(stage.rglob("*")):
        if path.is_file() and not path.is_symlink():
            with path.open("rb") as f:
                if f.read(4) != b"\x7fELF":
                    continue
            lacking = [lib for lib in needed_libraries(path.read_bytes()) if lib not in available]
            if lacking:
                missing[str(path.relative_to(stage))] = lacking
    if missing:
        raise BuildError("libraries missing from the image: " + "; ".join(f"/{p} needs {', '.join(libs)}" for p, libs in missing.items()))


def compile_bytecode(stage: Path, folder: str) -> None:
    """Bytecode for the image's Python (same 3.11 magic), checked by hash not time: reproducible, and
    the container never writes it (the CMP sidecar's root is read-only)."""
    if sys.version_info[:2] != (3, 11):
        raise BuildError(f"the images run Python 3.11; run the builder with Python 3.11 (this is {sys.version.split()[0]})")
    ok = compileall.compile_dir(stage / folder, quiet=2, stripdir=str(stage), prependdir="/", invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
    if not ok:
        raise BuildError(f"compiling /{folder} failed")


# -- layers ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Layer:
    name: str
    blob: Path  # the gzipped tar
    digest: str  # sha256 of the blob
    diff_id: str  # sha256 of the uncompressed tar
    size: int
    unpacked: int
    libraries: tuple[str, ...]  # shared libraries it provides, for the layers above

    def to_json(self) -> dict:
        return {k: (str(v) if isinstance(v, Path) else list(v) if isinstance(v, tuple) else v) for k, v in self.__dict__.items()}


def layer_tar(stage: Path, owners: dict[str, int]) -> bytes:
    """The folder as a tar: sorted entries, root-owned (but `owners`), fixed times, no user names."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path in sorted(stage.rglob("*"), key=lambda p: p.relative_to(stage).as_posix()):
            name = path.relative_to(stage).as_posix()
            st = path.lstat()
            info = tarfile.TarInfo(name)
            info.mtime, info.mode = EPOCH, stat.S_IMODE(st.st_mode)
            info.uid = info.gid = owners.get(name, 0)
            if stat.S_ISLNK(st.st_mode):
                info.type, info.linkname = tarfile.SYMTYPE, os.readlink(path)
                tar.addfile(info)
            elif stat.S_ISDIR(st.st_mode):
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            else:
                info.size = st.st_size
                with path.open("rb") as f:
                    tar.addfile(info, f)
    return buf.getvalue()


def gzipped(data: bytes) -> bytes:
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", fileobj=buf, mode="wb", compresslevel=6, mtime=0) as gz:
        gz.write(data)
    return buf.getvalue()


def staged_layer(name: str, stage: Path, blob: Path, owners: dict[str, int] | None = None, libraries: Iterable[str] = ()) -> Layer:
    """The folder as a layer, its gzipped tar written to `blob`."""
    raw = layer_tar(stage, owners or {})
    data = gzipped(raw)
    blob.write_bytes(data)
    return Layer(
        name=name,
        blob=blob,
        digest="sha256:" + hashlib.sha256(data).hexdigest(),
        diff_id="sha256:" + hashlib.sha256(raw).hexdigest(),
        size=len(data),
        unpacked=len(raw),
        libraries=tuple(sorted(libraries)),
    )


def cached_layer(name: str, key: str, fill: Callable[[Path], None] | None, below: set[str], owners: dict[str, int] | None = None) -> Layer:
    """The layer `name` for inputs `key`, built by `fill(stage)` unless cached; its ELF files may
    link libraries of the layers below (`below`)."""
    folder = cache_dir() / "layers"
    meta = folder / f"{name}-{key}.json"
    if meta.exists():
        data = json.loads(meta.read_text())
        return Layer(**{**data, "blob": Path(data["blob"]), "libraries": tuple(data["libraries"])})
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder, prefix=f"{name}-stage-") as tmp:
        stage = Path(tmp)
        assert fill is not None, f"layer {name} is not cached"
        fill(stage)
        libraries = libraries_in(stage)
        check_libraries(stage, below | libraries)
        layer = staged_layer(name, stage, folder / f"{name}-{key}.tar.gz", owners, libraries)
    for old in folder.glob(f"{name}-*"):  # this layer's older builds
        if old.name not in (layer.blob.name, meta.name):
            shutil.rmtree(old) if old.is_dir() else old.unlink()
    meta.write_text(json.dumps(layer.to_json(), indent=1))
    return layer


def runtime_layer() -> Layer:
    files = debs(RUNTIME_PACKAGES)

    def fill(stage: Path) -> None:
        for deb in files:
            unpack_deb(deb, stage)
        for top in MERGED_USR:
            (stage / "usr" / top).mkdir(parents=True, exist_ok=True)
            os.symlink(f"usr/{top}", stage / top)
        stdlib = stage / "usr" / "lib" / PYTHON
        for folder in PRUNED_STDLIB:
            shutil.rmtree(stdlib / folder)
        for module in (stdlib / "lib-dynload").iterdir():
            if module.name.split(".")[0] in LEFT_OUT_MODULES or PRUNED_DYNLOAD.match(module.name):
                module.unlink()
        os.symlink(PYTHON, stage / "usr" / "bin" / "python3")
        (stage / "etc" / "passwd").write_text(PASSWD)
        (stage / "etc" / "group").write_text(GROUP)
        (stage / "tmp").mkdir(mode=0o1777)
        (stage / "tmp").chmod(0o1777)
        compile_bytecode(stage, f"usr/lib/{PYTHON}")

    return cached_layer("runtime", digest_of(BUILDER, *files), fill, set())


def wheels() -> tuple[Path, list[Path]]:
    """zdrender's wheel (built from the source) and its dependencies' wheels for cp311 manylinux
    x86_64 (downloaded once per dependency list)."""
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    out = Path(tempfile.mkdtemp(prefix="zdrender-wheel-"))
    # From a copy of the sources: setuptools reuses the tree's build/ folder, where a module deleted
    # from src/ would live on into the wheel.
    for path in source_files():
        (out / "source" / path.relative_to(ROOT)).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, out / "source" / path.relative_to(ROOT))
    run(*pip, "wheel", "--no-deps", "-w", out, out / "source", timeout=600)
    wheel = next(out.glob("zdrender-*.whl"))
    requires = sorted(line for line in (_wheel_metadata(wheel)).splitlines() if line.startswith("Requires-Dist:") and "extra ==" not in line)
    deps = cache_dir() / "wheels" / digest_of(*requires, *WHEEL_PLATFORMS)
    if not (deps / "done").exists():
        shutil.rmtree(deps, ignore_errors=True)
        platforms = [arg for p in WHEEL_PLATFORMS for arg in ("--platform", p)]
        run(*pip, "download", "--only-binary=:all:", *platforms, "--python-version", "3.11", "--implementation", "cp", "--abi", "cp311", "-d", deps, wheel)
        for own in deps.glob("zdrender-*.whl"):
            own.unlink()
        (deps / "done").write_text("\n".join(requires))
    return wheel, sorted(deps.glob("*.whl"))


def _wheel_metadata(wheel: Path) -> str:
    import zipfile

    with zipfile.ZipFile(wheel) as z:
        return z.read(next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))).decode()


def source_files() -> list[Path]:
    """What zdrender's wheel is built from."""
    sources = sorted(p for p in (ROOT / "src").rglob("*") if p.is_file() and "__pycache__" not in p.parts and ".egg-info" not in str(p))
    return sources + [ROOT / n for n in ("pyproject.toml", "README.md", "LICENSE", "MANIFEST.in")]


def zdrender_layer(below: set[str]) -> Layer:
    key_file = cache_dir() / "layers" / "zdrender.key"
    sources = digest_of(BUILDER, *source_files())
    # The dependency wheels are part of the key; they are known only after the wheel is built, so a
    # cached layer is found through the source fingerprint first.
    if key_file.exists() and key_file.read_text().startswith(sources + " "):
        key = key_file.read_text().split()[1]
        if (cache_dir() / "layers" / f"zdrender-{key}.json").exists():
            return cached_layer("zdrender", key, None, below)
    wheel, deps = wheels()
    key = digest_of(sources, *(p.name for p in deps))

    def fill(stage: Path) -> None:
        site = stage / SITE_PACKAGES
        run(sys.executable, "-m", "pip", "--disable-pip-version-check", "-q", "install", "--no-deps", "--no-index", "--no-compile", "--target", site, wheel, *deps)
        shutil.rmtree(site / "bin", ignore_errors=True)  # scripts with this host's interpreter in their #!
        for extra in site.glob("*.dist-info/direct_url.json"):  # names a temporary folder
            extra.unlink()
        for record in site.glob("*.dist-info/RECORD"):  # lists the two removed above
            record.write_text("".join(line for line in record.read_text().splitlines(keepends=True) if not line.startswith(("../", "bin/")) and "direct_url.json" not in line))
        dist_info = next(site.glob("zdrender-*.dist-info"))
        bin_dir = stage / "usr" / "local" / "bin"
        bin_dir.mkdir(parents=True)
        for name, target in _console_scripts(dist_info / "entry_points.txt"):
            module, func = target.split(":")
            script = bin_dir / name
            script.write_text(f"#!/usr/bin/{PYTHON}\nimport sys\nfrom {module} import {func}\nif __name__ == '__main__':\n    sys.exit({func}())\n")
            script.chmod(0o755)
        compile_bytecode(stage, SITE_PACKAGES)

    layer = cached_layer("zdrender", key, fill, below)
    key_file.write_text(f"{sources} {key}")
    shutil.rmtree(wheel.parent, ignore_errors=True)
    return layer


def _console_scripts(entry_points: Path) -> list[tuple[str, str]]:
    section, scripts = "", []
    for line in entry_points.read_text().splitlines():
        line = line.strip()
        if line.startswith("["):
            section = line
        elif section == "[console_scripts]" and "=" in line:
            name, target = (part.strip() for part in line.split("=", 1))
            scripts.append((name, target))
    return scripts


def go_tools() -> dict[str, Path]:
    """helm and kustomize from .tools/bin, at the pinned versions."""
    bin_dir = ROOT / ".tools" / "bin"
    tools = {"helm": bin_dir / "helm3", "kustomize": bin_dir / "kustomize"}
    pins = tool_pins()
    for name, path in tools.items():
        if not path.exists():
            raise BuildError(f"{path} is missing: run scripts/install-test-tools.sh")
        got = run(path, "version", "--template", "{{.Version}}") if name == "helm" else run(path, "version")
        if got.strip() != pins[name]:
            raise BuildError(f"{path} is {got.strip()}, scripts/install-test-tools.sh pins {pins[name]}: run it again")
    return tools


def cmp_tools_layer(below: set[str]) -> Layer:
    tools = go_tools()
    files = debs(CMP_PACKAGES)
    home = "home/argocd"

    def fill(stage: Path) -> None:
        for deb in files:
            unpack_deb(deb, stage)
        if os.readlink(stage / "usr" / "bin" / "sh") != "dash":  # dash ships /bin/sh
            raise BuildError("the dash package no longer ships /bin/sh -> dash")
        bin_dir = stage / "usr" / "local" / "bin"
        bin_dir.mkdir(parents=True)
        for name, path in tools.items():
            shutil.copyfile(path, bin_dir / name)
            (bin_dir / name).chmod(0o755)
        (stage / "etc").mkdir(exist_ok=True)
        (stage / "etc" / "passwd").write_text(PASSWD + f"argocd:x:{ARGOCD_UID}:{ARGOCD_UID}::/{home}:/bin/sh\n")
        (stage / "etc" / "group").write_text(GROUP + f"argocd:x:{ARGOCD_UID}:\n")
        (stage / home).mkdir(parents=True, mode=0o755)

    return cached_layer("cmp-tools", digest_of(BUILDER, *files, *tools.values()), fill, below, owners={home: ARGOCD_UID})


# -- images ----------------------------------------------------------------------------------------------
def layers_for(image: Image) -> list[Layer]:
    built: list[Layer] = []
    for name in image.layers:
        below = {lib for layer in built for lib in layer.libraries}
        if name == "runtime":
            built.append(runtime_layer())
        elif name == "zdrender":
            built.append(zdrender_layer(below))
        elif name == "cmp-tools":
            built.append(cmp_tools_layer(below))
    return built


def image_config(image: Image, layers: list[Layer]) -> dict:
    created = datetime.fromtimestamp(EPOCH, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    config: dict = {"Env": [f"{k}={v}" for k, v in ({**BASE_ENV, **image.env} if image.product else image.env).items()], "WorkingDir": image.workdir}
    config |= {"Entrypoint": list(image.entrypoint)} if image.entrypoint else {}
    config |= {"Cmd": list(image.cmd)} if image.cmd else {}
    config |= {"User": image.user} if image.user else {}
    if image.product:
        config["Labels"] = {"org.opencontainers.image.source": "https://github.com/zdrender/zdrender", "org.opencontainers.image.version": version()}
    return {
        "architecture": ARCH,
        "os": "linux",
        "created": created,
        "config": config,
        "rootfs": {"type": "layers", "diff_ids": [layer.diff_id for layer in layers]},
        "history": [{"created": created, "created_by": f"images/build.py: {layer.name} layer"} for layer in layers],
    }


def write_archive(image: Image, layers: list[Layer], dest: Path) -> dict:
    """The OCI layout + docker-archive tar; returns the manifest's descriptor."""
    config = json.dumps(image_config(image, layers), sort_keys=True, separators=(",", ":")).encode()
    config_digest = "sha256:" + hashlib.sha256(config).hexdigest()
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": len(config)},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": layer.digest, "size": layer.size} for layer in layers],
        },
        sort_keys=True,
        separators=(",", ":"),
    ).encode()
    descriptor: dict[str, Any] = {
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": "sha256:" + hashlib.sha256(manifest).hexdigest(),
        "size": len(manifest),
        "annotations": {"io.containerd.image.name": image.ref, "org.opencontainers.image.ref.name": image.ref.rsplit(":", 1)[1]},
    }
    index = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [descriptor]}, sort_keys=True, indent=1).encode()
    blob = "blobs/sha256/"
    docker = json.dumps([{"Config": blob + config_digest[7:], "RepoTags": [image.ref], "Layers": [blob + layer.digest[7:] for layer in layers]}]).encode()
    members: list[tuple[str, bytes | Path]] = [
        ("blobs", b""),
        ("blobs/sha256", b""),
        *sorted((blob + layer.digest[7:], layer.blob) for layer in layers),
        (blob + config_digest[7:], config),
        (blob + descriptor["digest"][7:], manifest),
        ("index.json", index),
        ("manifest.json", docker),
        ("oci-layout", b'{"imageLayoutVersion":"1.0.0"}'),
    ]
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_suffix(".partial")
    with tarfile.open(partial, "w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.mtime = EPOCH
            if name in ("blobs", "blobs/sha256"):
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tar.addfile(info)
                continue
            content = data.read_bytes() if isinstance(data, Path) else data
            info.size, info.mode = len(content), 0o644
            tar.addfile(info, io.BytesIO(content))
    partial.replace(dest)
    return descriptor


@dataclass(frozen=True)
class Built:
    image: Image
    archive: Path
    digest: str  # the manifest's
    size: int  # the archive's bytes (gzipped layers)
    unpacked: int  # the layers' uncompressed bytes
    seconds: float


def build(name: str, out: Path | None = None) -> Built:
    start = time.monotonic()
    image = IMAGES[name]
    layers = layers_for(image)
    archive = (out or cache_dir() / "out") / image.file_name
    descriptor = write_archive(image, layers, archive)
    return Built(image, archive, descriptor["digest"], archive.stat().st_size, sum(layer.unpacked for layer in layers), time.monotonic() - start)
