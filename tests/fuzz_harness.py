"""Crash and corruption fuzzing of the ``ama`` command (issue 8).

Two kinds of trial, each fully determined by its seed (except the exact
instant a timed kill lands):

- **crash**: run one command (``add``, ``commit`` to a directory or S3,
  ``checkout``, ``clone``, ``pull``, ``fetch``, ``gc``, ...) and SIGKILL it,
  either after a delay drawn uniformly over the command's typical duration
  (measured here once per process) or at one of the failpoints the command
  passes (``ama/failpoint.py``; learned with ``AMA_FAILPOINT_LOG``). Then the
  invariants: every ``.ama/`` file readable, the remote satisfies invariant 1,
  every work-tree file under a real name holds one version's bytes or the
  user's own; the same command run again completes without a manual step;
  afterwards the work tree is exactly what an uninterrupted run gives and
  ``status`` shows no leftovers.
- **corrupt**: damage one file of ``.ama/`` or of the directory remote (flip a
  bit, truncate, empty, garbage, JSON with a field missing, unknown or of the
  wrong type, a directory, a FIFO) and run one command under a timeout. It
  must exit 0 with correct bytes or with a documented error code and one
  line on stderr; never exit 70, never a signal, never a hang.

A trial returns a ``Trial`` with its violations, each ``(kind, detail)``.
``scripts/fuzz.py`` runs thousands and prints a table; ``tests/test_fuzz.py``
runs a few dozen fixed seeds in ``make test``.

Everything runs in temporary directories; the only server is moto's, on
127.0.0.1, started as a subprocess and stopped by its pid.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import blake3
from conftest import AMA, isolated_env
from txn_helpers import (
    FIXED_IDENTITY,
    ama_dir_problems,
    invariant1_problems,
    remote_hash_problems,
    view_of,
)

ROOT = Path(__file__).resolve().parent.parent
CLS = "data"
TIMEOUT = 30.0  # a command that takes longer hangs
TEMP_PREFIXES = (".ama-tmp-", ".tmp-")

# The exit codes of docs/exit-codes.md but 70 (internal error) and 130 (Ctrl-C).
DOCUMENTED = {int(code) for code in re.findall(r"^\| (\d+) \|", (ROOT / "docs" / "exit-codes.md").read_text(),
                                                re.M)} - {70, 130}


# -- the data: two versions and a user's edits --------------------------------------


def _versions() -> tuple[dict[str, bytes], dict[str, bytes]]:
    rng = random.Random(20261202)
    v1 = {f"d{i % 4}/f{i:02d}.bin": rng.randbytes(rng.randrange(0, 24_000)) for i in range(40)}
    v1["big.bin"] = rng.randbytes(3 << 20)
    v1["run.sh"] = b"#!/bin/sh\necho hi\n"
    v2 = dict(v1)
    for i in range(0, 40, 5):
        v2[f"d{i % 4}/f{i:02d}.bin"] = rng.randbytes(rng.randrange(1, 24_000))
    for i in (3, 17, 29):
        del v2[f"d{i % 4}/f{i:02d}.bin"]
    for i in range(5):
        v2[f"new/g{i}.bin"] = rng.randbytes(rng.randrange(1, 40_000))
    v2["big.bin"] = v1["big.bin"][: 1 << 20] + rng.randbytes(2 << 20)
    return v1, v2


V1, V2 = _versions()
# What `ama get` of version 1's big.bin (as got.bin) and directory d1 (as g/) writes.
GOT = {"got.bin": V1["big.bin"], **{"g/" + rel[3:]: data for rel, data in V1.items() if rel.startswith("d1/")}}


def user_edits(rng: random.Random) -> dict[str, bytes]:
    """What a user changes on top of version 2 before ``add`` or ``commit``."""
    edits = {f"d{i % 4}/f{i:02d}.bin": rng.randbytes(rng.randrange(1, 30_000))
             for i in rng.sample([i for i in range(40) if f"d{i % 4}/f{i:02d}.bin" in V2], 6)}
    for i in range(rng.randrange(1, 12)):
        edits[f"user/u{i:02d}.bin"] = rng.randbytes(rng.randrange(0, 60_000))
    if rng.random() < 0.4:
        edits["user/large.bin"] = rng.randbytes(rng.randrange(1 << 20, 6 << 20))
    return edits


def write_tree(root: Path, files: dict[str, bytes]) -> None:
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            path.unlink()  # never write through a hardlink into the store
        path.write_bytes(data)


def is_temp(name: str) -> bool:
    return name.startswith(TEMP_PREFIXES)


def under_temp(rel: str) -> bool:
    """A path in or below a temporary name (a directory being assembled)."""
    return any(is_temp(part) for part in rel.split("/"))


def work_files(root: Path) -> dict[str, bytes]:
    """Every file of a work tree but ``.ama/`` and the pointer file."""
    found = {}
    for dirpath, dirs, files in os.walk(root):
        if dirpath == str(root):
            dirs[:] = [d for d in dirs if d != ".ama"]
        for name in files:
            full = os.path.join(dirpath, name)
            rel = os.path.relpath(full, root)
            if rel == ".ama-asset":
                continue
            try:
                found[rel] = Path(full).read_bytes() if os.path.isfile(full) else b"<not a file>"
            except OSError as e:
                found[rel] = f"<unreadable: {e}>".encode()
    return found


# -- running ama -----------------------------------------------------------------------


@dataclass
class Run:
    rc: int | None  # None: killed by the harness after TIMEOUT (a hang)
    out: str
    err: str
    seconds: float
    raw: bytes = b""  # stdout as written

    @property
    def line(self) -> str:
        return (self.err.strip().splitlines() or [""])[-1][:200]


def run(args: list[str], cwd: Path, env: dict[str, str], kill_after: float | None = None,
        timeout: float = TIMEOUT) -> Run:
    """Run ``ama ARGS``; SIGKILL it after ``kill_after`` seconds if given."""
    start = time.monotonic()
    p = subprocess.Popen([AMA, *args], cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, start_new_session=True)
    limit = timeout if kill_after is None else min(kill_after, timeout)
    try:
        out, err = p.communicate(timeout=limit)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        out, err = p.communicate()
        if kill_after is None or kill_after >= timeout:
            return Run(None, out.decode(errors="replace"), err.decode(errors="replace"), time.monotonic() - start)
    return Run(p.returncode, out.decode(errors="replace"), err.decode(errors="replace"), time.monotonic() - start, out)


# -- moto's S3 server, in a subprocess ----------------------------------------------------


class Moto:
    """moto's server on 127.0.0.1 in a child process, one request at a time
    (as tests/remote_fixtures.py serves it); stopped by its pid."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen | None = None
        self.endpoint = ""

    def start(self) -> str:
        if self.proc is None:
            self.proc = subprocess.Popen([sys.executable, __file__, "moto"], stdout=subprocess.PIPE, text=True,
                                         start_new_session=True)
            self.endpoint = self.proc.stdout.readline().strip()
            if not self.endpoint.startswith("http://127.0.0.1:"):
                self.stop()
                raise RuntimeError("moto server did not start")
        return self.endpoint

    def stop(self) -> None:
        if self.proc is not None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
            self.proc = None


