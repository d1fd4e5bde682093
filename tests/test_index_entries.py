"""The index owns its entries: file/directory conflicts are resolved when a
path is staged, ``paths_under`` finds paths by prefix, and one stat
comparison decides what a file's lstat says about its entry."""

import os
import shutil

import pytest
from conftest import ok, read_index, write

from ama.index import CHANGED, CLEAN, NOT_FILE, RACY, REPLACED, TOUCHED, Index


def snapshot(path) -> os.stat_result:
    return os.lstat(path)


DIGEST_A = "a" * 64
DIGEST_B = "b" * 64


# -- file/directory conflicts (issue 8, item 5) --------------------------------------


def test_staging_a_path_below_a_staged_file_drops_that_file(tmp_path):
    st = snapshot(write(tmp_path / "f", b"x"))
    index = Index()
    index.add("data", DIGEST_A, st)
    assert index.add("data/x", DIGEST_B, st) == ["data"]
    assert sorted(index.paths()) == ["data/x"]


def test_staging_a_file_where_staged_paths_were_below_drops_them(tmp_path):
    st = snapshot(write(tmp_path / "f", b"x"))
    index = Index()
    for p in ("data/a", "data/sub/b", "data-other", "database"):
        index.add(p, DIGEST_A, st)
    assert sorted(index.add("data", DIGEST_B, st)) == ["data/a", "data/sub/b"]
    assert sorted(index.paths()) == ["data", "data-other", "database"]


def test_conflicts_are_found_after_directories_were_emptied_and_became_files(tmp_path):
    """The directories an index remembers may outlive the paths below them
    (removing a path leaves them); staging a file there must still drop
    what it conflicts with, whatever order the changes came in."""
    st = snapshot(write(tmp_path / "f", b"x"))
    index = Index()
    index.add("a/b/c", DIGEST_A, st)
    index.remove("a/b/c")
    assert index.add("a", DIGEST_A, st) == []  # a, a/b were directories: now a file
    assert index.add("a/b/d", DIGEST_B, st) == ["a"]  # below a staged file: it goes
    assert index.add("a/b", DIGEST_A, st) == ["a/b/d"]
    assert index.add("a/b/e/f", DIGEST_B, st) == ["a/b"]
    assert sorted(index.paths()) == ["a/b/e/f"]
    index.remove("a/b/e/f")
    index.add("a/b/e", DIGEST_A, st)
    assert index.add("a/b/e/g/h", DIGEST_B, st) == ["a/b/e"]
    assert sorted(index.paths()) == ["a/b/e/g/h"]


def test_a_file_replaced_by_a_directory_is_staged_as_the_directory(repo, ama):
    write(repo / "data", b"a file\n")
    ok(ama("add", "data"))
    ok(ama("commit", "-m", "file"))
    os.unlink(repo / "data")
    write(repo / "data" / "x", b"now a directory\n")
    ok(ama("add", "data"))

    assert list(read_index(repo)) == ["data/x"]
    assert ok(ama("status", "--porcelain")).out.splitlines() == ["D  data", "A  data/x"]
    assert ok(ama("stat-check")).out == ""
    ok(ama("write-tree"))


def test_a_directory_replaced_by_a_file_is_staged_as_the_file(repo, ama):
    write(repo / "data" / "x", b"in a directory\n")
    write(repo / "data" / "y", b"in a directory too\n")
    ok(ama("add", "data"))
    ok(ama("commit", "-m", "directory"))
    shutil.rmtree(repo / "data")
    write(repo / "data", b"now a file\n")
    ok(ama("add", "data"))

    assert list(read_index(repo)) == ["data"]
    assert ok(ama("status", "--porcelain")).out.splitlines() == ["A  data", "D  data/x", "D  data/y"]
    assert ok(ama("stat-check")).out == ""
    ok(ama("write-tree"))


# -- paths_under ------------------------------------------------------------------------


def test_paths_under_finds_exactly_the_paths_below_each_prefix(tmp_path):
    st = snapshot(write(tmp_path / "f", b"x"))
    index = Index()
    for p in ("a", "a-b", "a.c", "b/x", "b/y/z", "b0", "bb/c", "c/d"):
        index.add(p, DIGEST_A, st)
    assert index.paths_under(["b"]) == ["b/x", "b/y/z"]
    assert index.paths_under(["b/"]) == ["b/x", "b/y/z"]
    assert index.paths_under(["a", "c"]) == ["a", "c/d"]
    assert index.paths_under(["b/y", "b"]) == ["b/x", "b/y/z"]
    assert index.paths_under(["nothing"]) == []
    assert index.paths_under([""]) == sorted(index.paths())
    assert index.has_below("b") and not index.has_below("a")


def test_paths_under_sees_paths_staged_and_removed_since_the_last_call(tmp_path):
    st = snapshot(write(tmp_path / "f", b"x"))
    index = Index()
    index.add("d/one", DIGEST_A, st)
    assert index.paths_under(["d"]) == ["d/one"]
    index.add("d/two", DIGEST_A, st)
    index.remove("d/one")
    assert index.paths_under(["d"]) == ["d/two"]


# -- the one stat comparison ----------------------------------------------------------


@pytest.fixture
def staged(tmp_path):
    """An index whose entry for "f" is the current snapshot of a file, with
    the index itself written a second after the file."""
    path = write(tmp_path / "f", b"12345")
    os.utime(path, ns=(1_000_000_000, 1_000_000_000))
    st = os.lstat(path)
    index = Index(mtime_ns=max(st.st_mtime_ns, st.st_ctime_ns) + 1_000_000_000)
    index.add("f", DIGEST_A, st)
    return index, path


def test_compare_an_unchanged_file_is_clean(staged):
    index, path = staged
    assert index.compare("f", os.lstat(path)) == CLEAN


def test_compare_an_entry_not_older_than_the_index_is_racy(staged):
    index, path = staged
    index.mtime_ns = os.lstat(path).st_ctime_ns
    assert index.compare("f", os.lstat(path)) == RACY


def test_compare_a_touched_file_of_the_same_size_needs_hashing(staged):
    index, path = staged
    os.utime(path, ns=(2_000_000_000, 2_000_000_000))
    assert index.compare("f", os.lstat(path)) == TOUCHED


def test_compare_a_file_of_another_size_is_changed(staged):
    index, path = staged
    with open(path, "ab") as f:
        f.write(b"more")
    assert index.compare("f", os.lstat(path)) == CHANGED


def test_compare_another_file_at_the_path_is_replaced(staged):
    index, path = staged
    os.rename(write(path.parent / "g", b"12345"), path)
    os.utime(path, ns=(1_000_000_000, 1_000_000_000))
    assert index.compare("f", os.lstat(path)) == REPLACED


def test_compare_a_directory_at_the_path_is_not_a_file(staged):
    index, path = staged
    os.unlink(path)
    os.mkdir(path)
    assert index.compare("f", os.lstat(path)) == NOT_FILE

