"""The interrupted commit, as a user meets it: 'ama commit --abort' cancels
it (reservation released by compare-and-swap, PENDING gone, the index and
the asset untouched); a new -m when finishing is used or the user is told
it is not; after --abandon the user is told where the work tree and the
old asset stand; status says exactly what each way out does."""

from __future__ import annotations

from pathlib import Path

from conftest import ok, one_line_error, run_ama
from test_commit_recovery import CLS, interrupted_with_new_changes
from txn_helpers import DirView, assert_consistent, read_pending, txn_env, write_files


def interrupted(tmp_path: Path, failpoint: str = "after-reserve") -> tuple[Path, DirView, dict[str, str]]:
    """data/1 at version 1; the commit of version 2 (b.txt) killed at ``failpoint``."""
    env = txn_env(tmp_path / "home")
    work = tmp_path / "work"
    work.mkdir()
    ok(run_ama("init", "--class", CLS, "--remote", tmp_path / "remote", cwd=work, env=env))
    write_files(work, {"a.txt": "a\n"})
    ok(run_ama("add", ".", cwd=work, env=env))
    ok(run_ama("commit", "-m", "one", cwd=work, env=env))
    write_files(work, {"b.txt": "b\n"})
    ok(run_ama("add", "b.txt", cwd=work, env=env))
    killed = run_ama("commit", "-m", "two", cwd=work, env={**env, "AMA_FAILPOINT": failpoint})
    assert killed.rc == -9
    return work, DirView(tmp_path / "remote"), env


def test_abort_releases_the_reservation_and_keeps_index_and_asset(tmp_path):
    work, view, env = interrupted(tmp_path)
    index_before = (work / ".ama" / "index").read_bytes()
    head_before = (work / ".ama" / "HEAD").read_bytes()
    r = ok(run_ama("commit", "--abort", cwd=work, env=env))
    assert "its reservation of data/1 version 2 was released" in r.err
    assert "the work tree stays on data/1 version 1" in r.err
    assert read_pending(work) is None
    assert view.versions(CLS, 1)[2]["status"] == "abandoned"
    assert view.head(CLS, 1)["version"] == 1
    assert (work / ".ama" / "index").read_bytes() == index_before
    assert (work / ".ama" / "HEAD").read_bytes() == head_before
    assert ok(run_ama("status", "--porcelain", cwd=work, env=env)).out == "A  b.txt\n"
    assert_consistent(work, view)
    # The next commit is an ordinary one: the next free version, same asset.
    assert ok(run_ama("commit", "-m", "two again", cwd=work, env=env)).out.startswith("[data/1 version 3]")


def test_abort_does_not_release_a_reservation_that_is_no_longer_ours(tmp_path):
    work, view, env = interrupted(tmp_path)
    # Another work tree's 'ama gc --expire-reservations' got there first.
    record = tmp_path / "remote" / "assets" / CLS / "1" / "versions" / "2.json"
    record.write_text(record.read_text().replace('"reserved"', '"abandoned"'))
    r = ok(run_ama("commit", "--abort", cwd=work, env=env))
    assert "it held no reservation that was still its own" in r.err
    assert read_pending(work) is None


def test_abort_of_a_version_already_committed_on_the_remote_is_refused(tmp_path):
    work, view, env = interrupted(tmp_path, "after-version")
    line = one_line_error(run_ama("commit", "--abort", cwd=work, env=env), 2)
    assert "already committed on the remote" in line and "run 'ama commit'" in line
    assert read_pending(work) is not None


def test_abort_without_an_interrupted_commit_is_a_usage_error(tmp_path):
    env = txn_env(tmp_path / "home")
    ok(run_ama("init", "--remote", tmp_path / "remote", cwd=tmp_path, env=env))
    assert "no interrupted commit" in one_line_error(run_ama("commit", "--abort", cwd=tmp_path, env=env), 2)


def test_a_new_message_when_finishing_is_used(tmp_path):
    work, view, env = interrupted(tmp_path)
    r = ok(run_ama("commit", "-m", "a better message", cwd=work, env=env))
    assert "used the new message (-m) for data/1 version 2" in r.err
    assert r.out.rstrip().endswith("a better message")
    assert view.versions(CLS, 1)[2]["message"] == "a better message"


def test_a_new_message_for_a_version_already_committed_is_reported_unused(tmp_path):
    work, view, env = interrupted(tmp_path, "after-version")
    r = ok(run_ama("commit", "-m", "too late", cwd=work, env=env))
    assert "was already committed on the remote with the message of the interrupted commit ('two'); -m was not used" in r.err
    assert view.versions(CLS, 1)[2]["message"] == "two"


def test_finishing_that_fails_is_one_line_and_keeps_the_interrupted_commit(tmp_path):
    work, view, env = interrupted(tmp_path)
    head = tmp_path / "remote" / "assets" / CLS / "1" / "HEAD"
    good = head.read_bytes()
    head.write_bytes(good[:-10])
    assert "HEAD is not valid JSON" in one_line_error(run_ama("commit", "-m", "new", cwd=work, env=env), 6)
    assert read_pending(work) is not None
    head.write_bytes(good)
    assert "finished the interrupted commit of data/1 version 2" in ok(run_ama("commit", cwd=work, env=env)).err


def test_abandon_says_where_the_work_tree_and_the_old_asset_stand(tmp_path):
    work, view, env, _ = interrupted_with_new_changes(tmp_path)
    r = ok(run_ama("commit", "--abandon", cwd=work, env=env))
    assert "data/1 stays at version 1 on the remote" in r.err
    assert "the work tree now follows the new asset data/2" in r.err
    assert "'ama checkout data/1'" in r.err


def test_status_and_the_refusal_say_what_each_way_out_does(tmp_path):
    work, view, env, _ = interrupted_with_new_changes(tmp_path)
    out = ok(run_ama("status", cwd=work, env=env)).out
    assert "run 'ama commit' to finish it: upload what the remote lacks and publish data/1 version 2" in out
    assert "'ama commit --abort' cancels it: releases the reservation, keeps the staged files" in out
    assert "'ama commit --abandon' releases it and commits the staged files as a new data asset" in out
    line = one_line_error(run_ama("commit", cwd=work, env=env, input=""), 9)
    assert "--resume to commit all staged files as data/1 version 2" in line
    assert "--abort to cancel the commit" in line
