"""BLAKE3 content ids: the 64-hex digest, identical to ``b3sum`` output.

Large files are hashed through mmap with all cores (blake3 splits the input
across threads and releases the GIL); small files are read whole and many of
them are hashed in parallel threads, since the cost there is system calls.

A file is hashed through one open file descriptor, and its stat snapshot is
taken from that same descriptor (``fstat``) before and after: if the two
differ, the file changed while we read it and the hash is not trusted.
"""

from __future__ import annotations

import errno
import mmap
import os
import stat

from blake3 import blake3

from .errors import BadPath

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

# Below this size one read() is cheaper than setting up an mmap and threads.
MMAP_THRESHOLD = 4 << 20
EMPTY_ID = blake3(b"").hexdigest()


def hash_bytes(data: bytes | memoryview) -> str:
    return blake3(data).hexdigest()


def new_hasher(size_hint: int = 0) -> blake3:
    if size_hint >= MMAP_THRESHOLD:
        return blake3(max_threads=blake3.AUTO)
    return blake3()


def hash_fd(fd: int, size: int) -> str:
    """The id of the ``size`` bytes readable from ``fd`` (at offset 0)."""
    if size == 0:
        return EMPTY_ID
    if size >= MMAP_THRESHOLD:
        with mmap.mmap(fd, 0, access=mmap.ACCESS_READ) as mm:
            mm.madvise(mmap.MADV_SEQUENTIAL)
            return blake3(mm, max_threads=blake3.AUTO).hexdigest()
    # One byte more than expected, so a file that grew is hashed whole (and
    # its changed snapshot noticed by the caller).
    data = os.pread(fd, size + 1, 0)
    if len(data) < size:
        data = _read_rest(fd, data, size)
    return blake3(data).hexdigest()


def _read_rest(fd: int, first: bytes, size: int) -> bytes:
    """Continue a short read (FUSE and network file systems may return
    fewer bytes than asked) until EOF; a file that ends before its size
    is an I/O error, never the id of a prefix."""
    parts = [first]
    offset = len(first)
    while offset <= size and (chunk := os.pread(fd, size + 1 - offset, offset)):
        parts.append(chunk)
        offset += len(chunk)
    if offset < size:
        raise OSError(errno.EIO, f"the file ended after {offset} of its {size} bytes")
    return b"".join(parts)


def same_snapshot(a: os.stat_result, b: os.stat_result) -> bool:
    return (
        a.st_size == b.st_size
        and a.st_mtime_ns == b.st_mtime_ns
        and a.st_ctime_ns == b.st_ctime_ns
        and a.st_ino == b.st_ino
    )


def open_regular(path: str, display: str | None = None) -> tuple[int, os.stat_result]:
    """Open ``path`` for reading, refusing anything but a regular file.

    ``O_NOFOLLOW`` refuses a symlink at the last component; ``O_NONBLOCK``
    keeps a FIFO from blocking the open so that we can refuse it.
    """
    name = display or path
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise BadPath(f"{name}: no such file") from None
    except PermissionError:
        raise BadPath(f"{name}: permission denied (cannot read it)") from None
    except OSError as e:
        if os.path.islink(path):
            raise BadPath(f"{name}: is a symbolic link; ama stores regular files only") from None
        raise BadPath(f"{name}: cannot open ({e.strerror})") from None
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        raise BadPath(f"{name}: {describe_mode(st.st_mode)}, not a regular file")
    return fd, st


def describe_mode(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "is a directory"
    if stat.S_ISFIFO(mode):
        return "is a FIFO"
    if stat.S_ISSOCK(mode):
        return "is a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "is a device"
    if stat.S_ISLNK(mode):
        return "is a symbolic link"
    return "is a special file"


def hash_open(fd: int, st: os.stat_result, display: str) -> tuple[str, os.stat_result]:
    """Hash the open regular file ``fd`` whose ``fstat`` was ``st``.

    Returns the id and the snapshot it belongs to. A file that changed while
    it was read is hashed once more; one still changing is refused.
    """
    try:
        digest = hash_fd(fd, st.st_size)
        after = os.fstat(fd)
        if not same_snapshot(st, after):
            st = after
            digest = hash_fd(fd, st.st_size)
            if not same_snapshot(st, os.fstat(fd)):
                raise BadPath(f"{display}: is being modified while ama reads it")
    except OSError as e:
        raise BadPath(f"{display}: cannot read ({e.strerror})") from None
    return digest, st


def hash_path(path: str, display: str | None = None) -> tuple[str, os.stat_result]:
    """Hash a regular file; return its id and the snapshot of what was hashed."""
    fd, st = open_regular(path, display)
    try:
        return hash_open(fd, st, display or path)
    finally:
        os.close(fd)


# Below this many bytes in all (and a thousand files), hashing in this
# thread is faster than starting a pool: ~20 ms of import and start-up.
SERIAL_BYTES = 8 << 20


def _total_size(items: list[tuple[str, str]]) -> int:
    total = 0
    for path, _ in items:
        try:
            total += os.lstat(path).st_size
        except OSError:
            pass  # hash_path reports it
        if total >= SERIAL_BYTES:
            break
    return total


def hash_paths(
    paths: Iterable[tuple[str, str]], jobs: int | None = None, tolerant: bool = False
) -> Iterator[tuple[str, str | None, os.stat_result | None]]:
    """Hash many (path, display) pairs in parallel, yielding (display, id, stat) in order.

    Large files take all cores by themselves; small ones are spread over a
    thread pool, where the system calls of one overlap the hashing of another.
    With ``tolerant``, a file that cannot be hashed (vanished, unreadable,
    no longer regular) yields (display, None, None) instead of raising.
    """
    jobs = jobs or min(8, (os.cpu_count() or 1) * 2)
    items = list(paths)

    def one(item: tuple[str, str]) -> tuple[str, str | None, os.stat_result | None]:
        try:
            digest, st = hash_path(item[0], item[1])
        except BadPath:
            if not tolerant:
                raise
            return item[1], None, None
        return item[1], digest, st

    if jobs <= 1 or len(items) < 64 or (len(items) < 1024 and _total_size(items) < SERIAL_BYTES):
        # A thread pool (and importing it) costs more than it saves here.
        yield from map(one, items)
        return
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        yield from pool.map(one, items)
