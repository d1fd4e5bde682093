"""File steps shared by the backends: reads and writes; temp files are ``ama.fsutil``'s."""

from __future__ import annotations

import os
import stat

from ama.errors import BadPath
from ama.fsutil import (  # noqa: F401 - re-exported for the backends
    OpenFile,
    commit_temp,
    discard_temp,
    new_temp,
    unlink_quietly,
)


def open_source(path: str) -> OpenFile:
    """Open a file to publish; a path that is not a readable regular file is BadPath."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError as e:
        raise BadPath(f"{path}: cannot read ({e.strerror})") from e
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise BadPath(f"{path}: not a regular file")
    return OpenFile(fd, path)


def read_all(fd: int, size: int) -> bytes:
    """Read to the end of ``fd``, expected to hold ``size`` bytes."""
    # Ask for one byte more than expected, so a file that grew since its
    # size was taken is read whole (and then fails its hash) rather than
    # silently truncated.
    parts = []
    while chunk := os.read(fd, size + 1):
        parts.append(chunk)
    return b"".join(parts)


def read_upto(fd: int, size: int) -> bytes:
    """Read ``size`` bytes, fewer only at the end of the file."""
    parts = []
    while size and (chunk := os.read(fd, size)):
        parts.append(chunk)
        size -= len(chunk)
    return b"".join(parts)


def pwrite_all(fd: int, data: bytes | memoryview, offset: int) -> None:
    view = memoryview(data)
    while view:
        n = os.pwrite(fd, view, offset)
        view = view[n:]
        offset += n
