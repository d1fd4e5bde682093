"""An interrupted commit whose staged files changed since: --resume or --abandon.

Without a terminal and without either flag, 'ama commit' stops (exit 9) and
says which flag to pass. --resume commits everything staged now as the
reserved version; --abandon releases the reservation (status 'abandoned'
on the remote) and commits the files as a new asset with no parent.
"""

from __future__ import annotations

from pathlib import Path

from conftest import ok, one_line_error, run_ama, tree_state
from txn_helpers import DirView, assert_consistent, b3, read_pending, txn_env, write_files

CLS = "data"


def interrupted_with_new_changes(tmp_path: Path) -> tuple[Path, DirView, dict[str, str], dict]:
    """data/1 at version 1; the commit of version 2 (b.txt) killed after its
    reservation; then c.txt staged as well."""
    env = txn_env(tmp_path / "home")
    work = tmp_path / "work"
    work.mkdir()
    ok(run_ama("init", "--class", CLS, "--remote", tmp_path / "remote", cwd=work, env=env))
    write_files(work, {"a.txt": "a\n"})
    ok(run_ama("add", ".", cwd=work, env=env))
    ok(run_ama("commit", "-m", "one", cwd=work, env=env))
    write_files(work, {"b.txt": "b\n"})
    ok(run_ama("add", "b.txt", cwd=work, env=env))
    killed = run_ama("commit", "-m", "two", cwd=work, env={**env, "AMA_FAILPOINT": "after-reserve"})
    assert killed.rc == -9
    pending = read_pending(work)
    assert pending["version"] == 2
    write_files(work, {"c.txt": "c\n"})
    ok(run_ama("add", "c.txt", cwd=work, env=env))
    view = DirView(tmp_path / "remote")
    assert view.versions(CLS, 1)[2]["status"] == "reserved"
    return work, view, env, pending


def local_state(work: Path) -> dict:
    # The killed commit's txn.lock is stale: the next command takes it over.
    return {k: v for k, v in tree_state(work).items() if k != "txn.lock"}


def assert_asks_which(work: Path, view: DirView, env: dict[str, str]) -> None:
    remote_before, local_before = view.snapshot(), local_state(work)
    line = one_line_error(run_ama("commit", "-m", "again", cwd=work, env=env, input=""), 9)
    assert "--resume" in line and "--abandon" in line and "data/1 version 2" in line
    assert view.snapshot() == remote_before and local_state(work) == local_before


def tree_of(view: DirView, commit_id: str) -> dict[str, str]:
    from ama.objects import Commit, walk_tree

    def read(digest: str) -> bytes:
        return view.read(f"objects/{digest[:2]}/{digest[2:]}")

    commit = Commit.parse(read(commit_id), commit_id)
    return {path: entry.digest for path, entry in walk_tree(read, commit.tree)}


def test_resume_commits_everything_as_the_reserved_version(tmp_path):
    work, view, env, pending = interrupted_with_new_changes(tmp_path)
    assert_asks_which(work, view, env)

    ok(run_ama("commit", "--resume", cwd=work, env=env, input=""))
    assert read_pending(work) is None
    records = view.versions(CLS, 1)
    assert sorted(records) == [1, 2] and view.seqs(CLS) == [1]
    v2 = records[2]
    assert v2["status"] == "committed" and v2["txid"] == pending["txid"]
    assert v2["parent"] == records[1]["commit"]
    assert tree_of(view, v2["commit"]) == {p: b3(f"{p[0]}\n".encode()) for p in ("a.txt", "b.txt", "c.txt")}
    assert view.head(CLS, 1) == {"version": 2, "commit": v2["commit"]}
    assert_consistent(work, view)
    assert "nothing to commit" in ok(run_ama("commit", "-m", "x", cwd=work, env=env)).out


def test_abandon_releases_the_reservation_and_commits_a_new_asset(tmp_path):
    work, view, env, pending = interrupted_with_new_changes(tmp_path)
    assert_asks_which(work, view, env)

    ok(run_ama("commit", "--abandon", "-m", "fresh start", cwd=work, env=env, input=""))
    assert read_pending(work) is None
    old = view.versions(CLS, 1)
    assert old[2]["status"] == "abandoned" and old[2]["txid"] == pending["txid"]
    assert view.head(CLS, 1) == {"version": 1, "commit": old[1]["commit"]}, "the old asset is left as it was"

    assert view.seqs(CLS) == [1, 2]
    new = view.versions(CLS, 2)
    assert sorted(new) == [1] and new[1]["status"] == "committed" and new[1]["parent"] is None
    assert new[1]["message"] == "fresh start"
    assert tree_of(view, new[1]["commit"]) == {p: b3(f"{p[0]}\n".encode()) for p in ("a.txt", "b.txt", "c.txt")}
    assert view.head(CLS, 2) == {"version": 1, "commit": new[1]["commit"]}
    head = (work / ".ama" / "HEAD").read_text()
    assert "seq 2\n" in head and f"commit {new[1]['commit']}" in head
    assert_consistent(work, view)


def test_resume_or_abandon_without_an_interrupted_commit_is_a_usage_error(tmp_path):
    env = txn_env(tmp_path / "home")
    work = tmp_path / "work"
    work.mkdir()
    ok(run_ama("init", "--class", CLS, "--remote", tmp_path / "remote", cwd=work, env=env))
    for flag in ("--resume", "--abandon"):
        assert "no interrupted commit" in one_line_error(run_ama("commit", flag, cwd=work, env=env), 2)


def expired_reservation(tmp_path):
    """A commit of version 1 killed after reserving it; the reservation then
    expired ('ama gc --expire-reservations' elsewhere)."""
    env = txn_env(tmp_path / "home")
    work = tmp_path / "work"
    work.mkdir()
    ok(run_ama("init", "--class", CLS, "--remote", tmp_path / "remote", cwd=work, env=env))
    write_files(work, {"a.txt": "a\n"})
    ok(run_ama("add", ".", cwd=work, env=env))
    assert run_ama("commit", "-m", "one", cwd=work, env={**env, "AMA_FAILPOINT": "after-reserve"}).rc == -9
    pending = read_pending(work)
    from ama.assets import Assets
    from ama.remote.local import LocalRemote

    assert Assets(LocalRemote(str(tmp_path / "remote"))).abandon(CLS, 1, 1, pending["txid"])
    return work, env


def test_an_interrupted_commit_whose_reservation_expired_reserves_again(tmp_path):
    work, env = expired_reservation(tmp_path)
    assert "[data/1 version 2]" in ok(run_ama("commit", "-m", "one", cwd=work, env=env)).out
    view = DirView(tmp_path / "remote")
    assert read_pending(work) is None
    assert view.versions(CLS, 1)[1]["status"] == "abandoned"
    assert view.versions(CLS, 1)[2]["status"] == "committed" and view.head(CLS, 1)["version"] == 2
    assert_consistent(work, view)


def test_abandon_is_honoured_when_the_staged_files_did_not_change(tmp_path):
    work, env = expired_reservation(tmp_path)
    ok(run_ama("commit", "--abandon", cwd=work, env=env, input=""))
    view = DirView(tmp_path / "remote")
    assert read_pending(work) is None
    assert view.versions(CLS, 1)[1]["status"] == "abandoned" and view.head(CLS, 1) is None
    assert view.versions(CLS, 2)[1]["status"] == "committed"
    assert view.head(CLS, 2)["version"] == 1
    assert_consistent(work, view)
