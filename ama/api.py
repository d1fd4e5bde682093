"""The Python API: read versions, and drive a work tree, from Python.

Everything here is exported from ``ama`` itself (``ama.open``, ``ama.ls``,
...); see ``docs/python-api.md``. Errors are the command line's
(``ama.errors``), with the same messages: ``VersionNotFound``,
``PathNotFound``, ``IsADirectory``, ``IntegrityError``, ``RemoteError``...

``remote`` is, everywhere, a remote URL (``s3://bucket/prefix``, a
directory) or the name of a remote of the enclosing repository; by default
the repository's default remote, or outside a repository the per-user store
(``$AMA_HOME/store``). Inside a repository its object store serves contents
it already has. Remotes are opened once per process and shared: every
function here may be called from many threads at once.
"""

from __future__ import annotations

import io
import os
import threading
from dataclasses import dataclass
from typing import IO, Any

from .access import Entry, Source, Version, open_source

__all__ = [
    "Entry",
    "Repository",
    "Status",
    "VersionInfo",
    "get",
    "ls",
    "open",
    "read",
    "resolve",
    "versions",
]

# Keyed by process too: a forked worker (a DataLoader's) must not use its
# parent's connections and thread pools.
_sources: dict[tuple[int, str | None, str | None, str], Source] = {}
_sources_lock = threading.Lock()


def _source(remote: str | None) -> Source:
    """The shared source for ``remote`` as seen from the current directory."""
    from .errors import NotARepository
    from .remotes import ama_home
    from .repo import find_root

    try:
        root: str | None = find_root()
    except NotARepository:
        root = None
    key = (os.getpid(), root, remote, ama_home())
    with _sources_lock:
        source = _sources.get(key)
        if source is None:
            source = _sources[key] = open_source(remote, root)
        return source


def _version(version: str, remote: str | None) -> Version:
    return _source(remote).version(version)


def open(version: str, path: str, remote: str | None = None, mode: str = "rb", encoding: str | None = None) -> IO[Any]:
    """Open one file of a version for reading, as a file object.

    ``version`` is CLASS/SEQ (latest), CLASS/SEQ/N, CLASS/ALIAS[/N] or, in a
    repository, HEAD or a commit id; ``path`` is the file's path in it.
    ``mode`` is ``"rb"`` (bytes) or ``"r"`` (text, ``encoding`` default
    UTF-8). The bytes stream from the local store or the remote with memory
    bounded by one chunk, and are hashed as they are read: a content that
    does not match its id raises ``IntegrityError`` before its last bytes are
    returned. ``seek`` works: the first one elsewhere than the current
    position verifies the whole content first (downloading it, verified,
    into the local store when it is only on the remote). Use it as a
    context manager, or close it.
    """
    if mode not in ("rb", "r", "rt"):
        raise ValueError(f"mode must be 'rb' or 'r', not {mode!r}")
    raw = _version(version, remote).open(path)
    buffered = io.BufferedReader(raw, buffer_size=1 << 20)
    if mode == "rb":
        return buffered
    return io.TextIOWrapper(buffered, encoding=encoding or "utf-8")


def read(version: str, path: str, remote: str | None = None) -> bytes:
    """The whole content of one file of a version, verified."""
    with _version(version, remote).open(path) as f:
        return f.readall()


def ls(version: str, path: str = "", recursive: bool = False, remote: str | None = None) -> list[Entry]:
    """The entries of a directory of a version (the root by default), sorted.

    Each is an ``Entry`` (``path``, ``kind`` "file" or "directory", ``size``,
    ``id``, ``executable``), its path relative to the version's root. With
    ``recursive``, every file below the directory. A file path lists itself.
    """
    return _version(version, remote).ls(path, recursive)


def get(version: str, path: str, dest: str, remote: str | None = None, force: bool = False) -> str:
    """Write a file or directory of a version to ``dest``; return the path written.

    As ``ama get``: verified before it takes its name, an existing directory
    ``dest`` receives it under its own name, an existing file is replaced
    only with ``force``.
    """
    return _version(version, remote).get(path, os.fspath(dest), force=force)[0]


