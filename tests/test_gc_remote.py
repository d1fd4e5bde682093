"""``ama gc --remote``: unreferenced objects, leftovers and stale reservations
go; nothing a committed version or a commit in flight needs ever does."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest
from conftest import AMA
from e2e import Work
from storage_helpers import commit_three_versions, store_dir

from ama.hashing import hash_bytes
from ama.remote.base import Remote, object_key
from ama.remotegc import collect

pytest_plugins = ["fixtures_history"]

OLD = time.time() - 3 * 86400


@pytest.fixture
def three(e2e_work: Work) -> Work:
    commit_three_versions(e2e_work)
    return e2e_work


def interrupted_commit(w: Work, data: bytes) -> None:
    """A commit of ``data`` killed once its contents are uploaded: a
    reservation and objects no committed version names stay behind."""
    w.write("new.bin", data)
    w.ok("add", "new.bin")
    r = w("commit", "-m", "killed", env={**w.env, "AMA_FAILPOINT": "after-contents"})
    assert r.rc == -9


def other_work_tree(w: Work, tmp_path: Path) -> Work:
    return w.clone("data/1", str(tmp_path / "other"))


def age_everything(root: Path) -> None:
    for directory, _, files in os.walk(root):
        for name in files:
            os.utime(os.path.join(directory, name), (OLD, OLD))


def test_gc_removes_what_an_abandoned_commit_uploaded(three: Work, tmp_path: Path) -> None:
    other = other_work_tree(three, tmp_path)
    interrupted_commit(three, b"never committed" * 10)
    orphan = store_dir(three) / object_key(hash_bytes(b"never committed" * 10))
    assert orphan.exists()
    age_everything(store_dir(three))

    # The reservation is seconds old (its record says when it was made): --older-than 0.
    dry = other.lines("gc", "--remote", "origin", "--dry-run", "--older-than", "0")
    assert dry[0].startswith("would expire 1 reservation: data/1/4")
    assert orphan.exists()
    out = other.lines("gc", "--remote", "origin", "--older-than", "0")
    assert out[0] == "expired 1 reservation: data/1/4"
    # The content, and the trees and commit killed commit had written locally only, are not there.
    assert out[1].startswith("removed 1 unreferenced object,")
    assert not orphan.exists()
    assert other.ok("fsck", "--remote", "origin", "--full").out == ""


def test_young_objects_and_a_live_commit_keep_their_objects(three: Work, tmp_path: Path) -> None:
    other = other_work_tree(three, tmp_path)
    interrupted_commit(three, b"in flight" * 10)
    orphan = store_dir(three) / object_key(hash_bytes(b"in flight" * 10))
    assert other.lines("gc", "--remote", "origin") == [
        "left unreferenced objects alone: a commit is in flight (data/1/4); run gc again later",
        "kept 1 unreferenced object younger than 24 hours",
    ]
    age_everything(store_dir(three))
    # Its own pending commit is never expired, and while it is in flight no object goes.
    out = three.lines("gc", "--remote", "origin")
    assert out == ["left unreferenced objects alone: a commit is in flight (data/1/4); run gc again later"]
    assert orphan.exists()
    # The interrupted commit then finishes, with its object.
    three.ok("commit")
    assert three.ok("fsck", "--remote", "origin", "--full").out == ""


def test_old_temporary_files_go_and_young_ones_stay(three: Work) -> None:
    objects = store_dir(three) / "objects" / "ab"
    objects.mkdir(parents=True, exist_ok=True)
    old = objects / ".ama-tmp-0123456789abcdef"
    old.write_bytes(b"x" * 2048)
    os.utime(old, (OLD, OLD))
    young = objects / ".ama-tmp-fedcba9876543210"
    young.write_bytes(b"y")
    assert three.lines("gc", "--remote", "origin") == ["removed 1 temporary file(s) or unfinished upload(s), 2.0 KiB"]
    assert not old.exists() and young.exists()
    assert three.lines("gc", "--remote", "origin") == ["nothing to remove on origin"]


def test_gc_killed_midway_leaves_a_valid_remote(three: Work, tmp_path: Path) -> None:
    other = other_work_tree(three, tmp_path)
    three.write("x1.bin", b"x1" * 100)
    three.write("x2.bin", b"x2" * 100)
    three.ok("add", "x1.bin", "x2.bin")
    assert three("commit", "-m", "killed", env={**three.env, "AMA_FAILPOINT": "after-contents"}).rc == -9
    age_everything(store_dir(three))
    killed = other("gc", "--remote", "origin", "--older-than", "0", env={**other.env, "AMA_FAILPOINT": "gc-removed-object:1"})
    assert killed.rc == -9
    assert other.ok("fsck", "--remote", "origin", "--full").out == ""
    assert other.lines("gc", "--remote", "origin", "--older-than", "0")[0].startswith("removed 1 unreferenced object")
    # The killed commit's work tree gives it up and commits its files as a new asset.
    three.ok("commit", "--abandon", "-m", "again")
    assert three.ok("fsck", "--remote", "origin", "--full").out == ""


def test_a_commit_racing_the_gc_never_loses_an_object(three: Work, tmp_path: Path) -> None:
    """The commit reuses objects an interrupted commit left (old and
    unreferenced: exactly what gc removes) while gc runs."""
    other = other_work_tree(three, tmp_path)
    for round_ in range(3):
        data = f"raced {round_} ".encode() * 50
        interrupted_commit(three, data)
        # Its reservation expired: nothing in flight, the objects are old.
        other.ok("gc", "--expire-reservations", "--older-than", "0")
        age_everything(store_dir(three))
        env_gc = {**other.env}
        commit = subprocess.Popen([AMA, "commit", "--abandon", "-m", f"race {round_}"], cwd=three.root,
                                  env=three.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        gc = subprocess.Popen([AMA, "gc", "--remote", "origin"], cwd=other.root,
                              env=env_gc, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        commit_out, commit_err = commit.communicate(timeout=120)
        gc_out, gc_err = gc.communicate(timeout=120)
        assert gc.returncode == 0, gc_err
        assert commit.returncode == 0, commit_err
        assert three.ok("fsck", "--remote", "origin", "--full").out == ""
        assert (store_dir(three) / object_key(hash_bytes(data))).exists()


class _StartsACommit:
    """A remote that, when gc lists its objects, lets a commit reserve a
    version (as if it started right then)."""

    def __init__(self, remote: Remote):
        self._remote = remote

    def __getattr__(self, name: str):
        return getattr(self._remote, name)

    def list_objects(self):
        from ama.assets import Assets

        Assets(self._remote).reserve_version("data", 1, self._head(), "racing-txid", "someone")
        yield from self._remote.list_objects()

    def _head(self) -> str:
        from ama.assets import Assets

        head = Assets(self._remote).head("data", 1)
        assert head is not None
        return head.commit


def test_gc_stops_removing_objects_when_a_commit_starts(three: Work) -> None:
    from ama.remote.local import LocalRemote

    interrupted_commit(three, b"orphan" * 10)
    three.ok("gc", "--expire-reservations", "--older-than", "0")
    age_everything(store_dir(three))
    remote = LocalRemote(str(store_dir(three)))
    before = set(remote.list("objects/"))

    sweep = collect(_StartsACommit(remote), 0, dry_run=False)  # type: ignore[arg-type]

    assert sweep.objects_skipped == "a commit started meanwhile"
    assert sweep.objects == []
    assert set(remote.list("objects/")) == before


def test_unfinished_uploads_and_temporary_files_are_leftovers(remote: Remote, tmp_path: Path) -> None:
    from ama.remote.local import LocalRemote

    if isinstance(remote, LocalRemote):
        directory = Path(remote.root) / "objects" / "cd"
        directory.mkdir(parents=True)
        (directory / ".ama-tmp-00112233aabbccdd").write_bytes(b"half")
    else:
        remote.client.create_multipart_upload(Bucket=remote.bucket, Key=remote.s3_key(object_key("cd" * 32)))
    found = list(remote.leftovers())
    assert len(found) == 1
    assert remote.remove_leftover(found[0])
    assert list(remote.leftovers()) == []
    assert not remote.remove_leftover(found[0])  # already gone: not an error


def test_a_partial_upload_a_process_holds_is_not_collected(tmp_path: Path) -> None:
    from ama import fsutil
    from ama.remote.local import LocalRemote

    remote = LocalRemote(str(tmp_path / "remote"))
    os.makedirs(remote.temp_dir)
    held, partial = fsutil.open_partial(remote.temp_dir, "ab" * 32)
    assert partial
    with held:
        sweep = collect(remote, 0, dry_run=False)

        assert sweep.leftovers == []
        assert os.path.exists(held.name)
    assert [leftover.name for leftover in collect(remote, 0, dry_run=False).leftovers] == [
        f".ama-tmp/.ama-tmp-{'ab' * 8}"
    ]
