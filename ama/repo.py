"""A working repository: a work tree and its ``.ama/`` directory."""

from __future__ import annotations

import os

from .errors import BadPath, NotARepository, UsageError

# Config, LockFile and Index are imported where used: `ama status` finds the
# root and starts its check before paying for them (ama/cli.py).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from .config import Config
    from .fsutil import LockFile
    from .index import Index

AMA_DIR = ".ama"


class cached_property:  # noqa: N801 (named as the decorator it stands for)
    """``functools.cached_property``, without importing functools (with
    collections, contextlib and types, ~5 ms of ``ama status`` start-up):
    computed on first use, then found in the instance's ``__dict__``."""

    def __init__(self, func):
        self.func = func
        self.name = func.__name__
        self.__doc__ = func.__doc__

    def __get__(self, instance, owner=None):
        if instance is None:
            return self
        value = instance.__dict__[self.name] = self.func(instance)
        return value


def find_root(start: str | None = None) -> str:
    """The work tree containing ``start`` (default: the current directory)."""
    env = os.environ.get("AMA_WORK_TREE")
    if env:
        if not os.path.isdir(os.path.join(env, AMA_DIR)):
            raise NotARepository(f"AMA_WORK_TREE={env} is not an ama repository")
        return os.path.abspath(env)
    here = os.path.abspath(start or os.getcwd())
    while True:
        if os.path.isdir(os.path.join(here, AMA_DIR)):
            return here
        parent = os.path.dirname(here)
        if parent == here:
            raise NotARepository(
                "not an ama repository (or any parent up to /): run 'ama init' first"
            )
        here = parent


def check_name(rel: str, display: str) -> None:
    """Refuse names ama cannot record faithfully."""
    try:
        rel.encode("utf-8")
    except UnicodeEncodeError:
        raise BadPath(f"{display!r}: file name is not valid UTF-8; rename it") from None
    if "\n" in rel or "\0" in rel:
        raise BadPath(f"{display!r}: file name contains a newline; rename it")


class Repo:
    def __init__(self, root: str):
        self.root = root
        self.ama_dir = os.path.join(root, AMA_DIR)
        self.index_path = os.path.join(self.ama_dir, "index")
        self.pending_path = os.path.join(self.ama_dir, "PENDING")

    @classmethod
    def discover(cls, start: str | None = None) -> Repo:
        return cls(find_root(start))

    def path(self, *parts: str) -> str:
        return os.path.join(self.ama_dir, *parts)

    @cached_property
    def config(self) -> Config:
        from .config import Config

        return Config(self.path("config"))

    @cached_property
    def objects_dir(self) -> str:
        configured = self.config.get("core.objects")
        if configured:
            return os.path.join(self.root, os.path.expanduser(configured))
        return self.path("objects")

    @cached_property
    def store(self):
        from .store import Store

        return Store(self.objects_dir, self.config.linkmode)

    def load_index(self, mapped: tuple | None = None) -> Index:
        from .index import Index

        return Index.load(self.index_path, mapped)

    def locked_index(self) -> _LockedIndex:
        """``with repo.locked_index() as (lock, index)``: hold ``index.lock``
        and get the index as it is under the lock.

        Call ``index.write(lock)`` to publish a change; leaving the block
        without writing releases the lock and changes nothing.
        """
        return _LockedIndex(self)

    # -- paths -------------------------------------------------------------

    def relpath(self, user_path: str, cwd: str | None = None) -> str:
        """The work-tree-relative '/'-separated name of a path the user gave.

        Refuses paths outside the work tree, inside ``.ama/``, or reaching
        into the work tree through a symlinked directory.
        """
        if not user_path:
            # As git: an unset shell variable must not mean the whole tree.
            raise BadPath("'': empty path name; use '.' for the whole work tree")
        cwd = cwd or os.getcwd()
        absolute = os.path.normpath(os.path.join(cwd, user_path))
        rel = os.path.relpath(absolute, self.root)
        if rel == ".":
            return ""
        if rel == ".." or rel.startswith("../") or os.path.isabs(rel):
            raise BadPath(f"{user_path}: is outside the work tree {self.root}")
        first = rel.split("/", 1)[0]
        if first == AMA_DIR:
            raise BadPath(f"{user_path}: is inside {AMA_DIR}/, which ama manages itself")
        check_name(rel, user_path)
        parent = os.path.dirname(absolute)
        if os.path.realpath(parent) != os.path.join(os.path.realpath(self.root), os.path.dirname(rel)).rstrip("/"):
            raise BadPath(f"{user_path}: goes through a symbolic link to a directory")
        return rel

    def abspath(self, rel: str) -> str:
        return os.path.join(self.root, rel) if rel else self.root

    def display(self, rel: str, cwd: str | None = None) -> str:
        """How to show a tracked path to the user: relative to their cwd."""
        cwd = cwd or os.getcwd()
        if cwd == self.root:
            return rel
        return os.path.relpath(self.abspath(rel), cwd)


class _LockedIndex:
    """What ``Repo.locked_index`` returns (a class rather than
    ``contextlib.contextmanager``: status does not import contextlib)."""

    def __init__(self, repo: Repo):
        self.repo = repo
        self.lock: LockFile | None = None

    def __enter__(self) -> tuple[LockFile, Index]:
        from .fsutil import LockFile

        lock = LockFile(self.repo.index_path)
        lock.acquire()
        try:
            index = self.repo.load_index()
        except BaseException:
            lock.release()
            raise
        self.lock = lock
        return lock, index

    def __exit__(self, *exc: object) -> None:
        self.lock.release()


def init_repo(directory: str, linkmode: str | None = None) -> tuple[Repo, bool]:
    """Create ``directory/.ama``; return the repo and whether it already existed."""
    root = os.path.abspath(directory)
    os.makedirs(root, exist_ok=True)
    ama = os.path.join(root, AMA_DIR)
    existed = os.path.isdir(ama)
    for sub in ("objects", "refs/assets", "logs"):
        os.makedirs(os.path.join(ama, sub), exist_ok=True)
    repo = Repo(root)
    if not existed or not os.path.exists(repo.path("config")):
        config = repo.config
        config.set("core.formatversion", "1")
        config.set("core.linkmode", linkmode or "auto")
        config.save()
    elif linkmode:
        if linkmode not in ("auto", "reflink", "hardlink", "copy"):
            raise UsageError(f"bad link mode '{linkmode}'")
        repo.config.set("core.linkmode", linkmode)
        repo.config.save()
    return repo, existed
