"""The index's packed in-memory layout (records in bytearrays, a dict from
path to record number, dead records left by removals) and its streamed
writer, checked against a plain dict model and an independent serializer."""

import random
import struct
from types import SimpleNamespace

import pytest
from blake3 import blake3

import ama.index as index_module
from ama.fsutil import LockFile
from ama.index import SKIP_WORKTREE, Index, Snapshot


def reference_bytes(model: dict, tree: bytes = bytes(32)) -> bytes:
    """Version 3 as docs/index-format.md describes it, built independently."""
    paths = sorted(model)
    stats = b"".join(struct.pack("<QqqQQII", *model[p][1:]) for p in paths)
    digests = b"".join(model[p][0] for p in paths)
    names = b"".join(p.encode() + b"\0" for p in paths)
    data = struct.pack("<8sII32s", b"AMAINDEX", 3, len(paths), tree) + stats + digests + names
    return data + blake3(data).digest()


def fake_stat(i: int, size: int = 7) -> SimpleNamespace:
    base = 1_700_000_000_000_000_000
    return SimpleNamespace(st_size=size, st_mtime_ns=base + i, st_ctime_ns=base + 2 * i, st_ino=(i << 33) | 5,
                           st_dev=2049, st_mode=0o100755 if i & 1 else 0o100644)


def entry(digest: str, st) -> tuple:
    return (bytes.fromhex(digest), st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev, st.st_mode, 0)


def write_and_load(path, index: Index) -> Index:
    with LockFile(str(path)) as lock:
        index.write(lock)
    return Index.load(str(path))


def model_add(model: dict, path: str, e: tuple) -> list[str]:
    """Stage ``path`` in the model, with the file/directory rule of Index.add."""
    dropped = []
    if path not in model:
        parts = path.split("/")
        dropped = [p for p in ("/".join(parts[:i]) for i in range(1, len(parts))) if p in model]
        dropped += [p for p in model if p.startswith(path + "/")]
        for p in dropped:
            del model[p]
    model[path] = e
    return dropped


NAMES = ["a", "a/b", "a/b/c", "a/c", "a.b", "a-b", "b", "b/x", "b/y", "c/d/e", "c/d", "c", "z", "é", "ü/x"]


@pytest.mark.parametrize("seed", range(40))
def test_random_edits_of_a_loaded_index_write_what_a_dict_model_holds(tmp_path, monkeypatch, seed):
    # A tiny piece size: the writer's boundaries are crossed many times.
    monkeypatch.setattr(index_module, "WRITE_CHUNK", 1 + seed % 4)
    rng = random.Random(seed)
    model: dict = {}
    index = Index()
    for step in range(rng.randrange(0, 12)):
        path = rng.choice(NAMES)
        st = fake_stat(step)
        assert sorted(index.add(path, f"{step:064x}", st)) == sorted(model_add(model, path, entry(f"{step:064x}", st)))
    path = tmp_path / "index"
    index = write_and_load(path, index)
    assert path.read_bytes() == reference_bytes(model)
    for step in range(100, 100 + rng.randrange(1, 30)):
        op = rng.randrange(5)
        name = rng.choice(NAMES)
        if op == 0 or not model:
            st = fake_stat(step)
            assert sorted(index.add(name, f"{step:064x}", st)) == sorted(model_add(model, name, entry(f"{step:064x}", st)))
        elif op == 1:
            assert index.remove(name) == (model.pop(name, None) is not None)
        elif op == 2:
            old = rng.choice(sorted(model))
            if old != name and not name.startswith(old + "/") and not old.startswith(name + "/"):
                e = model.pop(old)
                model.pop(name, None)
                assert sorted(index.move(old, name)) == sorted(model_add(model, name, e))
        elif op == 3:
            p = rng.choice(sorted(model))
            index.set_skip_worktree(p, rng.random() < 0.5)
            flags = (model[p][7] | SKIP_WORKTREE) if index.is_skip_worktree(p) else model[p][7] & ~SKIP_WORKTREE
            model[p] = model[p][:7] + (flags,)
        else:
            p = rng.choice(sorted(model))
            st = fake_stat(step, size=model[p][1])
            index.refresh(p, st)
            model[p] = (model[p][0], *entry("00" * 32, st)[1:7], model[p][7] & ~SKIP_WORKTREE)
        assert sorted(index.paths()) == sorted(model) and len(index) == len(model)
        for p, e in model.items():
            assert index.get(p) == Snapshot(e[0].hex(), *e[1:])
    index.mtime_ns = 0  # nothing racy: the bytes are the model's exactly
    assert write_and_load(path, index).serialize() == reference_bytes(model) == path.read_bytes()


@pytest.mark.parametrize("n", [0, 1, 2, 3, 4, 5, 8, 9])
def test_written_bytes_are_exact_on_every_side_of_a_piece_boundary(tmp_path, monkeypatch, n):
    monkeypatch.setattr(index_module, "WRITE_CHUNK", 4)
    model = {f"d{i % 3}/f{i}": entry(f"{i:064x}", fake_stat(i)) for i in range(n)}
    index = Index(dict(reversed(model.items())))
    assert index.serialize() == reference_bytes(model)
    assert write_and_load(tmp_path / "index", index).serialize() == reference_bytes(model)
    assert (tmp_path / "index").read_bytes() == reference_bytes(model)


