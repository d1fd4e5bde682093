"""Staging as a git user expects it: 'ama add' stages deletions under its
paths, 'ama add -A', 'ama mv', 'ama commit -a', renames shown as renames in
status and diff, and status hints that are true for each state."""

from __future__ import annotations

import os
from pathlib import Path

from conftest import ok, one_line_error, read_index, write


def replace(path: Path, data: str) -> None:
    """Save as editors do (new inode), so a hardlinked cache stays intact."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(data)
    os.replace(tmp, path)


def committed_tree(ama, repo: Path) -> None:
    write(repo / "d" / "a.txt", "alpha\n")
    write(repo / "d" / "b.txt", "beta\n")
    write(repo / "c.txt", "gamma\n")
    ok(ama("add", "-A"))
    ok(ama("commit", "-m", "one"))


def porcelain(ama, *args: str) -> list[str]:
    return ok(ama("status", "--porcelain", *args)).out.splitlines()


def test_add_of_a_deleted_tracked_file_stages_the_deletion(ama, repo):
    committed_tree(ama, repo)
    (repo / "c.txt").unlink()
    assert "'ama add <path>...' or 'ama rm --cached <path>...' to stage the deletion" in ok(ama("status")).out
    assert "1 deletion(s) staged" in ok(ama("add", "c.txt")).err
    assert porcelain(ama) == ["D  c.txt"]
    assert "c.txt" not in read_index(repo)


def test_add_of_a_directory_stages_the_deletions_under_it(ama, repo):
    committed_tree(ama, repo)
    (repo / "d" / "a.txt").unlink()
    write(repo / "d" / "new.txt", "new\n")
    (repo / "c.txt").unlink()
    ok(ama("add", "d"))
    assert porcelain(ama) == [" D c.txt", "D  d/a.txt", "A  d/new.txt"]


def test_add_of_a_path_never_tracked_and_missing_is_still_refused(ama, repo):
    committed_tree(ama, repo)
    assert "no such file or directory" in one_line_error(ama("add", "nothing.txt"), 4)


def test_add_all_stages_additions_modifications_deletions_and_renames(ama, repo):
    committed_tree(ama, repo)
    replace(repo / "d" / "b.txt", "beta 2\n")
    (repo / "c.txt").unlink()
    os.rename(repo / "d" / "a.txt", repo / "a-moved.txt")
    write(repo / "e.txt", "epsilon\n")
    ok(ama("add", "-A"))
    assert porcelain(ama) == ["D  c.txt", "R  d/a.txt -> a-moved.txt", "M  d/b.txt", "A  e.txt"]
    assert porcelain(ama, "--no-renames") == ["A  a-moved.txt", "D  c.txt", "D  d/a.txt", "M  d/b.txt", "A  e.txt"]


def test_add_all_under_a_path_stays_under_it(ama, repo):
    committed_tree(ama, repo)
    (repo / "c.txt").unlink()
    (repo / "d" / "a.txt").unlink()
    ok(ama("add", "--all", "d"))
    assert porcelain(ama) == [" D c.txt", "D  d/a.txt"]


def test_add_without_paths_says_to_name_them_or_use_all(ama):
    assert "use -A" in one_line_error(ama("add"), 2)


def test_mv_moves_the_file_and_its_entry(ama, repo):
    committed_tree(ama, repo)
    before = read_index(repo)["c.txt"][0]
    assert ok(ama("mv", "c.txt", "d")).out == "renamed 'c.txt' -> 'd/c.txt'\n"
    assert not (repo / "c.txt").exists() and (repo / "d" / "c.txt").read_text() == "gamma\n"
    assert read_index(repo)["d/c.txt"][0] == before
    assert porcelain(ama) == ["R  c.txt -> d/c.txt"]
    human = ok(ama("status")).out
    assert "renamed:   c.txt -> d/c.txt" in human
    ok(ama("commit", "-m", "moved"))
    assert porcelain(ama) == []


def test_mv_of_a_directory_moves_every_entry_below_it(ama, repo):
    committed_tree(ama, repo)
    ok(ama("mv", "d", "data"))
    assert sorted(read_index(repo)) == ["c.txt", "data/a.txt", "data/b.txt"]
    assert porcelain(ama) == ["R  d/a.txt -> data/a.txt", "R  d/b.txt -> data/b.txt"]


def test_mv_keeps_a_modification_made_since_add(ama, repo):
    committed_tree(ama, repo)
    replace(repo / "c.txt", "gamma, edited\n")
    ok(ama("mv", "c.txt", "c2.txt"))
    assert porcelain(ama) == ["RM c.txt -> c2.txt"]


def test_mv_refuses_untracked_sources_and_existing_targets(ama, repo):
    committed_tree(ama, repo)
    write(repo / "loose.txt", "x\n")
    before = read_index(repo)
    assert "is not tracked" in one_line_error(ama("mv", "loose.txt", "l2.txt"), 4)
    assert "already exists" in one_line_error(ama("mv", "c.txt", "loose.txt"), 4)
    assert (repo / "c.txt").exists() and read_index(repo) == before
    ok(ama("mv", "-f", "c.txt", "loose.txt"))
    assert (repo / "loose.txt").read_text() == "gamma\n"


def test_commit_all_stages_tracked_changes_but_not_new_files(ama, repo):
    committed_tree(ama, repo)
    replace(repo / "d" / "b.txt", "beta 2\n")
    (repo / "c.txt").unlink()
    write(repo / "new.txt", "untracked\n")
    assert one_line_error(ama("commit", "-m", "two"), 12)
    ok(ama("commit", "-a", "-m", "two"))
    assert porcelain(ama) == ["?? new.txt"]
    assert ama("diff", "--name-status", "work/1/1", "work/1/2").out == "D\tc.txt\nM\td/b.txt\n"


def test_diff_shows_a_rename_with_the_same_id_as_a_rename(ama, repo):
    committed_tree(ama, repo)
    ok(ama("mv", "c.txt", "c-renamed.txt"))
    r = ama("diff", "--name-status")
    assert r.rc == 1 and r.out == "R\tc.txt\tc-renamed.txt\n"
    assert ama("diff", "-z").out == "R\0c.txt\0c-renamed.txt\0"
    assert ama("diff", "--name-status", "--no-renames").out == "A\tc-renamed.txt\nD\tc.txt\n"
    assert "renamed:  c.txt -> c-renamed.txt" in ama("diff").out


def test_status_hints_are_true_for_each_state(ama, repo):
    committed_tree(ama, repo)
    replace(repo / "d" / "b.txt", "beta 2\n")
    os.rename(repo / "d" / "a.txt", repo / "a2.txt")
    out = ok(ama("status")).out
    assert "(use 'ama add <path>...' to stage the new content, or 'ama commit -a' to commit it)" in out
    assert "(use 'ama add <old> <new>' or 'ama add -A' to stage the rename)" in out
    assert "deletion" not in out
    # Each hint does what it says.
    ok(ama("add", "d/a.txt", "a2.txt"))
    assert "R  d/a.txt -> a2.txt" in porcelain(ama)
    ok(ama("commit", "-a", "-m", "two"))
    assert porcelain(ama) == []


def test_commit_quiet_prints_nothing_and_commits(ama, repo):
    (repo / "q.txt").write_text("quiet\n")
    ok(ama("add", "q.txt"))
    r = ok(ama("commit", "-q", "-m", "quiet"))
    assert (r.out, r.err) == ("", "")
    assert "quiet" in ok(ama("log")).out
