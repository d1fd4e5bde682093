"""Run one command many times and keep what it cost.

Every timed run is a fresh child process: wall time from `perf_counter` around
spawn-to-reap and CPU time from `wait4`, so a number never mixes the harness's own
work with the tool's.  Peak memory is taken by GNU time for the ops that ask for it:
`wait4`'s ru_maxrss would include the harness's own RSS, which a vfork+exec child
inherits as its starting high-water mark.  Work that prepares a run (a fresh
repository, a reset S3 bucket) happens in `before_each`, outside the timed region.

Two commands compared are run alternately, run by run (`measure_side_by_side`), and
compared by the median of the per-pair ratios (`paired_ratios`): the machine is shared
and noisy, and a slow spell then lands on both sides of a pair instead of on one
command's whole block of runs.
"""

from __future__ import annotations

import os
import shutil
import signal
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path


class CommandFailed(Exception):
    """A command exited badly; `line` is what the report shows."""

    def __init__(self, line: str):
        super().__init__(line)
        self.line = line


class Skipped(Exception):
    """The tool an operation needs is not installed here."""


@dataclass
class Command:
    argv: list[str]
    cwd: Path
    env: dict[str, str] | None = None
    ok_codes: tuple[int, ...] = (0,)
    rss: bool = False


GNU_TIME = "/usr/bin/time"


@dataclass
class Run:
    wall: float
    cpu: float
    maxrss_kib: int | None
    code: int
    stdout: str
    stderr: str


@dataclass
class Op:
    """One thing to time: a command, and the untimed work around it."""

    key: str
    tool: str
    label: str
    command: Callable[[], Command]
    setup: Callable[[], None] | None = None
    before_each: Callable[[], None] | None = None
    after_each: Callable[[], None] | None = None
    check: Callable[[str], str | None] | None = None
    verify: Callable[[], str | None] | None = None
    repeat: int | None = None
    rss: bool = False


@dataclass
class Result:
    key: str
    tool: str
    label: str
    samples: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    maxrss_kib: list[int] = field(default_factory=list)
    error: str | None = None
    skipped: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and self.skipped is None and bool(self.samples)

    @property
    def median(self) -> float | None:
        return statistics.median(self.samples) if self.samples else None

    @property
    def peak_rss_kib(self) -> int | None:
        return max(self.maxrss_kib) if self.maxrss_kib else None

    def as_dict(self) -> dict:
        return {
            "key": self.key,
            "tool": self.tool,
            "label": self.label,
            "median_s": self.median,
            "samples_s": self.samples,
            "cpu_s": self.cpu,
            "peak_rss_kib": self.peak_rss_kib,
            "rss_kib": self.maxrss_kib,
            "error": self.error,
            "skipped": self.skipped,
        }


def first_line(text: str) -> str:
    """The line that says what went wrong: the first mentioning an error, else the first."""
    for line in text.splitlines():
        if "error" in line.lower() and line.strip():
            return line.strip()[:200]
    for line in text.splitlines():
        if line.strip():
            return line.strip()[:200]
    return ""


def spawn(cmd: Command, timeout: float) -> Run:
    """Run `cmd` once in its own session; kill the whole group at `timeout`."""
    argv = cmd.argv
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.NamedTemporaryFile("r") as rss,
    ):
        if cmd.rss:
            if not os.access(GNU_TIME, os.X_OK):
                raise Skipped(f"{GNU_TIME} not found (apt-get install time) to measure peak memory")
            argv = [GNU_TIME, "-f", "%M", "-o", rss.name, *argv]
        start = time.perf_counter()
        proc = subprocess.Popen(
            argv,
            cwd=cmd.cwd,
            env=cmd.env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            start_new_session=True,
        )
        timed_out = threading.Event()

        def kill() -> None:
            timed_out.set()
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

        timer = threading.Timer(timeout, kill)
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode(errors="replace")
        stderr = err.read().decode(errors="replace")
        maxrss = _last_int(rss.read()) if cmd.rss else None
    if timed_out.is_set():
        raise CommandFailed(f"timeout after {timeout:.0f} s")
    return Run(
        wall=wall,
        cpu=usage.ru_utime + usage.ru_stime,
        maxrss_kib=maxrss,
        code=proc.returncode,
        stdout=stdout,
        stderr=stderr,
    )


