"""Atomic writes and locks: how every file in ``.ama/`` and on a directory
remote is replaced (docs/locks-and-temp-files.md).

A reader never sees a half-written file: we write a temporary file in the
same directory, fsync it, rename it over the target, and fsync the directory
so the rename itself survives a crash.

Every lock of ama is a ``Lock``: an ``flock`` on a lock file, which the
kernel releases when its owner dies, so a killed process never leaves a lock
that blocks the next command. Files that many processes may write (the
index, refs) are guarded by ``<name>.lock`` as git does; the lock file is
itself the temporary file, renamed into place on commit (``LockFile``).
"""

from __future__ import annotations

import errno
import fcntl
import os
import stat
import time

from .errors import EXIT_IO, AmaError, LockHeld

# zlib and typing are imported where used: `ama status` is start-up
# bound and never needs them.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Self

LOCK_WAIT_SECONDS = float(os.environ.get("AMA_LOCK_TIMEOUT", "2.0"))


def fsync_dir(path: str) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_all(fd: int, data: bytes | memoryview) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


# -- temporary files -------------------------------------------------------
#
# Every temporary file of ama, wherever it lives (work tree, .ama/, the object
# store, a directory remote), is named ``.ama-tmp-<pid>-<host>-<random>``: every
# walk of a work tree or a remote skips names starting with ``.ama-tmp``, and
# ``remove_stale_temps`` removes the ones whose owner is gone.

TEMP_PREFIX = ".ama-tmp-"
# A temp file another host wrote (a shared directory remote), or one of an
# older ama's names, is removed only once it is this old.
TEMP_MAX_AGE = 3600
# A resumable copy's temp file is named by the first this many hex digits
# of the object id; an S3 download notes the ranges it holds in a file of
# the same name plus this suffix.
PARTIAL_ID_HEX = 16
PARTIAL_RANGES_SUFFIX = ".ranges"
# Names earlier versions of ama gave their temp files.
_LEGACY_TEMP_PREFIXES = (".tmp-",)

_host_tag = ""


def hostname() -> str:
    """This host's name, as ``socket.gethostname()`` gives it on Linux (both
    read uname), without importing socket (and enum): an opportunistic
    refresh takes a lock on the start-up-bound status path."""
    return os.uname().nodename


def host_tag() -> str:
    """8 hex digits naming this host in temp file names."""
    global _host_tag
    if not _host_tag:
        import zlib

        _host_tag = f"{zlib.crc32(hostname().encode()):08x}"
    return _host_tag


def partial_name(directory: str, digest: str) -> str:
    """The temp file a resumable copy of object ``digest`` into ``directory``
    writes: ``.ama-tmp-<first 16 hex of the id>`` (docs/locks-and-temp-files.md)."""
    return os.path.join(directory, f"{TEMP_PREFIX}{digest[:PARTIAL_ID_HEX]}")


def is_partial_name(name: str) -> bool:
    """Whether ``name`` is a resumable copy's temp file, or the record of
    ranges kept beside it (``<partial>.ranges``)."""
    if not name.startswith(TEMP_PREFIX):
        return False
    rest = name[len(TEMP_PREFIX) :].removesuffix(PARTIAL_RANGES_SUFFIX)
    return len(rest) == PARTIAL_ID_HEX and all(c in "0123456789abcdef" for c in rest)


