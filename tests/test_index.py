"""The index file: exact round trips, large indexes, smudging on write."""

import os
import time

from conftest import ok, read_index, write

from ama.fsutil import LockFile
from ama.index import Index


def synthetic_entries(n: int) -> dict:
    """n distinct entries whose fields use the whole width of their types:
    sizes and inode numbers beyond 32 bits, mtimes before 1970."""
    base = 1_700_000_000_000_000_000
    return {
        f"dir{i % 997}/s{i % 13}/f{i}": (
            i.to_bytes(32, "little"),
            i << (i % 30),
            base + i if i & 1 else -i,
            base - i,
            (i << 20) | 3,
            2049,
            1,
            0o100755 if i & 2 else 0o100644,
        )
        for i in range(n)
    }


def write_index(path: str, index: Index) -> None:
    with LockFile(path) as lock:
        index.write(lock)


def test_million_entries_round_trip_exactly(tmp_path):
    path = str(tmp_path / "index")
    entries = synthetic_entries(1_000_000)
    index = Index(entries)

    start = time.perf_counter()
    write_index(path, index)
    written = time.perf_counter()
    loaded = Index.load(path)
    done = time.perf_counter()
    print(
        f"1,000,000 entries, {os.path.getsize(path) / 2**20:.0f} MiB: "
        f"write {written - start:.2f}s, load {done - written:.2f}s"
    )

    assert loaded._entries == entries
    assert list(loaded._entries) == sorted(entries)


def test_empty_index_round_trips(tmp_path):
    path = str(tmp_path / "index")
    write_index(path, Index())
    assert len(Index.load(path)) == 0


def test_missing_index_is_an_empty_index(tmp_path):
    assert len(Index.load(str(tmp_path / "absent"))) == 0


def test_serialization_does_not_depend_on_insertion_order():
    entries = synthetic_entries(100)
    backwards = dict(reversed(list(entries.items())))
    assert Index(entries).serialize() == Index(backwards).serialize()


def test_racily_clean_entry_is_smudged_when_the_index_is_rewritten(repo, ama):
    """An entry not older than the index file, not re-verified by the writer,
    is written with its ctime zeroed so the next check hashes it."""
    write(repo / "a.bin", b"a")
    ok(ama("add", "a.bin"))
    path = str(repo / ".ama" / "index")
    entry = read_index(repo)["a.bin"]
    os.utime(path, ns=(entry.mtime_ns, entry.mtime_ns))  # as if written in the same tick

    index = Index.load(path)
    assert index.is_racy("a.bin")
    write_index(path, index)
    smudged = read_index(repo)["a.bin"]
    assert smudged.ctime_ns == 0 and smudged._replace(ctime_ns=entry.ctime_ns) == entry


def test_entry_verified_by_the_writer_is_not_smudged(repo, ama):
    path = write(repo / "a.bin", b"a")
    ok(ama("add", "a.bin"))
    index_path = str(repo / ".ama" / "index")
    entry = read_index(repo)["a.bin"]
    os.utime(index_path, ns=(entry.mtime_ns, entry.mtime_ns))

    index = Index.load(index_path)
    index.add("a.bin", entry.digest, os.lstat(path))
    write_index(index_path, index)
    assert read_index(repo)["a.bin"].ctime_ns == os.lstat(path).st_ctime_ns
