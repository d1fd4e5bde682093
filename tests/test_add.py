"""ama add / rm: staging files, how contents enter the store, unstaging."""

import os
import shutil
import time
import uuid
from pathlib import Path

import pytest
from blake3 import blake3
from conftest import object_ids, ok, one_line_error, read_index, run_ama, tree_state, write

from ama.config import Config
from ama.errors import EXIT_IO


def ls_files(ama, *args):
    return ok(ama("ls-files", *args)).out.splitlines()


def store_path(repo, digest, objects=None):
    objects = objects or repo / ".ama" / "objects"
    return objects / digest[:2] / digest[2:]


# -- adding --------------------------------------------------------------------


def test_add_of_a_directory_stages_every_file_below_it(repo, ama):
    write(repo / "data" / "a.bin", b"a")
    write(repo / "data" / "sub" / "b.bin", b"b")
    write(repo / "data" / "sub" / "deeper" / "c.bin", b"c")
    write(repo / "elsewhere.bin", b"e")
    r = ok(ama("add", "data"))
    assert "added 3 file(s)" in r.err
    assert ls_files(ama) == ["data/a.bin", "data/sub/b.bin", "data/sub/deeper/c.bin"]


def test_add_records_id_size_and_mode(repo, ama):
    write(repo / "run.sh", b"#!/bin/sh\n")
    os.chmod(repo / "run.sh", 0o755)
    write(repo / "plain.txt", b"hello\n")
    ok(ama("add", "."))
    hello, script = blake3(b"hello\n").hexdigest(), blake3(b"#!/bin/sh\n").hexdigest()
    assert ls_files(ama, "-s") == [f"100644 {hello} 6\tplain.txt", f"100755 {script} 10\trun.sh"]


def test_add_from_a_subdirectory_takes_paths_relative_to_it(repo, ama):
    write(repo / "sub" / "x.bin", b"x")
    ok(ama("add", "x.bin", cwd=repo / "sub"))
    assert ls_files(ama) == ["sub/x.bin"]


def test_add_on_the_same_filesystem_hardlinks_into_the_store(repo, ama):
    path = write(repo / "a.bin", b"alpha" * 1000)
    r = ok(ama("add", "a.bin"))
    assert "(stored: 1 hardlink)" in r.err
    digest = read_index(repo)["a.bin"].digest
    obj = store_path(repo, digest)
    assert obj.stat().st_ino == path.stat().st_ino
    assert Config(str(repo / ".ama" / "config")).get("core.linkused") == "hardlink"
    assert "Link mode: auto (last used: hardlink)" in ok(ama("status")).out


def test_identical_files_share_one_object(repo, ama):
    write(repo / "a.bin", b"same")
    write(repo / "b.bin", b"same")
    ok(ama("add", "."))
    entries = read_index(repo)
    assert entries["a.bin"].digest == entries["b.bin"].digest
    assert object_ids(repo) == {blake3(b"same").hexdigest()}
    assert ok(ama("fsck")).rc == 0


def test_re_add_of_unchanged_files_does_no_work(repo, ama):
    for i in range(50):
        write(repo / "d" / f"f{i}.bin", b"x%d" % i)
    ok(ama("add", "d"))
    # Entries whose ctime shares the index file's timestamp tick are racily
    # clean and are hashed once more; the first status after a tick refreshes
    # them, and from then on nothing needs hashing.
    time.sleep(0.05)
    ok(ama("status"))
    before = tree_state(repo)
    r = ok(ama("add", "d"))
    assert "added 0 file(s), 0 B; 50 unchanged" in r.err
    assert "stored:" not in r.err  # nothing was hashed or linked
    assert tree_state(repo) == before  # the index was not even rewritten


def test_re_add_of_a_changed_file_stages_the_new_content(repo, ama):
    path = write(repo / "a.bin", b"one")
    ok(ama("add", "a.bin"))
    tmp = write(repo / "a.new", b"two!")
    os.replace(tmp, path)
    r = ok(ama("add", "a.bin"))
    assert "added 1 file(s)" in r.err
    assert read_index(repo)["a.bin"].digest == blake3(b"two!").hexdigest()
    assert ok(ama("stat-check")).out == ""


def test_symlink_found_in_a_directory_walk_is_skipped_with_a_warning(repo, ama):
    write(repo / "d" / "real.bin", b"r")
    os.symlink("real.bin", repo / "d" / "link.bin")
    r = ok(ama("add", "d"))
    assert ls_files(ama) == ["d/real.bin"]
    warnings = [line for line in r.err.splitlines() if "warning" in line]
    assert len(warnings) == 1 and "d/link.bin" in warnings[0] and "symbolic link" in warnings[0]


def test_fifo_found_in_a_directory_walk_is_skipped_with_a_warning(repo, ama):
    write(repo / "d" / "real.bin", b"r")
    os.mkfifo(repo / "d" / "pipe")
    r = ok(ama("add", "d"))
    assert ls_files(ama) == ["d/real.bin"]
    assert "d/pipe" in r.err and "warning" in r.err


# -- rm --------------------------------------------------------------------------