def _last_int(text: str) -> int | None:
    """GNU time's -o file: "Command exited with non-zero status N" may precede %M."""
    lines = text.split()
    return int(lines[-1]) if lines and lines[-1].isdigit() else None


def sh(argv: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: float = 3600) -> str:
    """Untimed helper step; raises CommandFailed with the first line of stderr."""
    run = spawn(Command(argv, cwd, env), timeout)
    if run.code != 0:
        raise CommandFailed(describe_failure(argv, run))
    return run.stdout


def describe_failure(argv: list[str], run: Run) -> str:
    why = first_line(run.stderr) or first_line(run.stdout) or f"exit status {run.code}"
    command = f"{Path(argv[0]).name} {' '.join(argv[1:2])}"
    return why if why.startswith(command) else f"{command}: {why}"


def fresh_dir(path: Path) -> Path:
    if path.exists() or path.is_symlink():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path


def measure_side_by_side(
    ops: list[Op], repeats: list[int], warmup: int, timeout: float, available: Callable[[str], str | None]
) -> list[Result]:
    """Time `ops` in turn, run by run: each op's setup once, then rounds of one run of
    each op (`warmup` rounds first, untimed), so the i-th samples of all the ops were
    taken next to each other and saw the same load.

    An op with fewer `repeats` (a slow peer) stops after its last run while the others
    go on; one that fails or is skipped stops, and the others still run.  A failed op
    keeps no samples.  `op.repeat` is only advice to the caller; the caller decides."""
    results = [Result(op.key, op.tool, op.label) for op in ops]
    for op, result in zip(ops, results, strict=True):
        result.skipped = available(op.tool)
        if not result.skipped and op.setup:
            _attempt(result, op.setup)
    for i in range(warmup + max(repeats, default=0)):
        for op, result, n in zip(ops, results, repeats, strict=True):
            if i < warmup + n and result.error is None and result.skipped is None:
                keep = i >= warmup
                _attempt(result, lambda op=op, result=result, keep=keep: _run_once(op, result, timeout, keep))
    for result in results:
        if result.error:
            result.samples.clear()
            result.cpu.clear()
            result.maxrss_kib.clear()
    return results


def _run_once(op: Op, result: Result, timeout: float, keep: bool) -> None:
    if op.before_each:
        op.before_each()
    cmd = op.command()
    cmd.rss = op.rss
    run = spawn(cmd, timeout)
    if run.code not in cmd.ok_codes:
        raise CommandFailed(describe_failure(cmd.argv, run))
    problem = (op.check and op.check(run.stdout)) or (op.verify and op.verify())
    if problem:
        raise CommandFailed(problem)
    if op.after_each:
        op.after_each()
    if keep:
        result.samples.append(run.wall)
        result.cpu.append(run.cpu)
        if run.maxrss_kib is not None:
            result.maxrss_kib.append(run.maxrss_kib)


def _attempt(result: Result, step: Callable[[], None]) -> None:
    """Run one step of an op; what goes wrong becomes the op's error or skip, never the run's."""
    try:
        step()
    except CommandFailed as exc:
        result.error = exc.line
    except Skipped as exc:
        result.skipped = str(exc)
    except Exception as exc:  # a harness bug must cost one row, not the whole run
        result.error = f"{type(exc).__name__}: {exc}"


def paired_ratios(a: Result, b: Result, metric: str = "time") -> list[float]:
    """a/b for each pair of runs taken next to each other (as many pairs as both have)."""
    if not (a.ok and b.ok):
        return []
    if metric == "rss":
        xs, ys = a.maxrss_kib, b.maxrss_kib
        if len(xs) != len(a.samples) or len(ys) != len(b.samples):
            return []
    else:
        xs, ys = a.samples, b.samples
    return [x / y for x, y in zip(xs, ys, strict=False) if y]
