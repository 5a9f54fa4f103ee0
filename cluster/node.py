"""A single-node Kubernetes on this machine, for proving the rules against real rollouts.

`up` brings a node up step by step and `down` takes it away again; both are idempotent and name each
step as they go. Everything the node needs that outlives it (Debian packages, the Kubernetes binaries
built with `go build`, the test app images) is cached outside the clone, so a second `up` on the same
machine takes seconds. Everything it starts lives under one state folder with a pid file per process;
`down` stops those processes by pid, removes the pods' containers, mounts, network devices and
iptables rules, restores the sysctls it changed, and deletes the state folder.

Nothing is written under /etc: containerd runs with its own config, root, state and socket, and the
CNI configuration sits in the state folder, so a containerd that the machine already runs (or does not)
is left alone.
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

KUBERNETES_VERSION = "1.34.4"
# containerd from the Go module proxy, not Debian's 1.6: Kubernetes 1.34 supports containerd 1.7+, and
# lifecycle.stopSignal reaches the container only through runtimes that pass it on (containerd 2.3+: 2.2.9
# still sent the image's signal, as Debian 12's 1.6.20 does: measured, the stop-signal scenario failed alike).
CONTAINERD_VERSION = "2.3.7"
CONTAINERD_COMMANDS = ("containerd", "containerd-shim-runc-v2", "ctr")
# kubectl too: the one on PATH may be older than the node (the version skew policy allows one minor).
COMPONENTS = ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubelet", "kube-proxy", "kubectl")
# The order matters for `down`: dependants first.
PROCESSES = ("kube-proxy", "kubelet", "kube-scheduler", "kube-controller-manager", "kube-apiserver", "etcd", "containerd")
DEBIAN_PACKAGES = {
    # binary or file that proves the package is there -> Debian package
    "runc": "runc",
    "/usr/lib/cni/bridge": "containernetworking-plugins",
    "iptables": "iptables",
    "conntrack": "conntrack",
    "etcd": "etcd-server",
    "openssl": "openssl",
    "/bin/busybox": "busybox-static",  # the shell inside the shell-entrypoint test image
    "socat": "socat",  # kubelet's port-forward; also what `kubectl port-forward` needs
    "ip": "iproute2",
}
# Feature gates the scenarios need: lifecycle.stopSignal is alpha in 1.33 and 1.34 (off by default).
FEATURE_GATES = "ContainerStopSignals=true"
SERVICE_CIDR = "10.96.0.0/16"
POD_CIDR = "10.244.0.0/24"
SYSCTLS = {"net.ipv4.ip_forward": "1", "net.bridge.bridge-nf-call-iptables": "1"}
# Paths the components write whatever they are told: the kubelet's /var/log/containers links and
# device-plugins folder, libcni's result cache, the shims' socket folder. `down` removes those that
# `up` created (and, in /var/log/containers, only the links into the node's state).
HOST_PATHS = ("/var/log/containers", "/var/lib/kubelet", "/var/lib/cni", "/run/containerd")


def cache_root() -> Path:
    """Caches that outlive the clone (a fresh clone on the same machine reuses them)."""
    base = os.environ.get("ZDRENDER_CACHE") or os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "zdrender")
    return Path(base)


@dataclass(frozen=True)
class Paths:
    state: Path  # everything the running node writes; deleted by `down`
    cache: Path

    @property
    def kube_bin(self) -> Path:
        return self.cache / f"kubernetes-v{KUBERNETES_VERSION}" / "bin"

    @property
    def containerd_bin(self) -> Path:
        return self.cache / f"containerd-v{CONTAINERD_VERSION}" / "bin"

    @property
    def kubeconfig(self) -> Path:
        return self.state / "admin.kubeconfig"

    @property
    def pids(self) -> Path:
        return self.state / "pids"

    @property
    def logs(self) -> Path:
        return self.state / "logs"

    @property
    def containerd_socket(self) -> Path:
        return self.state / "run" / "containerd.sock"

    @property
    def pki(self) -> Path:
        return self.state / "pki"


def default_paths() -> Paths:
    return Paths(state=Path(os.environ.get("ZDRENDER_NODE_STATE", "/var/lib/zdrender-node")), cache=cache_root())


class NodeError(RuntimeError):
    """A step that could not be done; the message says which and what to look at."""


class Steps:
    """Prints each step as `[node] name ... done (1.2s)` so a slow or failing step is obvious."""

    def __init__(self, quiet: bool = False) -> None:
        self.quiet = quiet

    def run(self, name: str, fn, *args, **kwargs):  # type: ignore[no-untyped-def]
        start = time.monotonic()
        if not self.quiet:
            print(f"[node] {name} ...", end="", flush=True, file=sys.stderr)
        try:
            result = fn(*args, **kwargs)
        except BaseException:
            if not self.quiet:
                print(" FAILED", file=sys.stderr, flush=True)
            raise
        if not self.quiet:
            note = f" {result}" if isinstance(result, str) and result else ""
            print(f" done{note} ({time.monotonic() - start:.1f}s)", file=sys.stderr, flush=True)
        return result


def sh(*argv: str | os.PathLike[str], check: bool = True, env: dict[str, str] | None = None, cwd: Path | None = None, timeout: float | None = None) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([str(a) for a in argv], capture_output=True, text=True, env=env, cwd=cwd, timeout=timeout, check=False)
    if check and proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
        raise NodeError(f"`{' '.join(str(a) for a in argv)}` exited {proc.returncode}: {' | '.join(tail)}")
    return proc


def node_ip() -> str:
    """The address of the default route's interface (the node's InternalIP)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("192.0.2.123", 9))  # no packet is sent: a UDP connect only picks the route
            return str(s.getsockname()[0])
        except OSError:
            return "127.0.0.1"


