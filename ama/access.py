"""Reading versions without a work tree: list, stream and copy out files.

A ``Source`` is a remote plus a local object store: the repository's when
there is one, else the per-user cache ``$AMA_HOME/cache/objects``. A
``Version`` reads the commit and only the trees on the way to the paths it is
asked about; trees enter the local store verified (``sync.fetch_into``).
File contents are not cached: they are streamed from the local store when it
has them, else from the remote, and hashed as they go by a
``ContentReader``, which refuses to hand out the last bytes of a content
whose BLAKE3 does not match its id. A reader that is seeked verifies the
whole object first (fetching it, verified, into the local store), so random
access never serves unverified bytes either.

Used by ``ama ls/get/cat``, the Python API (``ama.api``) and the fsspec
filesystem (``ama.fs``).
"""

from __future__ import annotations

import io
import os
import shutil
import stat
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from blake3 import blake3

from . import failpoint
from .errors import (
    BadPath,
    Corrupt,
    IntegrityError,
    IsADirectory,
    NotFound,
    PathNotFound,
    UsageError,
    VersionNotFound,
)
from .fsutil import (
    cannot_write,
    commit_temp,
    discard_temp,
    is_temp_name,
    new_temp,
    remove_stale_temps,
    temp_name,
    temp_owner_gone,
    unlink_quietly,
    write_all,
)
from .hashing import hash_fd
from .objects import HEX64, MODE_EXEC, Commit, TreeEntry, object_type, parse_tree
from .remote.base import Remote, short
from .repo import Repo
from .store import Store
from .version_names import HEXISH, Resolved, resolve

CHUNK = 1 << 20
FILE = "file"
DIRECTORY = "directory"


@dataclass(frozen=True)
class Entry:
    """One file or directory of a version.

    ``path`` is relative to the version's root ('/'-separated, "" for the
    root itself); ``size`` is the bytes of the file, or of every file below
    the directory; ``id`` is the BLAKE3 content id of a file, the tree id of
    a directory, or for a file whose bytes stay at their source
    (``reference``, docs/references.md) the id of its reference object.
    """

    path: str
    kind: str
    size: int
    id: str
    executable: bool = False
    reference: bool = False

    @property
    def is_dir(self) -> bool:
        """Whether this is a directory (else a file)."""
        return self.kind == DIRECTORY


def user_cache_store() -> Store:
    """The per-user store that caches trees and commits read outside a repository."""
    from .remotes import ama_home

    return Store(os.path.join(ama_home(), "cache", "objects"), "copy")


def open_source(remote: str | None = None, start: str | None = None) -> Source:
    """The source the commands and the API read from.

    Inside a repository (found from ``start``, default the current
    directory): its remote named ``remote`` (default: its default remote),
    or the remote at the URL ``remote``, with the repository's store as the
    local store. Outside: the remote at the URL ``remote``, default the
    per-user store, with the per-user cache as the local store.
    """
    from .errors import NotARepository

    # The remote is opened when first needed: what the local store has is
    # read without it (and without importing its backend).
    try:
        repo = Repo.discover(start)
    except NotARepository:
        return Source(lambda: _open_remote(None, remote), user_cache_store())
    return Source(lambda: _open_remote(repo, remote), repo.store, repo)


def _open_remote(repo: Repo | None, remote: str | None) -> Remote:
    from .remotes import default_store_url, open_repo_remote, open_url

    if repo is None:
        return open_url(remote or default_store_url())
    if remote is None or remote in repo.config.subsections("remote"):
        return open_repo_remote(repo, remote)
    return open_url(remote)


