"""The storage interface every remote implements.

Everything above this module (push, fetch, the commit transaction) is written
once against these few operations and never asks which backend it has. Keys
are '/'-separated relative paths such as ``objects/ab/cdef...`` or
``assets/genomics/12/versions/3.json``; the layout is in
``docs/remote-layout.md``.

Two primitives carry the protocol's safety:

- ``create(key, data)``: create-if-absent. Exactly one of two racing callers
  succeeds; the other gets ``AlreadyExists``.
- ``replace(key, data, token)``: compare-and-swap. ``token`` is what
  ``get_versioned`` returned; if the key changed since, ``PreconditionFailed``.

Content objects are written only through ``put_object``, which verifies that
the exact bytes published hash (BLAKE3) to the name they are published under
and raises ``IntegrityError`` otherwise, publishing nothing.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from types import TracebackType
from typing import Self

from blake3 import blake3

from ama.hashing import hash_fd

# Called with a number of bytes each time that many more were transferred;
# possibly from several threads at once (parts of one object move in
# parallel). ``ama.remote.transfer`` serializes the calls for its callers.
Progress = Callable[[int], None]

# Below this size a content is read into memory whole: one read, one hash,
# one write. Above it, it is streamed and hashed with every core.
SMALL_OBJECT = 8 << 20


def hash_file(path: str) -> str:
    """The BLAKE3-256 hex digest of the file at ``path`` (mmapped, all cores
    when large), by the same code that names contents on ``add``."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        return hash_fd(fd, os.fstat(fd).st_size)
    finally:
        os.close(fd)


def short(digest: str) -> str:
    """A digest shortened for messages, as git abbreviates commit ids."""
    return digest[:12]


def object_key(digest: str) -> str:
    """Where a content, tree or commit object lives on a remote."""
    return f"objects/{digest[:2]}/{digest[2:]}"


@dataclass(frozen=True)
class Leftover:
    """Something a writer left behind on a remote: a temporary file of a
    directory remote, an unfinished multipart upload on S3."""

    name: str  # shown to the user
    started: float  # when it was begun or last written, seconds since the epoch
    size: int  # bytes it holds, when known (0 otherwise)
    handle: object  # what the backend needs to remove it


class Remote(ABC):
    """A place committed versions live: a directory or an S3 prefix."""

    url: str

    # -- small records (asset.json, versions/<n>.json, HEAD, aliases) ------

    @abstractmethod
    def get(self, key: str) -> bytes:
        """The bytes at ``key``; ``NotFound`` if absent."""

    @abstractmethod
    def get_versioned(self, key: str) -> tuple[bytes, str]:
        """The bytes at ``key`` and an opaque token for ``replace``."""

    @abstractmethod
    def exists(self, key: str) -> bool:
        """Whether ``key`` is present (a cheap existence check)."""

    @abstractmethod
    def create(self, key: str, data: bytes) -> str:
        """Write ``key`` only if absent, return its token; else ``AlreadyExists``."""

    @abstractmethod
    def replace(self, key: str, data: bytes, token: str) -> str:
        """Overwrite ``key`` only if it still has ``token``; return the new token.

        ``PreconditionFailed`` if it changed, ``NotFound`` if it is absent.
        """

    @abstractmethod
    def list(self, prefix: str) -> Iterator[str]:
        """Every key under ``prefix`` (recursively), as full keys, any order."""

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove ``key``; absent keys are not an error."""

    # -- content objects -------------------------------------------------

    @abstractmethod
    def has_objects(self, digests: Iterable[str]) -> set[str]:
        """The subset of ``digests`` already stored on the remote."""

    @abstractmethod
    def put_object(self, digest: str, path: str, progress: Progress | None = None) -> bool:
        """Upload the file at ``path`` as object ``digest``, verified.

        The BLAKE3 of the bytes actually published must equal ``digest``,
        otherwise nothing is published and ``IntegrityError`` is raised.
        Returns False if the object was already present (nothing sent).
        """

    @abstractmethod
    def get_object(
        self, digest: str, dest: str, progress: Progress | None = None, mode: int | None = None
    ) -> None:
        """Download object ``digest`` to the path ``dest``, verified.

        Written to a temporary file beside ``dest`` and renamed into place only
        once its BLAKE3 equals ``digest``, with ``mode`` given before the
        rename (None: as the umask makes it); ``IntegrityError`` otherwise,
        ``NotFound`` if the remote lacks it. A large download killed midway
        leaves a partial file that the next download of the object, to the
        same directory, continues (docs/remote-layout.md "Downloads").
        """

    @abstractmethod
    def read_object(self, digest: str, start: int = 0) -> Iterator[bytes]:
        """The bytes of object ``digest`` from offset ``start``, in chunks.

        Not verified: the caller hashes what it reads (``ama.access`` does,
        incrementally). ``NotFound`` (raised by this call, before any chunk)
        if the remote lacks the object. Memory stays at one chunk.
        """

    @abstractmethod
    def replace_object(self, digest: str, path: str, progress: Progress | None = None) -> None:
        """Put the file at ``path`` over object ``digest``, which is present
        but damaged (``ama fsck --remote --repair``); verified like
        ``put_object``. Readers see the old bytes or the new, never a mix."""

    @abstractmethod
    def object_size(self, digest: str) -> int | None:
        """The size in bytes of object ``digest`` on the remote; None if absent."""

    def hash_object(self, digest: str, progress: Progress | None = None) -> str:
        """The BLAKE3 of the bytes the remote holds as object ``digest``.

        Read as a stream (``read_object``), nothing is written locally;
        ``NotFound`` if absent.
        """
        hasher = blake3(max_threads=blake3.AUTO)
        for chunk in self.read_object(digest):
            hasher.update(chunk)
            if progress:
                progress(len(chunk))
        return hasher.hexdigest()

    # -- cleaning up -----------------------------------------------------

    @abstractmethod
    def list_objects(self) -> Iterator[tuple[str, float, int]]:
        """(digest, time written, size) of every object on the remote."""

    @abstractmethod
    def leftovers(self) -> Iterator[Leftover]:
        """Temporary files and unfinished uploads that writers left behind,
        including ones still being written (the caller decides by age)."""

    @abstractmethod
    def remove_leftover(self, leftover: Leftover) -> bool:
        """Remove one leftover; False if it is gone already or in use right
        now (a resumable partial file a process holds)."""

    def close(self) -> None:  # noqa: B027 - deliberately optional: a directory has nothing to release
        """Release connections and pools."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
