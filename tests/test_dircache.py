"""The directory cache (.ama/dircache, docs/change-detection.md): an unchanged
directory is not read again, and no change to a directory can hide behind it.

A directory is cached only when its mtime and ctime are older than the second
in which status started. Tests do not sleep for that: they walk with a
cut-off an hour ahead (``walk``) and save the records themselves, after
setting every directory's mtime an hour back with os.utime, so that any
change to a directory afterwards moves its mtime away from the recorded one.
The same-second rule itself is pinned with the real cut-off."""

import os
import shutil
import time

import pytest
from conftest import ok, write

from ama import _purecore, dircache, policy
from ama.index import Index

CORES = ["c", "py"]


@pytest.fixture(autouse=True, params=CORES)
def core(request, ama_env):
    """Every case under both cores: the compiled one and its twin."""
    if request.param == "c":
        if not policy.compiled_available():
            pytest.skip("the compiled core is not built here")
        from ama import _speedups

        module = _speedups
    else:
        module = _purecore
    ama_env["AMA_MODULE_POLICY"] = request.param
    return module


def load_index(repo) -> Index:
    return Index.load(str(repo / ".ama" / "index"))


def walk(core, repo, cutoff_ns=None):
    """One walk as status makes it: (files, dirs, records, hits), with the
    cache on disk and a cut-off in the future (every directory counts as
    old enough) unless given."""
    index = load_index(repo)
    cached = dircache.load(str(repo / ".ama"), index.checksum)
    cutoff_ns = cutoff_ns if cutoff_ns is not None else time.time_ns() + 3600 * 10**9
    files, dirs, records, hits = core.walk(index.raw_v3(), str(repo), cached, cutoff_ns)
    return sorted(files), sorted(dirs), records, hits


def save(repo, records):
    dircache.save(str(repo / ".ama"), load_index(repo).checksum, records)


def cached_dirs(repo) -> list[str]:
    records = dircache.load(str(repo / ".ama"), load_index(repo).checksum)
    return sorted(os.fsdecode(p) for p in _purecore._parse_cache(records))


def untracked(ama) -> list[str]:
    return [line[3:] for line in ok(ama("status", "--porcelain", "-uall")).out.splitlines() if line.startswith("??")]


@pytest.fixture
def tree(repo, ama):
    """Tracked files in the root, d/ and d/sub/; one untracked file in d/."""
    write(repo / "top.bin", b"top")
    write(repo / "d" / "a.bin", b"a")
    write(repo / "d" / "sub" / "b.bin", b"b")
    ok(ama("add", "."))
    write(repo / "d" / "loose.tmp", b"loose")
    old = time.time_ns() - 3600 * 10**9
    for d in (repo, repo / "d", repo / "d" / "sub"):
        os.utime(d, ns=(old, old))
    return repo


def test_status_writes_the_cache_and_the_next_walk_reads_no_directory(tree, core):
    _, _, records, hits = walk(core, tree)
    assert hits == 0
    save(tree, records)
    assert cached_dirs(tree) == ["", "d", "d/sub"]
    files, dirs, again, hits = walk(core, tree)
    assert hits == 3 and again == records
    assert (files, dirs) == (["d/loose.tmp"], [])


def test_status_in_process_writes_the_cache(tree, ama, monkeypatch, core):
    # In a subprocess the directories just made are too new to cache, so the
    # command is run here with the cut-off an hour ahead.
    from ama import statcheck
    from ama.repo import Repo

    monkeypatch.setattr(dircache, "cutoff", lambda now_ns: now_ns + 3600 * 10**9)
    monkeypatch.setattr(policy, "_core", core)
    repo = Repo(str(tree))
    report = statcheck.check(repo, repo.load_index())
    assert report.untracked == ["d/loose.tmp"]
    statcheck.apply_refresh(repo, report)
    if core is _purecore:
        # AMA_MODULE_POLICY=py: status keeps its fused one-pass Python walk,
        # which neither reads nor writes the cache.
        assert cached_dirs(tree) == []
        return
    assert cached_dirs(tree) == ["", "d", "d/sub"]
    assert walk(core, tree)[3] == 3


