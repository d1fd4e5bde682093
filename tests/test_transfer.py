"""Memory at scale: transfers and tree writes hold what is in flight, not
everything at once."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from ama import parallel
from ama.hashing import hash_bytes
from ama.index import Index
from ama.objects import build_trees, index_files, parse_tree, write_index_tree
from ama.remote import transfer
from ama.remote.local import LocalRemote
from ama.store import Store


def test_the_runner_takes_items_only_as_threads_free_up() -> None:
    taken = 0
    finished = 0
    most_ahead = 0
    lock = threading.Lock()

    def items():
        nonlocal taken, most_ahead
        for i in range(2000):
            with lock:
                taken += 1
                most_ahead = max(most_ahead, taken - finished)
            yield i

    def work(i: int) -> int:
        nonlocal finished
        with lock:
            finished += 1
        return i * 2

    results = dict(parallel.run_bounded(work, items(), jobs=4))

    assert results == {i: i * 2 for i in range(2000)}
    assert most_ahead <= 4 * parallel.IN_FLIGHT_PER_JOB + 1


def test_the_runner_stops_taking_items_after_a_failure() -> None:
    taken = []

    def items():
        for i in range(10_000):
            taken.append(i)
            yield i

    def work(i: int) -> int:
        if i == 5:
            raise ValueError("boom")
        return i

    with pytest.raises(ValueError, match="boom"):
        for _ in parallel.run_bounded(work, items(), jobs=4):
            pass
    assert len(taken) < 200


def test_a_push_of_many_files_uploads_each_once(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    items = []
    for i in range(500):
        path = src / f"f{i}"
        data = f"content {i % 300}".encode()
        path.write_bytes(data)
        items.append((hash_bytes(data), str(path), len(data)))
    remote = LocalRemote(str(tmp_path / "remote"))

    result = transfer.push_objects(remote, items, jobs=4)

    assert sorted(result.uploaded) == sorted({d for d, _, _ in items})
    assert not result.bad and not result.skipped
    assert remote.has_objects(d for d, _, _ in items) == {d for d, _, _ in items}


def _index(n_dirs: int, per_dir: int) -> Index:
    index = Index()
    for i in range(n_dirs):
        for j in range(per_dir):
            index.add_unread(f"d{i}/sub{i % 3}/f{j}", hash_bytes(f"{i} {j}".encode()), 10 + j, 0o644)
    return index


@pytest.mark.parametrize("n_dirs", [2, 60])
def test_trees_written_as_one_batch_are_all_stored_under_their_ids(tmp_path: Path, n_dirs: int) -> None:
    store = Store(str(tmp_path / "objects"))
    index = _index(n_dirs, 5)

    root = write_index_tree(store, index)

    assert root == build_trees(index_files(index), hash_bytes)
    stack = [root]
    seen = 0
    while stack:
        tree_id = stack.pop()
        assert store.verify(tree_id)
        seen += 1
        stack += [e.digest for e in parse_tree(store.read_bytes(tree_id)) if e.kind == "tree"]
    assert seen == 1 + n_dirs + sum(1 for i in range(n_dirs) for _ in {i % 3})
    leftovers = [n for d in os.listdir(store.root) for n in os.listdir(store.root + "/" + d) if n.startswith(".")]
    assert leftovers == []


def test_a_failed_batch_leaves_no_temporary_file_and_no_object(tmp_path: Path) -> None:
    store = Store(str(tmp_path / "objects"))
    with pytest.raises(RuntimeError):
        with store.batch() as batch:
            ids = [batch.write(f"tree {i}".encode()) for i in range(40)]
            raise RuntimeError("interrupted")
    assert not any(store.has(i) for i in ids)
    assert [n for d in os.listdir(store.root) for n in os.listdir(os.path.join(store.root, d))] == []


def test_add_hands_files_to_the_hashing_threads_only_as_they_free_up(repo: Path, monkeypatch) -> None:
    from ama import staging
    from ama.repo import Repo

    for i in range(1500):
        (repo / f"f{i:04d}.txt").write_text(f"file {i}\n")
    runner = parallel.run_bounded
    taken = recorded = most_ahead = 0

    def watched_runner(fn, items, jobs):
        nonlocal taken, recorded, most_ahead

        def counted():
            nonlocal taken, most_ahead
            for item in items:
                taken += 1
                most_ahead = max(most_ahead, taken - recorded)
                yield item

        for item, result in runner(fn, counted(), jobs):
            recorded += 1
            yield item, result

    monkeypatch.setattr(staging, "run_bounded", watched_runner)
    r = Repo(str(repo))
    found = staging.expand(r, [str(repo)])
    index = r.load_index()

    result = staging.stage(r, index, found.files, jobs=2)

    assert len(result.added) == 1500
    assert index.digest("f0042.txt") == hash_bytes(b"file 42\n")
    # Chunks of files are cut only as the two threads take them, never all up front.
    assert taken == -(-1500 // staging.CHUNK)
    assert most_ahead <= 2 * parallel.IN_FLIGHT_PER_JOB + 1
