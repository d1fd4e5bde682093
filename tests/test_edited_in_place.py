"""A file stored by hardlink and then edited in place is never uploaded.

With ``linkmode hardlink`` the cached object and the work-tree file are one
inode, so an in-place edit changes both: the bytes no longer hash to the id
they were added under. ``push-staged`` and ``commit`` refuse such a file
(exit 10) and name it; the remote gets nothing under the old id and no
version is published.
"""

from __future__ import annotations

from pathlib import Path

from conftest import ok, one_line_error, run_ama
from txn_helpers import DirView, assert_consistent, b3, read_pending, txn_env, write_files

CLS = "data"
ORIGINAL = b"original bytes " * 100
EDITED = b"EDITED!" + ORIGINAL[7:]  # same size: only a hash can tell


def hardlinked_repo(tmp_path: Path) -> tuple[Path, DirView, dict[str, str]]:
    env = txn_env(tmp_path / "home")
    work = tmp_path / "work"
    work.mkdir()
    remote = tmp_path / "remote"
    ok(run_ama("init", "--class", CLS, "--remote", remote, "--linkmode", "hardlink", cwd=work, env=env))
    write_files(work, {"victim.bin": ORIGINAL, "fine.txt": "fine\n"})
    ok(run_ama("add", ".", cwd=work, env=env))
    assert (work / "victim.bin").stat().st_nlink == 2, "the test needs a hardlinked cache"
    return work, DirView(remote), env


def edit_in_place(path: Path, data: bytes) -> None:
    with open(path, "r+b") as f:
        f.write(data)


def assert_not_published(view: DirView) -> None:
    objects = view.objects()
    assert b3(ORIGINAL) not in objects, "nothing may be stored under the old id"
    assert all(b3(data) == digest for digest, data in objects.items())
    assert EDITED not in objects.values() or b3(EDITED) in objects
    assert not any(r.get("status") == "committed" for r in view.versions(CLS, 1).values())
    assert view.head(CLS, 1) is None


def test_push_staged_refuses_a_file_edited_in_place(tmp_path):
    work, view, env = hardlinked_repo(tmp_path)
    edit_in_place(work / "victim.bin", EDITED)
    line = one_line_error(run_ama("push-staged", cwd=work, env=env), 10)
    assert "victim.bin" in line
    assert_not_published(view)
    assert b3(b"fine\n") in view.objects(), "the other contents still go"


def test_commit_refuses_a_file_edited_in_place(tmp_path):
    work, view, env = hardlinked_repo(tmp_path)
    edit_in_place(work / "victim.bin", EDITED)
    line = one_line_error(run_ama("commit", "-m", "damaged", cwd=work, env=env), 10)
    assert "victim.bin" in line and "edited in place" in line and "remote does not have them" in line
    assert_not_published(view)
    assert read_pending(work) is None


def test_resumed_commit_refuses_a_file_edited_in_place_while_interrupted(tmp_path):
    # Killed before the upload, the commit is finished by the next run
    # without a new stat-check: the upload's own verification must refuse.
    work, view, env = hardlinked_repo(tmp_path)
    assert run_ama("commit", "-m", "one", cwd=work, env={**env, "AMA_FAILPOINT": "after-reserve"}).rc == -9
    edit_in_place(work / "victim.bin", EDITED)
    finishing = run_ama("commit", "-m", "one", cwd=work, env=env)
    assert finishing.rc == 10, finishing.err
    assert "victim.bin" in finishing.err.splitlines()[-1]
    assert_not_published(view)
    assert read_pending(work) is not None, "the reservation is kept for a later --resume or --abandon"
    assert_consistent_except_damaged(work, view)

    # The way out: add the file again and resume the reserved version.
    ok(run_ama("add", "victim.bin", cwd=work, env=env))
    ok(run_ama("commit", "--resume", cwd=work, env=env))
    records = view.versions(CLS, 1)
    assert records[1]["status"] == "committed"
    assert b3(EDITED) in view.objects() and b3(ORIGINAL) not in view.objects()
    assert_consistent(work, view)


def assert_consistent_except_damaged(work: Path, view: DirView) -> None:
    """Invariant 2's one exception: the damaged hardlinked object itself."""
    damaged = work / ".ama" / "objects" / b3(ORIGINAL)[:2] / b3(ORIGINAL)[2:]
    assert damaged.read_bytes() == EDITED
    damaged.unlink()
    try:
        assert_consistent(work, view)
    finally:
        damaged.hardlink_to(work / "victim.bin")
