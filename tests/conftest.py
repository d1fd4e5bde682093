try:
    from remote_fixtures import *  # noqa: F401,F403
    from source_servers import *  # noqa: F401,F403
except ImportError as e:
    if e.name != "remote_fixtures":
        raise

# Shared helpers for the end-to-end tests: run the installed `ama` command in
# a subprocess, in an isolated environment, as a user would.

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

import pytest

AMA = os.path.join(os.path.dirname(sys.executable), "ama")
# Long enough that a busy machine does not break a test, short enough that a
# test expecting "lock held" does not wait the default two seconds.
LOCK_TIMEOUT = "0.2"


class Result(NamedTuple):
    rc: int
    out: str
    err: str


def isolated_env(home: os.PathLike | str, **extra: str) -> dict[str, str]:
    """The caller's environment without anything that could reach a real
    user's config, credentials or repository."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AMA_", "AWS_", "BOTO", "GIT_")) and k not in ("NO_COLOR", "TERM")
    }
    if "AMA_MODULE_POLICY" in os.environ:  # which change-detection core (ama/policy.py)
        env["AMA_MODULE_POLICY"] = os.environ["AMA_MODULE_POLICY"]
    env.update(
        HOME=str(home),
        AMA_HOME=str(home),
        AMA_NO_PROGRESS="1",
        AMA_LOCK_TIMEOUT=LOCK_TIMEOUT,
        AMA_AUTHOR_NAME="Test Author",
        AMA_AUTHOR_EMAIL="test@example.com",
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        GIT_CONFIG_NOSYSTEM="1",
        LC_ALL="C.UTF-8",
    )
    env.update(extra)
    return env


def run_ama(
    *args: str | os.PathLike,
    cwd: os.PathLike | str,
    env: dict[str, str] | None = None,
    input: bytes | str | None = None,
    binary: bool = False,
    prefix: list[str] | None = None,
    timeout: float = 60,
) -> Result:
    """Run ``ama ARGS`` in ``cwd``; return (rc, stdout, stderr).

    Output is decoded as UTF-8 with surrogateescape (non-UTF-8 names survive)
    unless ``binary``. ``prefix`` runs ama under a wrapper such as setpriv.
    """
    if env is None:
        env = isolated_env(cwd)
    if isinstance(input, str):
        input = input.encode()
    cmd = [*(prefix or []), AMA, *map(os.fsencode, args)]
    p = subprocess.run(cmd, cwd=cwd, env=env, input=input, capture_output=True, timeout=timeout)
    if binary:
        return Result(p.returncode, p.stdout, p.stderr)
    decode = lambda b: b.decode("utf-8", "surrogateescape")  # noqa: E731
    return Result(p.returncode, decode(p.stdout), decode(p.stderr))


@pytest.fixture
def ama_env(tmp_path: Path) -> dict[str, str]:
    home = tmp_path / "home"
    home.mkdir()
    return isolated_env(home)


@pytest.fixture(scope="session")
def _initialized_template(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("template")
    root = base / "work"
    root.mkdir()
    home = base / "home"
    home.mkdir()
    ok(run_ama("init", cwd=root, env=isolated_env(home)))
    return root


@pytest.fixture
def repo(tmp_path: Path, ama_env: dict[str, str], _initialized_template: Path) -> Path:
    """A fresh work tree ``tmp_path/work`` as ``ama init`` leaves it.

    Copied from one ``ama init`` per session (a subprocess per test adds up);
    the remote is pointed at this test's own ``AMA_HOME/store``.
    """
    from ama.config import Config

    root = tmp_path / "work"
    shutil.copytree(_initialized_template, root, symlinks=True)
    config = Config(str(root / ".ama" / "config"))
    config.set("remote.origin.url", os.path.join(ama_env["AMA_HOME"], "store"))
    config.save()
    return root


@pytest.fixture
def ama(repo: Path, ama_env: dict[str, str]):
    """``ama(*args, cwd=repo, input=None)``: run the command in the repo."""

    def run(*args: str | os.PathLike, cwd: os.PathLike | str | None = None, **kw) -> Result:
        kw.setdefault("env", ama_env)
        return run_ama(*args, cwd=cwd or repo, **kw)

    return run


def ok(result: Result) -> Result:
    """Assert a command succeeded, showing its stderr if not."""
    assert result.rc == 0, f"rc={result.rc} stderr={result.err!r}"
    return result


def one_line_error(result: Result, code: int) -> str:
    """Assert a failure with exactly one line on stderr, "ama ...", and ``code``."""
    lines = result.err.splitlines()
    assert result.rc == code, f"rc={result.rc}, expected {code}; stderr={result.err!r}"
    assert len(lines) == 1 and result.err.endswith("\n"), f"not one line: {result.err!r}"
    assert lines[0].startswith(("ama ", "ama: ")), lines[0]
    assert "Traceback" not in result.err
    return lines[0]


def write(path: Path, data: bytes | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def tree_state(root: Path) -> dict[str, tuple]:
    """Every file under ``root/.ama`` with its inode, size and mtime; the
    index and config also by content. Equal states mean nothing was written."""
    state: dict[str, tuple] = {}
    ama_dir = root / ".ama"
    for dirpath, dirnames, filenames in os.walk(ama_dir):
        for name in dirnames + filenames:
            full = os.path.join(dirpath, name)
            st = os.lstat(full)
            rel = os.path.relpath(full, ama_dir)
            if name in filenames:
                state[rel] = (st.st_ino, st.st_size, st.st_mtime_ns)
            else:
                state[rel + "/"] = ()
    for name in ("index", "config", "HEAD"):
        p = ama_dir / name
        if p.exists():
            state[name + "#content"] = (hashlib.sha256(p.read_bytes()).hexdigest(),)
    return state


def object_ids(root: Path) -> set[str]:
    objects = root / ".ama" / "objects"
    return {
        d.name + f.name
        for d in objects.iterdir()
        if len(d.name) == 2
        for f in d.iterdir()
        if not f.name.startswith((".tmp-", ".ama-tmp"))
    }


def read_index(root: Path) -> dict:
    """The index as path -> Snapshot (digest, size, mtime_ns, ctime_ns, ino,
    dev, nlink, mode); the CLI does not show inodes."""
    from ama.index import Index

    index = Index.load(str(root / ".ama" / "index"))
    return {path: index.get(path) for path in index.sorted_paths()}


def has_b3sum() -> bool:
    return shutil.which("b3sum") is not None


class held_lock:  # noqa: N801 - a context manager used like a function
    """Hold the ama lock at ``path`` from this (the test's) process, as a
    running ama would: an exclusive flock on the file."""

    def __init__(self, path: os.PathLike | str):
        self.path = os.fspath(path)

    def __enter__(self) -> int:
        import fcntl

        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return os.getpid()

    def __exit__(self, *exc: object) -> None:
        os.close(self.fd)
