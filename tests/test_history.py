"""ama log, versions, show and diff, end to end: what a user sees of the
history of an asset, from any work tree, fetching what is missing."""

from __future__ import annotations

import os

import pytest
from conftest import one_line_error
from e2e import AUTHOR, DATE_SHOWN, DATE_UTC, Work, object_path

from ama.objects import Commit, build_trees
from ama.porcelain.show import meta_lines
from ama.treediff import diff_trees

pytest_plugins = ["fixtures_history"]


@pytest.fixture(scope="module")
def clone3(history, tmp_path_factory) -> Work:
    """A clone of data/1/3: only that version's commit is stored locally."""
    base = tmp_path_factory.mktemp("clone3")
    return Work(base / "seed", history.env).clone("data/1/3", str(base / "c3"))


# -- log -------------------------------------------------------------------


def test_log_shows_every_version_newest_first(history):
    out = history.data.ok("log").out
    blocks = out.split("\nversion ")
    assert [b.split("\n", 1)[0].removeprefix("version ") for b in blocks] == ["data/1/3", "data/1/2", "data/1/1"]
    first = blocks[0].splitlines()
    assert first[:5] == [
        "version data/1/3",
        f"commit {history.ids[3]}",
        f"Author: {AUTHOR}",
        f"Date:   {DATE_SHOWN}",
        "Size:   319 B (319 bytes)",
    ]
    assert first[5:] == ["", "    third", "", "    body line"]
    assert "Size:   1.3 KiB (1319 bytes)" in blocks[1]
    assert "Size:   1006 B (1006 bytes)" in blocks[2]


def test_log_oneline_and_max_count(history):
    assert history.data.lines("log", "--oneline", "-n", "2") == [
        f"{history.ids[3][:12]} data/1/3 third",
        f"{history.ids[2][:12]} data/1/2 second",
    ]


def test_log_starts_at_a_named_version(history):
    lines = history.data.lines("log", "--oneline", "data/1/2")
    assert [line.split()[1] for line in lines] == ["data/1/2", "data/1/1"]


def test_log_of_a_clone_fetches_the_parent_commits_once(clone3, history):
    assert not object_path(clone3, history.ids[1]).exists()
    before = clone3.lines("log", "--oneline")
    assert len(before) == 3
    assert object_path(clone3, history.ids[1]).exists()
    # Now it is all local: it works with the remote gone.
    clone3.ok("config", "remote.origin.url", "/nonexistent/store")
    try:
        assert clone3.lines("log", "--oneline") == before
    finally:
        clone3.ok("config", "remote.origin.url", str(history.home / "store"))


def test_log_without_a_commit_is_one_line_error(e2e_work):
    assert "no commit" in one_line_error(e2e_work("log"), 11)


# -- versions ----------------------------------------------------------------


def test_versions_piped_prints_tab_separated_records(history):
    rows = [line.split("\t") for line in history.data.lines("versions")]
    assert rows == [
        ["1", history.ids[1][:12], AUTHOR, DATE_UTC, "1006", "first"],
        ["2", history.ids[2][:12], AUTHOR, DATE_UTC, "1319", "second"],
        ["3", history.ids[3][:12], AUTHOR, DATE_UTC, "319", "third"],
    ]
    assert history.raw.lines("versions", "data/1") == history.data.lines("versions")


def test_versions_on_a_terminal_is_a_table(history):
    out = history.data.ok("versions", env={**history.env, "AMA_FORCE_TTY": "1", "COLUMNS": "120"}).out
    assert "versions of data/1" in out
    assert "┃" in out and "1006 B" in out and "second" in out


def test_versions_of_a_missing_asset_fails(history):
    assert "data/9" in one_line_error(history.data("versions", "data/9"), 11)
    one_line_error(history.data("versions", "data/1/2"), 2)


# -- show ------------------------------------------------------------------


def test_show_prints_header_lineage_message_and_size(history):
    assert history.data.lines("show") == [
        "version data/1/3",
        f"commit {history.ids[3]}",
        f"parent {history.ids[2]}",
        f"Author: {AUTHOR}",
        f"Date:   {DATE_SHOWN}",
        f"Input:  raw/1/1 {history.raw_id}",
        "",
        "    third",
        "",
        "    body line",
        "",
        "2 files, 319 B (319 bytes)",
    ]


def test_show_files_lists_paths_and_sizes(history):
    lines = history.data.lines("show", "--files", "data/1/1")
    assert lines[2] == "parent -"
    assert lines[-3:] == ["2 files, 1006 B (1006 bytes)", "       6 B  a.txt", "    1000 B  d/b.bin"]


def test_show_git_provenance_line(history):
    def commit(**meta):
        return Commit(tree="0" * 64, asset="a/1", version=1, author=AUTHOR, time=0, tz="+0000", message="m", meta=meta)

    sha = "1a2b3c4d5e6f7a8b9c0d" * 2
    assert meta_lines(commit(**{"git.commit": sha, "git.branch": "main", "git.dirty": True})) == [
        "Git: 1a2b3c4d5e6f on main (dirty)"
    ]
    assert meta_lines(commit(**{"git.commit": sha, "git.branch": None, "git.dirty": False, "run": 3})) == [
        "Git: 1a2b3c4d5e6f (detached HEAD)",
        "run: 3",
    ]
    assert meta_lines(commit()) == []


