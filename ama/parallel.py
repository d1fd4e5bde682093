"""Running a function over many items on a few threads, with memory that
follows what is in flight, not how many items there are (a million files
to hash or upload are a million items).

Threads suit ama's bulk work: it is system calls, network waits and BLAKE3,
which releases the GIL while it hashes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import TypeVar

__all__ = ["IN_FLIGHT_PER_JOB", "run_bounded"]

T = TypeVar("T")
R = TypeVar("R")

# Tasks queued per thread beyond the running one: enough that a thread
# never waits for the producer, few enough that memory stays flat.
IN_FLIGHT_PER_JOB = 4


def run_bounded(fn: Callable[[T], R], items: Iterable[T], jobs: int) -> Iterator[tuple[T, R]]:
    """``(item, fn(item))`` for every item, run on ``jobs`` threads, in the
    order they finish.

    Items are taken from ``items`` only as threads free up, at most
    ``jobs * IN_FLIGHT_PER_JOB`` queued at a time. The first exception stops
    taking new items, waits for the running ones (so no thread outlives the
    call) and is raised.
    """
    if jobs == 1:
        for item in items:
            yield item, fn(item)
        return
    source = iter(items)
    limit = jobs * IN_FLIGHT_PER_JOB
    pool = ThreadPoolExecutor(jobs, thread_name_prefix="ama-worker")
    running: dict[Future[R], T] = {}
    try:
        exhausted = False
        while True:
            while not exhausted and len(running) < limit:
                item = next(source, _END)
                if item is _END:
                    exhausted = True
                else:
                    running[pool.submit(fn, item)] = item  # type: ignore[index]
            if not running:
                return
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for fut in done:
                item = running.pop(fut)
                yield item, fut.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


_END = object()