def _serve_moto() -> None:
    import logging

    from moto.moto_server.werkzeug_app import DomainDispatcherApplication
    from moto.server import ThreadedMotoServer
    from remote_fixtures import _one_request_at_a_time

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    DomainDispatcherApplication.__call__ = _one_request_at_a_time(DomainDispatcherApplication.__call__)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    print(f"http://{host}:{port}", flush=True)
    signal.sigwait({signal.SIGTERM, signal.SIGINT})
    server.stop()


# -- a fixture world: a remote with two versions, a work tree at each ---------------------------


class World:
    """A directory remote ``remote/`` holding versions 1 and 2 of ``data/1``;
    ``w/`` a work tree at version 2, ``w1/`` one at version 1. Built once per
    process, copied (hardlinks kept) for each trial."""

    _templates: dict[Path, Path] = {}  # cache directory -> the world built there

    def __init__(self, base: Path, moto: Moto | None = None):
        self.base = base
        self.moto = moto
        self.home = base / "home"
        self.remote = base / "remote"
        self.w = base / "w"
        self.w1 = base / "w1"

    @property
    def url(self) -> str:
        return str(self.remote)

    def env(self, **extra: str) -> dict[str, str]:
        self.home.mkdir(parents=True, exist_ok=True)
        return isolated_env(self.home, **FIXED_IDENTITY, **extra)

    def s3_env(self) -> dict[str, str]:
        from remote_fixtures import FAKE_AWS_ENV

        assert self.moto is not None
        return self.env(**{k: v for k, v in FAKE_AWS_ENV.items()}, AWS_ENDPOINT_URL_S3=self.moto.start())

    @classmethod
    def template(cls, cache: Path) -> Path:
        if cache not in cls._templates:
            root = cache / "template"
            world = World(root)
            env = world.env()
            world.w.mkdir(parents=True)
            must(run(["init", "--class", CLS, "--remote", world.url], world.w, env))
            write_tree(world.w, V1)
            os.chmod(world.w / "run.sh", 0o755)
            must(run(["add", "."], world.w, env))
            must(run(["commit", "-m", "one"], world.w, env))
            must(run(["clone", f"{CLS}/1/1", "w1", "--remote", world.url], root, env))
            for gone in set(V1) - set(V2):
                (world.w / gone).unlink()
            write_tree(world.w, {rel: data for rel, data in V2.items() if V1.get(rel) != data})
            os.chmod(world.w / "run.sh", 0o644)
            must(run(["add", "."], world.w, env))  # stages the deletions too, as git add does
            must(run(["commit", "-m", "two"], world.w, env))
            cls._templates[cache] = root
        return cls._templates[cache]

    @classmethod
    def copy(cls, cache: Path, dest: Path, moto: Moto | None = None) -> World:
        template = cls.template(cache)
        subprocess.run(["cp", "-a", str(template), str(dest)], check=True)
        for config in dest.glob("*/.ama/config"):
            config.write_text(config.read_text().replace(str(template), str(dest)))
        return World(dest, moto)