def open_partial(directory: str, digest: str) -> tuple[OpenFile, bool]:
    """Open (creating) the resumable temp file of object ``digest`` in
    ``directory`` under an ``flock``, which the kernel drops if we die.

    Returns it and whether it is that file (which may hold a killed copy's
    bytes). If another process holds it (copying the same object right
    now), a fresh temp file of this process's own, and False. Either is
    writable (a later copy reopens a partial to continue it): the caller
    gives the finished file its mode (``commit_temp``).
    """
    name = partial_name(directory, digest)
    fd = os.open(name, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        # A cleanup may have removed the name while we opened it (it
        # unlinks under the same flock): then this inode is nobody's.
        if _same_file(name, fd):
            return OpenFile(fd, name), True
    except BlockingIOError:
        pass
    except OSError as e:
        # A file system without locks: no resuming there, a fresh file.
        if e.errno not in _NO_LOCKS:
            os.close(fd)
            raise
        os.close(fd)
        unlink_quietly(name)
        return new_temp(directory), False
    except BaseException:
        os.close(fd)
        raise
    os.close(fd)
    return new_temp(directory), False


_NO_LOCKS = (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL)


def _same_file(path: str, fd: int) -> bool:
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return False
    mine = os.fstat(fd)
    return (st.st_ino, st.st_dev) == (mine.st_ino, mine.st_dev)


def remove_temp(path: str) -> bool:
    """Remove the temp file ``path``; False if it is gone or, for a
    resumable partial (``is_partial_name``), a process holds it. A partial
    is unlinked under its flock, so a copy starting now never writes into
    a removed file (``open_partial``)."""
    name = os.path.basename(path)
    if not is_partial_name(name):
        try:
            os.unlink(path)
            return True
        except FileNotFoundError:
            return False
    partial = path.removesuffix(PARTIAL_RANGES_SUFFIX)
    try:
        fd = os.open(partial, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        fd = -1
    try:
        if fd >= 0:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.unlink(path)
        return True
    except (BlockingIOError, FileNotFoundError):
        return False
    finally:
        if fd >= 0:
            os.close(fd)


def is_temp_name(name: str) -> bool:
    """Whether a file name is one of ama's temporary files (never data)."""
    return name.startswith(".ama-tmp")


def temp_name(directory: str) -> str:
    """A fresh temp file path in ``directory``, owned by this process."""
    return os.path.join(directory, f"{TEMP_PREFIX}{os.getpid()}-{host_tag()}-{os.urandom(6).hex()}")


class OpenFile:
    """An open file descriptor and its path."""

    def __init__(self, fd: int, name: str):
        self.fd = fd
        self.name = name

    def fileno(self) -> int:
        return self.fd

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def new_temp(directory: str, mode: int = 0o666) -> OpenFile:
    """A new empty temp file in ``directory``, open read-write; the umask filters ``mode``."""
    name = temp_name(directory)
    fd = os.open(name, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, mode)
    return OpenFile(fd, name)


def commit_temp(tmp: OpenFile, dest: str, mode: int | None = None) -> None:
    """fsync ``tmp``, give it ``mode`` (before the name appears) and rename
    it to ``dest``; on any failure remove it. The caller fsyncs the
    directory, once for a batch (``Store.fsync_dirs``)."""
    try:
        if mode is not None:
            os.fchmod(tmp.fileno(), mode)
        os.fsync(tmp.fileno())
        tmp.close()
        os.replace(tmp.name, dest)
    except BaseException:
        discard_temp(tmp)
        raise


def discard_temp(tmp: OpenFile) -> None:
    tmp.close()
    unlink_quietly(tmp.name)


def unlink_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists on this host (owned by anyone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def temp_owner_gone(name: str, st: os.stat_result, now: float | None = None) -> bool:
    """Whether the process that created the temp file ``name`` is gone.

    Ours on this host: its pid is not running (a reused pid keeps the file
    until later: never removed too early). A resumable copy's partial file
    (``is_partial_name``, kept on purpose for the next copy to continue),
    another host's, or an older ama's name: it is older than
    ``TEMP_MAX_AGE`` (``remove_temp`` then also checks that no process
    holds a partial).
    """
    if is_partial_name(name):
        pass
    elif name.startswith(TEMP_PREFIX):
        pid, _, rest = name[len(TEMP_PREFIX) :].partition("-")
        host, _, _ = rest.partition("-")
        if pid.isdigit() and host == host_tag():
            return not pid_alive(int(pid))
    elif not name.startswith(_LEGACY_TEMP_PREFIXES):
        return False
    return (now or time.time()) - st.st_mtime > TEMP_MAX_AGE


def remove_stale_temps(directory: str, dry_run: bool = False) -> list[tuple[str, int]]:
    """Remove the temp files directly in ``directory`` whose owner is gone;
    return (path, bytes freed) of each (0 bytes for a second link)."""
    removed = []
    try:
        names = [n for n in os.listdir(directory) if is_temp_name(n) or n.startswith(_LEGACY_TEMP_PREFIXES)]
    except (FileNotFoundError, NotADirectoryError, PermissionError):
        return removed
    now = time.time()
    for name in names:
        path = os.path.join(directory, name)
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            continue
        if not stat.S_ISREG(st.st_mode) or not temp_owner_gone(name, st, now):
            continue
        try:
            if not dry_run and not remove_temp(path):
                continue
        except OSError:
            continue
        removed.append((path, st.st_size if st.st_nlink == 1 else 0))
    return removed


def cannot_write(path: str, e: OSError) -> AmaError:
    """The error for a failed write of ``path``: a full disk or quota is the
    disk-full code (exit 14), anything else a path we cannot write (exit 4)."""
    from .errors import BadPath

    if e.errno in (errno.ENOSPC, errno.EDQUOT):
        return AmaError(f"{path}: no space left on device", EXIT_IO)
    return BadPath(f"{path}: cannot write ({e.strerror or e})")


def atomic_write(path: str, data: bytes, mode: int = 0o644) -> None:
    """Replace ``path`` with ``data`` so that no reader sees a partial file."""
    directory = os.path.dirname(path) or "."
    tmp = temp_name(directory)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, mode)
    try:
        write_all(fd, data)
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        os.unlink(tmp)
        raise
    os.close(fd)
    try:
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
    fsync_dir(directory)


class Lock:
    """An exclusive lock on the file ``path``, released by the kernel when
    its owner dies.

    Taking it: open (creating) ``path``, ``flock`` it, then check that
    ``path`` still names the file we locked: its holder may have removed or
    renamed it (releasing, or committing a ``LockFile``) while we waited.
    A file left by a killed process is simply locked again: nobody holds
    it. Releasing removes the file while still holding it, then closes.

    ``record_owner`` writes ``<pid> <host>`` into the file, for messages on
    other hosts (a shared directory remote); otherwise the holder is found
    in ``/proc/locks``. A lock not free within ``timeout`` seconds (default
    ``AMA_LOCK_TIMEOUT``) is ``LockHeld`` (exit 5), naming its holder.
    """

    def __init__(self, path: str, timeout: float | None = None, record_owner: bool = False, what: str = ""):
        self.path = path
        self.timeout = LOCK_WAIT_SECONDS if timeout is None else timeout
        self.record_owner = record_owner
        self.what = what
        self.fd: int | None = None

    def acquire(self) -> Lock:
        deadline = time.monotonic() + self.timeout
        delay = 0.002
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o666)
            try:
                if self._lock(fd) and self._still_ours(fd):
                    os.ftruncate(fd, 0)  # a killed holder's leftovers
                    if self.record_owner:
                        write_all(fd, f"{os.getpid()} {hostname()}\n".encode())
                    self.fd = fd
                    return self
            except BaseException:
                os.close(fd)
                raise
            os.close(fd)
            if time.monotonic() >= deadline:
                raise LockHeld(self.held_message())
            time.sleep(delay)
            delay = min(delay * 2, 0.05)

    def _lock(self, fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            return False
        except OSError as e:
            if e.errno in _NO_LOCKS:
                raise AmaError(
                    f"{self.path}: the filesystem does not support file locks ({e.strerror}); "
                    "ama needs flock(2) here",
                    EXIT_IO,
                ) from e
            raise

    def _still_ours(self, fd: int) -> bool:
        try:
            st = os.lstat(self.path)
        except FileNotFoundError:
            return False
        mine = os.fstat(fd)
        return (st.st_ino, st.st_dev) == (mine.st_ino, mine.st_dev)

    def held_message(self) -> str:
        who = holder_of(self.path)
        what = f"{self.what}: " if self.what else ""
        return f"{what}{self.path} is held by another ama process{who}; wait for it to finish and try again"

    @property
    def held(self) -> bool:
        return self.fd is not None

    def release(self) -> None:
        """Remove the lock file and drop the lock (in that order)."""
        if self.fd is None:
            return
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass
        finally:
            self._close()

    def _close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def __enter__(self) -> Lock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def holder_of(path: str) -> str:
    """`` (pid N)`` or `` (pid N on HOST)``: who holds the lock on ``path``,
    from the kernel's lock table, else from what the holder wrote; '' if
    neither tells."""
    try:
        st = os.lstat(path)
    except OSError:
        return ""
    key = f"{os.major(st.st_dev):02x}:{os.minor(st.st_dev):02x}:{st.st_ino}"
    try:
        with open("/proc/locks") as f:
            for line in f:
                fields = line.split()
                if len(fields) >= 6 and fields[1] == "FLOCK" and fields[5] == key:
                    return f" (pid {fields[4]})"
    except OSError:
        pass
    try:
        with open(path, "rb") as f:
            pid, _, host = f.read(200).decode("utf-8", "replace").strip().partition(" ")
    except OSError:
        return ""
    return f" (pid {pid} on {host})" if pid.isdigit() and host else ""


class LockFile(Lock):
    """``<path>.lock``, a ``Lock`` that is also the new content of ``path``:
    ``write`` into it, then ``commit`` renames it over ``path`` (as git
    does with ``index.lock``). Leaving without ``commit`` removes it and
    changes nothing.
    """

    def __init__(self, path: str, timeout: float | None = None):
        super().__init__(path + ".lock", timeout)
        self.target = path

    @property
    def lock_path(self) -> str:
        return self.path

    def write(self, data: bytes) -> None:
        assert self.fd is not None
        write_all(self.fd, data)

    def commit(self) -> None:
        """fsync what was written and rename the lock over the target.

        The rename happens while the lock is held; a waiter that then gets
        the lock finds that its file is no longer ``<path>.lock`` and starts
        over on a new one.
        """
        assert self.fd is not None
        try:
            os.fsync(self.fd)
            os.replace(self.path, self.target)
        except BaseException:
            self.release()
            raise
        self._close()
        fsync_dir(os.path.dirname(self.target) or ".")
