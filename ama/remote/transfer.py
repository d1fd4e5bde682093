"""Moving many objects to and from a remote, in parallel, for any backend.

Real data sets are mostly thousands of small files, so the per-object cost
is kept to what the backend's ``put_object``/``get_object`` does itself: one
existence query for the whole push, then one task per missing object on a
bounded thread pool. Threads suit both backends: the work is system calls
and network waits, and BLAKE3 releases the GIL while it hashes.

Tasks are handed to the pool a few at a time (``ama.parallel.run_bounded``),
never all up front: a push of a million files holds a few dozen futures,
not a million, so memory follows what is in flight.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from ama.errors import BadPath, IntegrityError, UsageError
from ama.parallel import run_bounded
from ama.remote.base import Progress, Remote

__all__ = ["PushResult", "fetch_objects", "push_objects"]


@dataclass
class PushResult:
    """What a push did, digest by digest."""

    # Digests this push published.
    uploaded: list[str] = field(default_factory=list)
    # Digests the remote already had (nothing sent).
    skipped: list[str] = field(default_factory=list)
    # (digest, path) of every file whose bytes no longer hash to the digest it
    # was added under, or that can no longer be read: nothing was published
    # from it. A digest is also in ``uploaded`` if another path with the same
    # content was sent instead.
    bad: list[tuple[str, str]] = field(default_factory=list)
    # Bytes of the published objects.
    bytes_sent: int = 0


def push_objects(
    remote: Remote,
    items: list[tuple[str, str, int]],
    jobs: int = 8,
    progress: Progress | None = None,
) -> PushResult:
    """Upload every ``(digest, path, size)`` the remote lacks, verified.

    A file that changed since it was added does not stop the push: it is
    listed in ``PushResult.bad`` and the others still go. Any other failure
    (the remote is unreachable, refuses, ...) cancels what has not started
    and is raised.

    ``progress`` is called, from one thread at a time, with byte counts that
    add up to the sum of the items' sizes once the push is done, including
    items that were skipped or refused, so it can drive a progress bar.
    """
    _check_jobs(jobs)
    report = _serialized(progress)
    sources: dict[str, list[tuple[str, int]]] = {}
    for digest, path, size in items:
        sources.setdefault(digest, []).append((path, size))

    result = PushResult()
    present = remote.has_objects(sources)
    missing = []
    for digest, paths in sources.items():
        if digest in present:
            result.skipped.append(digest)
            if report:
                report(sum(size for _, size in paths))
        else:
            missing.append(digest)

    def push_one(digest: str) -> tuple[bool | None, int, list[tuple[str, str]]]:
        """(created, size, refused) from the first source that verifies;
        created is None if none did."""
        meter = _Meter(report, sum(size for _, size in sources[digest]))
        refused = []
        try:
            for path, size in sources[digest]:
                try:
                    created = remote.put_object(digest, path, meter)
                except (IntegrityError, BadPath):
                    refused.append((digest, path))
                    continue
                return created, size, refused
            return None, 0, refused
        finally:
            meter.finish()

    for digest, (created, size, refused) in run_bounded(push_one, missing, jobs):
        result.bad.extend(refused)
        if created:
            result.uploaded.append(digest)
            result.bytes_sent += size
        elif created is False:
            result.skipped.append(digest)
    return result


def fetch_objects(
    remote: Remote,
    items: list[tuple[str, str]],
    jobs: int = 8,
    progress: Progress | None = None,
    mode: int | None = None,
) -> None:
    """Download every ``(digest, dest_path)``, verified, each given ``mode``
    before it appears under its name (``Remote.get_object``).

    The first failure cancels what has not started and is raised; files
    already fetched stay (each is complete and verified).
    """
    _check_jobs(jobs)
    report = _serialized(progress)
    for _ in run_bounded(lambda item: remote.get_object(item[0], item[1], report, mode), items, jobs):
        pass




def _check_jobs(jobs: int) -> None:
    if jobs < 1:
        raise UsageError(f"--jobs must be at least 1, not {jobs}")


def _serialized(progress: Progress | None) -> Progress | None:
    """``progress`` behind a lock, so callers need not write thread-safe callbacks."""
    if progress is None:
        return None
    lock = threading.Lock()

    def report(n: int) -> None:
        with lock:
            progress(n)

    return report


class _Meter:
    """Passes one object's byte counts on, and tops them up to its size at the end.

    Called from the backend's own threads too (parts of one upload go in
    parallel), hence the lock.
    """

    def __init__(self, report: Progress | None, budget: int):
        self.report = report
        self.left = budget
        self.lock = threading.Lock()

    def __call__(self, n: int) -> None:
        with self.lock:
            n = min(n, self.left)
            self.left -= n
        if n and self.report:
            self.report(n)

    def finish(self) -> None:
        self(self.left)