def test_a_real_piece_boundary_is_written_exactly(tmp_path):
    n = index_module.WRITE_CHUNK + 1
    model = {f"d{i % 7}/f{i}": entry(f"{i:064x}", fake_stat(i)) for i in range(n)}
    loaded = write_and_load(tmp_path / "index", Index(model))
    assert (tmp_path / "index").read_bytes() == reference_bytes(model)
    # Edited after loading: new records out of order, dead ones left behind.
    loaded.remove("d0/f0")
    st = fake_stat(n)
    loaded.add("a/first", "ab" * 32, st)
    loaded.add("d0/f0", "cd" * 32, st)
    model.pop("d0/f0")
    model["a/first"] = entry("ab" * 32, st)
    model["d0/f0"] = entry("cd" * 32, st)
    loaded.mtime_ns = 0
    assert loaded.serialize() == reference_bytes(model)


def test_removed_then_added_again_is_one_entry_with_the_new_content(tmp_path):
    index = Index()
    index.add("x", "aa" * 32, fake_stat(1))
    index.add("y", "bb" * 32, fake_stat(2))
    loaded = write_and_load(tmp_path / "index", index)
    assert loaded.remove("x") and "x" not in loaded and not loaded.remove("x")
    loaded.add("x", "cc" * 32, fake_stat(3))
    assert loaded.digest("x") == "cc" * 32 and len(loaded) == 2
    again = write_and_load(tmp_path / "index", loaded)
    assert again.sorted_paths() == ["x", "y"] and again.digest("x") == "cc" * 32


def test_conflicts_are_resolved_on_insert_into_a_loaded_index(tmp_path):
    index = Index()
    for i, p in enumerate(["data", "other/a", "other/b/c", "other-x"]):
        index.add(p, f"{i:064x}", fake_stat(i))
    loaded = write_and_load(tmp_path / "index", index)
    assert loaded.add("data/x", "11" * 32, fake_stat(9)) == ["data"]
    assert sorted(loaded.add("other", "22" * 32, fake_stat(10))) == ["other/a", "other/b/c"]
    assert loaded.sorted_paths() == ["data/x", "other", "other-x"]
    assert write_and_load(tmp_path / "index", loaded).sorted_paths() == ["data/x", "other", "other-x"]


def test_a_moved_racy_entry_is_smudged_and_a_re_added_one_is_not(tmp_path):
    index = Index()
    index.add("a", "aa" * 32, fake_stat(1))
    index.add("b", "bb" * 32, fake_stat(2))
    loaded = write_and_load(tmp_path / "index", index)
    loaded.mtime_ns = fake_stat(0).st_mtime_ns  # both entries racy relative to the index read
    loaded.move("a", "m")
    loaded.add("b", "bb" * 32, fake_stat(2))
    again = write_and_load(tmp_path / "index", loaded)
    assert again.get("m").ctime_ns == 0
    assert again.get("b").ctime_ns == fake_stat(2).st_ctime_ns


def test_version_2_decodes_into_the_packed_layout(tmp_path):
    from test_index import v2_bytes

    model = {f"p{i}": entry(f"{i:064x}", fake_stat(i)) for i in range(5)}
    v2 = {p: (*e[:6], 1, e[6]) for p, e in model.items()}  # nlink before mode
    (tmp_path / "index").write_bytes(v2_bytes(v2))
    loaded = Index.load(str(tmp_path / "index"))
    assert loaded.raw_v3() is None
    loaded.mtime_ns = 0
    assert loaded.serialize() == reference_bytes(model)


@pytest.mark.parametrize("limit", [0, 1, 64])
def test_stage_records_every_file_whatever_order_its_chunks_finish_in(repo, monkeypatch, limit):
    from conftest import write

    from ama import staging
    from ama.hashing import hash_bytes
    from ama.repo import Repo

    monkeypatch.setattr(staging, "CHUNK", 3)
    monkeypatch.setattr(staging, "REORDER_LIMIT", limit)
    names = [f"d{i % 5}/f{i:03d}" for i in range(200)]
    for name in names:
        write(repo / name, name.encode() * (1 + len(name) % 3))
    r = Repo(str(repo))
    found = staging.expand(r, [str(repo)])
    assert found.files == sorted(names)
    index = Index()
    result = staging.stage(r, index, found.files, jobs=4)
    assert sorted(result.added) == sorted(names) and len(index) == 200
    assert all(index.digest(n) == hash_bytes(n.encode() * (1 + len(n) % 3)) for n in names)
    if limit == 64:
        assert list(index.paths()) == sorted(names)  # recorded in path order


@pytest.mark.parametrize("size, threaded", [(10, False), (64 << 10, True)])
def test_stage_hashes_small_files_on_one_thread_and_larger_ones_on_several(repo, monkeypatch, size, threaded):
    """Threads only pass the GIL around for small files (2x slower than one
    thread here), so the default takes them only for files of 64 KiB and up;
    an explicit -j is obeyed either way."""
    from conftest import write

    from ama import staging
    from ama.hashing import hash_bytes
    from ama.repo import Repo

    assert staging.THREADS_MIN_AVERAGE == 64 << 10
    monkeypatch.setattr(staging, "CHUNK", 4)
    names = [f"d/f{i:02d}" for i in range(20)]
    for i, name in enumerate(names):
        write(repo / name, bytes([i]) * size)
    runs = []
    runner = staging.run_bounded

    def watched(fn, items, jobs):
        runs.append(jobs)
        return runner(fn, items, jobs)

    monkeypatch.setattr(staging, "run_bounded", watched)
    r = Repo(str(repo))
    index = Index()
    staging.stage(r, index, staging.expand(r, [str(repo)]).files)
    assert (runs != []) == threaded and all(jobs > 1 for jobs in runs)
    assert all(index.digest(n) == hash_bytes(bytes([i]) * size) for i, n in enumerate(names))
    runs.clear()
    staging.stage(r, Index(), names, jobs=3)
    assert runs == [3]
