"""``ama fsck --remote``: every committed version whole on the remote; --repair."""

from __future__ import annotations

import os

import pytest
from e2e import Work
from storage_helpers import A1, A2, A3, B, commit_three_versions, damage, remote_object, store_dir

from ama.hashing import hash_bytes

pytest_plugins = ["fixtures_history"]


@pytest.fixture
def three(e2e_work: Work) -> Work:
    commit_three_versions(e2e_work)
    return e2e_work


def fsck(w: Work, *args: str, **kw):
    return w("fsck", "--remote", "origin", *args, **kw)


def test_a_whole_remote_passes(three: Work) -> None:
    r = three.ok("fsck", "--remote", "origin")
    assert r.out == ""
    # 3 commits, 3 root trees, 4 contents (a.bin x3, b.bin).
    assert r.err == "checked 3 version(s), 10 object(s), 6 read and hashed on origin: 0 problem(s)\n"
    assert "10 read and hashed" in three.ok("fsck", "--remote", "origin", "--full").err


def test_a_missing_content_is_listed_with_every_version_it_breaks(three: Work) -> None:
    os.unlink(remote_object(store_dir(three), B))
    os.unlink(remote_object(store_dir(three), A1))
    r = fsck(three)
    assert r.rc == 1
    assert sorted(r.out.splitlines()) == sorted([
        f"missing\tcontent\t{hash_bytes(A1)}\tdata/1/1",
        f"missing\tcontent\t{hash_bytes(B)}\tdata/1/1,data/1/2,data/1/3",
    ])
    assert r.err.endswith(": 2 problem(s)\n")


def test_a_damaged_tree_or_commit_is_found_without_full(three: Work) -> None:
    head = three.ok("rev-parse", "data/1/2").out.strip()
    damage(remote_object(store_dir(three), head), b"ama-commit 1\nnot this one\n")
    r = fsck(three)
    assert r.rc == 1
    assert r.out == f"damaged\tcommit\t{head}\tdata/1/2\n"


def test_same_size_damage_to_a_content_needs_full_or_luck(three: Work) -> None:
    damage(remote_object(store_dir(three), A2), b"x" * len(A2))
    assert fsck(three).rc == 0
    r = fsck(three, "--full")
    assert r.rc == 1 and r.out == f"damaged\tcontent\t{hash_bytes(A2)}\tdata/1/2\n"
    assert fsck(three, "--sample", "4").out == r.out


def test_a_shorter_content_is_a_wrong_size(three: Work) -> None:
    damage(remote_object(store_dir(three), A3), A3[:10])
    assert fsck(three).out == f"wrong-size\tcontent\t{hash_bytes(A3)}\tdata/1/3\n"


def test_asset_limits_the_check_to_some_versions(three: Work) -> None:
    os.unlink(remote_object(store_dir(three), A1))
    assert three.ok("fsck", "--remote", "origin", "--asset", "data/1/3").err.startswith("checked 1 version(s)")
    assert fsck(three, "--asset", "data/1").rc == 1


def test_repair_puts_good_local_copies_back(three: Work) -> None:
    os.unlink(remote_object(store_dir(three), B))
    damage(remote_object(store_dir(three), A2), b"x" * len(A2))
    r = fsck(three, "--full", "--repair")
    assert r.rc == 0, r.err
    assert sorted(r.out.splitlines()[-2:]) == sorted([f"repaired\tcontent\t{hash_bytes(B)}",
                                                      f"repaired\tcontent\t{hash_bytes(A2)}"])
    assert r.err.endswith(": 2 problem(s), 2 repaired\n")
    assert three.ok("fsck", "--remote", "origin", "--full").out == ""
    assert remote_object(store_dir(three), A2).read_bytes() == A2


def test_repair_without_a_local_copy_says_so(three: Work) -> None:
    three.ok("prune")
    os.unlink(remote_object(store_dir(three), A1))
    r = fsck(three, "--repair")
    assert r.rc == 1
    assert "1 object(s) have no good copy in the local store to repair from" in r.err


def test_repair_killed_midway_is_finished_by_the_next_one(three: Work) -> None:
    for data in (A1, A2, B):
        damage(remote_object(store_dir(three), data), b"?" * len(data))
    killed = fsck(three, "--full", "--repair", "-j", "1", env={**three.env, "AMA_FAILPOINT": "repaired-object:1"})
    assert killed.rc == -9
    assert len(fsck(three, "--full").out.splitlines()) == 2
    assert fsck(three, "--full", "--repair").rc == 0
    assert three.ok("fsck", "--remote", "origin", "--full").out == ""
    assert not [n for _, _, files in os.walk(store_dir(three)) for n in files if n.startswith(".ama-tmp-")]


def test_a_corrupt_download_names_the_real_command(three: Work) -> None:
    three.ok("prune")
    damage(remote_object(store_dir(three), A1), b"?" * len(A1))
    r = three("checkout", "data/1/1")
    assert r.rc == 10
    assert "check the remote with 'ama fsck --remote NAME --full'" in r.err


def test_remote_options_need_remote(three: Work) -> None:
    r = three("fsck", "--full")
    assert r.rc == 2 and "go with --remote NAME" in r.err