def resolve(name: str, remote: str | None = None) -> str:
    """The commit id of a version name (CLASS/SEQ is its latest version)."""
    return _source(remote).resolve(name).commit


@dataclass(frozen=True)
class VersionInfo:
    """One committed version of an asset, as ``ama versions`` lists it."""

    name: str  # CLASS/SEQ/N
    version: int
    commit: str
    author: str
    time: int  # seconds since the epoch
    message: str
    size: int  # bytes of all its files


def versions(asset: str, remote: str | None = None) -> list[VersionInfo]:
    """The committed versions of ``asset`` (CLASS/SEQ or CLASS/ALIAS), oldest first."""
    from .assets import COMMITTED, Assets, parse_asset_name
    from .errors import UsageError

    assets = Assets(_source(remote).remote)
    cls, middle, n = parse_asset_name(asset)
    if n is not None:
        raise UsageError(f"'{asset}': name an asset (CLASS/SEQ or CLASS/ALIAS), not one version")
    seq = middle if isinstance(middle, int) else assets.resolve_alias(cls, middle)
    assets.read_asset(cls, seq)
    return [
        VersionInfo(
            f"{cls}/{seq}/{r['version']}",
            int(r["version"]),
            r["commit"],
            r.get("author") or r.get("user") or "",
            int(r.get("time") or 0),
            r.get("message") or "",
            int(r.get("size") or 0),
        )
        for r in assets.versions(cls, seq)
        if r.get("status") == COMMITTED
    ]


@dataclass(frozen=True)
class Status:
    """What ``ama status`` reports, as lists of work-tree paths."""

    staged: list[tuple[str, str]]  # (code A/M/D, path): staged since the last version
    changed: list[tuple[str, str]]  # (state, path): modified/deleted/renamed... since 'add'
    untracked: list[str]

    @property
    def clean(self) -> bool:
        """Nothing staged, changed or untracked."""
        return not (self.staged or self.changed or self.untracked)


class Repository:
    """A work tree, driven through the same library functions as the commands.

    ``Repository(path)`` finds the work tree containing ``path`` (default: the
    current directory); relative paths given to its methods are relative to
    the work tree's root.
    """

    def __init__(self, path: str | os.PathLike[str] = "."):
        from .repo import Repo

        self._repo = Repo.discover(os.fspath(path))
        self.root = self._repo.root

    def status(self) -> Status:
        """Staged changes, unstaged changes and untracked files."""
        from .refs import read_head
        from .statcheck import apply_refresh, check
        from .worktree import staged_changes

        repo = self._repo
        index = repo.load_index()
        report = check(repo, index)
        apply_refresh(repo, report)
        staged = staged_changes(repo, index, read_head(repo).commit)
        changed = [(c.state, c.path) for c in report.changes]
        return Status(list(staged), changed, list(report.untracked))

    def add(self, *paths: str | os.PathLike[str], force: bool = False) -> list[str]:
        """Hash, store and stage files or directories; return the paths added."""
        from .staging import expand, stage

        repo = self._repo
        found = expand(repo, [os.path.join(repo.root, os.fspath(p)) for p in paths], force=force)
        with repo.locked_index() as (lock, index):
            result = stage(repo, index, found.files)
            if result.touched:
                index.write(lock)
        return result.added

    def commit(self, message: str, remote: str | None = None) -> str | None:
        """Commit the staged files as the next version; return its commit id,
        or None if there was nothing to commit. An interrupted commit must
        be finished first with ``ama commit`` (``PendingTransaction``)."""
        from .errors import PendingTransaction
        from .pending import Pending
        from .txn import commit_staged
        from .txnlock import TxnLock

        repo = self._repo
        with TxnLock(repo):
            if Pending.load(repo) is not None:
                raise PendingTransaction("an interrupted commit is pending: run 'ama commit' to finish it first")
            return commit_staged(repo, message, remote)
