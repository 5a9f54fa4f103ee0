"""Time every mode of zdrender (render, check, explain, diff, KRM function) against its reference.

    .venv/bin/python bench/run.py            # the issue's sizes (48 MB), 7 rounds (3 for big inputs)
    .venv/bin/python bench/run.py --quick    # smaller inputs, 3 rounds: what .ci/run prints

zdrender runs as Helm runs a post-renderer: the installed console script, a fresh process reading the
stream on stdin. The tools of one comparison take turns (zdrender, kustomize, cat, zdrender, ...) so
that a slow moment of the machine hits all of them. Medians are compared; absolute times mean nothing
across machines. Not a test: a missed target (or a run past --timeout) prints MISS and exits 0 (1
with --strict); a tool that fails or a kustomize patch that does not apply exits 2.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import os
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

sys.path.insert(0, str(Path(__file__).resolve().parent))

import streams

MB = 1_000_000
RSS_SLACK = 60 * MB  # peak RSS <= 2 x input + 60 MB, in every mode
# Time targets (issues 5 and 14), each a multiple of a reference timed in the same rounds.
KUSTOMIZE_TARGET = {"small": 0.8, "large": 0.5, "all": 0.5}  # render / kubectl kustomize
CHECK_TARGET = 1.5  # check and explain / render of the same stream
DIFF_TARGET = 2.0  # diff / render of the same stream
KRM_TARGET = 1.5  # KRM function / plain render of the same objects
GROWTH_TARGET = 11.0  # a 10x larger stream costs <= 11x the time
PATCH_VALUE = 45  # the marker the kustomize patch writes
PATCH = f'[{{"op": "add", "path": "/spec/template/spec/terminationGracePeriodSeconds", "value": {PATCH_VALUE}}}]'
# Start-up's floor: the interpreter zdrender runs on importing the libraries every render needs (PyYAML
# with its unused pattern pre-seeded, as entry.py does), and no other zdrender code: no render goes below.
IMPORT_FLOOR = "from zdrender.entry import precompile_pyyaml_pattern as seed; seed(); import yaml, json, jsonpatch"
IMPORT_FLOOR_SAID = "Python importing PyYAML as entry.py does, json and jsonpatch, and nothing else"
LINT_CODES = (0, 1)  # check exits 1 when a finding reaches --fail-on: that is its answer, not a failure


@dataclass(frozen=True)
class Scale:
    """How big the inputs are: the issue's sizes, or --quick's."""

    big_times: int  # the big stream: the corpus (8 MB, the "all" stream) this many times
    kustomize_inputs: tuple[str, ...]  # the inputs rendered by kustomize too
    workload_times: int  # the workloads-only stream: every workload of the corpus (0.36 MB) this many times
    krm_source: str  # "all" (8 MB) or "large" (1.9 MB): what the ResourceLists hold
    rounds: int
    big_rounds: int  # for the big stream, the workloads-only stream and the ResourceLists
    start_rounds: int  # for the small release: a ~0.1 s run varies by +-20% from one run to the next here
    timeout: float  # seconds per run


FULL = Scale(big_times=6, kustomize_inputs=("small", "large", "all"), workload_times=30, krm_source="all", rounds=7, big_rounds=3, start_rounds=41, timeout=300)
QUICK = Scale(big_times=1, kustomize_inputs=("small", "large"), workload_times=10, krm_source="large", rounds=3, big_rounds=3, start_rounds=21, timeout=15)


def abort(message: str) -> NoReturn:
    print(message, file=sys.stderr)
    raise SystemExit(2)


@dataclass
class Tool:
    argv: list[str]
    stdin: Path | None
    codes: tuple[int, ...] = (0,)  # exit codes that mean it did its job


@dataclass
class Runs:
    seconds: list[float] = field(default_factory=list)
    rss: list[int] = field(default_factory=list)  # bytes
    timed_out: float | None = None  # the timeout a run hit (no later round runs it)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds) if self.seconds else float("inf")

    @property
    def peak(self) -> int:
        return max(self.rss, default=0)


GNU_TIME = "/usr/bin/time"  # forks the tool from a ~2 MB process, so its peak RSS is the tool's own


def run_once(argv: list[str], stdin: Path | None, stdout: Path, timeout: float) -> tuple[float, int, int | None, str]:
    """(wall seconds, peak RSS bytes, exit code or None after `timeout`, stderr) of one run, its
    output written to `stdout`.

    The peak RSS comes from GNU time when it is there: a child forked straight from this Python
    would report this process's own peak (Linux keeps the larger of the two across exec). A run past
    `timeout` is killed with its process group (GNU time and the tool).
    """
    wrapped = os.access(GNU_TIME, os.X_OK)
    with tempfile.NamedTemporaryFile() as rss_file, tempfile.TemporaryFile() as err:
        command = [GNU_TIME, "-f", "%M", "-o", rss_file.name, *argv] if wrapped else argv
        with open(stdin or os.devnull, "rb") as inp, open(stdout, "wb") as out:
            start = time.perf_counter()
            proc = subprocess.Popen(command, stdin=inp, stdout=out, stderr=err, start_new_session=True)
            expired = threading.Event()

            def kill() -> None:
                expired.set()
                with contextlib.suppress(ProcessLookupError):  # it ended meanwhile
                    os.killpg(proc.pid, signal.SIGKILL)

            timer = threading.Timer(timeout, kill)
            timer.start()
            _, status, usage = os.wait4(proc.pid, 0)
            elapsed = time.perf_counter() - start
            timer.cancel()
        if expired.is_set() and os.WIFSIGNALED(status):
            return elapsed, 0, None, ""
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        # GNU time writes the peak last, after "Command exited with non-zero status N" when it is not 0
        # (check exits 1 on findings); without its number, wait4's peak stands in.
        written = Path(rss_file.name).read_text().split() if wrapped else []
        kib = int(written[-1]) if written and written[-1].isdigit() else usage.ru_maxrss
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


def find_standalone_kustomize() -> str:
    """kustomize itself, for the exec function that records a ResourceList (kubectl's has no --enable-exec)."""
    local = streams.ROOT / ".tools" / "bin" / "kustomize"
    found = str(local) if local.exists() else shutil.which("kustomize")
    if not found:
        abort("bench: no kustomize binary for the KRM inputs (.tools/bin/kustomize: scripts/install-test-tools.sh)")
    return found


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
    """zdrender only adds (a stream or a ResourceList): its output is at least as long as the input."""
    if out.exists() and out.stat().st_size < item.size:
        abort(f"bench: zdrender printed {out.stat().st_size} bytes for the {item.size} of {item.name}")


def measure(tools: dict[str, Tool], rounds: int, scratch: Path, timeout: float) -> tuple[dict[str, Runs], dict[str, Path]]:
    """Alternate the tools round after round; a failing run aborts, a run past `timeout` is not
    repeated. Returns the runs and each tool's output (of its last run)."""
    runs = {name: Runs() for name in tools}
    outputs = {name: scratch / f"out-{name.replace(' ', '-').replace('/', '-')}.yaml" for name in tools}
    for _ in range(rounds):
        for name, tool in tools.items():
            if runs[name].timed_out is not None:
                continue
            seconds, rss, code, err = run_once(tool.argv, tool.stdin, outputs[name], timeout)
            if code is None:
                runs[name].timed_out = timeout
                continue
            if code not in tool.codes:
                abort(f"bench: {name} exited {code}: {err.strip()[-300:]}")
            runs[name].seconds.append(seconds)
            runs[name].rss.append(rss)
    return runs, outputs


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 10 else f"{seconds:.1f} s"


def mb(size: float) -> str:
    return f"{size / MB:.1f} MB" if size >= 100_000 else f"{size / 1000:.0f} KB"


def timing(runs: Runs) -> str:
    return f"> {runs.timed_out:.0f} s (timeout)" if runs.timed_out is not None else ms(runs.median)


def rss_bound(item: streams.Input) -> int:
    return 2 * item.size + RSS_SLACK


@dataclass
class Row:
    """One line of the mode table: a mode on an input, against its reference (if it has a time target)."""

    mode: str
    item: streams.Input
    runs: Runs
    reference: str = ""  # what the time is compared with, e.g. "kustomize"
    reference_runs: Runs | None = None
    target: float | None = None

    def misses(self) -> list[str]:
        missed = []
        if self.runs.timed_out is not None:
            missed.append("timeout")
        elif self.target is not None and self.reference_runs is not None and self.runs.median / self.reference_runs.median > self.target:
            missed.append("time")
        if self.runs.peak > rss_bound(self.item):
            missed.append("memory")
        return missed

    def markdown(self) -> str:
        ratio = "—"
        if self.reference_runs is not None:
            if self.runs.timed_out is not None:  # at least the timeout over the reference
                ratio = f"> {self.runs.timed_out / self.reference_runs.median:.1f}x"
            else:
                ratio = f"{self.runs.median / self.reference_runs.median:.2f}x"
        reference = f"{self.reference} {timing(self.reference_runs)}" if self.reference_runs is not None else "—"
        target = f"<= {self.target}x" if self.target is not None else "—"
        peak = mb(self.runs.peak) if self.runs.rss else "—"
        missed = self.misses()
        verdict = f"MISS ({', '.join(missed)})" if missed else "ok"
        return f"| {self.mode} | {self.item.name}: {self.item.note} | {mb(self.item.size)} | {timing(self.runs)} | {reference} | {ratio} | {target} | {peak} | {mb(rss_bound(self.item))} | {verdict} |"


def interpreter_of(zdrender: list[str]) -> str:
    """The Python a console script runs on (its shebang), else this one."""
    try:
        first = Path(zdrender[0]).read_bytes()[:200].split(b"\n", 1)[0]
    except OSError:
        return sys.executable
    return first[2:].decode().strip() if first.startswith(b"#!") and b"python" in first else sys.executable


def kustomize_rows(zdrender: list[str], kustomize: list[str], compared: list[streams.Input], scale: Scale, scratch: Path) -> tuple[list[Row], list[str]]:
    """render vs kubectl kustomize (one JSON patch on every Deployment), with cat as the floor, and for
    the small release the start-up floor (IMPORT_FLOOR)."""
    cat = shutil.which("cat") or "cat"
    rows, floors = [], []
    for item in compared:
        kdir = kustomization(scratch / f"k-{item.name}", item.path)
        tools = {"zdrender": Tool(zdrender, item.path), "kustomize": Tool([*kustomize, str(kdir)], None), "cat": Tool([cat], item.path)}
        if item.name == "small":
            tools["imports"] = Tool([interpreter_of(zdrender), "-c", IMPORT_FLOOR], item.path)
        runs, outputs = measure(tools, scale.start_rounds if item.name == "small" else scale.rounds, scratch, scale.timeout)
        check_kustomize(outputs["kustomize"], item)
        check_zdrender(outputs["zdrender"], item)
        rows.append(Row("render", item, runs["zdrender"], "kustomize", runs["kustomize"], KUSTOMIZE_TARGET[item.name]))
        floors.append(f"cat on {item.name} {timing(runs['cat'])}")
        if "imports" in runs:
            ratio = runs["imports"].median / runs["kustomize"].median
            floors.append(f"start-up floor ({IMPORT_FLOOR_SAID}) {timing(runs['imports'])} = {ratio:.2f}x kustomize")
    return rows, floors


def mode_rows(zdrender: list[str], big: streams.Input, workloads: streams.Input, scale: Scale, scratch: Path) -> list[Row]:
    """render, check, explain and diff of the big stream (in turns), then render of workloads only."""
    tools = {
        "render": Tool([*zdrender, "-q"], big.path),
        "check": Tool([*zdrender, "check"], big.path, LINT_CODES),
        "explain": Tool([*zdrender, "explain"], big.path),
        "diff": Tool([*zdrender, "diff"], big.path),
    }
    runs, outputs = measure(tools, scale.big_rounds, scratch, scale.timeout)
    check_zdrender(outputs["render"], big)
    render = runs["render"]
    rows = [
        Row("render", big, render),
        Row("check", big, runs["check"], "render", render, CHECK_TARGET),
        Row("explain", big, runs["explain"], "render", render, CHECK_TARGET),
        Row("diff", big, runs["diff"], "render", render, DIFF_TARGET),
    ]
    runs, outputs = measure({"render": Tool([*zdrender, "-q"], workloads.path)}, scale.big_rounds, scratch, scale.timeout)
    check_zdrender(outputs["render"], workloads)
    return [*rows, Row("render", workloads, runs["render"])]


def krm_rows(zdrender: list[str], source: streams.Input, resource_lists: list[streams.Input], scale: Scale, scratch: Path) -> list[Row]:
    """zdrender as a KRM function on each ResourceList, in turns with a plain render of the same objects."""
    tools = {"render": Tool([*zdrender, "-q"], source.path)} | {rl.name: Tool([*zdrender, "-q"], rl.path) for rl in resource_lists}
    runs, outputs = measure(tools, scale.big_rounds, scratch, scale.timeout)
    for rl in resource_lists:
        check_zdrender(outputs[rl.name], rl)
    return [Row("KRM function", rl, runs[rl.name], f"render of {source.name}", runs["render"], KRM_TARGET) for rl in resource_lists]


def growth_rows(zdrender: list[str], growth: dict[str, streams.Input], scale: Scale, scratch: Path) -> tuple[list[str], list[str]]:
    """Each mode on the same documents once and repeated 10 times: markdown lines and misses."""
    lines, missed = [], []
    commands = {  # check and diff take several times render's time: they get the rounds of big inputs
        "render": ([*zdrender, "-q"], (0,), scale.rounds),
        "check": ([*zdrender, "check"], LINT_CODES, scale.big_rounds),
        "diff": ([*zdrender, "diff"], (0,), scale.big_rounds),
    }
    for mode, (argv, codes, rounds) in commands.items():
        for kind in ("non-workload", "workload"):
            one, ten = growth[f"{kind} 1x"], growth[f"{kind} 10x"]
            runs, outputs = measure({"1x": Tool(argv, one.path, codes), "10x": Tool(argv, ten.path, codes)}, rounds, scratch, scale.timeout)
            if mode == "render":
                check_zdrender(outputs["10x"], ten)
            t1, t10 = runs["1x"], runs["10x"]
            limit = rss_bound(ten)
            timed_out = t1.timed_out is not None or t10.timed_out is not None
            ok_growth = not timed_out and t10.median / t1.median <= GROWTH_TARGET
            ok_rss = t10.peak <= limit
            missed += [f"{mode} {kind} growth"] * (not ok_growth) + [f"{mode} {kind} memory"] * (not ok_rss)
            ratio = "—" if timed_out else f"{t10.median / t1.median:.1f}x"
            per_mb = "—" if timed_out else ms((t10.median - t1.median) / ((ten.size - one.size) / MB))
            growth_miss = ["timeout" if timed_out else "time"] * (not ok_growth)
            verdict = "ok" if ok_growth and ok_rss else f"MISS ({', '.join(growth_miss + ['memory'] * (not ok_rss))})"
            lines.append(
                f"| {mode} | {kind} ({one.documents} docs) | {mb(one.size)} | {timing(t1)} | {timing(t10)} | {ratio} | <= {GROWTH_TARGET:.0f}x "
                f"| {per_mb} | {mb(t10.peak) if t10.rss else '—'} | {mb(limit)} | {verdict} |"
            )
    return lines, missed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller inputs, 3 rounds (what .ci/run uses)")
    parser.add_argument("--rounds", type=int, help="rounds per comparison (overrides --quick; big inputs get at most this many)")
    parser.add_argument("--timeout", type=float, help="seconds before one run counts as a MISS (default 300, --quick 15)")
    parser.add_argument("--zdrender", help="zdrender command (default: the console script of this Python's venv)")
    parser.add_argument("--kustomize", help='kustomize command (default: "kubectl kustomize")')
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    scale = QUICK if args.quick else FULL
    if args.rounds:
        scale = dataclasses.replace(scale, rounds=args.rounds, big_rounds=min(args.rounds, scale.big_rounds), start_rounds=args.rounds)
    if args.timeout:
        scale = dataclasses.replace(scale, timeout=args.timeout)
    zdrender, kustomize = find_zdrender(args.zdrender), find_kustomize(args.kustomize)
    started = time.perf_counter()

    with tempfile.TemporaryDirectory(prefix="zdrender-bench-") as tmp:
        scratch = Path(tmp)
        compared, growth = streams.build(scratch)
        inputs = {item.name: item for item in compared}
        big = inputs["all"]
        if scale.big_times > 1:
            big = streams.repeated(scratch, f"all x{scale.big_times}", big, scale.big_times, f"the {len(streams.corpus_files())} releases, {scale.big_times} times over")
        workloads = streams.repeated(scratch, f"workloads x{scale.workload_times}", growth["workload 1x"], scale.workload_times, f"every workload of the corpus, {scale.workload_times} times over")
        krm_source = inputs[scale.krm_source]
        try:
            resource_lists = [streams.kpt_resource_list(scratch, krm_source), streams.kustomize_resource_list(scratch, krm_source, find_standalone_kustomize())]
        except (OSError, subprocess.CalledProcessError) as err:
            abort(f"bench: cannot build the KRM inputs: {err}")
        built = time.perf_counter() - started
        rounds = f"{scale.rounds} rounds ({scale.start_rounds} for the small release, {scale.big_rounds} for inputs of several MB)"
        print(f"Inputs built in {built:.0f} s. zdrender: {' '.join(zdrender)}; {rounds}; timeout {scale.timeout:.0f} s a run.\n")

        rows, floors = kustomize_rows(zdrender, kustomize, [inputs[name] for name in scale.kustomize_inputs], scale, scratch)
        rows += mode_rows(zdrender, big, workloads, scale, scratch)
        rows += krm_rows(zdrender, krm_source, resource_lists, scale, scratch)
        print("Every mode: median time, its reference timed in the same rounds, peak RSS (bound: 2 x input + 60 MB)\n")
        print("| mode | input | size | time | reference | ratio | target | peak RSS | RSS bound | verdict |")
        print("|---|---|---:|---:|---:|---:|---:|---:|---:|---|")
        for row in rows:
            print(row.markdown())
        print(f"\nkustomize: `{' '.join(kustomize)}` with one JSON patch on every Deployment. Floors: {'; '.join(floors)}.")
        missed = [f"{row.mode} {row.item.name} {miss}" for row in rows for miss in row.misses()]

        print("\nLinear growth: each mode on the same documents once and repeated 10 times\n")
        print("| mode | stream | size 1x | 1x | 10x | 10x / 1x | target | per MB (marginal) | peak RSS 10x | RSS bound | verdict |")
        print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
        lines, growth_missed = growth_rows(zdrender, growth, scale, scratch)
        print("\n".join(lines))
        missed += growth_missed
    print(f"\nTargets missed: {', '.join(missed) or 'none'}. Benchmark took {time.perf_counter() - started:.0f} s.")
    return 1 if missed and args.strict else 0


if __name__ == "__main__":
    sys.exit(main())
