"""ama gc, end to end: unreferenced local objects go, everything reachable
stays, the work tree is never touched; stale reservations are expired."""

from __future__ import annotations

import json
import os
import time

from conftest import object_ids, one_line_error, tree_state
from e2e import Work, object_path

from ama.hashing import hash_bytes

pytest_plugins = ["fixtures_history"]


def test_gc_removes_only_what_nothing_refers_to(e2e_work, tmp_path):
    e2e_work.write("f", "version one\n")
    e2e_work.write("d/g", "g\n")
    e2e_work.commit("one", "f", "d")
    e2e_work.write("f.new", "version two\n")
    os.replace(e2e_work.root / "f.new", e2e_work.root / "f")  # a new inode: the stored "version one" stays intact
    e2e_work.commit("two", "f")
    e2e_work.write("junk", "staged once, then unstaged\n")
    e2e_work.ok("add", "junk")
    e2e_work.ok("rm", "--cached", "junk")
    outside = tmp_path / "outside"
    outside.write_bytes(b"x" * 5000)
    stray = e2e_work.ok("hash-object", "-w", outside).out.strip()
    outside.unlink()
    objects = e2e_work.root / ".ama" / "objects"
    old = time.time() - 2 * 3600
    for name, when in ((".tmp-stale", old), (".ama-tmp-stale", old), (".tmp-fresh", time.time())):
        (objects / "aa").mkdir(exist_ok=True)
        (objects / "aa" / name).write_bytes(b"partial")
        os.utime(objects / "aa" / name, (when, when))
    kept = {i for i in object_ids(e2e_work.root) if "." not in i} - {stray, hash_bytes(b"staged once, then unstaged\n")}

    before = tree_state(e2e_work.root)
    assert e2e_work.lines("gc", "--dry-run") == [
        "would remove 2 unreferenced objects, 4.9 KiB freed (1 is a hardlink of a file outside the store: "
        "its space stays in use)",
        "would remove 2 stale temporary files, 14 B",
    ]
    assert tree_state(e2e_work.root) == before

    e2e_work.ok("gc")
    assert object_ids(e2e_work.root) == kept
    assert sorted(os.listdir(objects / "aa")) == [".tmp-fresh"]
    assert (e2e_work.root / "junk").read_text() == "staged once, then unstaged\n"
    # The first version stays whole: it is reachable as the second's parent.
    assert object_path(e2e_work, hash_bytes(b"version one\n")).exists()
    e2e_work.ok("fsck")
    assert e2e_work.lines("gc") == ["nothing to remove: every local object is in use"]


def test_gc_keeps_a_pending_commit_and_expires_stale_reservations(e2e_work, tmp_path):
    e2e_work.write("f", "1\n")
    e2e_work.commit("one", "f")
    e2e_work.write("f", "2\n")
    e2e_work.ok("add", "f")
    assert e2e_work("commit", "-m", "two", env={**e2e_work.env, "AMA_FAILPOINT": "after-reserve"}).rc == -9
    pending = json.loads((e2e_work.root / ".ama" / "PENDING").read_text())
    assert object_path(e2e_work, pending["tree"]).exists()

    # The work tree whose commit was interrupted keeps its reservation and
    # the objects of its pending commit.
    assert e2e_work.lines("gc", "--expire-reservations", "--older-than", "0") == [
        "nothing to remove: every local object is in use",
        "no reservation of class data is older than 0 hours",
    ]
    assert object_path(e2e_work, pending["tree"]).exists()

    other = Work(tmp_path / "seed", e2e_work.env).clone("data/1", "other")
    assert other.lines("gc", "--expire-reservations")[-1] == "no reservation of class data is older than 24 hours"
    assert other.lines("gc", "-n", "--expire-reservations", "--older-than", "0")[-1] == (
        "would expire 1 reservation: data/1/2"
    )
    assert other.lines("versions", "--all")[1].split("\t")[:2] == ["2", "reserved"]
    assert other.lines("gc", "--expire-reservations", "--older-than", "0")[-1] == "expired 1 reservation: data/1/2"
    assert other.lines("versions", "--all")[1].split("\t")[:3] == ["2", "abandoned", "-"]


def test_gc_refuses_what_it_cannot_do_safely(e2e_work):
    one_line_error(e2e_work("gc", "--older-than", "3"), 2)
    e2e_work.ok("config", "core.objects", "../shared-objects")
    before = tree_state(e2e_work.root)
    assert "other work trees may share" in one_line_error(e2e_work("gc"), 2)
    assert tree_state(e2e_work.root) == before


def test_one_walk_finds_what_commits_and_trees_reach_reading_each_once(tmp_path):
    import pytest

    from ama.errors import Corrupt, NotFound
    from ama.objects import Commit, build_trees, reachable
    from ama.store import Store

    store = Store(str(tmp_path / "objects"))
    a, b, c = (store.write_bytes(data) for data in (b"a", b"b", b"c"))
    one = build_trees({"x/a": (a, 1, 0o644), "y/a": (a, 1, 0o644), "b": (b, 1, 0o644)}, store.write_bytes)
    two = build_trees({"x/a": (a, 1, 0o644), "c": (c, 1, 0o644)}, store.write_bytes)
    first = store.write_bytes(Commit(one, "data/1", 1, "T <t@e>", 0, "+0000", "one").serialize())
    second = store.write_bytes(Commit(two, "data/1", 2, "T <t@e>", 0, "+0000", "two", parent=first).serialize())
    reads: list[str] = []
    read = store.read_bytes
    store.read_bytes = lambda digest: reads.append(digest) or read(digest)

    found = reachable(store, [second])

    assert found.commits == {first, second}
    assert found.contents == {a, b, c}
    # The two roots and one subtree: x/ and y/ hold the same file, in both versions.
    assert one in found.trees and two in found.trees and len(found.trees) == 3
    assert len(reads) == len(set(reads)) == 5
    assert reachable(store, trees=["0" * 64]).trees == set()  # not stored here: passed over
    with pytest.raises(NotFound, match="not in the local store"):
        reachable(store, trees=["0" * 64], strict=True)
    with pytest.raises(Corrupt, match="not a tree"):
        reachable(store, trees=[a])
