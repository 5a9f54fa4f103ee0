"""Scenario 8, server-side validation: every corpus release, rendered through zdrender, is accepted by the
real API server.

zdrender's other tests check its patches against JSON schemas; a schema is not the API server. The server
also rejects unknown and duplicate fields (kubectl asks for strict field validation), runs the validation
written in Go (a preStop sleep longer than the grace period, a probe port no container names, a
PodDisruptionBudget with both minAvailable and maxUnavailable) and admission. A patch that only the
server rejects would otherwise first fail at the user's `helm install`. So every object zdrender writes
is sent to the node with `kubectl apply --server-side --dry-run=server`: validated and admitted in full,
stored nowhere.

Per release (one corpus file):
  - its CustomResourceDefinitions are applied for real and waited for (a custom object can only be
    validated against a CRD the server knows), and deleted after the release so that the next release
    sees the built-in API and its own CRDs only;
  - the namespaces its objects go to are created for real (admission refuses objects in a namespace
    that does not exist): one of its own for objects that name none, and any the objects name;
  - bare Pods need their ServiceAccount to exist (the ServiceAccount admission plugin looks it up), so
    those are waited for or applied for real too;
  - everything else is sent as one dry-run batch per namespace; an object the batch did not accept is
    sent again alone, so that each error names its release, object and the server's message;
  - an object whose apiVersion and kind neither the built-in API nor the release's CRDs serve (say a
    cert-manager Certificate in a chart that expects cert-manager installed) is skipped and counted;
  - an object rejected after zdrender is sent again as the chart rendered it: rejected both ways is the
    chart's (or the corpus') problem, kept apart in `rejected_unpatched`; rejected only after zdrender
    is zdrender's, in `errors`.
Namespaces are deleted at the end of the run, not per release: releases of one chart share a namespace,
and a namespace being deleted accepts nothing until it is gone.

    python -m cluster.validate [FILE.yaml ...]     (default: the corpus; the node must be up)
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import yaml

from .node import NodeError, Paths, default_paths, kubectl
from .scenarios import KUBE_VERSION, ROOT, zdrender_binary

CORPUS = ROOT.parent / "shared" / "corpus"
NAMESPACE_PREFIX = "zd-validate-"
DRY_RUN = ("apply", "--server-side", "--dry-run=server", "--force-conflicts", "-o", "name", "-f", "-")
REAL_APPLY = ("apply", "--server-side", "--force-conflicts", "-o", "name", "-f", "-")
# kubectl splits a stream on a line that starts with `---` followed by nothing but blanks or a comment.
DOCUMENT_SEPARATOR = re.compile(r"^---[ \t]*(?:#.*)?$", re.MULTILINE)
# Right after a CRD is Established, kubectl's cached discovery or the server's handler may not know the
# new kind for a moment: such a refusal is retried, never counted.
TRANSIENT = ("no matches for kind", "the server could not find the requested resource")
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: the corpus holds 7 MB of YAML


@dataclass
class ReleaseResult:
    file: str
    rendered: bool = False  # zdrender exited 0
    sent: int = 0  # objects sent to the API server (CRDs included)
    accepted: int = 0
    skipped_kinds: Counter[str] = field(default_factory=Counter)  # "apiVersion Kind" -> objects not sent
    errors: list[str] = field(default_factory=list)  # zdrender's problems: rejected only after zdrender, or not rendered
    rejected_unpatched: list[str] = field(default_factory=list)  # the chart's: rejected without zdrender too
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def skipped(self) -> int:
        return sum(self.skipped_kinds.values())


@dataclass
class Obj:
    """One object of a stream, with the text it was written as (that text is what gets sent)."""

    body: dict[str, Any]
    text: str

    @property
    def api_version(self) -> str:
        return str(self.body.get("apiVersion", ""))

    @property
    def kind(self) -> str:
        return str(self.body.get("kind", ""))

    @property
    def name(self) -> str:
        return str((self.body.get("metadata") or {}).get("name", ""))

    @property
    def namespace(self) -> str | None:
        return (self.body.get("metadata") or {}).get("namespace")

    @property
    def type_key(self) -> str:
        return f"{self.api_version} {self.kind}"

    @property
    def key(self) -> tuple[str, str, str | None, str]:
        return (self.api_version, self.kind, self.namespace, self.name)

    @property
    def printed_name(self) -> str:
        """What `kubectl -o name` prints for it: lower-case kind.group/name."""
        group = self.api_version.rpartition("/")[0]
        return f"{self.kind.lower()}{'.' + group if group else ''}/{self.name}"

    def ref(self, release: str) -> str:
        where = f"{self.namespace}/" if self.namespace else ""
        return f"{release}: {self.kind} {where}{self.name}"


def split_objects(text: str) -> list[Obj]:
    """The stream's objects in order: empty documents dropped, `kind: List` expanded into its items.

    Each object keeps the text zdrender (or Helm) wrote for it, so the server judges those bytes and not
    PyYAML's re-serialization of them (YAML 1.1 scalars such as `y` or `0755` would not round-trip).
    """
    objects: list[Obj] = []
    for chunk in DOCUMENT_SEPARATOR.split(text):
        body = yaml.load(chunk, Loader=SAFE_LOADER)
        if body is None:
            continue
        if not isinstance(body, dict):
            raise TypeError(f"a document is a {type(body).__name__}, not an object: {chunk[:80]!r}")
        if body.get("kind") == "List":
            # List items have no text of their own; their re-serialization is the best there is.
            objects += [Obj(item, yaml.safe_dump(item, sort_keys=False)) for item in body.get("items") or [] if item]
        else:
            objects.append(Obj(body, chunk))
    return objects


def stream(objects: Iterable[Obj]) -> str:
    return "".join(f"---\n{o.text.strip(chr(10))}\n" for o in objects)


def crd_kinds(crd: dict[str, Any]) -> set[str]:
    """The "apiVersion Kind" pairs a CRD serves."""
    spec = crd.get("spec") or {}
    kind = (spec.get("names") or {}).get("kind", "")
    return {f"{spec.get('group')}/{v['name']} {kind}" for v in spec.get("versions") or [] if v.get("served", True)}


def served_kinds(paths: Paths) -> set[str]:
    """Every "apiVersion Kind" the cluster serves, minus those of CRDs: the built-in API (and aggregated APIs).

    From discovery of every group version, since `kubectl api-resources` shows only a group's preferred
    version and an object may use another one (autoscaling/v1 and v2 are both served).
    """
    core = json.loads(kubectl(paths, "get", "--raw", "/api").stdout)["versions"]
    groups = json.loads(kubectl(paths, "get", "--raw", "/apis").stdout)["groups"]
    urls = [f"/api/{v}" for v in core] + [f"/apis/{v['groupVersion']}" for g in groups for v in g["versions"]]

    def kinds(url: str) -> set[str]:
        listing = json.loads(kubectl(paths, "get", "--raw", url).stdout)
        return {f"{listing['groupVersion']} {r['kind']}" for r in listing["resources"] if "/" not in r["name"]}

    with ThreadPoolExecutor(8) as pool:
        served = set().union(*pool.map(kinds, urls))
    crds = json.loads(kubectl(paths, "get", "crd", "-o", "json").stdout)["items"]
    return served - set().union(set(), *(crd_kinds(c) for c in crds))


def render(path: Path) -> subprocess.CompletedProcess[str]:
    with path.open() as manifest:
        return subprocess.run([zdrender_binary(), f"--kube-version={KUBE_VERSION}"], check=False, stdin=manifest, capture_output=True, text=True, timeout=300)


def message(proc: subprocess.CompletedProcess[str]) -> str:
    """kubectl's error in one line, without its advice to the user."""
    lines = [ln.strip() for ln in (proc.stderr or proc.stdout).splitlines() if ln.strip()]
    return " | ".join(ln for ln in lines if not ln.startswith("ensure CRDs")) or f"kubectl exited {proc.returncode}"


