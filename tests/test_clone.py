"""clone never harms what was there before it, and a killed clone is
finished by running it again.

A refused or failed clone removes only what that run created: a directory
it made, the contents of an empty directory it was given. An existing
work tree (its index, objects, refs, a pending commit) is never touched.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import ok, one_line_error, run_ama, tree_state
from e2e import Work, make_env


@pytest.fixture
def published(tmp_path: Path) -> Work:
    """A work tree that committed data/1/1 (a.txt, sub/b.txt) to $HOME/store."""
    env = make_env(tmp_path / "home")
    w = Work(tmp_path / "origin", env)
    w.ok("init", "--class", "data")
    w.write("a.txt", "alpha\n")
    w.write("sub/b.txt", "beta\n")
    w.commit("one", ".")
    return w


def test_clone_into_a_work_tree_refuses_and_keeps_its_ama_dir(published, tmp_path):
    other = Work(tmp_path / "other", published.env)
    other.ok("init", "--class", "other")
    other.write("mine.txt", "my work\n")
    other.ok("add", "mine.txt")
    before = tree_state(other.root)
    line = one_line_error(run_ama("clone", "data/1", other.root, cwd=tmp_path, env=published.env), 2)
    assert "not empty" in line
    assert tree_state(other.root) == before
    assert other.lines("ls-files") == ["mine.txt"]


def test_clone_dot_inside_a_work_tree_refuses_and_keeps_its_ama_dir(published):
    before = tree_state(published.root)
    one_line_error(published("clone", "data/1", "."), 2)
    assert tree_state(published.root) == before
    assert published.lines("status", "--porcelain") == []


def test_failed_clone_into_an_empty_directory_leaves_it_empty(published, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    one_line_error(run_ama("clone", "data/1/7", empty, cwd=tmp_path, env=published.env), 11)
    assert empty.is_dir() and list(empty.iterdir()) == []


def test_failed_clone_removes_the_directories_it_made_and_only_those(published, tmp_path):
    (tmp_path / "keep").mkdir()
    one_line_error(run_ama("clone", "data/1/7", tmp_path / "keep" / "new" / "deeper", cwd=tmp_path,
                           env=published.env), 11)
    assert (tmp_path / "keep").is_dir() and list((tmp_path / "keep").iterdir()) == []


def test_killed_clone_is_finished_by_running_it_again(published, tmp_path):
    dest = tmp_path / "dest"
    killed = run_ama("clone", "data/1", dest, cwd=tmp_path, env={**published.env, "AMA_FAILPOINT": "after-fetch"})
    assert killed.rc == -9
    assert (dest / ".ama" / "CLONING").exists() and not (dest / "a.txt").exists()
    ok(run_ama("clone", "data/1", dest, cwd=tmp_path, env=published.env))
    clone = Work(dest, published.env)
    assert (dest / "a.txt").read_text() == "alpha\n" and (dest / "sub" / "b.txt").read_text() == "beta\n"
    assert clone.lines("status", "--porcelain") == []
    assert not (dest / ".ama" / "CLONING").exists()


def test_a_clone_killed_before_its_marker_was_renamed_into_place_is_finished(published, tmp_path):
    """Killed inside the marker's atomic write: .ama/ holds only its temp
    file (fuzz seed 50, a kill at 0.28 s under load)."""
    dest = tmp_path / "dest"
    (dest / ".ama").mkdir(parents=True)
    (dest / ".ama" / ".ama-tmp-4242-host-0123456789ab").write_text("data/1\n")
    ok(run_ama("clone", "data/1", dest, cwd=tmp_path, env=published.env))
    assert (dest / "a.txt").read_text() == "alpha\n"
    other = tmp_path / "other"
    (other / ".ama").mkdir(parents=True)
    (other / ".ama" / "index").write_bytes(b"x")  # not a temp file: someone's repository
    one_line_error(run_ama("clone", "data/1", other, cwd=tmp_path, env=published.env), 2)
    assert (other / ".ama" / "index").read_bytes() == b"x"


def test_a_killed_clone_of_another_version_is_not_taken_over(published, tmp_path):
    dest = tmp_path / "dest"
    killed = run_ama("clone", "data/1", dest, cwd=tmp_path, env={**published.env, "AMA_FAILPOINT": "after-fetch"})
    assert killed.rc == -9
    before = tree_state(dest)
    one_line_error(run_ama("clone", "data/1/1", dest, cwd=tmp_path, env=published.env), 2)
    assert tree_state(dest) == before


def test_clone_records_a_relative_remote_as_an_absolute_path(published, tmp_path):
    store = Path(published.env["AMA_HOME"]) / "store"
    (tmp_path / "elsewhere").mkdir()
    rel = Path("..") / store.relative_to(tmp_path)
    ok(run_ama("clone", "data/1", "c", "--remote", rel, cwd=tmp_path / "elsewhere", env=published.env))
    clone = Work(tmp_path / "elsewhere" / "c", published.env)
    assert clone.lines("config", "remote.origin.url") == [str(store)]
    clone.ok("fetch")