def must(r: Run) -> Run:
    if r.rc != 0:
        raise RuntimeError(f"setup command failed (rc {r.rc}): {r.err.strip()}")
    return r


# (violation kind, pattern of its detail) -> the item of issue 8 that fixes it.
# Remove an entry when its fix has landed and the trials pass (they show as XPASS).
KNOWN_UNFIXED: list[tuple[str, str, str]] = [
]


def known_item(kind: str, detail: str) -> str | None:
    for k, pattern, item in KNOWN_UNFIXED:
        if k == kind and re.search(pattern, detail):
            return item
    return None


# -- results ------------------------------------------------------------------------------


@dataclass
class Trial:
    mode: str
    seed: int
    command: str
    how: str = ""  # crash: "t=0.123s" or "fp=after-seq:1"; corrupt: "<kind>/<mutation>"
    killed: bool = False
    note: str = ""  # what happened, for -v
    rc: int | None = None  # corrupt: the command's exit code (None: it hung)
    violations: list[tuple[str, str]] = field(default_factory=list)

    def add(self, kind: str, detail: str) -> None:
        self.violations.append((kind, detail))

    @property
    def unknown(self) -> list[tuple[str, str]]:
        """The violations no known, still unfixed defect explains."""
        return [(k, d) for k, d in self.violations if known_item(k, d) is None]

    @property
    def repro(self) -> str:
        return f".venv/bin/python scripts/fuzz.py --mode {self.mode} --seed {self.seed} --command {self.command} -v"


# -- crash trials --------------------------------------------------------------------------------


@dataclass
class CrashCase:
    """One command to kill: ``prepare`` builds the state before it (returns
    its work directory, the user's files there, the remote URL and env);
    ``expect`` is what the work tree holds after an uninterrupted run."""

    argv: list[str]
    prepare: Callable[[World, random.Random], tuple[Path, dict[str, bytes], str, dict[str, str]]]
    expect: Callable[[dict[str, bytes]], dict[str, bytes]]
    # Paths whose bytes a killed run may leave from either version.
    versions: tuple[dict[str, bytes], ...] = (V1, V2)
    cwd_is_parent: bool = False  # clone: the command runs beside the tree it makes
    # Instead of running the command again: another writer's next steps.
    other_writer: bool = False
    # A destination the command creates whole or not at all (get of a
    # directory): once it exists, running the command again nests a copy.
    creates: str = ""
    # run.sh is executable in version 1 only: whether it is afterwards.
    executable: bool = False


def _prep_add(world: World, rng: random.Random):
    edits = user_edits(rng)
    write_tree(world.w, edits)
    return world.w, edits, world.url, world.env()


def _prep_commit(world: World, rng: random.Random):
    w, edits, url, env = _prep_add(world, rng)
    must(run(["add", "."], w, env))
    return w, edits, url, env


def _prep_commit_s3(world: World, rng: random.Random):
    from remote_fixtures import new_bucket

    env = world.s3_env()
    url = f"s3://{new_bucket(env['AWS_ENDPOINT_URL_S3'])}/fuzz"
    w = world.base / "s3work"
    w.mkdir()
    must(run(["init", "--class", CLS, "--remote", url], w, env))
    write_tree(w, V1)
    must(run(["add", "."], w, env))
    edits = {}
    if rng.random() < 0.5:  # the second version rather than the first
        must(run(["commit", "-m", "one"], w, env))
        edits = user_edits(rng)
        write_tree(w, edits)
        must(run(["add", "."], w, env))
    return w, {**V1, **edits}, url, env


def _prep_checkout(world: World, rng: random.Random):
    mine = {"notes.txt": rng.randbytes(rng.randrange(0, 500))}
    write_tree(world.w, mine)
    return world.w, mine, world.url, world.env()


def _prep_clone(world: World, rng: random.Random):
    return world.base, {}, world.url, world.env()


def _prep_behind(world: World, rng: random.Random):
    mine = {"notes.txt": rng.randbytes(rng.randrange(0, 500))}
    write_tree(world.w1, mine)
    return world.w1, mine, world.url, world.env()


def _prep_gc(world: World, rng: random.Random):
    env = world.env()
    junk = world.base / "junk"
    write_tree(junk, {f"j{i}": rng.randbytes(rng.randrange(1, 50_000)) for i in range(rng.randrange(5, 40))})
    must(run(["hash-object", "-w", *sorted(str(p) for p in junk.iterdir())], world.w, env))
    shutil.rmtree(junk)
    return world.w, {}, world.url, env


def _prep_push(world: World, rng: random.Random):
    env = world.env()
    mirror = world.base / "mirror"
    must(run(["remote", "add", "mirror", str(mirror)], world.w, env))
    if rng.random() < 0.5:  # version 1 is there already
        must(run(["push", "--remote", "mirror", f"{CLS}/1/1"], world.w, env))
    return world.w, {}, str(mirror), env


