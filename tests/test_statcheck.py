"""The change-detection matrix: every state stat-check and status can report,
decided from lstat where possible and by hashing where it must be."""

import errno
import os

import pytest
from conftest import object_ids, ok, read_index, write

from ama.index import Index


@pytest.fixture(autouse=True, params=["c", "py"])
def core(request, ama_env):
    """The whole change-detection matrix runs under both cores (ama/policy.py)."""
    if request.param == "c":
        from ama import policy

        if not policy.compiled_available():
            pytest.skip("the compiled core is not built here")
    ama_env["AMA_MODULE_POLICY"] = request.param
    return request.param


@pytest.fixture
def tracked(repo, ama):
    """A repo with three staged files (hardlinked into the store)."""
    write(repo / "a.bin", b"alpha" * 100)
    write(repo / "dir" / "b.bin", b"beta" * 100)
    write(repo / "dir" / "c.bin", b"gamma")
    ok(ama("add", "."))
    return repo


def porcelain(ama, *args):
    return ok(ama("status", "--porcelain", *args)).out.splitlines()


def stat_check(ama, *args):
    r = ama("stat-check", *args)
    assert r.rc in (0, 1), r.err
    return r.rc, r.out.splitlines()


def atomic_save(path, data: bytes):
    """What editors do: write a new file next to it, rename it over."""
    tmp = path.with_name(path.name + ".swp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def edit_in_place(path, data: bytes, offset: int = 0):
    with open(path, "r+b") as f:
        f.seek(offset)
        f.write(data)


# -- clean ---------------------------------------------------------------------


def test_clean_tree_has_no_changes(tracked, ama):
    assert stat_check(ama) == (0, [])
    assert porcelain(ama) == ["A  a.bin", "A  dir/b.bin", "A  dir/c.bin"]


def test_stat_check_all_lists_clean_paths(tracked, ama):
    assert stat_check(ama, "--all") == (0, ["clean\ta.bin", "clean\tdir/b.bin", "clean\tdir/c.bin"])


def test_clean_status_says_nothing_changed(tracked, ama):
    out = ok(ama("status")).out
    assert "Changes not staged" not in out and "Untracked" not in out
    assert "Link mode: auto (last used: hardlink)" in out


# -- modified, damaged -----------------------------------------------------------


def test_atomic_save_with_new_content_is_modified_and_cache_intact(tracked, ama):
    atomic_save(tracked / "a.bin", b"ALPHA" * 100)
    assert stat_check(ama) == (1, ["modified\ta.bin"])
    assert porcelain(ama)[0] == "AM a.bin"
    assert ok(ama("fsck")).rc == 0


@pytest.mark.parametrize("how", ["same-size", "append"])
def test_in_place_edit_of_hardlinked_file_is_reported_damaged(tracked, ama, how):
    path = tracked / "a.bin"
    if how == "same-size":
        edit_in_place(path, b"X", offset=10)
    else:
        with open(path, "ab") as f:
            f.write(b"more")
    digest = read_index(tracked)["a.bin"].digest

    assert stat_check(ama) == (1, ["damaged\ta.bin"])
    assert porcelain(ama)[0] == "AX a.bin"
    human = ok(ama("status")).out
    assert "a.bin" in human and "cache object is damaged" in human

    r = ama("fsck")
    assert r.rc == 1
    assert f"damaged {digest} (used by a.bin)" in r.out.splitlines()


def test_in_place_edit_with_copy_cache_is_modified_not_damaged(repo, ama):
    ok(ama("init", "--linkmode", "copy"))
    write(repo / "a.bin", b"alpha" * 100)
    ok(ama("add", "a.bin"))
    edit_in_place(repo / "a.bin", b"X", offset=3)
    assert stat_check(ama) == (1, ["modified\ta.bin"])
    assert porcelain(ama) == ["AM a.bin"]
    assert ok(ama("fsck")).rc == 0


# -- deleted, renamed -----------------------------------------------------------


def test_deleted_file_is_reported_deleted(tracked, ama):
    os.unlink(tracked / "dir" / "c.bin")
    assert stat_check(ama) == (1, ["deleted\tdir/c.bin"])
    assert porcelain(ama) == ["A  a.bin", "A  dir/b.bin", "AD dir/c.bin"]


def test_rename_is_reported_with_new_path(tracked, ama):
    os.rename(tracked / "a.bin", tracked / "renamed.bin")
    assert stat_check(ama) == (1, ["renamed\ta.bin\trenamed.bin"])
    lines = porcelain(ama)
    assert "AR a.bin -> renamed.bin" in lines
    assert "?? renamed.bin" not in lines


def test_rename_into_a_new_directory_is_not_also_untracked(tracked, ama):
    os.mkdir(tracked / "moved")
    os.rename(tracked / "dir" / "b.bin", tracked / "moved" / "b.bin")
    assert porcelain(ama) == ["A  a.bin", "AR dir/b.bin -> moved/b.bin", "A  dir/c.bin"]


def test_rename_is_found_when_only_the_old_path_is_named(tracked, ama):
    os.rename(tracked / "a.bin", tracked / "dir" / "a.bin")
    assert stat_check(ama, "a.bin") == (1, ["renamed\ta.bin\tdir/a.bin"])


def test_deleted_file_is_not_a_rename_of_a_new_file_reusing_its_inode(repo, ama):
    # With a copy cache a deleted file frees its inode, and the filesystem
    # may give that number to the next new file: same inode, other file.
    ok(ama("init", "--linkmode", "copy"))
    write(repo / "a.bin", b"alpha" * 100)
    ok(ama("add", "a.bin"))
    old_ino = os.stat(repo / "a.bin").st_ino
    os.unlink(repo / "a.bin")
    for i in range(50):
        fresh = write(repo / f"new{i}.bin", b"an unrelated file %d" % i)
        if fresh.stat().st_ino == old_ino:
            break
    else:
        pytest.skip("the filesystem did not reuse the inode number")
    assert stat_check(ama) == (1, ["deleted\ta.bin"])


# -- replaced but equal ----------------------------------------------------------


def test_editor_style_save_of_equal_content_is_clean_and_refreshes_snapshot(tracked, ama):
    path = tracked / "a.bin"
    atomic_save(path, path.read_bytes())
    new_ino = path.stat().st_ino
    assert read_index(tracked)["a.bin"].ino != new_ino

    assert stat_check(ama) == (0, [])
    entry = read_index(tracked)["a.bin"]
    assert entry.ino == new_ino
    assert entry.mtime_ns == path.stat().st_mtime_ns
    assert porcelain(ama)[0] == "A  a.bin"


def test_touched_file_with_equal_content_is_clean(tracked, ama):
    os.utime(tracked / "a.bin", ns=(1, 1_000_000_000))
    assert stat_check(ama) == (0, [])
    assert read_index(tracked)["a.bin"].mtime_ns == 1_000_000_000


# -- untracked, ignored ----------------------------------------------------------


def test_untracked_files_are_listed(tracked, ama):
    write(tracked / "new.bin", b"new")
    write(tracked / "dir" / "new2.bin", b"new2")
    assert porcelain(ama) == ["A  a.bin", "A  dir/b.bin", "A  dir/c.bin", "?? dir/new2.bin", "?? new.bin"]
    rc, lines = stat_check(ama, "--untracked")
    assert rc == 0
    assert lines == ["untracked\tdir/new2.bin", "untracked\tnew.bin"]


def test_wholly_untracked_directory_is_collapsed(tracked, ama):
    write(tracked / "raw" / "x.bin", b"x")
    write(tracked / "raw" / "deep" / "y.bin", b"y")
    assert porcelain(ama)[-1] == "?? raw/"
    assert porcelain(ama, "-u", "all")[-2:] == ["?? raw/deep/y.bin", "?? raw/x.bin"]
    assert "\traw/\n" in ok(ama("status")).out


def test_git_and_ama_directories_are_skipped_at_any_depth_in_any_case(tracked, ama):
    # dir/ holds tracked files, so the walk reads it; raw/ holds none.
    for rel in ["dir/.Git/x", "dir/.AMA/y", "dir/deeper/.gIt/z", "raw/.GIT/w", ".Ama/v"]:
        write(tracked / rel, b"x")
    expected = ["A  a.bin", "A  dir/b.bin", "A  dir/c.bin"]
    assert porcelain(ama) == expected
    assert porcelain(ama, "-u", "all") == expected
    assert stat_check(ama, "--untracked") == (0, [])
    ok(ama("add", "."))  # and add agrees: nothing in them is staged
    assert sorted(read_index(tracked)) == ["a.bin", "dir/b.bin", "dir/c.bin"]


def test_ignored_files_are_neither_untracked_nor_added(repo, ama):
    write(repo / ".amaignore", "*.tmp\nbuild/\n!keep.tmp\n")
    write(repo / "x.tmp", b"x")
    write(repo / "keep.tmp", b"k")
    write(repo / "build" / "out.bin", b"o")
    write(repo / "src" / "y.tmp", b"y")
    write(repo / "src" / "data.bin", b"d")
    # .amaignore itself is ama's own file: never data, never untracked.
    assert porcelain(ama) == ["?? keep.tmp", "?? src/"]
    assert porcelain(ama, "-u", "all") == ["?? keep.tmp", "?? src/data.bin"]

    ok(ama("add", "."))
    assert sorted(read_index(repo)) == ["keep.tmp", "src/data.bin"]
    assert porcelain(ama) == ["A  keep.tmp", "A  src/data.bin"]


def test_amaignore_follows_gitignore_syntax(repo, ama):
    write(
        repo / ".amaignore",
        "# a comment line\n"
        "*.log\n"
        "!keep.log\n"
        "/rooted.bin\n"
        "**/cache/\n"
        "raw/*.tmp\n"
        "\\#hash.bin\n",
    )
    for rel in [
        "a.log", "sub/b.log", "keep.log", "sub/keep.log",  # *.log anywhere, negation anywhere
        "rooted.bin", "sub/rooted.bin",  # a leading / anchors at the root
        "cache/x.bin", "deep/er/cache/y.bin", "cache.bin",  # **/cache/ is a directory at any depth
        "raw/c.tmp", "raw/deeper/d.tmp",  # a slash inside anchors: * does not cross directories
        "#hash.bin", "# a comment line",  # an escaped # is a pattern; a comment matches nothing
    ]:
        write(repo / rel, b"x")
    assert porcelain(ama, "-u", "all") == [
        "?? # a comment line",
        "?? cache.bin",
        "?? keep.log",
        "?? raw/deeper/d.tmp",
        "?? sub/keep.log",
        "?? sub/rooted.bin",
    ]


def test_named_ignored_file_is_refused_naming_the_rule_unless_forced(repo, ama):
    write(repo / ".amaignore", "# scratch\n*.tmp\n")
    write(repo / "x.tmp", b"x")
    r = ama("add", "x.tmp")
    assert r.rc == 4
    assert ".amaignore:2" in r.err and "*.tmp" in r.err and "--force" in r.err
    assert read_index(repo) == {}
    ok(ama("add", "--force", "x.tmp"))
    assert list(read_index(repo)) == ["x.tmp"]
    assert stat_check(ama) == (0, [])


# -- typechange -----------------------------------------------------------------


def test_file_replaced_by_symlink_is_typechange(tracked, ama):
    os.unlink(tracked / "a.bin")
    os.symlink("dir/b.bin", tracked / "a.bin")
    assert stat_check(ama) == (1, ["typechange\ta.bin"])
    assert porcelain(ama)[0] == "AT a.bin"


def test_file_replaced_by_fifo_is_typechange(tracked, ama):
    os.unlink(tracked / "a.bin")
    os.mkfifo(tracked / "a.bin")
    assert stat_check(ama) == (1, ["typechange\ta.bin"])


# -- output formats --------------------------------------------------------------


@pytest.fixture
def mixed(tracked):
    """Renamed, deleted, clean, and untracked names that need quoting."""
    os.rename(tracked / "a.bin", tracked / "r.bin")
    os.unlink(tracked / "dir" / "c.bin")
    write(tracked / "with space.bin", b"s")
    write(tracked / "tab\tname", b"t")
    return tracked


def test_status_porcelain_lists_one_record_per_line_quoting_odd_names(mixed, ama):
    assert porcelain(ama) == [
        "AR a.bin -> r.bin",
        "A  dir/b.bin",
        "AD dir/c.bin",
        '?? "tab\\tname"',
        "?? with space.bin",
    ]


def test_status_z_ends_records_with_nul_and_gives_renames_new_then_old(mixed, ama):
    out = ok(ama("status", "-z", binary=True)).out
    assert out == b"AR r.bin\0a.bin\0A  dir/b.bin\0AD dir/c.bin\0?? tab\tname\0?? with space.bin\0"


def test_stat_check_z_ends_every_field_with_nul(mixed, ama):
    r = ama("stat-check", "-z", "--untracked", binary=True)
    assert r.rc == 1
    assert r.out == (
        b"renamed\0a.bin\0r.bin\0deleted\0dir/c.bin\0untracked\0tab\tname\0untracked\0with space.bin\0"
    )


def test_status_of_nothing_to_report_prints_nothing(repo, ama):
    assert ok(ama("status", "--porcelain")).out == ""
    assert ok(ama("status", "-z", binary=True)).out == b""


# -- racy entries ----------------------------------------------------------------
#
# The index records a file's stat snapshot; a later edit that keeps the size
# and happens within the same timestamp tick as the snapshot leaves the stat
# unchanged. As in git (Documentation/technical/racy-git.txt), entries whose
# timestamps are not older than the index file itself are hashed, not trusted.
# We simulate the race deterministically: the entry's snapshot is made to
# equal the file's current stat while its recorded id is of other content.
#
# The known limit: once the index file is strictly newer than a snapshot, a
# file whose stat equals that snapshot is trusted without hashing. Only an
# edit that restores size, inode, mtime and ctime exactly (or a clock set
# back) can hide a change from stat-check; `ama fsck` and `ama add` of the
# path still see it.


def forge_snapshot(repo, rel: str, index_mtime_ns: int | None = None, racy: bool = True) -> None:
    """Give ``rel`` the current stat of its file but the id of other content,
    then set the index file's mtime: equal to the snapshot's (racy) or
    newer than both its timestamps (trusted)."""
    index_path = str(repo / ".ama" / "index")
    index = Index.load(index_path)
    st = os.lstat(repo / rel)
    other = index.digest(rel)
    index.add(rel, other, st)
    # The bytes as an index written in that same tick would hold them
    # (Index.write would smudge the entry, which is what it is for).
    tmp = index_path + ".forged"
    with open(tmp, "wb") as f:
        f.write(index.serialize())
    os.replace(tmp, index_path)
    entry = read_index(repo)[rel]
    when = entry.mtime_ns if racy else max(entry.mtime_ns, entry.ctime_ns) + 1_000_000_000
    os.utime(index_path, ns=(when, when))


@pytest.fixture
def racy_edit(tracked):
    """a.bin rewritten with other content of the same size, stat snapshot forged."""
    path = tracked / "a.bin"
    atomic_save(path, b"ALPHA" * 100)
    os.utime(path, ns=(path.stat().st_mtime_ns,) * 2)
    assert path.stat().st_size == read_index(tracked)["a.bin"].size
    return tracked


def test_same_size_edit_within_the_index_timestamp_is_detected(racy_edit, ama):
    forge_snapshot(racy_edit, "a.bin", racy=True)
    assert stat_check(ama, "--no-refresh") == (1, ["modified\ta.bin"])
    assert stat_check(ama) == (1, ["modified\ta.bin"])
    assert porcelain(ama)[0] == "AM a.bin"


def test_racy_edit_stays_detected_after_the_index_is_rewritten(racy_edit, ama):
    forge_snapshot(racy_edit, "a.bin", racy=True)
    # Any later write of the index (here: adding another file) makes the
    # index newer than the racy snapshot; the entry must not become trusted.
    write(racy_edit / "other.bin", b"other")
    ok(ama("add", "other.bin"))
    assert stat_check(ama) == (1, ["modified\ta.bin"])
    ok(ama("status"))
    assert stat_check(ama) == (1, ["modified\ta.bin"])


def test_snapshot_older_than_the_index_is_trusted_without_hashing(racy_edit, ama):
    # The documented limit (see above): a non-racy snapshot that matches the
    # file is trusted, so the forged entry looks clean...
    forge_snapshot(racy_edit, "a.bin", racy=False)
    assert stat_check(ama) == (0, [])
    # ...until anything changes the stat, which sends the file to be hashed.
    os.utime(racy_edit / "a.bin", ns=(1, 2_000_000_000))
    assert stat_check(ama) == (1, ["modified\ta.bin"])


def test_status_of_damaged_object_leaves_the_store_untouched(tracked, ama):
    before = object_ids(tracked)
    edit_in_place(tracked / "a.bin", b"Z")
    ama("status")
    ama("stat-check")
    assert object_ids(tracked) == before


# -- the opportunistic refresh never fails the command (issue 8, item 13) ---------


def needs_refresh(repo) -> None:
    """a.bin touched with its content unchanged: a check hashes it and would
    write the refreshed snapshot back."""
    os.utime(repo / "a.bin", ns=(1, 1_000_000_000))


def assert_read_only_commands_succeed(repo, ama) -> None:
    before = (repo / ".ama" / "index").read_bytes()
    assert stat_check(ama) == (0, [])
    assert porcelain(ama)[0] == "A  a.bin"
    assert ok(ama("status")).err == ""
    diff = ama("diff")  # exit 1: the staged files differ from no commit
    assert (diff.rc, diff.err) == (1, "") and "a.bin" in diff.out
    assert ok(ama("update-index", "--refresh")).err == ""
    assert (repo / ".ama" / "index").read_bytes() == before


def test_refresh_that_cannot_create_the_index_lock_is_skipped(tracked, ama):
    needs_refresh(tracked)
    (tracked / ".ama" / "index.lock").mkdir()  # open(O_CREAT) fails: EISDIR
    assert_read_only_commands_succeed(tracked, ama)


def test_refresh_in_a_read_only_ama_directory_is_skipped(tracked, ama):
    needs_refresh(tracked)
    ama_dir = tracked / ".ama"
    os.chmod(ama_dir, 0o555)
    try:
        if os.access(ama_dir, os.W_OK):
            pytest.skip("running as a user that can write a read-only directory (root)")
        assert_read_only_commands_succeed(tracked, ama)
    finally:
        os.chmod(ama_dir, 0o755)


@pytest.mark.parametrize("err", [errno.ENOSPC, errno.EROFS, errno.EDQUOT])
def test_refresh_that_cannot_write_the_index_is_skipped(tracked, monkeypatch, err):
    """In process: the lock is taken, then writing the new index fails (full
    disk, file system remounted read-only, quota): the refresh is dropped
    and the index, and its lock, are as they were."""
    from ama import fsutil
    from ama.repo import Repo
    from ama.statcheck import apply_refresh, check

    needs_refresh(tracked)
    repo = Repo(str(tracked))
    report = check(repo, repo.load_index())
    assert report.refreshed

    def fail(self, data):
        raise OSError(err, os.strerror(err))

    monkeypatch.setattr(fsutil.LockFile, "write", fail)
    before = (tracked / ".ama" / "index").read_bytes()
    assert apply_refresh(repo, report) is False
    assert (tracked / ".ama" / "index").read_bytes() == before
    assert not (tracked / ".ama" / "index.lock").exists()
