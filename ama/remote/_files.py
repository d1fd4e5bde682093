"""File steps shared by the backends: temp files beside their target, reads, writes."""

from __future__ import annotations

import os
import secrets
import stat
from typing import Self

from ama.errors import BadPath

# Temp files live beside their final name (so rename/link stay on one
# filesystem) and are recognisable, so a directory remote's list() skips
# them and a cleanup can remove the ones a crash left behind.
TMP_PREFIX = ".ama-tmp-"


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
    """A new empty file in ``directory``, open read-write; the umask filters ``mode``."""
    name = os.path.join(directory, TMP_PREFIX + secrets.token_hex(8))
    fd = os.open(name, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, mode)
    return OpenFile(fd, name)


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


def unlink_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def commit_temp(tmp: OpenFile, dest: str) -> None:
    """fsync ``tmp`` and rename it to ``dest``; on any failure remove it."""
    try:
        os.fsync(tmp.fileno())
        tmp.close()
        os.replace(tmp.name, dest)
    except BaseException:
        discard_temp(tmp)
        raise


def discard_temp(tmp: OpenFile) -> None:
    tmp.close()
    unlink_quietly(tmp.name)