def split_path(path: str) -> list[str]:
    """A path inside a version as its components ("" and "/" are the root)."""
    if "\0" in path:
        raise BadPath(f"{path!r}: not a path")
    parts = [p for p in path.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise BadPath(f"{path}: '..' does not name anything inside a version")
    return parts


class Source:
    """Where versions are read from: a remote, and a local store as a cache.

    Safe to share between threads: the remote backends are, and objects
    enter the store through temporary files renamed into place.
    """

    def __init__(self, remote: Remote | Callable[[], Remote], store: Store, repo: Repo | None = None):
        """``remote``: the remote, or a function that opens it when first needed."""
        self._remote = remote if isinstance(remote, Remote) else None
        self._open_remote = None if isinstance(remote, Remote) else remote
        self._remote_lock = threading.Lock()
        self.store = store
        self.repo = repo

    @property
    def remote(self) -> Remote:
        if self._remote is None:
            with self._remote_lock:
                if self._remote is None:
                    self._remote = self._open_remote()
        return self._remote

    def resolve(self, name: str) -> Resolved:
        """A version name (CLASS/SEQ[/N], CLASS/ALIAS[/N], HEAD, commit id) as a commit."""
        try:
            if self.repo is None and "/" not in name:
                if HEX64.match(name):
                    self.object(name)
                    return Resolved(name)
                if HEXISH.match(name) or name == "HEAD":
                    raise UsageError(f"'{name}': outside a repository, name a version CLASS/SEQ[/N] or a full commit id")
            return resolve(self.repo, name, self.remote if "/" in name else None)
        except NotFound as e:
            if "/" in name:
                self._check_asset(name)
            raise VersionNotFound(str(e)) from None

    def _check_asset(self, name: str) -> None:
        """``VersionNotFound`` saying so if the asset itself does not exist."""
        from .assets import Assets, parse_asset_name

        cls, middle, _ = parse_asset_name(name)
        if isinstance(middle, int):
            try:
                Assets(self.remote).read_asset(cls, middle)
            except NotFound as e:
                raise VersionNotFound(str(e)) from None

    def version(self, name: str) -> Version:
        resolved = self.resolve(name)
        data = self.object(resolved.commit)
        if object_type(data) != "commit":
            raise Corrupt(f"object {resolved.commit} is not a commit")
        return Version(self, resolved, Commit.parse(data, resolved.commit).tree)

    def object(self, digest: str) -> bytes:
        """A tree or commit: from the local store, else fetched into it, verified."""
        if HEX64.match(digest) and self.store.has(digest):
            return self.store.read_bytes(digest)
        from .version_transfer import fetch_into

        return fetch_into(self.store, self.remote, digest)

    def prefetch(self, tree_ids: list[str], jobs: int = 8) -> None:
        """Fetch the trees of ``tree_ids`` the local store lacks, in parallel, verified."""
        from .remote.transfer import fetch_objects
        from .version_transfer import OBJECT_MODE, checked_id

        missing = []
        for t in dict.fromkeys(tree_ids):
            if not self.store.has(checked_id(t)):
                path = self.store.path(t)
                os.makedirs(os.path.dirname(path), exist_ok=True)
                missing.append((t, path))
        fetch_objects(self.remote, missing, jobs=jobs, mode=OBJECT_MODE)

    def tree(self, tree_id: str) -> list[TreeEntry]:
        data = self.object(tree_id)
        entries = parse_tree(data, tree_id)
        for e in entries:
            _check_entry(e, tree_id)
        return entries

    def open_content(self, digest: str, size: int, name: str) -> ContentReader:
        return ContentReader(self, digest, size, name)

    def fetch_content(self, digest: str, dest: str, progress: Callable[[int], None] | None = None) -> None:
        """Write content ``digest`` to the path ``dest``: through a temporary
        file beside it, renamed into place only once verified."""
        if not self.store.has(digest):
            from .remote.transfer import fetch_objects

            # Through fetch_objects: it serializes the progress calls that
            # the backend makes from its own threads (ranged parts).
            fetch_objects(self.remote, [(digest, dest)], jobs=1, progress=progress)
            return
        directory = os.path.dirname(os.path.abspath(dest))
        try:
            tmp = new_temp(directory)
        except OSError as e:
            raise cannot_write(dest, e) from e
        try:
            size = os.path.getsize(self.store.path(digest))
            with ContentReader(self, digest, size, dest) as reader:
                while chunk := reader.read(CHUNK):
                    write_all(tmp.fileno(), chunk)
                    if progress:
                        progress(len(chunk))
            commit_temp(tmp, dest)
        except BaseException:
            discard_temp(tmp)
            raise


class Version:
    """The files of one version, read on demand."""

    def __init__(self, source: Source, resolved: Resolved, tree: str):
        self.source = source
        self.resolved = resolved
        self.tree = tree
        self.name = resolved.name

    def entry(self, path: str) -> Entry:
        """The file or directory at ``path`` ("" is the root)."""
        parts = split_path(path)
        here = Entry("", DIRECTORY, -1, self.tree)
        for i, name in enumerate(parts):
            if not here.is_dir:
                raise PathNotFound(f"{'/'.join(parts)}: not in version {self.name} ({here.path} is a file)")
            found = next((e for e in self.source.tree(here.id) if e.name == name), None)
            if found is None:
                raise PathNotFound(f"{'/'.join(parts)}: not in version {self.name}")
            here = _entry("/".join(parts[: i + 1]), found)
        if here.size < 0:
            here = Entry("", DIRECTORY, sum(e.size for e in self.source.tree(self.tree)), self.tree)
        return here

    def children(self, directory: Entry) -> list[Entry]:
        prefix = f"{directory.path}/" if directory.path else ""
        return [_entry(prefix + e.name, e) for e in self.source.tree(directory.id)]

    def ls(self, path: str = "", recursive: bool = False) -> list[Entry]:
        """The entries of a directory (sorted by name), or the file itself.

        With ``recursive``, every file below the directory (no directories).
        """
        top = self.entry(path)
        if not top.is_dir:
            return [top]
        if not recursive:
            return self.children(top)
        return list(self.walk(top))

    def walk(self, directory: Entry) -> Iterator[Entry]:
        """Every file below ``directory``, in tree order.

        The trees below are fetched first, one level at a time, each level
        in parallel: a deep version costs round trips per level, not per tree.
        """
        level = [directory.id]
        while level:
            self.source.prefetch(level)
            level = [e.digest for t in level for e in self.source.tree(t) if e.kind == "tree"]
        yield from self._walk(directory)

    def _walk(self, directory: Entry) -> Iterator[Entry]:
        for e in self.children(directory):
            if e.is_dir:
                yield from self._walk(e)
            else:
                yield e

    def file(self, path: str) -> Entry:
        """The file at ``path``; ``IsADirectory`` if it is a directory."""
        entry = self.entry(path)
        if entry.is_dir:
            shown = entry.path or "/"
            raise IsADirectory(f"{shown}: is a directory in version {self.name}; use ls or get")
        return entry

    def open(self, path: str) -> ContentReader:
        entry = self.file(path)
        return self.source.open_content(self.content_id(entry), entry.size, f"{self.name}/{entry.path}")

    def content_id(self, entry: Entry) -> str:
        """The BLAKE3 id of a file's bytes; for a reference, its bytes are
        first brought into the local store from the remote or the source,
        verified (``references.content``)."""
        if not entry.reference:
            return entry.id
        from . import references

        return references.content(self.source.store, self.source.remote, entry.id)

    def get(
        self,
        path: str,
        dest: str,
        jobs: int = 8,
        force: bool = False,
        progress: Callable[[int], None] | None = None,
    ) -> tuple[str, list[Entry]]:
        """Write the file or directory at ``path`` to ``dest``; return the
        path written and the files it holds.

        An existing directory ``dest`` receives the entry under its own name.
        The file or directory is assembled in a private directory beside
        ``dest`` (each file verified before it takes its name there) and
        renamed into place only once complete; a download a killed get left
        beside ``dest`` is continued. An existing file is replaced
        only with ``force``; an existing directory never.
        """
        entry = self.entry(path)
        base = entry.path.rsplit("/", 1)[-1] if entry.path else self.default_dirname()
        if dest == ".":
            dest = base
        elif os.path.isdir(dest):
            dest = os.path.join(dest, base)
        if os.path.lexists(dest) and not (force and not entry.is_dir and os.path.isfile(dest)):
            hint = "; use --force to replace it" if not entry.is_dir and os.path.isfile(dest) else ""
            raise BadPath(f"{dest}: already exists{hint}")
        files = list(self.walk(entry)) if entry.is_dir else [entry]
        cut = len(entry.path) + 1 if entry.path else 0
        from .remote.transfer import fetch_objects

        with _work_dir(dest) as work:
            # Everything is assembled inside a private directory beside
            # ``dest``, then renamed into place whole: a killed get leaves
            # only that directory, which the next get there removes.
            staged = os.path.join(work, base)

            def target(f: Entry) -> str:
                return os.path.join(staged, *f.path[cut:].split("/")) if entry.is_dir else staged

            # Downloads land beside ``dest`` first: a killed get leaves its
            # partial downloads there, and the next get continues them.
            parent = os.path.dirname(work)
            remote_items, landed = [], []
            for f in files:
                os.makedirs(os.path.dirname(target(f)), exist_ok=True)
                digest = self.content_id(f)
                if self.source.store.has(digest):
                    self.source.fetch_content(digest, target(f), progress)
                else:
                    remote_items.append((digest, temp_name(parent)))
                    landed.append(target(f))
            try:
                fetch_objects(self.source.remote, remote_items, jobs=jobs, progress=progress)
                for (_, tmp), final in zip(remote_items, landed, strict=True):
                    os.rename(tmp, final)
            finally:
                for _, tmp in remote_items:
                    unlink_quietly(tmp)
            for f in files:
                _set_mode(target(f), f.executable)
            failpoint.hit("get-assembled")
            if entry.is_dir:
                os.rename(staged, dest)
            else:
                os.replace(staged, dest)
        return dest, files

    def default_dirname(self) -> str:
        r = self.resolved
        return f"{r.cls}-{r.seq}-{r.version}" if r.cls else r.commit[:12]


@contextmanager
def _work_dir(dest: str) -> Iterator[str]:
    """A new private directory beside ``dest``, removed on the way out.

    It has a temp name of ``fsutil`` (this process and host in it): the ones
    that killed processes left there are removed first.
    """
    parent = os.path.dirname(os.path.abspath(dest))
    _reap(parent)
    work = temp_name(parent)
    try:
        os.mkdir(work, 0o700)
    except OSError as e:
        raise cannot_write(dest, e) from e
    try:
        yield work
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _reap(parent: str) -> None:
    """Remove the temp files and directories in ``parent`` whose owner is
    gone (partial downloads stay, by ``fsutil.remove_stale_temps``'s rules)."""
    remove_stale_temps(parent)
    try:
        names = [n for n in os.listdir(parent) if is_temp_name(n)]
    except OSError:
        return
    for name in names:
        path = os.path.join(parent, name)
        try:
            st = os.lstat(path)
        except OSError:
            continue
        if stat.S_ISDIR(st.st_mode) and temp_owner_gone(name, st):
            shutil.rmtree(path, ignore_errors=True)


class ContentReader(io.RawIOBase):
    """A content of a version as a read-only binary file, verified as it is read.

    Read front to back, the bytes are hashed as they pass and the last ones
    are handed out only once the whole content hashed to its id (and had its
    size); otherwise ``IntegrityError``, now and on every later read. The
    first seek elsewhere than the current position verifies the whole object
    first: one in the local store is hashed where it is, one only on the
    remote is fetched (verified) into the local store; reads are then served
    from that verified copy. So no read ever returns bytes of a content that
    does not match its id, except those of a front-to-back read before the
    mismatch shows at the end, exactly like a download that fails its check.

    One reader serves one thread at a time, like any file; open one per
    thread.
    """

    def __init__(self, source: Source, digest: str, size: int, name: str):
        super().__init__()
        self.name = name
        self._source = source
        self._digest = digest
        self._size = size
        self._pos = 0
        self._hasher = blake3(max_threads=blake3.AUTO) if size >= (64 << 20) else blake3()
        self._fd = -1
        self._chunks: Iterator[bytes] | None = None
        self._pending = memoryview(b"")
        self._random = False
        self._verified = False
        self._error: IntegrityError | None = None
        self._where = f"object {short(digest)} of {name}"
        self._lock = threading.Lock()
        if source.store.has(digest):
            try:
                self._fd = os.open(source.store.path(digest), os.O_RDONLY | os.O_CLOEXEC)
            except FileNotFoundError:
                self._fd = -1
        if self._fd < 0:
            self._chunks = source.remote.read_object(digest)

    # -- io.RawIOBase ------------------------------------------------------

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    @property
    def size(self) -> int:
        """The content's size in bytes, as its version records it."""
        return self._size

    @property
    def verified(self) -> bool:
        """Whether every byte of the content was checked against its id."""
        return self._verified

    def readall(self) -> bytes:
        parts = []
        while chunk := self.read(CHUNK):
            parts.append(chunk)
        return b"".join(parts)

    def readinto(self, buffer) -> int:
        with self._lock:
            self._check_open()
            view = memoryview(buffer).cast("B")
            if self._random:
                data = os.pread(self._fd, min(len(view), max(0, self._size - self._pos)), self._pos)
            else:
                data = self._next(len(view))
            view[: len(data)] = data
            self._pos += len(data)
            return len(data)

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        with self._lock:
            self._check_open()
            if whence == os.SEEK_SET:
                target = offset
            elif whence == os.SEEK_CUR:
                target = self._pos + offset
            elif whence == os.SEEK_END:
                target = self._size + offset
            else:
                raise ValueError(f"invalid whence ({whence})")
            if target < 0:
                raise ValueError(f"negative seek position {target}")
            if target != self._pos and not self._random:
                self._make_random()
            self._pos = target
            return target

    def close(self) -> None:
        if not self.closed:
            self._release()
        super().close()

    # -- internals ---------------------------------------------------------

    def _check_open(self) -> None:
        if self.closed:
            raise ValueError("I/O operation on closed file")
        if self._error is not None:
            raise self._error

    def _next(self, limit: int) -> bytes | memoryview:
        """Up to ``limit`` more bytes of a front-to-back read, hashed; the
        last ones only after the whole content verified."""
        if self._verified:
            return b""
        want = min(limit, self._size - self._pos)
        data = self._take(want) if want > 0 else b""
        if want > 0 and not data:
            self._fail(f"{self._where} is truncated: {self._pos} of {self._size} bytes")
        self._hasher.update(data)
        if self._pos + len(data) >= self._size:
            if self._take(1):
                self._fail(f"{self._where} is longer than the {self._size} bytes its version records")
            actual = self._hasher.hexdigest()
            if actual != self._digest:
                self._fail(f"{self._where} is corrupt: its bytes hash to {short(actual)}")
            self._verified = True
            self._release()
        return data

    def _take(self, n: int) -> bytes | memoryview:
        if self._fd >= 0:
            try:
                return os.read(self._fd, n)
            except OSError as e:
                raise BadPath(f"{self._where}: cannot read the local copy ({e.strerror})") from e
        if not self._pending:
            self._pending = memoryview(next(self._chunks, b""))  # type: ignore[arg-type]
        data, self._pending = self._pending[:n], self._pending[n:]
        return data

    def _fail(self, message: str) -> None:
        if self._fd >= 0:
            message += f" (the local copy {self._source.store.path(self._digest)}; run 'ama fsck')"
        else:
            message += f" on remote {self._source.remote.url}; check it with 'ama fsck --remote NAME --full'"
        self._error = IntegrityError(message)
        self._release()
        raise self._error

    def _make_random(self) -> None:
        """Switch to random access over a copy verified whole."""
        from .version_transfer import download_into

        if self._fd < 0 or self._chunks is not None:
            self._release()
            if not self._source.store.has(self._digest):
                try:
                    download_into(self._source.store, self._source.remote, self._digest)
                except IntegrityError as e:
                    self._error = e
                    raise
            self._fd = os.open(self._source.store.path(self._digest), os.O_RDONLY | os.O_CLOEXEC)
        st = os.fstat(self._fd)
        if st.st_size != self._size or hash_fd(self._fd, st.st_size) != self._digest:
            self._fail(f"{self._where} is corrupt")
        self._random = self._verified = True

    def _release(self) -> None:
        """Close the stream and the local file, whatever state they are in."""
        if self._chunks is not None:
            close = getattr(self._chunks, "close", None)
            if close:
                close()
            self._chunks = None
        self._pending = memoryview(b"")
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


def _entry(path: str, e: TreeEntry) -> Entry:
    kind = DIRECTORY if e.kind == "tree" else FILE
    return Entry(path, kind, e.size, e.digest, e.mode == MODE_EXEC, e.kind == "ref")


def _check_entry(e: TreeEntry, tree_id: str) -> None:
    """A tree entry that could name something outside the version, or is
    not a file or tree, is refused (the tree came from a remote)."""
    name = e.name
    if not name or name in (".", "..") or "/" in name or "\0" in name:
        raise Corrupt(f"tree {tree_id} has an entry named {name!r}; refusing it")
    if e.kind not in ("file", "ref", "tree") or not HEX64.match(e.digest) or e.size < 0:
        raise Corrupt(f"tree {tree_id} has a malformed entry {name!r}; refusing it")


def _set_mode(path: str, executable: bool) -> None:
    """Give an executable file execute permission wherever it may be read
    (files are created 0o666 less the umask)."""
    if executable:
        mode = os.stat(path).st_mode
        os.chmod(path, stat.S_IMODE(mode) | (stat.S_IMODE(mode) & 0o444) >> 2)