def _prep_restore(world: World, rng: random.Random):
    w, mine, url, env = _prep_checkout(world, rng)
    for rel in [r for r in V2 if r.startswith("d1/")] + ["big.bin"]:
        (w / rel).unlink()
    return w, mine, url, env


def has_command(name: str) -> bool:
    """Whether the ama under test has this command (newer ones join as they land)."""
    from ama.cli import COMMANDS

    return name in COMMANDS


CRASH_CASES: dict[str, CrashCase] = {
    "add": CrashCase(["add", "."], _prep_add, lambda mine: {**V2, **mine}),
    "commit": CrashCase(["commit", "-m", "fuzz"], _prep_commit, lambda mine: {**V2, **mine}),
    "commit-s3": CrashCase(["commit", "-m", "fuzz"], _prep_commit_s3, lambda mine: mine),
    "checkout": CrashCase(["checkout", f"{CLS}/1/1"], _prep_checkout, lambda mine: {**V1, **mine}, executable=True),
    "clone": CrashCase(["clone", f"{CLS}/1", "c"], _prep_clone, lambda mine: dict(V2), cwd_is_parent=True),
    "commit-other": CrashCase(["commit", "-m", "fuzz"], _prep_commit, lambda mine: {**V2, **mine},
                              other_writer=True),
    "pull": CrashCase(["pull"], _prep_behind, lambda mine: {**V2, **mine}),
    "fetch": CrashCase(["fetch"], _prep_behind, lambda mine: {**V1, **mine}, executable=True),
    "gc": CrashCase(["gc"], _prep_gc, lambda mine: dict(V2)),
    "get": CrashCase(["get", "-f", "-o", "got.bin", f"{CLS}/1/1", "big.bin"], _prep_checkout,
                     lambda mine: {**V2, **mine, "got.bin": GOT["got.bin"]}, versions=(V1, V2, GOT)),
    "get-dir": CrashCase(["get", "-f", "-o", "g", f"{CLS}/1/1", "d1"], _prep_checkout,
                         lambda mine: {**V2, **mine, **{k: v for k, v in GOT.items() if k.startswith("g/")}},
                         versions=(V1, V2, GOT), creates="g"),
}
if has_command("push"):
    CRASH_CASES["push"] = CrashCase(["push", "--remote", "mirror", "--all"], _prep_push, lambda mine: dict(V2))
if has_command("restore"):
    CRASH_CASES["restore"] = CrashCase(["restore", "d1", "big.bin"], _prep_restore, lambda mine: {**V2, **mine})
if has_command("prune"):
    CRASH_CASES["prune"] = CrashCase(["prune"], _prep_checkout, lambda mine: {**V2, **mine})
if has_command("sparse"):
    CRASH_CASES["sparse"] = CrashCase(["sparse", "set", "d1/"], _prep_checkout,
                                      lambda mine: {**{k: v for k, v in V2.items() if k.startswith("d1/")}, **mine})


class Calibration:
    """Per process: how long each command takes uninterrupted, and which
    failpoints it passes (``name:k``)."""

    seconds: dict[str, float] = {}
    points: dict[str, list[str]] = {}


def _calibrate(command: str, cache: Path, moto: Moto | None) -> None:
    if command in Calibration.seconds:
        return
    case = CRASH_CASES[command]
    with tempfile.TemporaryDirectory(dir=cache) as tmp:
        world = World.copy(cache, Path(tmp) / "world", moto)
        cwd, _mine, url, env = case.prepare(world, random.Random(0))
        log = Path(tmp) / "failpoints"
        r = run(_argv(case, url), cwd, {**env, "AMA_FAILPOINT_LOG": str(log)})
        if r.rc != 0:
            raise RuntimeError(f"calibrating {command}: rc {r.rc}: {r.err.strip()}")
        Calibration.seconds[command] = r.seconds
        Calibration.points[command] = log.read_text().split() if log.exists() else []


def _argv(case: CrashCase, url: str) -> list[str]:
    argv = list(case.argv)
    if argv[0] == "clone":
        argv += ["--remote", url]
    return argv