def test_status_does_not_cache_for_an_index_written_since_its_walk(tree, ama, monkeypatch, core):
    # The records describe the index walked: another index in its place by
    # the time status takes the lock gets no cache (its checksum differs).
    from ama import statcheck
    from ama.repo import Repo

    if core is _purecore:
        pytest.skip("the fused Python walk writes no cache")
    monkeypatch.setattr(dircache, "cutoff", lambda now_ns: now_ns + 3600 * 10**9)
    monkeypatch.setattr(policy, "_core", core)
    repo = Repo(str(tree))
    report = statcheck.check(repo, repo.load_index())
    write(tree / "late.bin", b"late")
    ok(ama("add", "late.bin"))
    assert not (tree / ".ama" / dircache.FILE).exists()
    statcheck.apply_refresh(repo, report)
    assert not (tree / ".ama" / dircache.FILE).exists()


def test_a_hit_lists_the_recorded_names_without_reading_the_directory(tree, core):
    _, _, records, _ = walk(core, tree)
    # Forge the record of d/: same stat, one more untracked name. A walk that
    # trusts the cache lists it; nothing on disk is named so.
    entries = _purecore._parse_cache(records)
    st = os.stat(tree / "d")
    forged = b"".join(
        _purecore._record(st, path, rec[5][: rec[4]] + ([b"ghost.bin"] if path == b"d" else []), rec[5][rec[4]:])
        if path != b"" else _purecore._record(os.stat(tree), path, rec[5][: rec[4]], rec[5][rec[4]:])
        for path, rec in sorted(entries.items())
        if path in (b"", b"d")
    )
    save(tree, forged)
    files, _, _, hits = walk(core, tree)
    assert "d/ghost.bin" in files and hits == 2


def test_a_file_created_in_the_same_second_as_the_cache_is_seen(tree, ama, core):
    # d/ changed in the second this status runs in: it is not cached, so a
    # file created later in that second is seen even where the file system's
    # clock leaves d/ with the same mtime (put back here with os.utime).
    now = time.time_ns()
    os.utime(tree / "d", ns=(now, now))
    _, _, records, _ = walk(core, tree, cutoff_ns=dircache.cutoff(now))
    save(tree, records)
    assert "d" not in cached_dirs(tree)
    write(tree / "d" / "new.bin", b"new")
    os.utime(tree / "d", ns=(now, now))
    assert "d/new.bin" in walk(core, tree, cutoff_ns=dircache.cutoff(now))[0]
    assert "d/new.bin" in untracked(ama)


def test_a_file_created_in_a_cached_directory_is_seen(tree, ama, core):
    save(tree, walk(core, tree)[2])
    assert "d" in cached_dirs(tree)
    write(tree / "d" / "new.bin", b"new")
    write(tree / "d" / "sub" / "deeper" / "x.bin", b"x")
    assert walk(core, tree)[:2] == (["d/loose.tmp", "d/new.bin"], ["d/sub/deeper"])
    assert untracked(ama) == ["d/loose.tmp", "d/new.bin", "d/sub/deeper/x.bin"]


def test_a_rename_within_a_cached_directory_is_seen(tree, ama, core):
    save(tree, walk(core, tree)[2])
    os.rename(tree / "d" / "a.bin", tree / "d" / "renamed.bin")
    os.rename(tree / "d" / "loose.tmp", tree / "d" / "loose2.tmp")
    lines = ok(ama("status", "--porcelain", "-uall")).out.splitlines()
    assert "AR d/a.bin -> d/renamed.bin" in lines
    assert "?? d/loose2.tmp" in lines and "?? d/loose.tmp" not in lines