def test_show_records_git_state_of_a_commit_made_in_git(tmp_path, e2e_env):
    import subprocess

    git_env = {**e2e_env, "GIT_AUTHOR_NAME": "g", "GIT_AUTHOR_EMAIL": "g@x", "GIT_COMMITTER_NAME": "g",
               "GIT_COMMITTER_EMAIL": "g@x"}
    root = tmp_path / "proj"
    root.mkdir()
    for args in (["init", "-q", "-b", "trunk"], ["commit", "-q", "--allow-empty", "-m", "c"]):
        subprocess.run(["git", *args], cwd=root, env=git_env, check=True)
    sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True).stdout.strip()
    w = Work(root / "data", e2e_env)
    w.ok("init")
    w.write("f", "x")
    w.commit("in git", "f")
    assert f"Git: {sha[:12]} on trunk" in w.lines("show")


# -- diff ------------------------------------------------------------------


def test_diff_between_versions(history):
    r = history.data("diff", "--name-status", "data/1/1", "data/1/3")
    assert (r.rc, r.out) == (1, "M\ta.txt\nD\td/b.bin\nA\td/c.bin\n")
    r = history.data("diff", "data/1/1", "data/1/2")
    assert r.rc == 1
    assert r.out.splitlines() == ["modified: a.txt  (6 B -> 19 B)", "added:    d/c.bin  (300 B)"]
    r = history.data("diff", "-z", "data/1/2", "data/1/3")
    assert (r.rc, r.out) == (1, "D\0d/b.bin\0")


def test_diff_of_equal_versions_exits_0(history):
    r = history.data("diff", "data/1/3", history.ids[3][:10])
    assert (r.rc, r.out, r.err) == (0, "", "")
    r = history.data("diff")
    assert (r.rc, r.out, r.err) == (0, "", "")


def test_diff_fetches_missing_trees(clone3, history):
    tree1 = history.data.lines("cat-file", "-p", history.ids[1])[1].split()[1]
    assert not object_path(clone3, tree1).exists()
    r = clone3("diff", "--name-status", "data/1/1", "data/1/2")
    assert (r.rc, r.out) == (1, "M\ta.txt\nA\td/c.bin\n")


def test_diff_against_the_work_tree(history, tmp_path):
    w = Work(tmp_path / "seed", history.env).clone("data/1/3", str(tmp_path / "c"))
    # An editor-style save (new inode), a deletion, a staged new file, and
    # an unstaged change made in place.
    (w.root / "tmp").write_text("changed\n")
    os.replace(w.root / "tmp", w.root / "a.txt")
    (w.root / "d" / "c.bin").unlink()
    w.write("new.txt", "new\n")
    w.ok("add", "new.txt")
    w.write("untracked", "not part of it\n")
    r = w("diff", "--name-status")
    assert (r.rc, r.out) == (1, "M\ta.txt\nD\td/c.bin\nA\tnew.txt\n")
    r = w("diff", "--name-status", "data/1/1")
    assert r.out == "M\ta.txt\nD\td/b.bin\nA\tnew.txt\n"
    # Saving the same bytes again is no difference.
    (w.root / "tmp").write_text("alpha, second take\n")
    os.replace(w.root / "tmp", w.root / "a.txt")
    assert w("diff", "--name-status", "data/1/2").out == "D\td/b.bin\nD\td/c.bin\nA\tnew.txt\n"


def test_diff_in_a_repo_without_commits_shows_the_staged_files(e2e_work):
    e2e_work.write("x/y", "1")
    e2e_work.ok("add", "x")
    r = e2e_work("diff", "--name-status")
    assert (r.rc, r.out) == (1, "A\tx/y\n")


def test_diff_bad_name_is_one_line_error(history):
    one_line_error(history.data("diff", "nonsense"), 2)


def test_diff_trees_skips_unchanged_subtrees():
    objects: dict[str, bytes] = {}

    def write(data: bytes) -> str:
        from ama.hashing import hash_bytes

        objects[hash_bytes(data)] = data
        return hash_bytes(data)

    same = {f"big/{i}": ("a" * 64, 1, 0o100644) for i in range(50)}
    old = build_trees({**same, "top": ("b" * 64, 2, 0o100644), "sub/x": ("c" * 64, 3, 0o100644)}, write)
    new = build_trees({**same, "top": ("d" * 64, 4, 0o100755), "sub/y": ("c" * 64, 3, 0o100644)}, write)
    reads = []

    def read(digest: str) -> bytes:
        reads.append(digest)
        return objects[digest]

    changes = diff_trees(read, old, new)
    assert [(c.status, c.path) for c in changes] == [("D", "sub/x"), ("A", "sub/y"), ("M", "top")]
    assert changes[2].old_size == 2 and changes[2].new_size == 4
    # The two roots and the two 'sub' trees; never the unchanged 'big'.
    assert len(reads) == 4