# -- packages and binaries -------------------------------------------------------------------------
def ensure_packages() -> str:
    missing = sorted({pkg for probe, pkg in DEBIAN_PACKAGES.items() if not (Path(probe).exists() if probe.startswith("/") else shutil.which(probe))})
    if not missing:
        return "all present"
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    sh("apt-get", "update", "-qq", env=env, timeout=600)
    sh("apt-get", "install", "-y", "-qq", *missing, env=env, timeout=1200)
    return "installed " + " ".join(missing)


def _ldflags() -> str:
    major, minor, _ = KUBERNETES_VERSION.split(".")
    flags = ["-s", "-w"]
    for pkg in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version"):
        flags += [f"-X {pkg}.gitVersion=v{KUBERNETES_VERSION}", f"-X {pkg}.gitMajor={major}", f"-X {pkg}.gitMinor={minor}", f"-X {pkg}.gitTreeState=clean"]
    return " ".join(flags)


def _built(bin_dir: Path, commands: tuple[str, ...], spec: dict[str, str]) -> bool:
    """Were `commands` built into `bin_dir` as `spec` says (its stamp.json, written after a build)?"""
    stamp = bin_dir.parent / "stamp.json"
    return stamp.exists() and json.loads(stamp.read_text()) == spec and all((bin_dir / c).exists() for c in commands)


def _go_spec(**pins: str) -> dict[str, str]:
    """What a Go build depends on besides its sources: the pins and the Go version."""
    return {**pins, "go": sh("go", "env", "GOVERSION").stdout.strip()}


