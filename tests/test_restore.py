"""ama restore and ama checkout VERSION -- PATH: some files back, verified."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import one_line_error, read_index
from e2e import Work, object_path

from ama.hashing import hash_bytes

pytest_plugins = ["fixtures_history"]


@pytest.fixture
def two(e2e_work: Work) -> Work:
    """data/1/1: a.txt=one, d/b=b1, d/c=c1; data/1/2 (checked out): a.txt=two, d/b=b2."""
    w = e2e_work
    w.write("a.txt", "one\n")
    w.write("d/b", "b1\n")
    w.write("d/c", "c1\n")
    w.commit("one", ".")
    w.write("a.txt", "two\n")
    w.write("d/b", "b2\n")
    w.commit("two", ".")
    return w


def porcelain(w: Work) -> str:
    return w.ok("status", "--porcelain").out


def test_restore_brings_back_a_deleted_file(two: Work):
    os.unlink(two.root / "a.txt")
    assert porcelain(two) == " D a.txt\n"
    assert two.ok("restore", "a.txt").err == "restored 1 file(s)\n"
    assert (two.root / "a.txt").read_text() == "two\n"
    assert porcelain(two) == ""


def test_restore_a_directory_from_a_version_leaves_the_index(two: Work):
    index_before = read_index(two.root)
    two.ok("restore", "--source", "data/1/1", "d")
    assert (two.root / "d" / "b").read_text() == "b1\n"
    assert porcelain(two) == " M d/b\n"
    assert read_index(two.root)["d/b"].digest == index_before["d/b"].digest


def test_checkout_version_paths_stages_them_and_keeps_head(two: Work):
    head = (two.root / ".ama" / "HEAD").read_text()
    r = two.ok("checkout", "data/1/1", "--", "d/b", "a.txt")
    assert r.err == "restored 2 file(s)\n"
    assert (two.root / "a.txt").read_text() == "one\n" and (two.root / "d" / "b").read_text() == "b1\n"
    assert porcelain(two) == "M  a.txt\nM  d/b\n"
    assert (two.root / ".ama" / "HEAD").read_text() == head


def test_restore_refuses_to_overwrite_unstored_changes(two: Work):
    (two.root / "d" / "c").write_text("mine\n")
    line = one_line_error(two("restore", "d/c"), 12)
    assert "d/c: has changes that are not stored anywhere" in line
    assert (two.root / "d" / "c").read_text() == "mine\n"
    two.ok("restore", "--force", "d/c")
    assert (two.root / "d" / "c").read_text() == "c1\n"


def test_restore_errors(two: Work):
    assert "nope: not tracked" in one_line_error(two("restore", "nope"), 11)
    assert "nope: not in version data/1/1" in one_line_error(two("checkout", "data/1/1", "--", "nope"), 11)
    assert "version data/1/7 does not exist" in one_line_error(two("restore", "-s", "data/1/7", "a.txt"), 11)


def drop_local(w: Work, digest: str) -> Path:
    stored = object_path(w, digest)
    if stored.exists():
        os.chmod(stored, 0o644)
        os.unlink(stored)
    return stored


def test_restore_fetches_a_missing_content_from_the_remote(two: Work):
    stored = drop_local(two, hash_bytes(b"one\n"))
    two.ok("checkout", "data/1/1", "--", "a.txt")
    assert (two.root / "a.txt").read_text() == "one\n" and stored.exists()


def test_restore_replaces_a_damaged_local_copy_from_the_remote(two: Work):
    digest = hash_bytes(b"two\n")
    stored = object_path(two, digest)
    os.chmod(stored, 0o644)
    stored.write_bytes(b"tw0\n")  # the store's copy rotted (shared inode or not)
    os.unlink(two.root / "a.txt")
    two.ok("restore", "a.txt")
    assert (two.root / "a.txt").read_text() == "two\n"
    assert Path(stored).read_bytes() == b"two\n"
    assert object_path(two, hash_bytes(b"tw0\n")).read_bytes() == b"tw0\n", "the damaged copy is moved aside"
    assert porcelain(two) == ""


def test_restore_from_the_local_store_needs_no_remote(two: Work, tmp_path: Path):
    os.rename(tmp_path / "home" / "store", tmp_path / "away")
    os.unlink(two.root / "a.txt")
    two.ok("restore", "a.txt")
    assert (two.root / "a.txt").read_text() == "two\n"
    two.ok("checkout", "HEAD", "--", "d/b")
    assert porcelain(two) == ""


def test_restore_refuses_a_corrupt_remote_copy(two: Work, tmp_path: Path):
    digest = hash_bytes(b"one\n")
    drop_local(two, digest)
    remote_copy = tmp_path / "home" / "store" / "objects" / digest[:2] / digest[2:]
    os.chmod(remote_copy, 0o644)
    remote_copy.write_bytes(b"0ne\n")
    assert "is corrupt" in one_line_error(two("checkout", "data/1/1", "--", "a.txt"), 10)
    assert (two.root / "a.txt").read_text() == "two\n"
    assert not object_path(two, digest).exists()


def test_a_reference_is_restored_with_the_bytes_it_names(e2e_work: Work, http_source):
    data = b"referenced bytes\n" * 50
    e2e_work.ok("add", http_source.put("r.csv", data), "--to", "r.csv")
    e2e_work.ok("commit", "-m", "a reference")
    copy = e2e_work.clone("data/1", "copy")
    staged = copy.lines("ls-files", "-s")
    (copy.root / "r.csv").unlink()
    copy.ok("restore", "r.csv")
    assert (copy.root / "r.csv").read_bytes() == data
    (copy.root / "r.csv").unlink()
    copy.ok("checkout", "HEAD", "--", "r.csv")
    assert (copy.root / "r.csv").read_bytes() == data
    assert copy.ok("status", "--porcelain").out == ""
    assert copy.lines("ls-files", "-s") == staged, "still staged as the reference"
    (copy.root / "r.csv").write_bytes(b"edited\n")
    assert "not stored anywhere" in one_line_error(copy("restore", "r.csv"), 12)
    assert (copy.root / "r.csv").read_bytes() == b"edited\n"
