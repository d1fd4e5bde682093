"""Atomic writes and lock files: how every file in ``.ama/`` is replaced.

A reader never sees a half-written file: we write a temporary file in the
same directory, fsync it, rename it over the target, and fsync the directory
so the rename itself survives a crash. Files that many processes may write
(the index, refs) are guarded by ``<name>.lock`` created with ``O_EXCL``, as
git does; the lock file is itself the temporary file, renamed into place on
commit.
"""

from __future__ import annotations

import os
import time

from .errors import LockHeld

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


def atomic_write(path: str, data: bytes, mode: int = 0o644) -> None:
    """Replace ``path`` with ``data`` so that no reader sees a partial file."""
    directory = os.path.dirname(path) or "."
    tmp = os.path.join(directory, f".tmp-{os.path.basename(path)}-{os.getpid()}-{time.monotonic_ns()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
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


class LockFile:
    """``<path>.lock``, created exclusively; commit renames it over ``path``.

    Used as a context manager it is released (deleted) on exit unless
    ``commit`` already moved it into place. A lock we cannot take within
    ``AMA_LOCK_TIMEOUT`` seconds is reported with who holds it and how to
    clear it if its owner is gone.
    """

    def __init__(self, path: str, timeout: float | None = None):
        self.path = path
        self.lock_path = path + ".lock"
        self.timeout = LOCK_WAIT_SECONDS if timeout is None else timeout
        self.fd: int | None = None

    def acquire(self) -> LockFile:
        deadline = time.monotonic() + self.timeout
        delay = 0.005
        while True:
            try:
                self.fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
                return self
            except FileExistsError:
                if time.monotonic() >= deadline:
                    raise LockHeld(self._held_message()) from None
                time.sleep(delay)
                delay = min(delay * 2, 0.1)

    def _held_message(self) -> str:
        return (
            f"{self.lock_path} is held: another ama process is running; "
            f"if none is, remove the stale lock with: rm '{self.lock_path}'"
        )

    def write(self, data: bytes) -> None:
        assert self.fd is not None
        write_all(self.fd, data)

    def commit(self) -> None:
        """fsync what was written and rename the lock over the target."""
        assert self.fd is not None
        os.fsync(self.fd)
        os.close(self.fd)
        self.fd = None
        os.replace(self.lock_path, self.path)
        fsync_dir(os.path.dirname(self.path) or ".")

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
            try:
                os.unlink(self.lock_path)
            except FileNotFoundError:
                pass

    def __enter__(self) -> LockFile:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()