def ensure_kubernetes(paths: Paths) -> str:
    """kube-apiserver & co. built from k8s.io/kubernetes at a pinned version through the Go module proxy.

    k8s.io/kubernetes cannot be `go install`ed (its go.mod replaces the staging modules with local
    folders), so a wrapper module copies its go.mod, points every staging module at its published
    v0.x.y twin and builds the commands from there. The binaries are stamped so `kubectl version`
    shows the real version, and a stamp file records how they were built.
    """
    workdir = paths.kube_bin.parent
    spec = _go_spec(version=KUBERNETES_VERSION, ldflags=_ldflags())
    if _built(paths.kube_bin, COMPONENTS, spec):
        return f"v{KUBERNETES_VERSION} cached in {workdir}"
    workdir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, GOTOOLCHAIN="local", CGO_ENABLED="0", GOFLAGS="-mod=mod")
    info = json.loads(sh("go", "mod", "download", "-json", f"k8s.io/kubernetes@v{KUBERNETES_VERSION}", env=env, cwd=workdir, timeout=1800).stdout)
    gomod = []
    staging_version = "v0." + KUBERNETES_VERSION.split(".", 1)[1]
    for line in Path(info["GoMod"]).read_text().splitlines():
        if line.startswith("module k8s.io/kubernetes"):
            line = "module zdrender.test/k8snode"
        elif "=> ./staging/src/" in line:
            name = line.split("=>")[0].strip()
            line = f"\t{name} => {name} {staging_version}"
        gomod.append(line)
        if line.strip() == "require (" and not any("k8s.io/kubernetes v" in g for g in gomod):
            gomod.append(f"\tk8s.io/kubernetes v{KUBERNETES_VERSION}")
    (workdir / "go.mod").write_text("\n".join(gomod) + "\n")
    (workdir / "main.go").write_text("// Package main only anchors the wrapper module; the commands come from k8s.io/kubernetes.\npackage main\n\nfunc main() {}\n")
    sh("go", "mod", "download", env=env, cwd=workdir, timeout=1800)
    paths.kube_bin.mkdir(parents=True, exist_ok=True)
    for component in COMPONENTS:
        start = time.monotonic()
        out = paths.kube_bin / f"{component}.partial"
        sh("go", "build", "-trimpath", "-ldflags", _ldflags(), "-o", out, f"k8s.io/kubernetes/cmd/{component}", env=env, cwd=workdir, timeout=3600)
        out.rename(paths.kube_bin / component)
        print(f" {component} {time.monotonic() - start:.0f}s", end="", file=sys.stderr, flush=True)
    (workdir / "stamp.json").write_text(json.dumps(spec))
    return f"v{KUBERNETES_VERSION} built into {paths.kube_bin}"


def ensure_containerd(paths: Paths) -> str:
    """containerd, its runc shim and ctr, `go install`ed at a pinned version (no cgo: no btrfs/devmapper/zfs snapshotters)."""
    bin_dir = paths.containerd_bin
    spec = _go_spec(version=CONTAINERD_VERSION)
    if _built(bin_dir, CONTAINERD_COMMANDS, spec):
        return f"v{CONTAINERD_VERSION} cached in {bin_dir}"
    bin_dir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, GOTOOLCHAIN="local", CGO_ENABLED="0", GOBIN=str(bin_dir))
    ldflags = f"-s -w -X github.com/containerd/containerd/v2/version.Version=v{CONTAINERD_VERSION}"
    packages = [f"github.com/containerd/containerd/v2/cmd/{c}@v{CONTAINERD_VERSION}" for c in CONTAINERD_COMMANDS]
    sh("go", "install", "-trimpath", "-tags", "no_btrfs no_devmapper no_zfs", "-ldflags", ldflags, *packages, env=env, cwd=bin_dir, timeout=3600)
    (bin_dir.parent / "stamp.json").write_text(json.dumps(spec))
    return f"v{CONTAINERD_VERSION} built into {bin_dir}"


# -- configuration -----------------------------------------------------------------------------------
def write_containerd_config(paths: Paths) -> None:
    """Only what differs from containerd's defaults, and no `imports` of /etc/containerd/conf.d."""
    (paths.state / "containerd.toml").write_text(
        f"""version = 3
root = '{paths.state}/containerd'
state = '{paths.state}/run/containerd-state'
imports = []

[grpc]
  address = '{paths.containerd_socket}'

[plugins.'io.containerd.cri.v1.images'.pinned_images]
  sandbox = 'localhost/zdrender-test/pause:1'

[plugins.'io.containerd.cri.v1.runtime']
  # This machine's root lacks CAP_SYS_RESOURCE: lowering the pause container's oom_score_adj
  # (-998) makes runc fail every sandbox ("can't get final child's PID from pipe: EOF").
  restrict_oom_score_adj = true

[plugins.'io.containerd.cri.v1.runtime'.cni]
  bin_dirs = ['/usr/lib/cni']  # Debian's containernetworking-plugins
  conf_dir = '{paths.state}/cni'
"""
    )
    (paths.state / "cni").mkdir(parents=True, exist_ok=True)
    (paths.state / "cni" / "10-zdrender-bridge.conflist").write_text(
        json.dumps(
            {
                "cniVersion": "1.0.0",
                "name": "zdrender",
                "plugins": [
                    {
                        "type": "bridge",
                        "bridge": "zdr0",
                        "isGateway": True,
                        "ipMasq": True,
                        "hairpinMode": True,
                        "ipam": {"type": "host-local", "ranges": [[{"subnet": POD_CIDR}]], "routes": [{"dst": "0.0.0.0/0"}], "dataDir": f"{paths.state}/cni-ipam"},
                    },
                    {"type": "portmap", "capabilities": {"portMappings": True}},
                ],
            },
            indent=2,
        )
    )