def test_a_new_ignore_file_below_or_at_the_root_applies_to_cached_names(tree, ama, core):
    save(tree, walk(core, tree)[2])
    write(tree / ".amaignore", "*.tmp\n")
    assert "d" in cached_dirs(tree)  # still valid: the cache holds names before any rule
    assert untracked(ama) == []
    (tree / ".amaignore").unlink()
    assert untracked(ama) == ["d/loose.tmp"]


def test_a_new_gitignore_in_a_git_work_tree_applies_to_cached_names(tree, ama, core):
    import subprocess

    subprocess.run(["git", "init", "-q", str(tree)], check=True)
    write(tree / "notes.tmp", b"n")
    save(tree, walk(core, tree)[2])
    assert "notes.tmp" in untracked(ama)
    write(tree / ".gitignore", b"*.tmp\n")
    # git's rule hides the top-level file; in d/, ama's data, git's rules do
    # not apply (docs/git-integration.md), cached or not.
    assert [p for p in untracked(ama) if p.endswith(".tmp")] == ["d/loose.tmp"]


def test_rm_cached_makes_a_tracked_child_untracked_through_the_cache(tree, ama, core):
    save(tree, walk(core, tree)[2])
    ok(ama("rm", "--cached", "d/a.bin"))
    ok(ama("rm", "--cached", "-r", "d/sub"))
    assert cached_dirs(tree) == []  # the index changed: the old cache no longer applies
    assert untracked(ama) == ["d/a.bin", "d/loose.tmp", "d/sub/b.bin"]


def test_a_directory_replaced_by_another_with_the_same_mtime_is_read(tree, ama, core):
    old = os.stat(tree / "d")
    save(tree, walk(core, tree)[2])
    os.rename(tree / "d", tree / "d.old")
    shutil.copytree(tree / "d.old", tree / "d")
    write(tree / "d" / "extra.bin", b"extra")
    os.utime(tree / "d", ns=(old.st_atime_ns, old.st_mtime_ns))
    shutil.rmtree(tree / "d.old")
    assert os.stat(tree / "d").st_ino != old.st_ino
    assert os.stat(tree / "d").st_mtime_ns == old.st_mtime_ns
    assert untracked(ama) == ["d/extra.bin", "d/loose.tmp"]
    assert walk(core, tree)[0] == ["d/extra.bin", "d/loose.tmp"]


@pytest.mark.parametrize("damage", ["truncate", "flip", "garbage", "other-index", "directory"])
def test_a_damaged_cache_is_ignored_and_rebuilt(tree, ama, core, damage):
    save(tree, walk(core, tree)[2])
    path = tree / ".ama" / "dircache"
    data = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "flip":
        path.write_bytes(data[:60] + bytes([data[60] ^ 1]) + data[61:])
    elif damage == "garbage":
        path.write_bytes(os.urandom(len(data)))
    elif damage == "other-index":
        path.write_bytes(data[:16] + bytes(32) + data[48:])
    else:
        path.unlink()
        path.mkdir()
    assert dircache.load(str(tree / ".ama"), load_index(tree).checksum) == b""
    r = ama("status", "--porcelain", "-uall")
    assert (r.rc, r.err) == (0, "")
    assert "?? d/loose.tmp" in r.out.splitlines()


def test_records_that_do_not_parse_are_ignored_by_the_walk(tree, core):
    _, _, records, _ = walk(core, tree)
    expected = walk(core, tree)[:2]
    for bad in (records[:-1], records + b"\0", records[:40], b"x" * 47, records[:48] + b"\xff" * 4 + records[52:]):
        save(tree, bad)
        assert walk(core, tree)[:2] == expected


def test_cutoff_is_the_start_of_the_second_less_the_clock_slack():
    assert dircache.cutoff(5_500_000_000) == 5_000_000_000
    assert dircache.cutoff(5_010_000_000) == 4_000_000_000
    assert dircache.cutoff(5_030_000_000) == 5_000_000_000
