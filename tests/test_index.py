"""The index file: exact round trips, large indexes, smudging on write."""

import os
import time

import pytest
from conftest import ok, read_index, write

from ama.fsutil import LockFile
from ama.index import Index, Snapshot


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
            0o100755 if i & 2 else 0o100644,
            i & 1,
        )
        for i in range(n)
    }


def write_index(path: str, index: Index) -> None:
    with LockFile(path) as lock:
        index.write(lock)


@pytest.mark.slow
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

    assert loaded.sorted_paths() == sorted(entries)
    assert all(loaded.get(p) == Snapshot(e[0].hex(), *e[1:]) for p, e in entries.items())
    assert Index.load(path).serialize() == index.serialize()


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


# -- format version 3: v2 upgraded, flags -------------------------------------------


def v2_bytes(entries: dict, tree: bytes = bytes(32)) -> bytes:
    """A version 2 index (80-byte records with digests inline and nlink)."""
    from blake3 import blake3

    from ama.index import HEADER, MAGIC, RECORD_V2

    paths = sorted(entries)
    body = b"".join(RECORD_V2.pack(*entries[p]) for p in paths)
    names = b"".join(p.encode() + b"\0" for p in paths)
    data = HEADER.pack(MAGIC, 2, len(paths), tree) + body + names
    return data + blake3(data).digest()


def test_version_2_index_is_read_and_written_back_as_version_3(repo, ama):
    write(repo / "a.bin", b"alpha")
    write(repo / "d" / "b.bin", b"beta")
    ok(ama("add", "."))
    tree = ok(ama("write-tree")).out.strip()
    before = read_index(repo)
    index_path = repo / ".ama" / "index"
    index_path.write_bytes(
        v2_bytes({p: (bytes.fromhex(e.digest), e.size, e.mtime_ns, e.ctime_ns, e.ino, e.dev, 1, e.mode)
                  for p, e in before.items()})
    )
    assert read_index(repo) == before  # flags 0 and the snapshot kept
    assert ok(ama("status", "--porcelain")).out == "A  a.bin\nA  d/b.bin\n"
    assert ok(ama("write-tree")).out.strip() == tree

    write(repo / "c.bin", b"gamma")
    ok(ama("add", "c.bin"))
    assert int.from_bytes(index_path.read_bytes()[8:12], "little") == 3
    assert sorted(read_index(repo)) == ["a.bin", "c.bin", "d/b.bin"]
    assert ok(ama("write-tree")).out.strip() != tree


def test_unknown_index_version_is_refused_as_corrupt(tmp_path):
    import pytest
    from blake3 import blake3

    from ama.errors import Corrupt
    from ama.index import HEADER, MAGIC

    data = HEADER.pack(MAGIC, 4, 0, bytes(32))
    path = tmp_path / "index"
    path.write_bytes(data + blake3(data).digest())
    with pytest.raises(Corrupt, match="has format version 4; this ama reads versions 2 and 3"):
        Index.load(str(path)).paths()


def test_skip_worktree_and_kind_round_trip_and_do_not_touch_the_tree(tmp_path):
    st = os.lstat(write(tmp_path / "f", b"x"))
    index = Index()
    index.add("a", "a" * 64, st)
    index.add("b", "b" * 64, st)
    index.tree = "c" * 64
    index.set_skip_worktree("b")
    assert index.tree == "c" * 64
    path = str(tmp_path / "index")
    write_index(path, index)
    loaded = Index.load(path)
    assert loaded.is_skip_worktree("b") and not loaded.is_skip_worktree("a")
    assert loaded.skip_worktree_paths() == ["b"]
    assert loaded.kind("a") == loaded.kind("b") == 0
    loaded.set_skip_worktree("b", False)
    assert not loaded.is_skip_worktree("b")


def test_reference_paths_are_read_from_the_kind_bytes_without_decoding(tmp_path):
    st = os.lstat(write(tmp_path / "f", b"x"))
    index = Index()
    for name in ("a", "b", "c"):
        index.add(name, name * 64, st)
    index.set_skip_worktree("b")  # a flag in the same word, not a kind
    path = str(tmp_path / "index")
    write_index(path, index)
    loaded = Index.load(path)
    assert loaded.reference_paths() == set()
    assert loaded.raw_v3() is not None  # not decoded: status asks this of every index
    index.add_reference("c", "d" * 64, 1)
    write_index(path, index)
    assert Index.load(path).reference_paths() == {"c"}


def test_skip_worktree_entry_is_not_deleted_and_is_carried_into_write_tree(repo, ama):
    write(repo / "kept.bin", b"kept")
    write(repo / "sparse" / "away.bin", b"not materialised")
    ok(ama("add", "."))
    tree = ok(ama("write-tree")).out.strip()
    path = str(repo / ".ama" / "index")
    with LockFile(path) as lock:
        index = Index.load(path)
        index.set_skip_worktree("sparse/away.bin")
        index.write(lock)
    os.unlink(repo / "sparse" / "away.bin")
    os.rmdir(repo / "sparse")

    assert ok(ama("stat-check")).out == ""
    assert ok(ama("status", "--porcelain")).out == "A  kept.bin\nA  sparse/away.bin\n"
    assert ok(ama("write-tree")).out.strip() == tree
    assert read_index(repo)["sparse/away.bin"].flags & 1


def test_snapshots_at_positions_are_the_entries_without_decoding(tmp_path):
    index = Index()
    for i, name in enumerate(["b/x", "a", "c", "b/y"]):
        index.add(name, f"{i:064x}", os.lstat(write(tmp_path / name, b"x" * i)))
    path = str(tmp_path / "index")
    write_index(path, index)
    loaded = Index.load(path)
    positions = {p: i for i, p in enumerate(sorted(["b/x", "a", "c", "b/y"]))}
    snaps = loaded.snapshots_at({p: positions[p] for p in ("c", "b/x")})
    assert loaded.raw_v3() is not None
    assert snaps == {"c": loaded.get("c"), "b/x": loaded.get("b/x")}