def write_pki(paths: Paths, ip: str, hostname: str) -> None:
    """A CA, the serving and client certificates of every component, and one kubeconfig per identity (openssl only)."""
    pki = paths.pki
    pki.mkdir(parents=True, exist_ok=True)
    sh("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", pki / "ca.key", "-out", pki / "ca.crt", "-days", "30", "-subj", "/CN=zdrender-test-ca")
    sh("openssl", "genrsa", "-out", pki / "sa.key", "2048")
    sh("openssl", "rsa", "-in", pki / "sa.key", "-pubout", "-out", pki / "sa.pub")
    sans = f"IP:127.0.0.1,IP:10.96.0.1,IP:{ip},DNS:localhost,DNS:{hostname},DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
    identities = {
        # file: (common name, organisation, subjectAltNames for serving certificates)
        "apiserver": ("kube-apiserver", "", sans),
        "kubelet-serving": (hostname, "", f"IP:127.0.0.1,IP:{ip},DNS:{hostname}"),
        "apiserver-kubelet-client": ("kube-apiserver-kubelet-client", "system:masters", ""),
        "admin": ("zdrender-admin", "system:masters", ""),
        "controller-manager": ("system:kube-controller-manager", "", ""),
        "scheduler": ("system:kube-scheduler", "", ""),
        "kubelet": (f"system:node:{hostname}", "system:nodes", ""),
        "kube-proxy": ("system:kube-proxy", "", ""),
    }
    for name, (cn, org, san) in identities.items():
        subject = f"/CN={cn}" + (f"/O={org}" if org else "")
        sh("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", pki / f"{name}.key", "-out", pki / f"{name}.csr", "-subj", subject)
        ext = pki / f"{name}.ext"
        ext.write_text(f"subjectAltName={san}\nextendedKeyUsage=serverAuth,clientAuth\n" if san else "extendedKeyUsage=clientAuth\n")
        sh("openssl", "x509", "-req", "-in", pki / f"{name}.csr", "-CA", pki / "ca.crt", "-CAkey", pki / "ca.key", "-CAcreateserial", "-out", pki / f"{name}.crt", "-days", "30", "-extfile", ext)
    for name in ("admin", "controller-manager", "scheduler", "kubelet", "kube-proxy"):
        (paths.state / f"{name}.kubeconfig").write_text(
            "apiVersion: v1\nkind: Config\n"
            f'clusters: [{{name: zdrender, cluster: {{server: "https://127.0.0.1:6443", certificate-authority: "{pki}/ca.crt"}}}}]\n'
            f'users: [{{name: {name}, user: {{client-certificate: "{pki}/{name}.crt", client-key: "{pki}/{name}.key"}}}}]\n'
            "contexts: [{name: zdrender, context: {cluster: zdrender, user: " + name + "}}]\ncurrent-context: zdrender\n"
        )