class Validator:
    """State shared by the releases of one run: what the cluster serves, and what the run created."""

    def __init__(self, paths: Paths) -> None:
        self.paths = paths
        self.builtin = served_kinds(paths)
        namespaces = json.loads(kubectl(paths, "get", "namespaces", "-o", "json").stdout)["items"]
        self.namespaces = {n["metadata"]["name"] for n in namespaces if n.get("status", {}).get("phase") != "Terminating"}
        # A namespace still being deleted (by an earlier run) is waited for before it is created again.
        self.terminating = {n["metadata"]["name"] for n in namespaces} - self.namespaces
        crds = json.loads(kubectl(paths, "get", "crd", "-o", "json").stdout)["items"]
        self.deleting_crds = {c["metadata"]["name"] for c in crds if c["metadata"].get("deletionTimestamp")}
        self.foreign_crds = {c["metadata"]["name"] for c in crds} - self.deleting_crds  # not ours: left alone
        self.created_namespaces: list[str] = []

    # -- sending ---------------------------------------------------------------------------------------------
    def apply(self, objects: Sequence[Obj], namespace: str, dry_run: bool = True) -> tuple[set[str], subprocess.CompletedProcess[str]]:
        """Apply in one kubectl call; the `-o name` lines say which objects the server accepted."""
        args = DRY_RUN if dry_run else REAL_APPLY
        proc = kubectl(self.paths, *args, "-n", namespace, check=False, timeout=300, stdin=stream(objects))
        return {line.split()[0] for line in proc.stdout.splitlines() if line.strip()}, proc

    def apply_one(self, obj: Obj, namespace: str, dry_run: bool = True) -> str | None:
        """The server's refusal of one object, or None when it accepts it."""
        for attempt in range(4):
            _, proc = self.apply([obj], namespace, dry_run)
            if proc.returncode == 0:
                return None
            error = message(proc)
            if attempt == 3 or not any(t in error for t in TRANSIENT):
                break
            time.sleep(1 + attempt)
        return error

    def send(self, release: str, objects: Sequence[Obj], namespace: str, original: dict[Any, Obj], result: ReleaseResult, dry_run: bool = True) -> set[str]:
        """Send a batch; an object it did not accept is sent alone, and if refused, alone as the chart wrote it.

        Returns the printed names of the objects the server accepted.
        """
        if not objects:
            return set()
        result.sent += len(objects)
        accepted, _ = self.apply(objects, namespace, dry_run)
        for obj in objects:
            if obj.printed_name in accepted:
                result.accepted += 1
                continue
            error = self.apply_one(obj, namespace, dry_run)
            if error is None:
                result.accepted += 1
                accepted.add(obj.printed_name)
                continue
            before = original.get(obj.key)
            if before is None:
                result.errors.append(f"{obj.ref(release)}: rejected, and the input has no such object: {error}")
            elif (before_error := self.apply_one(before, namespace, dry_run=True)) is None:
                result.errors.append(f"{obj.ref(release)}: rejected only after zdrender: {error}")
            else:
                same = "" if before_error == error else f" (without zdrender: {before_error})"
                result.rejected_unpatched.append(f"{obj.ref(release)}: {error}{same}")
        return accepted

    # -- prerequisites -------------------------------------------------------------------------------------------
    def ensure_namespaces(self, names: Iterable[str]) -> None:
        names = set(names)
        # A namespace of our prefix is ours even when an interrupted run left it: deleted at the end too.
        self.created_namespaces += sorted(n for n in names & self.namespaces if n.startswith(NAMESPACE_PREFIX) and n not in self.created_namespaces)
        missing = sorted(names - self.namespaces)
        for name in missing:
            if name in self.terminating:
                kubectl(self.paths, "wait", "--for=delete", f"namespace/{name}", "--timeout=120s", check=False, timeout=150)
                self.terminating.discard(name)
        if missing:
            namespaces = [Obj({}, yaml.safe_dump({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": n}})) for n in missing]
            kubectl(self.paths, *REAL_APPLY, stdin=stream(namespaces))
            self.namespaces.update(missing)
            self.created_namespaces += missing

    def install_crds(self, release: str, crds: list[Obj], original: dict[Any, Obj], result: ReleaseResult) -> tuple[set[str], list[str]]:
        """Apply the release's CRDs for real; returns the kinds they serve and the names to delete afterwards."""
        ours = [c for c in crds if c.name not in self.foreign_crds]
        for crd in crds:
            if crd.name in self.foreign_crds:
                result.notes.append(f"CRD {crd.name} existed before the run: validated against it, left alone")
        # The same CRD in the previous release (argo-rollouts and argo-rollouts-dashboard) may still be going.
        going = [f"crd/{c.name}" for c in ours if c.name in self.deleting_crds]
        if going:
            kubectl(self.paths, "wait", "--for=delete", *going, "--timeout=60s", check=False, timeout=90)
            self.deleting_crds.difference_update(c.name for c in ours)
        accepted = self.send(release, ours, "default", original, result, dry_run=False)
        installed = [c for c in ours if c.printed_name in accepted]
        if installed:
            self.wait_established([c.name for c in installed], result)
        kinds = set().union(set(), *(crd_kinds(c.body) for c in installed), *(crd_kinds(c.body) for c in crds if c.name in self.foreign_crds))
        return kinds, [c.name for c in installed]

    def wait_established(self, names: list[str], result: ReleaseResult, seconds: float = 60) -> None:
        # `kubectl wait --for=condition` gives up at once ("accessor error") on a CRD whose status has no
        # conditions yet, as one just created may not: asked again until the deadline.
        deadline = time.monotonic() + seconds
        while True:
            left = max(1, int(deadline - time.monotonic()))
            wait = kubectl(self.paths, "wait", "--for=condition=Established", *(f"crd/{n}" for n in names), f"--timeout={left}s", check=False, timeout=left + 30)
            if wait.returncode == 0:
                return
            if time.monotonic() >= deadline:
                result.notes.append(f"CRDs not Established within {seconds:.0f}s: {message(wait)}")
                return
            time.sleep(0.5)

    def prepare_pods(self, objects: list[Obj], target: dict[int, str]) -> list[tuple[str, str]]:
        """Make the ServiceAccounts bare Pods run as exist; returns those applied for real, to delete afterwards."""
        shipped = {(target[id(o)], o.name): o for o in objects if o.type_key == "v1 ServiceAccount"}
        applied: list[tuple[str, str]] = []
        for pod in (o for o in objects if o.type_key == "v1 Pod"):
            namespace = target[id(pod)]
            spec = pod.body.get("spec") or {}
            account = spec.get("serviceAccountName") or spec.get("serviceAccount") or "default"
            exists = kubectl(self.paths, "get", "serviceaccount", account, "-n", namespace, "-o", "name", check=False, timeout=30).returncode == 0
            if exists or (namespace, account) in applied:
                continue
            if account == "default":
                # The controller manager creates it a moment after the namespace.
                kubectl(self.paths, "wait", "--for=create", f"serviceaccount/{account}", "-n", namespace, "--timeout=30s", check=False, timeout=45)
            elif (sa := shipped.get((namespace, account))) is not None:
                kubectl(self.paths, *REAL_APPLY, "-n", namespace, stdin=stream([sa]))
                applied.append((namespace, account))
        return applied

    # -- one release -------------------------------------------------------------------------------------------
    def release(self, number: int, path: Path) -> ReleaseResult:
        start = time.monotonic()
        result = ReleaseResult(path.name)
        try:
            self._release(number, path, result)
        finally:
            result.seconds = time.monotonic() - start
        return result

    def _release(self, number: int, path: Path, result: ReleaseResult) -> None:
        release = path.stem
        proc = render(path)
        if proc.returncode != 0:
            result.errors.append(f"{release}: zdrender exited {proc.returncode}: {message(proc)}")
            return
        result.rendered = True
        objects = split_objects(proc.stdout)
        original = {o.key: o for o in split_objects(path.read_text())}
        own = f"{NAMESPACE_PREFIX}{number}"
        target = {id(o): o.namespace or own for o in objects}
        self.ensure_namespaces(set(target.values()))

        crds = [o for o in objects if o.kind == "CustomResourceDefinition" and o.type_key in self.builtin]
        crd_served, to_delete = self.install_crds(release, crds, original, result)
        try:
            served = self.builtin | crd_served
            rest: list[Obj] = []
            for obj in objects:
                if obj.type_key not in served:
                    result.skipped_kinds[obj.type_key] += 1
                elif not any(obj is crd for crd in crds):
                    rest.append(obj)
            accounts = self.prepare_pods(rest, target)
            try:
                for namespace in dict.fromkeys(target[id(o)] for o in rest):
                    self.send(release, [o for o in rest if target[id(o)] == namespace], namespace, original, result)
            finally:
                for namespace, account in accounts:
                    if namespace not in self.created_namespaces:
                        kubectl(self.paths, "delete", "serviceaccount", account, "-n", namespace, "--ignore-not-found", "--wait=false", check=False)
        finally:
            if to_delete:
                kubectl(self.paths, "delete", "crd", *to_delete, "--ignore-not-found", "--wait=false", check=False, timeout=60)
                self.deleting_crds.update(to_delete)

    def close(self) -> None:
        """Delete the namespaces the run created, without waiting for them to go."""
        if self.created_namespaces:
            kubectl(self.paths, "delete", "namespace", *self.created_namespaces, "--ignore-not-found", "--wait=false", check=False, timeout=60)
            self.created_namespaces.clear()


def validate_corpus(paths: Paths, files: Sequence[Path]) -> list[ReleaseResult]:
    """Render each file through zdrender and have the node's API server judge every object (see the module)."""
    validator = Validator(paths)
    try:
        return [validator.release(number, Path(f)) for number, f in enumerate(files, 1)]
    finally:
        validator.close()


def summary(results: Sequence[ReleaseResult]) -> str:
    """One line per release and a total."""
    lines = []
    for r in results:
        skipped = f" ({', '.join(f'{k} x{n}' for k, n in sorted(r.skipped_kinds.items()))})" if r.skipped_kinds else ""
        state = "ok" if r.rendered and not r.errors else "FAIL"
        lines.append(
            f"{state:<4} {r.file:<34} sent {r.sent:>3}  accepted {r.accepted:>3}  skipped {r.skipped:>2}{skipped}"
            f"  rejected: by zdrender {len(r.errors)}, without it too {len(r.rejected_unpatched)}  {r.seconds:.1f}s"
        )
        lines += [f"     error: {e}" for e in r.errors] + [f"     chart: {e}" for e in r.rejected_unpatched] + [f"     note: {n}" for n in r.notes]
    kinds = Counter[str]()
    for r in results:
        kinds.update(r.skipped_kinds)
    lines.append(
        f"total: {len(results)} releases, {sum(r.rendered for r in results)} rendered, {sum(r.sent for r in results)} objects sent, "
        f"{sum(r.accepted for r in results)} accepted, {sum(r.skipped for r in results)} skipped"
        f"{' (' + ', '.join(f'{k} x{n}' for k, n in sorted(kinds.items())) + ')' if kinds else ''}, "
        f"{sum(len(r.errors) for r in results)} rejected by zdrender's changes, {sum(len(r.rejected_unpatched) for r in results)} without them too, "
        f"{sum(r.seconds for r in results):.0f}s"
    )
    return "\n".join(lines)


def print_summary(results: Sequence[ReleaseResult], out: TextIO = sys.stdout) -> None:
    print(summary(results), file=out, flush=True)


def main(argv: list[str] | None = None) -> int:
    files = [Path(a) for a in (sys.argv[1:] if argv is None else argv)] or sorted(CORPUS.glob("*.yaml"))
    paths = default_paths()
    try:
        results = validate_corpus(paths, files)
    except NodeError as err:
        print(f"validate: {err}", file=sys.stderr)
        return 2
    print_summary(results)
    return 0 if all(r.rendered and not r.errors for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
