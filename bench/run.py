"""Time zdrender against `cat` (the floor) and `kubectl kustomize` (one JSON patch on every Deployment).

    .venv/bin/python bench/run.py            # 7 alternating rounds per input
    .venv/bin/python bench/run.py --quick    # 3 rounds, under a minute

zdrender runs as Helm runs a post-renderer: the installed console script, a fresh process reading the
stream on stdin. The three tools take turns (zdrender, kustomize, cat, zdrender, ...) so that a slow
moment of the machine hits all of them. Medians are compared; absolute times mean nothing across
machines. Not a test: a missed target prints MISS and exits 0 (1 with --strict); a tool that fails
or a kustomize patch that does not apply exits 2.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

sys.path.insert(0, str(Path(__file__).resolve().parent))

import streams

MB = 1_000_000
# Targets from issue 5: wall time as a fraction of kustomize's, and peak memory.
RATIO_TARGET = {"small": 2.0, "large": 0.5, "all": 0.5}
RSS_SLACK = 60 * MB  # peak RSS <= 2 x input + 60 MB
GROWTH_TARGET = 10.0  # a 10x larger stream costs <= 10x
PATCH_VALUE = 45  # the marker the kustomize patch writes
PATCH = f'[{{"op": "add", "path": "/spec/template/spec/terminationGracePeriodSeconds", "value": {PATCH_VALUE}}}]'


def abort(message: str) -> NoReturn:
    print(message, file=sys.stderr)
    raise SystemExit(2)


@dataclass
class Runs:
    seconds: list[float] = field(default_factory=list)
    rss: list[int] = field(default_factory=list)  # bytes

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def peak(self) -> int:
        return max(self.rss)


GNU_TIME = "/usr/bin/time"  # forks the tool from a ~2 MB process, so its peak RSS is the tool's own


def run_once(argv: list[str], stdin: Path | None, stdout: Path) -> tuple[float, int, int, str]:
    """(wall seconds, peak RSS bytes, exit code, stderr) of one run, its output written to `stdout`.

    The peak RSS comes from GNU time when it is there: a child forked straight from this Python
    would report this process's own peak (Linux keeps the larger of the two across exec).
    """
    wrapped = os.access(GNU_TIME, os.X_OK)
    with tempfile.NamedTemporaryFile() as rss_file, tempfile.TemporaryFile() as err:
        command = [GNU_TIME, "-f", "%M", "-o", rss_file.name, *argv] if wrapped else argv
        with open(stdin or os.devnull, "rb") as inp, open(stdout, "wb") as out:
            start = time.perf_counter()
            proc = subprocess.Popen(command, stdin=inp, stdout=out, stderr=err)
            _, status, usage = os.wait4(proc.pid, 0)
            elapsed = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        kib = int(Path(rss_file.name).read_text().split()[-1]) if wrapped and proc.returncode == 0 else usage.ru_maxrss
        return elapsed, kib * 1024, proc.returncode, err.read().decode(errors="replace")


def find_zdrender(explicit: str | None) -> list[str]:
    if explicit:
        return shlex.split(explicit)
    beside = Path(sys.executable).parent / "zdrender"  # the venv's console script
    found = str(beside) if beside.exists() else shutil.which("zdrender")
    if not found:
        abort("bench: zdrender is not installed; run `pip install -e .` in the venv")
    return [found]


def find_kustomize(explicit: str | None) -> list[str]:
    if explicit:
        return explicit.split()
    if shutil.which("kubectl"):
        return ["kubectl", "kustomize"]
    local = streams.ROOT / ".tools" / "bin" / "kustomize"
    if local.exists():
        return [str(local), "build"]
    abort("bench: neither kubectl nor .tools/bin/kustomize found (scripts/install-test-tools.sh)")


def kustomization(folder: Path, resource: Path) -> Path:
    """A kustomization dir with the stream as its only resource and one JSON6902 patch for every Deployment."""
    folder.mkdir()
    shutil.copyfile(resource, folder / "stream.yaml")  # kustomize refuses a link to outside its folder
    (folder / "kustomization.yaml").write_text("resources:\n- stream.yaml\npatches:\n- target:\n    kind: Deployment\n  patch: '" + PATCH + "'\n", encoding="utf-8")
    return folder


def check_kustomize(out: Path, item: streams.Input) -> None:
    """The patch must really apply: every Deployment of the output carries the marker value."""
    docs = [d for d in streams.documents(out.read_text(encoding="utf-8")) if d.obj is not None]
    deployments = [d for d in docs if d.kind == "Deployment"]
    patched = [d for d in deployments if ((d.obj.get("spec") or {}).get("template") or {}).get("spec", {}).get("terminationGracePeriodSeconds") == PATCH_VALUE]
    if len(docs) != item.documents or len(patched) != item.deployments:
        abort(f"bench: kustomize on {item.name}: {len(docs)}/{item.documents} documents out, {len(patched)}/{item.deployments} Deployments patched")


def check_zdrender(out: Path, item: streams.Input) -> None:
    """zdrender only adds: its output is at least as long as the input."""
    if out.stat().st_size < item.size:
        abort(f"bench: zdrender printed {out.stat().st_size} bytes for the {item.size} of {item.name}")


def measure(tools: dict[str, tuple[list[str], Path | None]], rounds: int, scratch: Path) -> tuple[dict[str, Runs], dict[str, Path]]:
    """Alternate the tools round after round; a failing run aborts. Returns the runs and each tool's output."""
    runs = {name: Runs() for name in tools}
    outputs = {name: scratch / f"out-{name.replace(' ', '-')}.yaml" for name in tools}
    for _ in range(rounds):
        for name, (argv, stdin) in tools.items():
            seconds, rss, code, err = run_once(argv, stdin, outputs[name])
            if code != 0:
                abort(f"bench: {name} exited {code}: {err.strip()[-300:]}")
            runs[name].seconds.append(seconds)
            runs[name].rss.append(rss)
    return runs, outputs


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def mb(size: float) -> str:
    return f"{size / MB:.1f} MB" if size >= 100_000 else f"{size / 1000:.0f} KB"


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISS"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 rounds instead of 7 (what .ci/run uses)")
    parser.add_argument("--rounds", type=int, help="rounds per input (overrides --quick)")
    parser.add_argument("--zdrender", help="zdrender command (default: the console script of this Python's venv)")
    parser.add_argument("--kustomize", help='kustomize command (default: "kubectl kustomize")')
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    rounds = args.rounds or (3 if args.quick else 7)
    zdrender, kustomize = find_zdrender(args.zdrender), find_kustomize(args.kustomize)
    cat = shutil.which("cat") or "cat"
    started = time.perf_counter()
    missed = []

    with tempfile.TemporaryDirectory(prefix="zdrender-bench-") as tmp:
        scratch = Path(tmp)
        compared, growth = streams.build(scratch)

        print(f"zdrender vs `{' '.join(kustomize)}` (one JSON patch on every Deployment) and `cat`; median of {rounds} alternating rounds\n")
        print("| input | size | docs (workloads) | cat | kustomize | zdrender | zdrender / kustomize | peak RSS (limit) |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|")
        for item in compared:
            kdir = kustomization(scratch / f"k-{item.name}", item.path)
            runs, outputs = measure(
                {"zdrender": (zdrender, item.path), "kustomize": ([*kustomize, str(kdir)], None), "cat": ([cat], item.path)},
                rounds,
                scratch,
            )
            check_kustomize(outputs["kustomize"], item)
            check_zdrender(outputs["zdrender"], item)
            ratio = runs["zdrender"].median / runs["kustomize"].median
            limit = 2 * item.size + RSS_SLACK
            peak = runs["zdrender"].peak
            ok_time, ok_rss = ratio <= RATIO_TARGET[item.name], peak <= limit
            missed += [f"{item.name} time"] * (not ok_time) + [f"{item.name} memory"] * (not ok_rss)
            print(
                f"| {item.name}: {item.note} | {mb(item.size)} | {item.documents} ({item.workloads}) | {ms(runs['cat'].median)} "
                f"| {ms(runs['kustomize'].median)} | {ms(runs['zdrender'].median)} "
                f"| {ratio:.2f}x (<= {RATIO_TARGET[item.name]}x {verdict(ok_time)}) | {mb(peak)} ({mb(limit)} {verdict(ok_rss)}) |"
            )

        print("\nLinear growth: zdrender on the same documents once and repeated 10 times\n")
        print("| stream | size 1x | 1x | 10x | 10x / 1x | per MB (marginal) | peak RSS 10x (limit) |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for kind in ("non-workload", "workload"):
            one, ten = growth[f"{kind} 1x"], growth[f"{kind} 10x"]
            runs, outputs = measure({"1x": (zdrender, one.path), "10x": (zdrender, ten.path)}, rounds, scratch)
            check_zdrender(outputs["10x"], ten)
            t1, t10 = runs["1x"].median, runs["10x"].median
            per_mb = (t10 - t1) / ((ten.size - one.size) / MB)
            limit = 2 * ten.size + RSS_SLACK
            ok_growth, ok_rss = t10 / t1 <= GROWTH_TARGET, runs["10x"].peak <= limit
            missed += [f"{kind} growth"] * (not ok_growth) + [f"{kind} memory"] * (not ok_rss)
            print(
                f"| {kind} ({one.documents} docs) | {mb(one.size)} | {ms(t1)} | {ms(t10)} | {t10 / t1:.1f}x (<= 10x {verdict(ok_growth)}) "
                f"| {ms(per_mb)} | {mb(runs['10x'].peak)} ({mb(limit)} {verdict(ok_rss)}) |"
            )
    print(f"\nTargets missed: {', '.join(missed) or 'none'}. Benchmark took {time.perf_counter() - started:.0f} s.")
    return 1 if missed and args.strict else 0


if __name__ == "__main__":
    sys.exit(main())