def write_component_configs(paths: Paths) -> None:
    gates = {k: v == "true" for k, v in (g.split("=") for g in FEATURE_GATES.split(","))}
    (paths.state / "kubelet.yaml").write_text(
        json.dumps(
            {
                "apiVersion": "kubelet.config.k8s.io/v1beta1",
                "kind": "KubeletConfiguration",
                "authentication": {"anonymous": {"enabled": False}, "webhook": {"enabled": True}, "x509": {"clientCAFile": f"{paths.pki}/ca.crt"}},
                "authorization": {"mode": "Webhook"},
                "tlsCertFile": f"{paths.pki}/kubelet-serving.crt",
                "tlsPrivateKeyFile": f"{paths.pki}/kubelet-serving.key",
                "cgroupDriver": "cgroupfs",  # no systemd on this machine
                "failCgroupV1": False,
                "failSwapOn": False,
                "containerRuntimeEndpoint": f"unix://{paths.containerd_socket}",
                "podLogsDir": f"{paths.state}/pod-logs",
                "resolvConf": "/etc/resolv.conf",
                "imageGCHighThresholdPercent": 100,
                "evictionHard": {"nodefs.available": "1%", "imagefs.available": "1%", "memory.available": "100Mi"},
                "featureGates": gates,
                "serializeImagePulls": False,
                "maxPods": 60,
            },
            indent=2,
        )
    )
    (paths.state / "kube-proxy.yaml").write_text(
        json.dumps(
            {
                "apiVersion": "kubeproxy.config.k8s.io/v1alpha1",
                "kind": "KubeProxyConfiguration",
                "clientConnection": {"kubeconfig": str(paths.state / "kube-proxy.kubeconfig")},
                "mode": "iptables",
                "clusterCIDR": POD_CIDR,
                "conntrack": {"maxPerCore": 0},  # leave the machine's nf_conntrack_max alone
                "iptables": {"syncPeriod": "30s", "minSyncPeriod": "0s"},
            },
            indent=2,
        )
    )


# -- processes -----------------------------------------------------------------------------------------
def _pid_file(paths: Paths, name: str) -> Path:
    return paths.pids / f"{name}.pid"


def running_pid(paths: Paths, name: str) -> int | None:
    """The pid recorded for `name`, when that process is still alive and still is what we started."""
    try:
        pid = int(_pid_file(paths, name).read_text())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError):
        return None
    binary = {"etcd": "etcd", "containerd": str(paths.containerd_bin / "containerd")}.get(name, str(paths.kube_bin / name))
    return pid if cmdline.split(b"\0", 1)[0].endswith(binary.encode()) else None


def start(paths: Paths, name: str, argv: list[str]) -> str:
    if (pid := running_pid(paths, name)) is not None:
        return f"already running (pid {pid})"
    paths.pids.mkdir(parents=True, exist_ok=True)
    paths.logs.mkdir(parents=True, exist_ok=True)
    # containerd finds its shim on PATH.
    env = dict(os.environ, PATH=f"{paths.containerd_bin}:{os.environ.get('PATH', '')}")
    with open(paths.logs / f"{name}.log", "ab") as log:
        proc = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    _pid_file(paths, name).write_text(str(proc.pid))
    return f"pid {proc.pid}"


def wait_for(what: str, check, timeout: float, paths: Paths, logs: tuple[str, ...] = ()) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        for name in logs:
            if running_pid(paths, name) is None:
                raise NodeError(f"{name} exited while waiting for {what}; see {paths.logs / (name + '.log')}")
        time.sleep(0.25)
    hint = f"; see {', '.join(str(paths.logs / (n + '.log')) for n in logs)}" if logs else ""
    raise NodeError(f"timed out after {timeout:.0f}s waiting for {what}{hint}")


