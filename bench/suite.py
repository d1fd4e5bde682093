"""What is measured: every operation as a small spec, and the rows comparing them.

An `Op` is one tool doing one thing on one data set (`timing.Op`); a `Row` puts an
ama op beside a peer op and says which target from docs/design.md applies.  Each tool
works on its own copy of a data set (`work/<case>/<tool>/data`), so nothing one
tool writes (hardlinks, caches, symlinks) can change what another sees.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import sys
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import data
from moto_s3 import BUCKET, client_env, s3_server
from timing import Command, CommandFailed, Op, Skipped, fresh_dir, sh

REPO = Path(__file__).resolve().parent.parent
PEERS = REPO / "bench" / ".peers"


@dataclass(frozen=True)
class Scale:
    name: str
    big_mib: int
    small_count: int
    small_dirs: int
    annex_count: int
    edits: int
    push_count: int
    push_big_mib: int
    memory_entries: int
    status_counts: tuple[int, ...]  # more tree sizes for the status rows (1M: the memory set)
    real_exclude: tuple[str, ...]
    extended: bool  # also the rows that only say something at full size
    repeat: int
    startup_repeat: int
    slow_repeat: int


# The full run uses the data sets the issue names.  The quick one (a few minutes) shrinks
# every set, leaves the test suite and site-packages out of the real tree, makes fewer runs
# of the slow operations, and drops the rows that need size to mean anything (adding the
# real tree, dvc on it, everything at 1M entries: status, its peak memory, add).
FULL = Scale(
    name="full",
    big_mib=1024,
    small_count=100_000,
    small_dirs=1000,
    annex_count=2_000,
    edits=100,
    push_count=1000,
    push_big_mib=256,
    memory_entries=1_000_000,
    status_counts=(20_000,),
    real_exclude=(),
    extended=True,
    repeat=5,
    startup_repeat=20,
    slow_repeat=3,
)
QUICK = Scale(
    name="quick",
    big_mib=128,
    small_count=2_000,
    small_dirs=20,
    annex_count=100,
    edits=100,
    push_count=50,
    push_big_mib=8,
    memory_entries=0,
    status_counts=(),
    real_exclude=("site-packages", "test"),
    extended=False,
    repeat=3,
    startup_repeat=10,
    slow_repeat=2,
)


@dataclass(frozen=True)
class Target:
    """A row's goal: ama/peer at most `max_ratio`, and/or ama's own value at most
    `limit` (seconds for time rows, KiB for memory rows; issue 9's absolute goals)."""

    max_ratio: float | None
    text: str
    limit: float | None = None


@dataclass(frozen=True)
class Row:
    groups: tuple[str, ...]
    operation: str
    ama: str
    peer: str
    target: Target | None = None
    metric: str = "time"


class Bench:
    """Paths, tools, environments and the data sets of one run."""

    def __init__(self, scale: Scale, root: Path, tools: set[str] | None):
        self.scale = scale
        self.root = root
        self.work = root / "work"
        self.sets = root / "sets"
        self.tools_selected = tools
        self.venv_python = Path(os.environ.get("AMA_BENCH_VENV_PYTHON", REPO / ".venv" / "bin" / "python"))
        self.ama = Path(os.environ.get("AMA", REPO / ".venv" / "bin" / "ama"))
        self.moto = s3_server(self.venv_python, root / "moto.log")
        self.endpoint = ""
        self.b3sum_digest: str | None = None
        self.notes: list[str] = []
        # work roots whose repository holds all of data/, unedited: "added" or "committed"
        self.state: dict[Path, str] = {}
        self.env = self._base_env()

    # --- tools ------------------------------------------------------------------

    def _base_env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            {
                "GIT_AUTHOR_NAME": "bench",
                "GIT_AUTHOR_EMAIL": "bench@example.invalid",
                "GIT_COMMITTER_NAME": "bench",
                "GIT_COMMITTER_EMAIL": "bench@example.invalid",
                "GIT_CONFIG_GLOBAL": "/dev/null",
                "GIT_CONFIG_NOSYSTEM": "1",
                "GIT_CEILING_DIRECTORIES": str(self.root),
                "AMA_AUTHOR_NAME": "bench",
                "AMA_AUTHOR_EMAIL": "bench@example.invalid",
                "DVC_NO_ANALYTICS": "1",
                "DVC_STUDIO_OFFLINE": "1",
                "DVC_UPDATER_ENDPOINT": "http://127.0.0.1:9/",
                "DVC_GLOBAL_CONFIG_DIR": str(self._dvc_global_config()),
                "DVC_SYSTEM_CONFIG_DIR": str(self._dvc_global_config()),
                "LC_ALL": "C.UTF-8",
            }
        )
        env.update(client_env("http://127.0.0.1:9", self._empty_aws_config()))
        # Python tools run as users run them: with their bytecode cached (the warm-up run
        # writes it), not compiled from source every time.
        for var in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "PYTHONDONTWRITEBYTECODE"):
            env.pop(var, None)
        return env

    def _empty_aws_config(self) -> Path:
        path = PEERS / "aws-config-empty"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("")
        return path

    def _dvc_global_config(self) -> Path:
        path = PEERS / "dvc-config"
        path.mkdir(parents=True, exist_ok=True)
        (path / "config").write_text("[core]\n    analytics = false\n    check_update = false\n")
        return path

    def which(self, tool: str) -> str | None:
        candidates = {
            "ama": [self.ama],
            "python": [self.venv_python],
            "dvc": [PEERS / "venv" / "bin" / "dvc"],
            "aws": [PEERS / "venv" / "bin" / "aws", shutil.which("aws")],
        }.get(tool, [shutil.which(tool)])
        for c in candidates:
            if c and os.access(c, os.X_OK):
                return str(c)
        return None

    def missing(self, tool: str) -> str | None:
        """Why `tool` cannot run here, or None when it can."""
        if self.tools_selected is not None and tool not in self.tools_selected:
            return "not selected (--tools)"
        if self.which(tool):
            return None
        if tool == "ama":
            return f"{self.ama} not found (run make install)"
        return _peer_status(tool) or f"{tool} not found (run bench/setup_peers.sh)"

    def exe(self, tool: str) -> str:
        path = self.which(tool)
        if not path:
            raise Skipped(self.missing(tool) or tool)
        return path

    def cmd(self, tool: str, *args: str, cwd: Path, ok: tuple[int, ...] = (0,)) -> Command:
        return Command([self.exe(tool), *args], cwd, self.env, ok)

    def run(self, tool: str, *args: str, cwd: Path) -> str:
        return sh([self.exe(tool), *args], cwd, self.env)

    def dvc_env(self, site: Path) -> dict[str, str]:
        return {**self.env, "DVC_SITE_CACHE_DIR": str(site)}

    # --- data sets (generated on first use) ---------------------------------------

    def _made(self, what: str, fn, *args):
        print(f"  preparing data set: {what} ...", file=sys.stderr, flush=True)
        return fn(*args)

    @functools.cached_property
    def big(self) -> Path:
        return self._made(f"one {self.scale.big_mib} MiB file", data.big_file, self.sets, self.scale.big_mib)

    @functools.cached_property
    def small(self) -> Path:
        s = self.scale
        return self._made(
            f"{s.small_count:,} files of 1-4 KiB in {s.small_dirs:,} directories",
            data.small_files,
            self.sets,
            s.small_count,
            s.small_dirs,
        )

    @functools.cached_property
    def annex_subset(self) -> Path:
        subset = self.sets / f"small-subset-{self.scale.annex_count}"
        if not subset.exists():
            files = sorted(p for p in self.small.rglob("*") if p.is_file())[: self.scale.annex_count]
            tmp = self.sets / (subset.name + ".tmp")
            shutil.rmtree(tmp, ignore_errors=True)
            for f in files:
                dest = tmp / f.relative_to(self.small)
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(f, dest)
            tmp.rename(subset)
        return subset

    @functools.cached_property
    def real(self) -> Path:
        ex = self.scale.real_exclude
        what = f"copy of {data.stdlib_dir()}" + (f" without {', '.join(ex)}" if ex else "")
        return self._made(what, data.real_tree, self.sets, ex)

    @functools.cached_property
    def push_set(self) -> Path:
        s = self.scale
        return self._made(
            f"{s.push_count:,} small files + one {s.push_big_mib} MiB file",
            data.push_set,
            self.sets,
            self.small,
            s.push_count,
            s.push_big_mib,
        )

    @functools.cached_property
    def memory_set(self) -> Path:
        n = self.scale.memory_entries
        if not n:
            return self.small
        return self._made(f"{n:,} files of a few bytes", data.tiny_files, self.sets, n, 1000)

    def status_set(self, count: int) -> Path:
        """`count` small files, 100 to a directory, for the status rows by size."""
        return self._made(f"{count:,} files of 1-4 KiB", data.small_files, self.sets, count, max(1, count // 100))

    def memory_entries(self) -> int:
        return self.scale.memory_entries or self.scale.small_count

    # --- work trees -------------------------------------------------------------

    def tree(self, case: str, tool: str, src: Path, name: str = "data") -> Path:
        """The work root `work/<case>/<tool>`, holding a pristine copy of `src`.

        A stamp beside it names the source it was copied from; a missing or different
        stamp (edited by a benchmark, or copied from another scale's set) means copy again.
        """
        root = self.work / case / tool
        stamp = self._stamp(case, tool)
        target = root / name
        if not target.exists() or not stamp.exists() or stamp.read_text() != str(src):
            self.state.pop(root, None)
            stamp.unlink(missing_ok=True)
            if root.exists():
                shutil.rmtree(root)
            root.mkdir(parents=True)
            print(f"  copying {src.name} -> work/{case}/{tool}", file=sys.stderr, flush=True)
            if src.is_dir():
                data.copy_tree(src, target)
            else:
                shutil.copy2(src, target)
            stamp.write_text(str(src))
        return root

    def _stamp(self, case: str, tool: str) -> Path:
        return self.work / case / f"{tool}.copied-from"

    def mark_dirty(self, case: str, tool: str) -> None:
        self.state.pop(self.work / case / tool, None)
        self._stamp(case, tool).unlink(missing_ok=True)

    def fresh_repo(self, tool: str, root: Path, remote: str | None = None) -> None:
        """Remove `tool`'s metadata from `root` and initialise it again (untimed)."""
        self.state.pop(root, None)
        for name in (".ama", ".ama-asset", ".git", ".dvc", ".dvcignore", "data.dvc", "big.bin.dvc", ".gitignore"):
            p = root / name
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p)
            elif p.exists():
                p.unlink()
        if tool == "ama":
            if remote is None:  # a directory remote of its own, never the user's default store
                local = self.root / "remotes" / "-".join(root.relative_to(self.work).parts)
                shutil.rmtree(local, ignore_errors=True)
                remote = str(local)
            self.run("ama", "init", "--class", "bench", "--remote", remote, cwd=root)
        elif tool == "git":
            self.run("git", "init", "-q", cwd=root)
        elif tool == "annex":
            self.run("git", "init", "-q", cwd=root)
            self.run("git-annex", "init", "bench", cwd=root)
        elif tool == "dvc":
            site = self.dvc_site(root)
            shutil.rmtree(site, ignore_errors=True)
            sh([self.exe("dvc"), "init", "--no-scm", "-q"], root, self.dvc_env(site))

    def dvc_site(self, root: Path) -> Path:
        return root.parent / (root.name + "-dvc-site")

    def dvc(self, root: Path, *args: str, ok: tuple[int, ...] = (0,)) -> Command:
        return Command([self.exe("dvc"), *args], root, self.dvc_env(self.dvc_site(root)), ok)

    # --- S3 ----------------------------------------------------------------------

    def s3(self) -> str:
        """Start moto on first use and point every client at it."""
        if self.endpoint:
            return self.endpoint
        if self.moto.name != "moto":
            self.endpoint = self.moto.start()
            self.env.update(client_env(self.endpoint, self._empty_aws_config(), self.moto.keys))
            return self.endpoint
        probe = (
            sh([str(self.venv_python), "-c", "import moto.server"], REPO, timeout=120)
            if self.venv_python.exists()
            else None
        )
        if probe is None:
            raise Skipped("no project venv to run moto's server")
        try:
            self.endpoint = self.moto.start()
        except RuntimeError as exc:
            raise Skipped(str(exc)) from exc
        self.env.update(client_env(self.endpoint, self._empty_aws_config(), self.moto.keys))
        return self.endpoint

    def s3_count(self, prefix: str) -> tuple[int, int]:
        """(objects, bytes) under `prefix` in the bench bucket, by ListObjectsV2."""
        if self.moto.name != "moto":
            return self.moto.count(prefix)
        count = size = 0
        token = ""
        ns = "{http://s3.amazonaws.com/doc/2006-03-01/}"
        while True:
            url = f"{self.endpoint}/{BUCKET}?list-type=2&prefix={prefix}"
            if token:
                url += "&continuation-token=" + urllib.request.quote(token, safe="")
            with urllib.request.urlopen(url, timeout=60) as r:
                tree = ET.fromstring(r.read())
            for c in tree.iter(ns + "Contents"):
                count += 1
                size += int(c.findtext(ns + "Size") or 0)
            token = tree.findtext(ns + "NextContinuationToken") or ""
            if not token:
                return count, size


def _peer_status(tool: str) -> str | None:
    status = PEERS / "status.txt"
    if not status.exists():
        return None
    names = {"annex": "git-annex", "git-annex": "git-annex", "aws": "awscli"}
    for line in status.read_text().splitlines():
        parts = line.split(None, 2)
        if len(parts) == 3 and parts[0] == "skipped" and parts[1] == names.get(tool, tool):
            return parts[2]
    return None


def count_files(path: Path, skip: str = ".ama") -> tuple[int, int]:
    files = size = 0
    for dirpath, dnames, fnames in os.walk(path):
        if skip in dnames:
            dnames.remove(skip)
        for f in fnames:
            files += 1
            size += os.lstat(os.path.join(dirpath, f)).st_size
    return files, size


def _hex_check(ctx: Bench):
    def check(stdout: str) -> str | None:
        m = re.search(r"\b[0-9a-f]{64}\b", stdout)
        if not m:
            return f"no 64-hex id in output: {stdout.strip()[:80]!r}"
        if ctx.b3sum_digest and m.group(0) != ctx.b3sum_digest:
            return f"id {m.group(0)[:12]}... differs from b3sum's {ctx.b3sum_digest[:12]}..."
        return None

    return check


def _remember_b3sum(ctx: Bench):
    def check(stdout: str) -> str | None:
        ctx.b3sum_digest = stdout.split()[0] if stdout.split() else None
        return None

    return check


def build(ctx: Bench) -> tuple[list[Row], dict[str, Op]]:
    """All rows and ops, in the order they run."""
    s = ctx.scale
    ops: dict[str, Op] = {}

    def op(o: Op) -> str:
        ops[o.key] = o
        return o.key

    # --- hash one large file ---------------------------------------------------
    def hasher(tool: str, check=None) -> str:
        return op(
            Op(
                f"hash/{tool}",
                tool,
                f"{tool} FILE",
                lambda: ctx.cmd(tool, str(ctx.big), cwd=ctx.root),
                check=check,
            )
        )

    b3 = hasher("b3sum", _remember_b3sum(ctx))
    md5 = hasher("md5sum")
    sha = hasher("sha256sum")
    ama_hash = op(
        Op(
            "hash/ama",
            "ama",
            "ama hash-object FILE",
            lambda: ctx.cmd("ama", "hash-object", str(ctx.big), cwd=ctx.root),
            check=_hex_check(ctx),
        )
    )

    def add_big(tool: str) -> str:
        root = ctx.work / "big" / tool

        def setup() -> None:
            ctx.tree("big", tool, ctx.big, name="big.bin")

        argv = {"ama": ("add", "big.bin"), "dvc": ("add", "-q", "big.bin")}[tool]
        return op(
            Op(
                f"add-big/{tool}",
                tool,
                f"{tool} add FILE",
                (lambda: ctx.dvc(root, *argv)) if tool == "dvc" else (lambda: ctx.cmd(tool, *argv, cwd=root)),
                setup=setup,
                before_each=lambda: ctx.fresh_repo(tool, root),
            )
        )

    ama_add_big = add_big("ama")
    dvc_add_big = add_big("dvc")

    # --- add many files ----------------------------------------------------------
    add_argv = {
        "ama": ("add", "data"),
        "git": ("add", "-A"),
        "dvc": ("add", "-q", "data"),
        "annex": ("annex", "add", "--quiet", "data"),
    }

    def adder(case: str, tool: str, src_attr: str, repeat: int | None = None, rss: bool = False) -> str:
        root = ctx.work / case / tool
        argv = add_argv[tool]
        exe = {"annex": "git"}.get(tool, tool)

        def setup() -> None:
            ctx.tree(case, tool, getattr(ctx, src_attr))

        def before_each() -> None:
            if tool == "annex":  # annex replaces files by symlinks: start from a pristine copy
                ctx.mark_dirty(case, tool)
                ctx.tree(case, tool, getattr(ctx, src_attr))
            ctx.fresh_repo(tool, root)

        def command() -> Command:
            if tool == "dvc":
                return ctx.dvc(root, *argv)
            if tool == "annex":
                ctx.exe("git-annex")
            return ctx.cmd(exe, *argv, cwd=root)

        label = {"annex": "git annex add"}.get(tool, f"{tool} {' '.join(a for a in argv if a != '-q')}")
        return op(
            Op(
                f"add-{case}/{tool}",
                "git-annex" if tool == "annex" else tool,
                label,
                command,
                setup=setup,
                before_each=before_each,
                after_each=lambda: ctx.state.__setitem__(root, "added"),
                repeat=repeat,
                rss=rss,
            )
        )

    ama_add_small = adder("small", "ama", "small")
    git_add_small = adder("small", "git", "small")
    dvc_add_small = adder("small", "dvc", "small", repeat=s.slow_repeat)
    ama_add_subset = adder("subset", "ama", "annex_subset")
    annex_add_subset = adder("subset", "annex", "annex_subset", repeat=s.slow_repeat)
    ama_add_real = adder("real", "ama", "real")
    git_add_real = adder("real", "git", "real")
    dvc_add_real = adder("real", "dvc", "real", repeat=s.slow_repeat)
    # 1M small files (the memory set, full run only), time and peak memory from the same
    # runs; the trees they leave added are the ones the 1M status rows then commit.
    ama_add_million = adder("memory", "ama", "memory_set", repeat=s.slow_repeat, rss=True)
    git_add_million = adder("memory", "git", "memory_set", repeat=s.slow_repeat, rss=True)

    # --- unstage and commit many files (issue 9) -------------------------------------
    rm_argv = {"ama": ("rm", "-r", "-q", "--cached", "data"), "git": ("rm", "-r", "-q", "--cached", "data")}

    def staged(tool: str) -> tuple[Path, Callable[[], None], Callable[[], None]]:
        """The small files freshly staged by `tool` before each run (untimed)."""
        root = ctx.work / "small" / tool

        def setup() -> None:
            ctx.tree("small", tool, ctx.small)

        def before_each() -> None:
            ctx.fresh_repo(tool, root)
            ctx.run(tool, *add_argv[tool], cwd=root)

        return root, setup, before_each

    def remover(tool: str) -> str:
        """rm -r --cached of every staged file: the index work alone (the files stay, so
        no run has to copy them back), the same for ama and git."""
        root, setup, before_each = staged(tool)

        def verify() -> str | None:
            left = ctx.run(tool, "ls-files", cwd=root).splitlines()
            return f"{len(left)} files still staged after {tool} rm -r --cached" if left else None

        return op(
            Op(
                f"rm-small/{tool}",
                tool,
                f"{tool} rm -r --cached data",
                lambda: ctx.cmd(tool, *rm_argv[tool], cwd=root),
                setup=setup,
                before_each=before_each,
                after_each=lambda: ctx.state.pop(root, None),
                verify=verify,
            )
        )

    ama_rm_small = remover("ama")
    git_rm_small = remover("git")

    def committer(tool: str) -> str:
        """Commit every staged small file: ama to its directory remote (fresh before each
        run), git to its repository. Peak memory is the point (issue 9: < 200 MB)."""
        root, setup, before_each = staged(tool)
        argv = {"ama": ("commit", "-m", "bench"), "git": ("commit", "-q", "-m", "bench")}[tool]
        return op(
            Op(
                f"commit-small/{tool}",
                tool,
                f"{tool} commit",
                lambda: ctx.cmd(tool, *argv, cwd=root),
                setup=setup,
                before_each=before_each,
                after_each=lambda: ctx.state.__setitem__(root, "committed"),
                repeat=s.slow_repeat,
                rss=True,
            )
        )

    ama_commit_small = committer("ama")
    git_commit_small = committer("git")

    # --- status --------------------------------------------------------------------
    def stage_and_commit(case: str, tool: str, src: Path, copy: str | None = None) -> Path:
        """Bring `work/<case>/<copy>` (default: the tool's own) to "everything added and committed".

        What an earlier benchmark left is reused: a tree the add benchmark just added
        only needs its commit.  git's default tree never keeps an untracked cache: with
        core.untrackedCache unset git keeps and uses one it finds in the index, which
        would make the plain `git status` peer a second untracked-cache peer (that one
        has its own copy, "git-uc").
        """
        root = ctx.tree(case, copy or tool, src)
        state = ctx.state.get(root)
        if tool == "git" and copy is None and state in ("committed", "added"):
            ctx.run("git", "update-index", "--no-untracked-cache", cwd=root)
        if state == "committed":
            return root
        if state != "added":
            ctx.fresh_repo(tool, root)
            if tool == "dvc":
                sh([ctx.exe("dvc"), "add", "-q", "data"], root, ctx.dvc_env(ctx.dvc_site(root)))
            else:
                ctx.run(tool, *add_argv[tool], cwd=root)
        if tool == "ama":
            try:
                ctx.run("ama", "commit", "-m", "bench", cwd=root)
            except CommandFailed as exc:
                note = f"ama status ({case}) measured with the files staged, not committed: {exc.line}"
                if note not in ctx.notes:
                    ctx.notes.append(note)
        elif tool == "git":
            ctx.run("git", "commit", "-q", "-m", "bench", cwd=root)
        ctx.state[root] = "committed"
        return root

    status_argv = {"ama": ("status",), "git": ("status",), "dvc": ("status", "-q")}

    def source(src) -> Path:
        """A data set: the name of a Bench property, or a function making it."""
        return src() if callable(src) else getattr(ctx, src)

    def statuser(case: str, tool: str, src_attr, edits: int = 0, repeat: int | None = None) -> str:
        root = ctx.work / case / tool

        def setup() -> None:
            if edits and ctx.state.get(root) == f"edited{edits}":
                return  # edited by this op's setup in an earlier pair, and not touched since
            stage_and_commit(case, tool, source(src_attr))
            if edits:
                ctx.mark_dirty(case, tool)
                data.edit_files(root / "data", edits)
                ctx.state[root] = f"edited{edits}"

        def command() -> Command:
            argv = status_argv[tool]
            # dvc status -q exits 1 when something changed: that is its answer, not a failure
            ok = (0, 1) if tool == "dvc" and edits else (0,)
            return ctx.dvc(root, *argv, ok=ok) if tool == "dvc" else ctx.cmd(tool, *argv, cwd=root)

        suffix = f"-edited{edits}" if edits else ""
        return op(Op(f"status-{case}{suffix}/{tool}", tool, f"{tool} status", command, setup=setup, repeat=repeat))

    ama_status = statuser("small", "ama", "small")
    git_status = statuser("small", "git", "small")

    def git_untracked_cache(case: str, src_attr, edits: int = 0) -> str:
        """git status with core.untrackedCache=true: git's own directory cache,
        the second peer for ama's status (the first run writes the cache).  It has its
        own copy, work/<case>/git-uc: git's default status would keep using a cache
        it found in the index of the plain git row's copy."""
        root = ctx.work / case / "git-uc"

        def setup() -> None:
            if edits and ctx.state.get(root) == f"edited{edits}":
                return
            stage_and_commit(case, "git", source(src_attr), copy="git-uc")
            if edits:
                ctx.mark_dirty(case, "git-uc")
                data.edit_files(root / "data", edits)
                ctx.state[root] = f"edited{edits}"
            ctx.run("git", "-c", "core.untrackedCache=true", "status", cwd=root)

        suffix = f"-edited{edits}" if edits else ""
        return op(
            Op(
                f"status-{case}{suffix}/git-untracked-cache",
                "git",
                "git -c core.untrackedCache=true status",
                lambda: ctx.cmd("git", "-c", "core.untrackedCache=true", "status", cwd=root),
                setup=setup,
            )
        )

    git_status_uc = git_untracked_cache("small", "small")
    git_status_uc_ed = git_untracked_cache("small", "small", s.edits)
    dvc_status = statuser("small", "dvc", "small")
    ama_status_ed = statuser("small", "ama", "small", s.edits)
    git_status_ed = statuser("small", "git", "small", s.edits)
    dvc_status_ed = statuser("small", "dvc", "small", s.edits)
    ama_status_real = statuser("real", "ama", "real")
    git_status_real = statuser("real", "git", "real")
    dvc_status_real = statuser("real", "dvc", "real")

    # status at more sizes (issue 9: 20,000 and 1,000,000 files), clean and after
    # the edits, against git and git's untracked cache. 1M is the memory set.
    def sized_status(label: str, case: str, src, target: Target, edited: bool) -> list[Row]:
        if not edited:
            ama_clean = statuser(case, "ama", src)
            return [
                Row(("status",), f"status, {label} files, clean", ama_clean, statuser(case, "git", src), target),
                Row(("status",), f"status, {label} files, clean", ama_clean, git_untracked_cache(case, src)),
            ]
        ama_ed = statuser(case, "ama", src, s.edits)
        return [
            Row(("status",), f"status, {label} files, {s.edits} edited", ama_ed, statuser(case, "git", src, s.edits),
                Target(1.0, "<= 1.0x git status")),
            Row(("status",), f"status, {label} files, {s.edits} edited", ama_ed,
                git_untracked_cache(case, src, s.edits)),
        ]

    sized_rows: list[Row] = []
    for count in s.status_counts:
        src = functools.partial(ctx.status_set, count)
        for edited in (False, True):
            sized_rows += sized_status(f"{count:,}", f"status{count}", src, Target(1.0, "<= 1.0x git status"), edited)
    million = f"{ctx.memory_entries():,}"
    if s.extended:
        # 1M: the memory set, clean here; edited after the memory row (editing
        # it means copying it again).
        sized_rows += sized_status(million, "memory", "memory_set", Target(0.7, "<= 0.7x git status"), False)

    # --- start-up ------------------------------------------------------------------
    empty = ctx.work / "empty" / "ama"

    def empty_repo() -> None:
        fresh_dir(empty)
        ctx.run("ama", "init", cwd=empty)

    py = op(
        Op(
            "startup/python",
            "python",
            "python -c pass",
            lambda: ctx.cmd("python", "-c", "pass", cwd=ctx.root),
            repeat=s.startup_repeat,
        )
    )
    ama_version = op(
        Op(
            "startup/ama-version",
            "ama",
            "ama --version",
            lambda: ctx.cmd("ama", "--version", cwd=ctx.root),
            repeat=s.startup_repeat,
        )
    )
    ama_status_empty = op(
        Op(
            "startup/ama-status-empty",
            "ama",
            "ama status (empty repo)",
            lambda: ctx.cmd("ama", "status", cwd=empty),
            setup=empty_repo,
            repeat=s.startup_repeat,
        )
    )

    # --- push and clone through moto -------------------------------------------------
    n_push = s.push_count + 1

    def verify_remote(prefix: str):
        def verify() -> str | None:
            count, _ = ctx.s3_count(prefix)
            if count < n_push:
                return f"only {count} objects under s3://{BUCKET}/{prefix} after the push, expected >= {n_push}"
            return None

        return verify

    def push_setup(tool: str) -> Path:
        """A repository with the push set staged for `tool` (reused by the clone rows)."""
        ctx.s3()
        root = ctx.tree("push", tool, ctx.push_set)
        if ctx.state.get(root) == "push-ready":
            return root
        if tool == "ama":
            ctx.fresh_repo("ama", root, remote=f"s3://{BUCKET}/ama")
            ctx.run("ama", "add", "data", cwd=root)
        elif tool == "dvc":
            ctx.fresh_repo("dvc", root)
            env = ctx.dvc_env(ctx.dvc_site(root))
            sh([ctx.exe("dvc"), "remote", "add", "-d", "bench", f"s3://{BUCKET}/dvc"], root, env)
            sh([ctx.exe("dvc"), "remote", "modify", "bench", "endpointurl", ctx.endpoint], root, env)
            sh([ctx.exe("dvc"), "add", "-q", "data"], root, env)
        ctx.state[root] = "push-ready"
        return root

    def forget_dvc_remote_index(root: Path) -> None:
        for index in ctx.dvc_site(root).glob("repo/*/index"):
            shutil.rmtree(index, ignore_errors=True)

    def pusher(tool: str) -> str:
        root = ctx.work / "push" / tool
        prefix = {"ama": "ama/", "aws": "aws/", "dvc": "dvc/"}[tool]

        def before_each() -> None:
            ctx.moto.reset()
            if tool == "dvc":
                forget_dvc_remote_index(root)

        def command() -> Command:
            if tool == "ama":
                return ctx.cmd("ama", "push-staged", cwd=root)
            if tool == "aws":
                return ctx.cmd(
                    "aws",
                    "s3",
                    "cp",
                    "--recursive",
                    "--quiet",
                    "--endpoint-url",
                    ctx.endpoint,
                    "data",
                    f"s3://{BUCKET}/aws/",
                    cwd=root,
                )
            return ctx.dvc(root, "push", "-q")

        label = {"ama": "ama push-staged", "aws": "aws s3 cp --recursive", "dvc": "dvc push"}[tool]
        return op(
            Op(
                f"push/{tool}",
                tool,
                label,
                command,
                setup=lambda: push_setup(tool),
                before_each=before_each,
                repeat=s.slow_repeat,
                verify=verify_remote(prefix),
            )
        )

    ama_push = pusher("ama")
    aws_push = pusher("aws")
    dvc_push = pusher("dvc")

    published: dict[str, str] = {}

    def publish(tool: str) -> str:
        """Put the push set on the remote once, the way `tool` stores it; return what to clone."""
        if tool in published:
            return published[tool]
        if not published.get("_reset"):
            ctx.s3()
            ctx.moto.reset()
            published["_reset"] = "done"
        root = push_setup(tool)
        if tool == "ama":
            out = ctx.run("ama", "commit", "-m", "bench", cwd=root)
            published[tool] = _asset_name(ctx, root, out)
        elif tool == "aws":
            ctx.run(
                "aws",
                "s3",
                "cp",
                "--recursive",
                "--quiet",
                "--endpoint-url",
                ctx.endpoint,
                "data",
                f"s3://{BUCKET}/aws/",
                cwd=root,
            )
            published[tool] = f"s3://{BUCKET}/aws/"
        else:
            sh([ctx.exe("dvc"), "push", "-q"], root, ctx.dvc_env(ctx.dvc_site(root)))
            published[tool] = str(root)
        return published[tool]

    def verify_clone(dest_of):
        def verify() -> str | None:
            want = data.tree_stats(ctx.push_set)
            files, size = count_files(dest_of())
            if files != want["files"] or size != want["bytes"]:
                return f"clone has {files} files / {size} bytes, expected {want['files']} / {want['bytes']}"
            return None

        return verify

    def cloner(tool: str) -> str:
        base = ctx.work / "clone" / tool
        dest = base / "dest"

        def setup() -> None:
            publish(tool)
            base.mkdir(parents=True, exist_ok=True)

        if tool == "dvc":
            root = ctx.work / "push" / "dvc"

            def before_each() -> None:
                for p in (root / "data", root / ".dvc" / "cache"):
                    shutil.rmtree(p, ignore_errors=True)
                forget_dvc_remote_index(root)

            return op(
                Op(
                    "clone/dvc",
                    "dvc",
                    "dvc pull",
                    lambda: ctx.dvc(root, "pull", "-q"),
                    setup=setup,
                    before_each=before_each,
                    repeat=s.slow_repeat,
                    verify=verify_clone(lambda: root / "data"),
                )
            )

        def command() -> Command:
            if tool == "ama":
                return ctx.cmd("ama", "clone", published["ama"], str(dest), "--remote", f"s3://{BUCKET}/ama", cwd=base)
            return ctx.cmd(
                "aws",
                "s3",
                "cp",
                "--recursive",
                "--quiet",
                "--endpoint-url",
                ctx.endpoint,
                published["aws"],
                str(dest),
                cwd=base,
            )

        label = {"ama": "ama clone", "aws": "aws s3 cp --recursive"}[tool]
        return op(
            Op(
                f"clone/{tool}",
                tool,
                label,
                command,
                setup=setup,
                before_each=lambda: shutil.rmtree(dest, ignore_errors=True),
                repeat=s.slow_repeat,
                verify=verify_clone(lambda: _clone_data(dest)),
            )
        )

    ama_clone = cloner("ama")
    aws_clone = cloner("aws")
    dvc_clone = cloner("dvc")

    # --- one file of a version, without a work tree (issue 11) -------------------------
    def getter(tool: str) -> str:
        base = ctx.work / "get" / tool
        dest = base / "large.bin"

        def setup() -> None:
            publish(tool)
            base.mkdir(parents=True, exist_ok=True)

        def command() -> Command:
            if tool == "ama":
                return ctx.cmd(
                    "ama", "get", published["ama"], "data/large.bin", "-o", str(dest), "-q",
                    "--remote", f"s3://{BUCKET}/ama", cwd=base,
                )
            return ctx.cmd(
                "aws", "s3", "cp", "--quiet", "--endpoint-url", ctx.endpoint,
                published["aws"] + "large.bin", str(dest), cwd=base,
            )

        def verify() -> str | None:
            want = (ctx.push_set / "large.bin").stat().st_size
            got = dest.stat().st_size if dest.exists() else None
            return None if got == want else f"{dest} has {got} bytes, expected {want}"

        label = {"ama": "ama get VERSION FILE", "aws": "aws s3 cp"}[tool]
        return op(
            Op(
                f"get-large/{tool}",
                tool,
                label,
                command,
                setup=setup,
                before_each=lambda: dest.unlink(missing_ok=True),
                repeat=s.slow_repeat,
                verify=verify,
            )
        )

    ama_get = getter("ama")
    aws_get = getter("aws")

    # Streaming one large file through the Python API: peak memory must not grow
    # with the file. The peer is the same interpreter streaming the same bytes
    # through boto3 by hand (what one would write without ama).
    stream_code = {
        "ama": (
            "import ama, sys\n"
            "with ama.open(sys.argv[1], 'data/large.bin', remote=sys.argv[2]) as f:\n"
            "    while f.read(1 << 20): pass\n"
        ),
        "boto3": (
            "import boto3, sys\n"
            "body = boto3.client('s3', endpoint_url=sys.argv[3]).get_object(Bucket=sys.argv[4], Key='aws/large.bin')['Body']\n"
            "for chunk in body.iter_chunks(1 << 20): pass\n"
        ),
    }

    def streamer(tool: str) -> str:
        def setup() -> None:
            publish("ama" if tool == "ama" else "aws")

        def command() -> Command:
            argv = ["-c", stream_code[tool], published.get("ama", ""), f"s3://{BUCKET}/ama", ctx.endpoint, BUCKET]
            return Command([str(ctx.venv_python), *argv], ctx.root, ctx.env)

        label = {"ama": "ama.open(...).read() in 1 MiB chunks", "boto3": "boto3 get_object iter_chunks"}[tool]
        runner = "ama" if tool == "ama" else "python"
        return op(Op(f"stream-large/{tool}", runner, label, command, setup=setup, repeat=s.slow_repeat, rss=True))

    ama_stream = streamer("ama")
    boto_stream = streamer("boto3")

    # One small file back from a version of many: reads only the trees on its way
    # ("checkout HEAD -- FILE"), or takes the staged content ("restore FILE").
    def one_file_back(tool: str, how: str = "checkout") -> str:
        root = ctx.work / "small" / tool

        @functools.cache
        def rel() -> str:
            return "data/" + min(str(p.relative_to(ctx.small)) for p in ctx.small.rglob("*") if p.is_file())

        def setup() -> None:
            stage_and_commit("small", tool, ctx.small)

        argv = {"checkout": ["checkout", "HEAD", "--"], "restore": ["restore"]}[how]

        def command() -> Command:
            if tool == "ama":
                return ctx.cmd("ama", argv[0], "-q", *argv[1:], rel(), cwd=root)
            return ctx.cmd("git", *argv, rel(), cwd=root)

        def verify() -> str | None:
            return None if (root / rel()).is_file() else f"{rel()} was not brought back"

        return op(
            Op(
                f"{how}-one/{tool}",
                tool,
                f"{tool} {' '.join(argv)} FILE",
                command,
                setup=setup,
                before_each=lambda: (root / rel()).unlink(missing_ok=True),
                verify=verify,
            )
        )

    ama_one = one_file_back("ama")
    git_one = one_file_back("git")
    ama_restore_one = one_file_back("ama", "restore")
    git_restore_one = one_file_back("git", "restore")
    # --- checking a remote, copying versions between remotes ---------------------------
    def fsck_setup() -> None:
        publish("ama")

    ama_fsck = op(
        Op(
            "fsck-remote/ama",
            "ama",
            "ama fsck --remote origin --full",
            lambda: ctx.cmd("ama", "fsck", "--remote", "origin", "--full", cwd=ctx.work / "push" / "ama"),
            setup=fsck_setup,
            repeat=s.slow_repeat,
        )
    )

    mirror_root = ctx.work / "mirror" / "ama"
    mirror_dir = ctx.root / "remotes" / "mirror-history"

    def mirror_setup() -> None:
        """Ten versions of the push set on a directory remote: the set, then
        nine commits that each change a few small files."""
        ctx.s3()
        root = ctx.tree("mirror", "ama", ctx.push_set)
        if ctx.state.get(root) == "mirror-ready":
            return
        shutil.rmtree(mirror_dir, ignore_errors=True)
        ctx.fresh_repo("ama", root, remote=str(mirror_dir))
        ctx.run("ama", "remote", "add", "s3", f"s3://{BUCKET}/mirror", cwd=root)
        ctx.run("ama", "config", "remote.s3.endpoint", ctx.endpoint, cwd=root)
        ctx.run("ama", "add", "data", cwd=root)
        ctx.run("ama", "commit", "-m", "v1", cwd=root)
        files = sorted(p for p in (root / "data").rglob("*") if p.is_file())
        for v in range(2, 11):
            for f in files[v * 7 : v * 7 + 5]:
                f.unlink()
                f.write_bytes(f"version {v} of {f.name}\n".encode() * 20)
            ctx.run("ama", "add", "data", cwd=root)
            ctx.run("ama", "commit", "-m", f"v{v}", cwd=root)
        ctx.state[root] = "mirror-ready"

    def mirror_op(tool: str) -> str:
        def command() -> Command:
            if tool == "ama":
                return ctx.cmd("ama", "push", "--remote", "s3", "--all", cwd=mirror_root)
            return ctx.cmd(
                "aws", "s3", "sync", "--quiet", "--endpoint-url", ctx.endpoint,
                str(mirror_dir), f"s3://{BUCKET}/sync/", cwd=mirror_root,
            )

        label = {"ama": "ama push --remote s3 --all", "aws": "aws s3 sync"}[tool]
        return op(
            Op(
                f"mirror/{tool}",
                tool,
                label,
                command,
                setup=mirror_setup,
                before_each=ctx.moto.reset,
                repeat=s.slow_repeat,
            )
        )

    ama_mirror = mirror_op("ama")
    aws_mirror = mirror_op("aws")

    # --- peak memory of status with a large index -------------------------------------
    def mem_status(tool: str) -> str:
        case = "memory" if s.memory_entries else "small"
        root = ctx.work / case / tool

        def setup() -> None:
            stage_and_commit(case, tool, ctx.memory_set)

        return op(
            Op(
                f"memory-status/{tool}",
                tool,
                f"{tool} status",
                lambda: ctx.cmd(tool, "status", cwd=root),
                setup=setup,
                repeat=s.slow_repeat,
                rss=True,
            )
        )

    ama_mem = mem_status("ama")
    git_mem = mem_status("git")
    if s.extended:  # rows run in table order: the memory row before the edits
        sized_rows.append(Row(("memory",), f"peak memory of status, {million} entries", ama_mem, git_mem, metric="rss"))
        sized_rows += sized_status(million, "memory", "memory_set", Target(1.0, "<= 1.0x git status"), True)

    big = f"{s.big_mib} MiB" if s.big_mib < 1024 else f"{s.big_mib // 1024} GiB"
    n = f"{s.small_count:,}"
    real = "stdlib tree" + (f" (no {', '.join(s.real_exclude)})" if s.real_exclude else "")
    push = f"push {s.push_count:,} small + 1 x {s.push_big_mib} MiB"
    clone = f"clone {s.push_count:,} small + 1 x {s.push_big_mib} MiB"
    hash_t = Target(1.25, "throughput >= 0.8x b3sum")
    startup_t = Target(2.5, "<= 2.5x python -c pass")
    million_add_rows = [
        Row(("add",), f"add {million} small files", ama_add_million, git_add_million, Target(0.25, "<= 0.25x git add -A")),
        Row(("add", "memory"), f"add {million} small files, peak memory", ama_add_million, git_add_million,
            Target(None, "<= 300 MB peak", limit=300e6 / 1024), metric="rss"),
    ]
    real_add_rows = [
        Row(("add", "real"), f"add {real}", ama_add_real, git_add_real),
        Row(("add", "real"), f"add {real}", ama_add_real, dvc_add_real),
    ]
    rows = [
        Row(("hash",), f"hash one {big} file", ama_hash, b3, hash_t),
        Row(("hash",), f"hash one {big} file", ama_hash, md5),
        Row(("hash",), f"hash one {big} file", ama_hash, sha),
        Row(("hash", "add"), f"add one {big} file", ama_add_big, b3, hash_t),
        Row(("hash", "add"), f"add one {big} file", ama_add_big, dvc_add_big),
        Row(("add",), f"add {n} small files", ama_add_small, git_add_small, Target(0.5, "<= 0.5x git add -A")),
        Row(("add",), f"add {n} small files", ama_add_small, dvc_add_small, Target(0.2, ">= 5x faster than dvc add")),
        Row(("add", "annex"), f"add {s.annex_count:,} small files", ama_add_subset, annex_add_subset),
        *(real_add_rows if s.extended else []),
        *(million_add_rows if s.extended else []),
        Row(("rm",), f"rm -r --cached, {n} staged files", ama_rm_small, git_rm_small,
            Target(None, "finishes in seconds (< 10 s)", limit=10.0)),
        Row(("commit",), f"commit {n} small files (ama also copies them to its directory remote)", ama_commit_small, git_commit_small),
        Row(("commit", "memory"), f"commit {n} small files, peak memory", ama_commit_small, git_commit_small,
            Target(None, "< 200 MB peak", limit=200e6 / 1024), metric="rss"),
        Row(("status",), f"status, {n} files, clean", ama_status, git_status, Target(0.7, "<= 0.7x git status")),
        Row(("status",), f"status, {n} files, clean", ama_status, git_status_uc),
        Row(
            ("status",),
            f"status, {n} files, clean",
            ama_status,
            dvc_status,
            Target(0.1, ">= 10x faster than dvc status"),
        ),
        Row(("status",), f"status, {n} files, {s.edits} edited", ama_status_ed, git_status_ed, Target(1.0, "<= 1.0x git status")),
        Row(("status",), f"status, {n} files, {s.edits} edited", ama_status_ed, git_status_uc_ed),
        Row(("status",), f"status, {n} files, {s.edits} edited", ama_status_ed, dvc_status_ed),
        *sized_rows,
        Row(("status", "real"), f"status, {real}, clean", ama_status_real, git_status_real),
        *([Row(("status", "real"), f"status, {real}, clean", ama_status_real, dvc_status_real)] if s.extended else []),
        Row(("startup",), "start-up: --version", ama_version, py, startup_t),
        Row(("startup",), "start-up: status, empty repo", ama_status_empty, py, startup_t),
        Row(("push", "s3"), push, ama_push, aws_push, Target(1.0, "throughput >= 1.0x aws s3 cp")),
        Row(("push", "s3"), push, ama_push, dvc_push),
        Row(("clone", "s3"), clone, ama_clone, aws_clone, Target(1.0, ">= aws s3 cp back")),
        Row(("clone", "s3"), clone, ama_clone, dvc_clone),
        Row(("get", "s3"), f"get one {s.push_big_mib} MiB file of a version", ama_get, aws_get,
            Target(1.0, "throughput >= 1.0x aws s3 cp")),
        Row(("get", "s3", "memory"), f"stream one {s.push_big_mib} MiB file (peak memory)", ama_stream, boto_stream,
            metric="rss"),
        # Issue 11's target here is absolute (under 1 s at 100,000 files): read the median.
        Row(("get",), f"checkout one small file of a {n}-file version", ama_one, git_one),
        Row(("get",), f"restore one deleted small file of a {n}-file version", ama_restore_one, git_restore_one),
        Row(("fsck", "s3"), f"fsck --remote --full, {clone[6:]}", ama_fsck, aws_clone,
            Target(1.25, "throughput >= 0.8x aws s3 cp download")),
        Row(("mirror", "s3"), f"push --remote: 10 versions of {clone[6:]}, directory -> S3", ama_mirror, aws_mirror,
            Target(1.0, ">= 1.0x aws s3 sync")),
    ]
    return rows, ops


def _clone_data(dest: Path) -> Path:
    """Where the cloned files land: ama clones the work tree, whose data/ holds them."""
    return dest / "data" if (dest / "data").is_dir() else dest


def _asset_name(ctx: Bench, root: Path, commit_out: str) -> str:
    """The `<class>/<seq>` that `ama commit` created, from its output or `ama ls-remote`."""
    pattern = re.compile(r"\b([A-Za-z][\w.-]*/\d+)(?:/\d+)?\b")
    for text in (commit_out, _try(lambda: ctx.run("ama", "ls-remote", cwd=root))):
        m = pattern.search(text or "")
        if m:
            return m.group(1)
    raise CommandFailed(f"cannot tell which asset ama commit created from: {commit_out.strip()[:80]!r}")


def _try(fn) -> str:
    try:
        return fn()
    except CommandFailed:
        return ""