@pytest.fixture
def staged(repo, ama):
    write(repo / "a.bin", b"a")
    write(repo / "d" / "b.bin", b"b")
    write(repo / "d" / "c.bin", b"c")
    ok(ama("add", "."))
    return repo


def test_rm_unstages_and_deletes_the_file(staged, ama):
    r = ok(ama("rm", "a.bin"))
    assert r.out == "rm 'a.bin'\n"
    assert not (staged / "a.bin").exists()
    assert ls_files(ama) == ["d/b.bin", "d/c.bin"]
    assert ok(ama("status", "--porcelain")).out == "A  d/b.bin\nA  d/c.bin\n"


def test_rm_cached_unstages_and_keeps_the_file(staged, ama):
    ok(ama("rm", "--cached", "a.bin"))
    assert (staged / "a.bin").read_bytes() == b"a"
    assert ls_files(ama) == ["d/b.bin", "d/c.bin"]
    assert "?? a.bin" in ok(ama("status", "--porcelain")).out.splitlines()


def test_rm_of_a_file_already_deleted_unstages_it(staged, ama):
    os.unlink(staged / "a.bin")
    ok(ama("rm", "a.bin"))
    assert ls_files(ama) == ["d/b.bin", "d/c.bin"]


def test_rm_of_a_directory_needs_r(staged, ama):
    before = tree_state(staged)
    one_line_error(ama("rm", "d"), 4)
    assert tree_state(staged) == before
    ok(ama("rm", "-r", "d"))
    assert ls_files(ama) == ["a.bin"]
    assert not (staged / "d" / "b.bin").exists()


def test_rm_refuses_to_delete_a_changed_file_without_force(staged, ama):
    tmp = write(staged / "a.tmp", b"edited")
    os.replace(tmp, staged / "a.bin")
    before = tree_state(staged)
    line = one_line_error(ama("rm", "a.bin"), 12)
    assert "--cached" in line and "--force" in line
    assert tree_state(staged) == before
    assert (staged / "a.bin").read_bytes() == b"edited"
    ok(ama("rm", "--force", "a.bin"))
    assert not (staged / "a.bin").exists()


def test_rm_of_an_untracked_path_is_refused(staged, ama):
    write(staged / "new.bin", b"n")
    before = tree_state(staged)
    one_line_error(ama("rm", "new.bin"), 4)
    assert tree_state(staged) == before
    assert (staged / "new.bin").exists()


# -- the object store on another filesystem (EXDEV) ---------------------------------


@pytest.fixture
def shm_repo(tmp_path, ama_env):
    """A work tree on /dev/shm (tmpfs) whose object store is on tmp_path's
    filesystem, set with core.objects: every link attempt crosses devices."""
    if not os.path.isdir("/dev/shm") or os.stat("/dev/shm").st_dev == os.stat(tmp_path).st_dev:
        pytest.skip("needs /dev/shm on a filesystem other than the temp dir")
    root = Path(f"/dev/shm/ama-test-{uuid.uuid4().hex}")
    os.mkdir(root)
    try:
        ok(run_ama("init", root, cwd=tmp_path, env=ama_env))
        objects = tmp_path / "objects"
        objects.mkdir()
        config = Config(str(root / ".ama" / "config"))
        config.set("core.objects", str(objects))
        config.save()
        yield root, objects
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_auto_mode_falls_back_to_copy_across_filesystems(shm_repo, ama_env):
    root, objects = shm_repo
    write(root / "d" / "a.bin", b"alpha" * 1000)
    write(root / "d" / "b.bin", b"beta" * 1000)
    r = ok(run_ama("add", "d", cwd=root, env=ama_env))
    assert "(stored: 2 copy)" in r.err
    assert Config(str(root / ".ama" / "config")).get("core.linkused") == "copy"
    assert "(last used: copy)" in ok(run_ama("status", cwd=root, env=ama_env)).out

    digest = blake3(b"alpha" * 1000).hexdigest()
    obj = objects / digest[:2] / digest[2:]
    assert obj.read_bytes() == b"alpha" * 1000
    assert obj.stat().st_dev != os.stat(root / "d" / "a.bin").st_dev
    assert not os.listdir(root / ".ama" / "objects")  # the configured store was used
    assert ok(run_ama("fsck", cwd=root, env=ama_env)).rc == 0
    assert ok(run_ama("stat-check", cwd=root, env=ama_env)).out == ""


def test_hardlink_mode_across_filesystems_fails_and_leaves_the_index(shm_repo, ama_env):
    root, objects = shm_repo
    write(root / "kept.bin", b"k")
    ok(run_ama("add", "kept.bin", cwd=root, env=ama_env))
    ok(run_ama("init", "--linkmode", "hardlink", root, cwd=root, env=ama_env))
    before = tree_state(root)
    stored = {p for p in objects.rglob("*") if p.is_file()}

    write(root / "a.bin", b"alpha")
    line = one_line_error(run_ama("add", "a.bin", cwd=root, env=ama_env), EXIT_IO)
    assert "a.bin" in line and "hardlink" in line
    assert tree_state(root) == before
    assert {p for p in objects.rglob("*") if p.is_file()} == stored  # no new objects
    assert ok(run_ama("ls-files", cwd=root, env=ama_env)).out == "kept.bin\n"