def kubectl(paths: Paths, *args: str, check: bool = True, timeout: float = 120, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([str(paths.kube_bin / "kubectl"), f"--kubeconfig={paths.kubeconfig}", *args], input=stdin, capture_output=True, text=True, timeout=timeout, check=False)
    if check and proc.returncode != 0:
        raise NodeError(f"kubectl {' '.join(args)}: {proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else proc.returncode}")
    return proc


def ctr(paths: Paths, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return sh(paths.containerd_bin / "ctr", "--address", paths.containerd_socket, "-n", "k8s.io", *args, check=check, timeout=120)


# -- up / down ---------------------------------------------------------------------------------------------
def up(paths: Paths | None = None, quiet: bool = False) -> Paths:
    """Bring the node up (each step skipped when already done) and return where its kubeconfig lives."""
    from . import images

    paths = paths or default_paths()
    steps = Steps(quiet)
    if os.geteuid() != 0:
        raise NodeError("the node needs root (containerd, iptables, mounts): run as root")
    steps.run("Debian packages", ensure_packages)
    steps.run(f"containerd v{CONTAINERD_VERSION}", ensure_containerd, paths)
    steps.run(f"Kubernetes v{KUBERNETES_VERSION} binaries", ensure_kubernetes, paths)
    steps.run("test app images", images.ensure_images, paths)
    paths.state.mkdir(parents=True, exist_ok=True)
    ip, hostname = node_ip(), socket.gethostname().lower()
    if not (paths.state / "node.json").exists():
        steps.run("host paths that exist before", record_host_paths, paths)
        steps.run("sysctls", set_sysctls, paths)
        steps.run("containerd and CNI config", write_containerd_config, paths)
        steps.run("certificates (openssl)", write_pki, paths, ip, hostname)
        steps.run("component configs", write_component_configs, paths)
        (paths.state / "node.json").write_text(json.dumps({"ip": ip, "hostname": hostname}))
    steps.run("containerd", start, paths, "containerd", [str(paths.containerd_bin / "containerd"), "--config", str(paths.state / "containerd.toml")])
    steps.run("etcd", start, paths, "etcd", [
        "etcd", "--data-dir", str(paths.state / "etcd"), "--listen-client-urls", "http://127.0.0.1:2379", "--advertise-client-urls", "http://127.0.0.1:2379",
        "--listen-peer-urls", "http://127.0.0.1:2380", "--initial-advertise-peer-urls", "http://127.0.0.1:2380", "--initial-cluster", "default=http://127.0.0.1:2380",
    ])  # fmt: skip
    pki, b = paths.pki, paths.kube_bin
    steps.run("kube-apiserver", start, paths, "kube-apiserver", [
        str(b / "kube-apiserver"), "--etcd-servers=http://127.0.0.1:2379", "--secure-port=6443", f"--advertise-address={ip}",
        f"--service-cluster-ip-range={SERVICE_CIDR}", f"--client-ca-file={pki}/ca.crt", f"--tls-cert-file={pki}/apiserver.crt", f"--tls-private-key-file={pki}/apiserver.key",
        f"--kubelet-client-certificate={pki}/apiserver-kubelet-client.crt", f"--kubelet-client-key={pki}/apiserver-kubelet-client.key",
        "--service-account-issuer=https://kubernetes.default.svc.cluster.local", f"--service-account-key-file={pki}/sa.pub", f"--service-account-signing-key-file={pki}/sa.key",
        "--authorization-mode=Node,RBAC", "--enable-admission-plugins=NodeRestriction", "--allow-privileged=true", f"--feature-gates={FEATURE_GATES}",
    ])  # fmt: skip
    steps.run(
        "API server ready", wait_for, "the API server's /readyz", lambda: kubectl(paths, "get", "--raw", "/readyz", check=False, timeout=10).returncode == 0, 90, paths, ("kube-apiserver", "etcd")
    )
    kc = paths.state
    steps.run("kube-controller-manager", start, paths, "kube-controller-manager", [
        str(b / "kube-controller-manager"), f"--kubeconfig={kc}/controller-manager.kubeconfig", f"--authentication-kubeconfig={kc}/controller-manager.kubeconfig",
        f"--authorization-kubeconfig={kc}/controller-manager.kubeconfig", f"--service-account-private-key-file={pki}/sa.key", f"--root-ca-file={pki}/ca.crt",
        "--use-service-account-credentials=true", f"--cluster-signing-cert-file={pki}/ca.crt", f"--cluster-signing-key-file={pki}/ca.key", "--leader-elect=false",
        f"--feature-gates={FEATURE_GATES}",
    ])  # fmt: skip
    steps.run("kube-scheduler", start, paths, "kube-scheduler", [
        str(b / "kube-scheduler"), f"--kubeconfig={kc}/scheduler.kubeconfig", f"--authentication-kubeconfig={kc}/scheduler.kubeconfig",
        f"--authorization-kubeconfig={kc}/scheduler.kubeconfig", "--leader-elect=false", f"--feature-gates={FEATURE_GATES}",
    ])  # fmt: skip
    steps.run("containerd ready", wait_for, "containerd's socket", paths.containerd_socket.exists, 30, paths, ("containerd",))
    steps.run("test images imported", images.import_images, paths)
    steps.run("kubelet", start, paths, "kubelet", [
        str(b / "kubelet"), f"--config={kc}/kubelet.yaml", f"--kubeconfig={kc}/kubelet.kubeconfig", f"--node-ip={ip}", f"--hostname-override={hostname}",
        f"--root-dir={paths.state}/kubelet",
    ])  # fmt: skip
    steps.run("kube-proxy", start, paths, "kube-proxy", [str(b / "kube-proxy"), f"--config={kc}/kube-proxy.yaml", f"--hostname-override={hostname}"])
    ready = "jsonpath={.status.conditions[?(@.type=='Ready')].status}"
    steps.run("node Ready", wait_for, f"node {hostname} to be Ready", lambda: kubectl(paths, "get", "node", hostname, "-o", ready, check=False, timeout=10).stdout == "True", 120, paths, ("kubelet",))
    steps.run(
        "default ServiceAccount",
        wait_for,
        "the default ServiceAccount",
        lambda: kubectl(paths, "get", "sa", "default", check=False, timeout=10).returncode == 0,
        90,
        paths,
        ("kube-controller-manager",),
    )
    return paths


def is_up(paths: Paths | None = None) -> bool:
    paths = paths or default_paths()
    return all(running_pid(paths, n) is not None for n in PROCESSES) and kubectl(paths, "get", "--raw", "/readyz", check=False, timeout=10).returncode == 0


def set_sysctls(paths: Paths) -> str:
    if not Path("/proc/sys/net/bridge").exists():
        sh("modprobe", "br_netfilter", check=False)
    saved_file = paths.state / "sysctls.json"
    if saved_file.exists():  # an earlier `up` that did not finish already changed them: keep the originals
        return "already set"
    saved = {}
    for key, value in SYSCTLS.items():
        proc = sh("sysctl", "-n", key, check=False)
        if proc.returncode == 0:
            saved[key] = proc.stdout.strip()
            sh("sysctl", "-qw", f"{key}={value}")
    saved_file.write_text(json.dumps(saved))
    return ", ".join(f"{k}={v}" for k, v in SYSCTLS.items())


def stop(paths: Paths, name: str) -> str:
    pid = running_pid(paths, name)
    if pid is None:
        _pid_file(paths, name).unlink(missing_ok=True)
        return "not running"
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and running_pid(paths, name) is not None:
        time.sleep(0.2)
    if running_pid(paths, name) is not None:
        os.kill(pid, signal.SIGKILL)
        time.sleep(0.5)
    _pid_file(paths, name).unlink(missing_ok=True)
    return f"stopped pid {pid}"


def remove_pod_containers(paths: Paths) -> str:
    """Kill the pods' containers (the kubelet is gone, so nobody else will) and their shims."""
    if running_pid(paths, "containerd") is None or not paths.containerd_socket.exists():
        return "containerd not running"
    tasks = ctr(paths, "task", "ls", "-q", check=False).stdout.split()
    for task in tasks:
        ctr(paths, "task", "kill", "-s", "SIGKILL", task, check=False)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        left = [t for t in ctr(paths, "task", "ls", "-q", check=False).stdout.split() if t]
        for task in left:
            ctr(paths, "task", "delete", "-f", task, check=False)
        if not left:
            break
        time.sleep(0.5)
    containers = ctr(paths, "containers", "ls", "-q", check=False).stdout.split()
    for c in containers:
        ctr(paths, "containers", "rm", c, check=False)
    return f"{len(tasks)} tasks, {len(containers)} containers"


def unmount_all(paths: Paths) -> str:
    mounts = []
    for line in Path("/proc/mounts").read_text().splitlines():
        target = line.split()[1]
        if target.startswith((str(paths.state) + "/", "/run/netns/cni-", "/var/run/netns/cni-")):
            mounts.append(target)
    for target in sorted(mounts, reverse=True):
        sh("umount", "-l", target, check=False)
    for netns in Path("/run/netns").glob("cni-*") if Path("/run/netns").exists() else []:
        netns.unlink(missing_ok=True)
    return f"{len(mounts)} mounts"


def clean_network(paths: Paths) -> str:
    if (paths.kube_bin / "kube-proxy").exists():
        sh(paths.kube_bin / "kube-proxy", "--cleanup", check=False, timeout=60)
    sh("ip", "link", "del", "zdr0", check=False)
    # Left after kube-proxy's own cleanup: the bridge plugin's masquerade chains (CNI-<hash>), portmap's,
    # and the kubelet's canary and firewall chains (KUBE-FIREWALL, KUBE-KUBELET-CANARY). The machine ran
    # no Kubernetes before `up` (the harness refuses to share one), so every KUBE-/CNI- chain is ours.
    removed = 0
    for table in ("nat", "filter", "mangle"):
        rules = sh("iptables-save", "-t", table, check=False).stdout.splitlines()
        for rule in rules:
            ours = rule.startswith("-A ") and ("CNI-" in rule or "KUBE-" in rule or "zdrender" in rule)
            if ours and sh("iptables", "-t", table, "-D", *shlex.split(rule[3:]), check=False).returncode == 0:
                removed += 1
        for rule in rules:
            if rule.startswith((":CNI-", ":KUBE-")):
                chain = rule[1:].split()[0]
                sh("iptables", "-t", table, "-F", chain, check=False)
                sh("iptables", "-t", table, "-X", chain, check=False)
    sh("conntrack", "-F", check=False)
    return f"{removed} CNI rules removed"


def restore_sysctls(paths: Paths) -> str:
    saved_file = paths.state / "sysctls.json"
    if not saved_file.exists():
        return "nothing saved"
    saved = json.loads(saved_file.read_text())
    for key, value in saved.items():
        sh("sysctl", "-qw", f"{key}={value}", check=False)
    return ", ".join(f"{k}={v}" for k, v in saved.items())


def down(paths: Paths | None = None, quiet: bool = False) -> None:
    paths = paths or default_paths()
    steps = Steps(quiet)
    if not paths.state.exists():
        if not quiet:
            print(f"[node] nothing to do: {paths.state} does not exist", file=sys.stderr)
        return
    for name in PROCESSES[:-1]:
        steps.run(f"stop {name}", stop, paths, name)
    steps.run("remove pod containers", remove_pod_containers, paths)
    steps.run("stop containerd", stop, paths, "containerd")
    # containerd-shim processes are re-parented to init when containerd stops; end those of our containerd.
    steps.run("stop leftover shims", stop_shims, paths)
    steps.run("unmount", unmount_all, paths)
    steps.run("network and iptables", clean_network, paths)
    steps.run("restore sysctls", restore_sysctls, paths)
    steps.run("host paths the node created", remove_host_paths, paths)
    steps.run(f"remove {paths.state}", shutil.rmtree, paths.state, True)


def record_host_paths(paths: Paths) -> str:
    saved = paths.state / "host-paths.json"
    if not saved.exists():  # an earlier `up` that did not finish may have created some already
        saved.write_text(json.dumps([p for p in HOST_PATHS if os.path.lexists(p)]))
    return ", ".join(json.loads(saved.read_text())) or "none"


def remove_host_paths(paths: Paths) -> str:
    saved = paths.state / "host-paths.json"
    existed = set(json.loads(saved.read_text())) if saved.exists() else set(HOST_PATHS)
    removed = []
    for path in HOST_PATHS:
        if path not in existed:
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    links = Path("/var/log/containers")
    for link in links.iterdir() if links.is_dir() else []:
        if link.is_symlink() and os.readlink(link).startswith(str(paths.state) + "/"):
            link.unlink()
            removed.append(link.name)
    return f"{len(removed)} removed"


def stop_shims(paths: Paths) -> str:
    marker = str(paths.containerd_socket).encode()
    killed = 0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes()
        except OSError:
            continue
        if b"containerd-shim" in cmdline.split(b"\0", 1)[0] and marker in cmdline:
            os.kill(int(proc.name), signal.SIGKILL)
            killed += 1
    return f"{killed} killed"


def fingerprint(*files: Path) -> str:
    digest = hashlib.sha256()
    for f in sorted(files):
        digest.update(str(f).encode())
        digest.update(f.read_bytes())
    return digest.hexdigest()[:16]