def crash_trial(seed: int, cache: Path, moto: Moto | None = None, command: str | None = None,
                keep: bool = False) -> Trial:
    rng = random.Random(f"crash-{seed}")
    names = sorted(CRASH_CASES) if moto is not None else sorted(c for c in CRASH_CASES if not c.endswith("-s3"))
    pick = rng.choice(names)
    command = command or pick
    case = CRASH_CASES[command]
    _calibrate(command, cache, moto)
    trial = Trial("crash", seed, command)
    points = Calibration.points[command]
    tmp = Path(tempfile.mkdtemp(prefix=f"crash-{seed}-", dir=cache))
    try:
        world = World.copy(cache, tmp / "world", moto)
        cwd, mine, url, env = case.prepare(world, rng)
        argv = _argv(case, url)
        tree = cwd / "c" if case.cwd_is_parent else cwd
        if points and rng.random() < 0.4:
            name = rng.choice(sorted({p.rpartition(":")[0] for p in points}))
            point = rng.choice([p for p in points if p.rpartition(":")[0] == name])
            trial.how = f"fp={point}"
            r = run(argv, cwd, {**env, "AMA_FAILPOINT": point})
        else:
            delay = rng.uniform(0, 1.1 * Calibration.seconds[command])
            trial.how = f"t={delay:.3f}s"
            r = run(argv, cwd, env, kill_after=delay)
        trial.killed = r.rc == -signal.SIGKILL
        trial.note = f"exit {r.rc}"
        if r.rc is None:
            trial.add("hang", f"{command} did not finish in {TIMEOUT:.0f}s")
            return trial
        if not trial.killed and r.rc != 0:
            trial.add("exit", f"unkilled {command} exited {r.rc}: {r.line}")
        _check_after_kill(trial, tree, url, env, mine, case)
        if trial.killed and not case.other_writer and not case.creates and rng.random() < 0.2:
            # Killed again while recovering: the state must stay as good.
            delay = rng.uniform(0, Calibration.seconds[command])
            trial.how += f",t2={delay:.3f}s"
            if run(argv, cwd, env, kill_after=delay).rc == -signal.SIGKILL:
                _check_after_kill(trial, tree, url, env, mine, case)
        _recover(trial, case, argv, cwd, tree, url, env, mine)
        return trial
    finally:
        if keep and trial.violations:
            print(f"kept {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def _remote_problems(url: str, env: dict[str, str]) -> list[str]:
    view = view_of(url, env)
    try:
        return invariant1_problems(view) + remote_hash_problems(view)
    except Exception as e:  # noqa: BLE001 - a record that does not parse is a finding
        return [f"remote unreadable: {type(e).__name__}: {e}"]


def _ama_dir(tree: Path) -> list[str]:
    if not (tree / ".ama").is_dir():
        return []
    problems = ama_dir_problems(tree)
    objects = tree / ".ama" / "objects"
    for obj in objects.glob("??/*") if objects.is_dir() else ():
        if is_temp(obj.name) or not obj.is_file():
            continue  # temporary files in the store are gc's to remove, and status never shows them
        if blake3.blake3(obj.read_bytes()).hexdigest() != obj.parent.name + obj.name:
            problems.append(f"local object {obj.parent.name + obj.name} does not hash to its name")
    for name in ("CHECKOUT", "INPUTS", "txn.lock"):
        path = tree / ".ama" / name
        if path.exists() and not path.is_file():
            problems.append(f".ama/{name} is not a file")
    return problems


def _check_after_kill(trial: Trial, tree: Path, url: str, env: dict[str, str], mine: dict[str, bytes],
                      case: CrashCase) -> None:
    for p in _ama_dir(tree):
        trial.add("ama-dir", p)
    for p in _remote_problems(url, env):
        trial.add("remote-invariant", p)
    for rel, data in (work_files(tree) if tree.is_dir() else {}).items():
        if under_temp(rel):
            continue
        allowed = {v[rel] for v in (*case.versions, mine) if rel in v}
        if data not in allowed:
            trial.add("torn-file", f"{rel}: {len(data)} bytes that are no version's and not the user's")


_MANUAL = re.compile(r"\bremove\b.*\b(file|lock|by hand)\b|\bby hand\b|\brm '", re.I)


def _recover(trial: Trial, case: CrashCase, argv: list[str], cwd: Path, tree: Path, url: str,
             env: dict[str, str], mine: dict[str, bytes]) -> None:
    if case.other_writer:
        _other_writer(trial, tree.parent / "w1", url, env)
        return
    if (case.cwd_is_parent and not trial.killed) or (case.creates and (tree / case.creates).exists()):
        again = Run(0, "", "", 0.0)  # it finished: running it again must refuse, or nest a copy
    else:
        again = run(argv, cwd, env)
    if again.rc is None:
        trial.add("hang", f"re-run {' '.join(argv)} did not finish")
        return
    if again.rc != 0:
        kind = "stale-lock" if again.rc == 5 else "manual-step" if _MANUAL.search(again.err) else "recovery"
        trial.add(kind, f"re-run exited {again.rc}: {again.line}")
        if not (tree / ".ama").is_dir() and tree.is_dir():
            trial.add("lost-ama", f"{tree.name}/.ama is gone after the re-run failed")
        return
    for p in _ama_dir(tree):
        trial.add("ama-dir", f"after re-run: {p}")
    for p in _remote_problems(url, env):
        trial.add("remote-invariant", f"after re-run: {p}")
    want = case.expect(mine)
    have = work_files(tree)
    for rel in sorted(set(want) | set(have)):
        if under_temp(rel):
            continue
        if have.get(rel) != want.get(rel):
            what = "missing" if rel not in have else "not expected" if rel not in want else "wrong bytes"
            trial.add("final-tree", f"after re-run: {rel}: {what}")
    if (tree / "run.sh").is_file() and bool(os.stat(tree / "run.sh").st_mode & 0o100) != case.executable:
        trial.add("final-tree", f"after re-run: run.sh: exec bit {'missing' if case.executable else 'kept'}")
    status = run(["status", "--porcelain"], tree, env)
    if status.rc != 0:
        trial.add("recovery", f"status after re-run exited {status.rc}: {status.line}")
        return
    leftovers = [line[3:] for line in status.out.splitlines()
                 if line.startswith("??") and under_temp(line[3:])]
    if leftovers:
        trial.add("leftover", f"status shows {', '.join(leftovers[:3])}")
    if trial.command.startswith("commit") and not url.startswith("s3://"):
        # Lock files stay (flock: not held once their owner died); temporary files must go.
        strays = [str(p.relative_to(url)) for p in Path(url).rglob("*") if is_temp(p.name)]
        if strays:
            trial.add("remote-leftover", f"after re-run: {', '.join(strays[:3])}")


def _other_writer(trial: Trial, w1: Path, url: str, env: dict[str, str]) -> None:
    """A second work tree of the asset pulls and commits: a killed commit
    elsewhere must not block it (HEAD rolls forward, issue 8.6)."""
    write_tree(w1, {"other.bin": b"another writer"})
    for argv in (["pull"], ["add", "other.bin"], ["commit", "-m", "other writer"]):
        r = run(argv, w1, env)
        if r.rc == 8 and "reserved by an unfinished commit" in r.err:
            break  # by design (docs/commit-protocol.md): the reservation's owner finishes or gc expires it
        if r.rc != 0:
            kind = "stale-lock" if r.rc == 5 else "manual-step" if _MANUAL.search(r.err) else "blocked-writer"
            trial.add(kind, f"other writer: {' '.join(argv)} exited {r.rc}: {r.line}")
            return
    for p in _remote_problems(url, env):
        trial.add("remote-invariant", f"after the other writer: {p}")
    w = w1.parent / "w"
    r = run(["commit", "-m", "fuzz"], w, env)
    if r.rc != 0 and not (r.rc == 8 and "pull" in r.err):
        trial.add("recovery", f"the killed writer's next commit exited {r.rc}: {r.line}")


# -- corruption trials ----------------------------------------------------------------------------


MUTATIONS = ["flip", "truncate", "empty", "garbage", "json-drop", "json-extra", "json-type", "directory", "fifo"]


def _kind_of(rel: str, remote: bool) -> str:
    """What sort of file a path is, for the table: "local:index", "remote:version"."""
    parts = rel.split("/")
    if remote:
        if parts[0] == "objects":
            return "remote:object"
        if parts[-1] == "HEAD":
            return "remote:HEAD"
        if parts[-1] == "asset.json":
            return "remote:asset.json"
        if len(parts) > 1 and parts[-2] == "versions":
            return "remote:version"
        return "remote:" + parts[0]
    if rel == ".ama-asset":
        return "local:.ama-asset"
    parts = parts[1:]  # below .ama/
    if parts[0] in ("objects", "refs", "logs"):
        return "local:" + parts[0]
    return "local:" + parts[0]


def _targets(root: Path, remote: bool) -> dict[str, list[Path]]:
    by_kind: dict[str, list[Path]] = {}
    base = root if remote else root / ".ama"
    if not base.is_dir():
        return by_kind
    for dirpath, _dirs, files in os.walk(base):
        for name in files:
            full = Path(dirpath) / name
            if is_temp(name) or name.endswith(".lock"):
                continue
            rel = str(full.relative_to(root))
            by_kind.setdefault(_kind_of(rel, remote), []).append(full)
    if not remote and (root / ".ama-asset").exists():
        by_kind["local:.ama-asset"] = [root / ".ama-asset"]
    return by_kind


def _mutate(path: Path, mutation: str, rng: random.Random) -> str:
    """Damage ``path``; return what was done (or "" if it does not apply)."""
    data = path.read_bytes()
    new: bytes | None = None
    if mutation == "inplace":  # a user's edit through the file's hardlink into the store
        i = rng.randrange(len(data))
        with open(path, "r+b") as f:
            f.seek(i)
            f.write(bytes([data[i] ^ 0xFF]))
        return f"edit of byte {i} in place"
    if mutation == "flip":
        if not data:
            return ""
        i = rng.randrange(len(data))
        new = data[:i] + bytes([data[i] ^ (1 << rng.randrange(8))]) + data[i + 1:]
    elif mutation == "truncate":
        if not data:
            return ""
        new = data[: rng.randrange(len(data))]
    elif mutation == "empty":
        new = b""
    elif mutation == "garbage":
        new = rng.choice([rng.randbytes(rng.randrange(1, 200)), b"\xff\xfe\x00garbage\n", b"{", b"null",
                          b"[]", b"\n" * 3])
    elif mutation.startswith("json-"):
        try:
            record = json.loads(data)
        except (ValueError, UnicodeDecodeError):
            return ""
        if not isinstance(record, dict) or not record:
            return ""
        key = rng.choice(sorted(record))
        if mutation == "json-drop":
            del record[key]
        elif mutation == "json-extra":
            record[f"x{rng.randrange(100)}"] = rng.choice([1, "x", None, [1], {"a": 1}])
        else:
            old = record[key]
            record[key] = rng.choice([v for v in (None, 7, -1, "seven", [], {}, True, 1e300, "\udcff"[:0] + "é")
                                      if v != old and type(v) is not type(old)])
        new = json.dumps(record, indent=1).encode()
    if new is not None:
        mode = stat.S_IMODE(path.stat().st_mode)
        path.unlink()  # a new inode: the work-tree file a hardlink shares stays as it was
        path.write_bytes(new)
        os.chmod(path, mode)
        return f"{mutation} {len(data)}->{len(new)} bytes"
    path.unlink()
    if mutation == "directory":
        path.mkdir()
        (path / "x").write_bytes(b"x")
        return "replaced by a directory"
    os.mkfifo(path)
    return "replaced by a FIFO"


@dataclass
class CorruptCase:
    argv: list[str]
    where: str  # "w", "w1" or "base" (clone)
    # After exit 0, the files the work tree must hold (None: not checked).
    expect: dict[str, bytes] | None = None
    prepare: str = ""  # before the damage: "edit", "stage" (edit and add), "delete" (what it produces)
    # After exit 0: files the command wrote beside the work tree's own, or its stdout.
    produces: dict[str, bytes] | None = None
    stdout: bytes | None = None
    # May a tracked work-tree file be edited in place (through its hardlink
    # into the store)? Not for a checkout that may carry the edit over.
    inplace: bool = True


CORRUPT_CASES: dict[str, CorruptCase] = {
    "status": CorruptCase(["status", "--porcelain"], "w"),
    "add": CorruptCase(["add", "."], "w", prepare="edit"),
    "commit": CorruptCase(["commit", "-m", "fuzz"], "w", prepare="stage"),
    "checkout": CorruptCase(["checkout", f"{CLS}/1/1"], "w", expect=V1, inplace=False),
    "checkout-f": CorruptCase(["checkout", "-f", f"{CLS}/1/1"], "w", expect=V1),
    "checkout-f-head": CorruptCase(["checkout", "-f", f"{CLS}/1/2"], "w", expect=V2),
    "clone": CorruptCase(["clone", f"{CLS}/1", "c"], "base", expect=V2),
    "log": CorruptCase(["log"], "w"),
    "versions": CorruptCase(["versions"], "w"),
    "show": CorruptCase(["show", f"{CLS}/1/1"], "w"),
    "diff": CorruptCase(["diff", f"{CLS}/1/1", f"{CLS}/1/2"], "w"),
    "fsck": CorruptCase(["fsck"], "w"),
    "ls-remote": CorruptCase(["ls-remote", CLS], "w"),
    "fetch": CorruptCase(["fetch"], "w1"),
    "pull": CorruptCase(["pull"], "w1", expect=V2, inplace=False),
    "gc": CorruptCase(["gc"], "w"),
    "stat-check": CorruptCase(["stat-check"], "w"),
    "ls": CorruptCase(["ls", "-r", "-l", f"{CLS}/1/1"], "w"),
    "cat": CorruptCase(["cat", f"{CLS}/1/1", "d1/f17.bin"], "w", stdout=V1["d1/f17.bin"]),
    "get": CorruptCase(["get", "-o", "got.bin", f"{CLS}/1/1", "big.bin"], "w", produces={"got.bin": GOT["got.bin"]}),
    "get-dir": CorruptCase(["get", "-o", "g", f"{CLS}/1/1", "d1"], "w",
                           produces={k: v for k, v in GOT.items() if k.startswith("g/")}),
}
if has_command("restore"):
    CORRUPT_CASES["restore"] = CorruptCase(["restore", "d1"], "w", prepare="delete",
                                           produces={rel: data for rel, data in V2.items() if rel.startswith("d1/")})
if has_command("du"):
    CORRUPT_CASES["du"] = CorruptCase(["du"], "w")
if has_command("prune"):
    CORRUPT_CASES["prune"] = CorruptCase(["prune"], "w")
if has_command("push"):
    CORRUPT_CASES["fsck-remote"] = CorruptCase(["fsck", "--remote", "origin", "--full"], "w")


def corrupt_trial(seed: int, cache: Path, command: str | None = None, keep: bool = False) -> Trial:
    rng = random.Random(f"corrupt-{seed}")
    pick = rng.choice(sorted(CORRUPT_CASES))
    command = command or pick
    case = CORRUPT_CASES[command]
    trial = Trial("corrupt", seed, command)
    tmp = Path(tempfile.mkdtemp(prefix=f"corrupt-{seed}-", dir=cache))
    try:
        world = World.copy(cache, tmp / "world")
        env = world.env()
        cwd = {"w": world.w, "w1": world.w1, "base": world.base}[case.where]
        if case.prepare == "delete":
            for rel in case.produces or {}:
                (world.w / rel).unlink()
        elif case.prepare:
            edits = {"d0/f00.bin": rng.randbytes(100), "user/new.bin": rng.randbytes(rng.randrange(1, 5000))}
            write_tree(world.w, edits)
            if case.prepare == "stage":
                must(run(["add", "."], world.w, env))
        if rng.random() < 0.2 and case.where == "w":
            # An interrupted commit: PENDING and a reservation to damage.
            write_tree(world.w, {"pending.bin": rng.randbytes(2000)})
            must(run(["add", "pending.bin"], world.w, env))
            point = rng.choice(["after-pending", "after-reserve", "after-contents", "after-version"])
            run(["commit", "-m", "pending"], world.w, {**env, "AMA_FAILPOINT": point})
        local = {} if case.where == "base" else _targets(cwd, remote=False)
        if case.inplace and case.where != "base":
            version = V2 if case.where == "w" else V1
            local["work:inplace"] = [cwd / rel for rel in sorted(version)
                                     if version[rel] and rel != "big.bin" and (cwd / rel).is_file()]
        remote = _targets(world.remote, remote=True)
        kinds = sorted(local) + sorted(remote)
        kind = rng.choice(kinds)
        path = rng.choice(sorted((local | remote)[kind]))
        mutations = [m for m in MUTATIONS if m != "fifo" or kind.startswith("remote:")]
        if kind == "work:inplace":
            mutations = ["inplace"]
        done = ""
        while not done:
            mutation = rng.choice(mutations)
            done = _mutate(path, mutation, rng)
        where = path.relative_to(world.base)
        trial.how = f"{kind}/{mutation}"
        trial.killed = False
        before = work_files(cwd) if case.where != "base" else {}
        r = run(case.argv + (["--remote", world.url] if command == "clone" else []), cwd, env, timeout=20)
        what = f"{' '.join(case.argv)} after {done} of {where}"
        trial.note = f"{what}: exit {r.rc} {r.line}"
        trial.rc = r.rc
        if r.rc is None:
            trial.add("hang", what)
            return trial
        if r.rc < 0:
            trial.add("signal", f"{what}: killed by signal {-r.rc}")
        elif r.rc == 70:
            trial.add("exit70", f"{what}: {r.line}")
        elif r.rc not in DOCUMENTED:
            trial.add("exit-code", f"{what}: exit {r.rc}: {r.line}")
        elif r.rc >= 2:
            lines = r.err.splitlines()
            if len(lines) != 1 or not lines[0].startswith("ama ") or "Traceback" in r.err:
                trial.add("error-format", f"{what}: exit {r.rc}, stderr {r.err[:160]!r}")
        if r.rc == 0 and case.expect is not None:
            tree = world.base / "c" if command == "clone" else cwd
            have = work_files(tree)
            mine = {rel: data for rel, data in before.items() if rel not in V1 and rel not in V2}
            want = {**case.expect, **mine}
            # --force may drop the user's staged files; it may not change their bytes.
            forced = "-f" in case.argv
            wrong = [rel for rel in sorted(set(want) | set(have))
                     if not under_temp(rel) and have.get(rel) != want.get(rel)
                     and not (forced and rel in mine and rel not in have)]
            if wrong:
                trial.add("wrong-bytes", f"{what}: exit 0 but {len(wrong)} path(s) wrong, e.g. {wrong[0]}")
        if r.rc == 0 and case.stdout is not None and r.raw != case.stdout:
            trial.add("wrong-bytes", f"{what}: exit 0 but {len(r.raw)} bytes on stdout that are not the file's")
        if r.rc == 0 and case.produces is not None:
            have = work_files(cwd)
            wrong = [rel for rel, data in case.produces.items() if have.get(rel) != data]
            if wrong:
                trial.add("wrong-bytes", f"{what}: exit 0 but {len(wrong)} file(s) written wrong, e.g. {wrong[0]}")
        if r.rc == 0 and command == "fsck-remote" and kind == "remote:object" and path.is_file():
            trial.add("silent", f"{what}: fsck --remote --full exit 0")
        if r.rc == 0 and command == "fsck" and kind == "local:objects" and path.is_file():
            trial.add("silent", f"{what}: fsck exit 0")
        if kind == "work:inplace":
            rel = str(path.relative_to(cwd))
            if command == "status" and r.rc == 0 and rel not in r.out:
                trial.add("silent", f"{what}: status does not show {rel}")
            if command == "stat-check" and r.rc == 0:
                trial.add("silent", f"{what}: stat-check exit 0")
        return trial
    finally:
        if keep and trial.violations:
            print(f"kept {tmp}", file=sys.stderr)
        else:
            for dirpath, dirs, _files in os.walk(tmp):
                for d in dirs:
                    os.chmod(os.path.join(dirpath, d), 0o755)
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__" and sys.argv[1:] == ["moto"]:
    _serve_moto()
