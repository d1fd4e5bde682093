"""Bad input gets one line on stderr, its documented exit code, and leaves the
repository as it was (docs/design.md, invariant 6; docs/bad-input.md)."""

import os
import shutil
import socket
import stat
import subprocess
import time

import pytest
from conftest import (
    AMA,
    LOCK_TIMEOUT,
    held_lock,
    object_ids,
    ok,
    one_line_error,
    read_index,
    run_ama,
    tree_state,
    write,
)

from ama.errors import EXIT_BAD_PATH, EXIT_CORRUPT, EXIT_LOCKED, EXIT_NOT_A_REPO
from ama.hashing import EMPTY_ID
from ama.index import DIGEST, HEADER, STAT

# The commands that take a file and stage it; hash-object -w stores it only.
STAGING = [("add",), ("update-index", "--add")]
STORING = [*STAGING, ("hash-object", "-w")]


@pytest.fixture(scope="module")
def _staged_template(tmp_path_factory, _initialized_template):
    root = tmp_path_factory.mktemp("staged") / "work"
    shutil.copytree(_initialized_template, root, symlinks=True)
    write(root / "kept.bin", b"kept")
    ok(run_ama("add", "kept.bin", cwd=root))
    return root


@pytest.fixture
def staged(repo, _staged_template):
    """A repo with something in its index and store, to see it unchanged
    (a copy of one made per module: the index's inode numbers are stale,
    which commands that fail before reading the work tree never see)."""
    shutil.rmtree(repo)
    shutil.copytree(_staged_template, repo, symlinks=True)
    return repo


def refused(ama, repo, *args, code=EXIT_BAD_PATH, **kw):
    """Run ``ama ARGS``: one line, exit ``code``, nothing written."""
    before = tree_state(repo)
    objects = object_ids(repo)
    line = one_line_error(ama(*args, **kw), code)
    assert tree_state(repo) == before
    assert object_ids(repo) == objects
    return line


# -- paths that are not regular files in the work tree ------------------------------


@pytest.mark.parametrize("command", STORING, ids=" ".join)
def test_missing_path_is_refused(staged, ama, command):
    line = refused(ama, staged, *command, "missing.bin")
    assert "missing.bin" in line and ("no such file" in line or "does not exist" in line)


@pytest.mark.parametrize("command", STAGING, ids=" ".join)
def test_path_outside_the_work_tree_is_refused(staged, ama, tmp_path, command):
    outside = write(tmp_path / "outside.bin", b"o")
    line = refused(ama, staged, *command, str(outside))
    assert "outside the work tree" in line


@pytest.mark.parametrize("command", STAGING, ids=" ".join)
@pytest.mark.parametrize("arg", [".ama/config", ".ama", "sub/../.ama/index"])
def test_path_inside_ama_dir_is_refused(staged, ama, command, arg):
    (staged / "sub").mkdir()
    assert "inside .ama/" in refused(ama, staged, *command, arg)


@pytest.mark.parametrize("command", STORING, ids=" ".join)
def test_fifo_is_refused(staged, ama, command):
    os.mkfifo(staged / "pipe")
    assert "is a FIFO" in refused(ama, staged, *command, "pipe")


@pytest.mark.parametrize("command", STORING, ids=" ".join)
def test_socket_is_refused(staged, ama, command, monkeypatch):
    monkeypatch.chdir(staged)  # AF_UNIX paths are short: bind a relative one
    with socket.socket(socket.AF_UNIX) as s:
        s.bind("sock")
        line = refused(ama, staged, *command, "sock")
    assert "socket" in line or "No such device" in line


@pytest.mark.parametrize("command", STORING, ids=" ".join)
def test_device_is_refused(staged, ama, command):
    try:
        os.mknod(staged / "null", stat.S_IFCHR | 0o600, os.makedev(1, 3))
    except PermissionError:
        pytest.skip("not permitted to create a device node here")
    assert "is a device" in refused(ama, staged, *command, "null")


@pytest.mark.parametrize("command", STORING, ids=" ".join)
def test_named_symlink_is_refused(staged, ama, command):
    os.symlink("kept.bin", staged / "link.bin")
    assert "symbolic link" in refused(ama, staged, *command, "link.bin")


@pytest.mark.parametrize("command", STAGING, ids=" ".join)
def test_non_utf8_file_name_is_refused(staged, ama, command):
    name = b"caf\xe9.bin"  # latin-1, not UTF-8
    with open(os.path.join(os.fsencode(staged), name), "wb") as f:
        f.write(b"x")
    line = refused(ama, staged, *command, os.fsdecode(name))
    assert "not valid UTF-8" in line


def test_non_utf8_file_name_found_in_a_walk_stages_nothing(staged, ama):
    write(staged / "d" / "good.bin", b"g")
    with open(os.path.join(os.fsencode(staged / "d"), b"bad\xff.bin"), "wb") as f:
        f.write(b"x")
    before = read_index(staged)
    line = one_line_error(ama("add", "d"), EXIT_BAD_PATH)
    assert "not valid UTF-8" in line
    assert read_index(staged) == before


@pytest.mark.parametrize("io_encoding", [None, "utf-8"])  # utf-8: Python's stdout is then strict
def test_untracked_non_utf8_name_is_listed_by_status(staged, ama, ama_env, io_encoding):
    with open(os.path.join(os.fsencode(staged), b"bad\xff.bin"), "wb") as f:
        f.write(b"x")
    env = {**ama_env, "PYTHONIOENCODING": io_encoding} if io_encoding else ama_env
    line = ok(ama("status", "--porcelain", env=env)).out.splitlines()[-1]
    assert line.startswith('?? "bad\\') and line.endswith('.bin"') and line.isascii()  # quoted, escaped
    assert ok(ama("status", "-z", binary=True, env=env)).out.split(b"\0")[-2] == b"?? bad\xff.bin"  # raw bytes
    r = ama("stat-check", "-z", "--untracked", binary=True, env=env)
    assert r.rc == 0 and r.out.endswith(b"untracked\0bad\xff.bin\0")


@pytest.mark.parametrize(
    "args",
    [("add",), ("rm", "-r"), ("rm", "--cached", "-r"), ("update-index", "--add"), ("status",), ("stat-check",)],
    ids=" ".join,
)
def test_empty_path_argument_is_refused_not_taken_as_the_whole_tree(staged, ama, args):
    # `ama rm -r "$UNSET"` must not mean `ama rm -r .`
    write(staged / "new.bin", b"n")
    assert "empty" in refused(ama, staged, *args, "")
    assert (staged / "kept.bin").exists()


def test_empty_cacheinfo_path_is_refused(staged, ama):
    digest = read_index(staged)["kept.bin"].digest
    for path in ("", "."):
        refused(ama, staged, "update-index", "--cacheinfo", f"100644,{digest},{path}")


def test_directory_is_refused_by_update_index(staged, ama):
    (staged / "d").mkdir()
    assert "is a directory" in refused(ama, staged, "update-index", "--add", "d")


# -- an unreadable file --------------------------------------------------------------

# Tests run as root, who reads mode-000 files anyway. Running ama without the
# capabilities that bypass file permissions makes it an ordinary owner who
# has no read permission. (Dropping to uid nobody would not do: the Python
# interpreter lives under /root, closed to other users.)
NO_DAC = ["setpriv", "--inh-caps=-all", "--bounding-set=-dac_override,-dac_read_search"]


def unreadable_prefix(path) -> list[str]:
    if os.geteuid() != 0:
        return []
    if not shutil.which("setpriv"):
        pytest.skip("running as root without setpriv: cannot make a file unreadable")
    probe = subprocess.run([*NO_DAC, "cat", str(path)], capture_output=True)
    if probe.returncode == 0:
        pytest.skip("setpriv could not drop the permission-bypass capabilities")
    return NO_DAC


@pytest.mark.parametrize("command", STORING, ids=" ".join)
def test_unreadable_file_is_refused(staged, ama, command):
    path = write(staged / "secret.bin", b"s")
    os.chmod(path, 0)
    prefix = unreadable_prefix(path)
    line = refused(ama, staged, *command, "secret.bin", prefix=prefix)
    assert "permission denied" in line


def test_unreadable_file_found_in_a_walk_stages_nothing(staged, ama):
    write(staged / "d" / "a.bin", b"a")
    path = write(staged / "d" / "secret.bin", b"s")
    os.chmod(path, 0)
    prefix = unreadable_prefix(path)
    before = read_index(staged)
    line = one_line_error(ama("add", "d", prefix=prefix), EXIT_BAD_PATH)
    assert "d/secret.bin" in line and "permission denied" in line
    assert read_index(staged) == before


def test_unlistable_directory_found_in_a_walk_stages_nothing(staged, ama):
    write(staged / "d" / "a.bin", b"a")
    closed = staged / "d" / "closed"
    write(closed / "x.bin", b"x")
    os.chmod(closed, 0)
    try:
        prefix = unreadable_prefix(closed / "x.bin")
        before = read_index(staged)
        line = one_line_error(ama("add", "d", prefix=prefix), EXIT_BAD_PATH)
        assert "d/closed" in line and "permission denied" in line
        assert read_index(staged) == before
    finally:
        os.chmod(closed, 0o755)  # so that tmp_path can be cleaned up


# -- valid edge cases: empty and huge files --------------------------------------------


def test_empty_file_is_added_with_the_id_of_empty_input(repo, ama):
    write(repo / "empty.bin", b"")
    ok(ama("add", "empty.bin"))
    assert ok(ama("ls-files", "-s")).out == f"100644 {EMPTY_ID} 0\tempty.bin\n"
    assert ok(ama("hash-object", "empty.bin")).out.strip() == EMPTY_ID
    assert ok(ama("fsck")).rc == 0


# The id of 5 GiB of zero bytes, as printed by b3sum 1.2.0.
ZEROS_5GIB = "bcf27a182cee2a75728e2617d0ac5d90f902207f5332cf7190b345d96e9fd221"


@pytest.mark.slow
def test_file_over_4gib_is_added_with_its_full_size(repo, ama):
    size = 5 * 2**30
    with open(repo / "huge.bin", "wb") as f:
        f.truncate(size)  # sparse: no disk space, read back as zeros
    ok(ama("add", "huge.bin"))
    assert read_index(repo)["huge.bin"].size == size
    assert ok(ama("ls-files", "-s")).out == f"100644 {ZEROS_5GIB} {size}\thuge.bin\n"
    tree = ok(ama("write-tree")).out.strip()
    assert ok(ama("ls-tree", tree)).out == f"100644 file {ZEROS_5GIB} {size}\thuge.bin\n"


# -- the repository itself ----------------------------------------------------------------


@pytest.mark.parametrize(
    "args", [("status",), ("add", "x"), ("ls-files",), ("write-tree",), ("stat-check",)], ids=" ".join
)
def test_outside_any_repository_exits_3(tmp_path, ama_env, args):
    plain = tmp_path / "plain"
    write(plain / "x", b"x")
    line = one_line_error(run_ama(*args, cwd=plain, env=ama_env), EXIT_NOT_A_REPO)
    assert "not an ama repository" in line and "ama init" in line
    assert not (plain / ".ama").exists()


@pytest.mark.parametrize(
    "args", [("add", "new.bin"), ("rm", "--cached", "kept.bin"), ("update-index", "--add", "new.bin")], ids=" ".join
)
def test_held_index_lock_is_reported_with_its_holder(staged, ama, args):
    write(staged / "new.bin", b"n")
    lock = staged / ".ama" / "index.lock"
    with held_lock(lock) as pid:
        start = time.monotonic()
        line = refused(ama, staged, *args, code=EXIT_LOCKED)
        assert time.monotonic() - start >= float(LOCK_TIMEOUT)  # it waited for the holder first
    assert f"index.lock is held by another ama process (pid {pid})" in line
    ok(ama(*args))


@pytest.mark.parametrize(
    "args", [("add", "new.bin"), ("rm", "--cached", "kept.bin"), ("update-index", "--add", "new.bin")], ids=" ".join
)
def test_index_lock_left_by_a_killed_process_is_taken_over(staged, ama, args):
    write(staged / "new.bin", b"n")
    (staged / ".ama" / "index.lock").write_bytes(b"half an index")
    ok(ama(*args))
    assert not (staged / ".ama" / "index.lock").exists()


def test_status_works_while_the_index_lock_is_held(staged, ama):
    with held_lock(staged / ".ama" / "index.lock"):
        assert ok(ama("status", "--porcelain")).out == "A  kept.bin\n"


def index_corruptions(size: int) -> dict[str, object]:
    """name -> a function of the bytes of a one-entry index giving damaged bytes."""
    record = HEADER.size
    names = HEADER.size + STAT.size + DIGEST.size

    def flip(at: int):
        return lambda b: b[:at] + bytes([b[at] ^ 0x5A]) + b[at + 1 :]

    return {
        "flip-magic": flip(0),
        "flip-version": flip(8),
        "flip-count": flip(12),
        "flip-header-end": flip(record - 1),
        "flip-record-size": flip(record + 32),
        "flip-name": flip(names + 1),
        "flip-trailer": flip(size - 1),
        "truncated-empty": lambda b: b"",
        "truncated-header": lambda b: b[:10],
        "truncated-half": lambda b: b[: len(b) // 2],
        "truncated-last-byte": lambda b: b[:-1],
        "extended": lambda b: b + b"\0",
    }


def damage_index(repo, damage: str) -> bytes:
    index = repo / ".ama" / "index"
    good = index.read_bytes()
    bad = index_corruptions(len(good))[damage](good)
    assert bad != good
    index.write_bytes(bad)
    return bad


def refused_as_corrupt(ama, repo, *args) -> None:
    line = refused(ama, repo, *args, code=EXIT_CORRUPT)
    assert "mv .ama/index .ama/index.bad" in line


@pytest.mark.parametrize("damage", list(index_corruptions(1000)))
def test_corrupt_index_is_refused_with_the_recovery_hint(staged, ama, damage):
    bad = damage_index(staged, damage)
    refused_as_corrupt(ama, staged, "status")
    assert (staged / ".ama" / "index").read_bytes() == bad


@pytest.mark.parametrize(
    "args", [("add", "new.bin"), ("ls-files",), ("stat-check",), ("write-tree",), ("rm", "kept.bin")], ids=" ".join
)
def test_every_index_reader_refuses_a_corrupt_index_and_leaves_it(staged, ama, args):
    write(staged / "new.bin", b"n")
    bad = damage_index(staged, "flip-record-size")
    refused_as_corrupt(ama, staged, *args)
    # Never silently replaced by an empty or rebuilt index, and no lock left.
    assert (staged / ".ama" / "index").read_bytes() == bad
    assert not (staged / ".ama" / "index.lock").exists()
    assert (staged / "kept.bin").exists()


def test_repository_is_usable_again_after_moving_a_corrupt_index_aside(staged, ama):
    index = staged / ".ama" / "index"
    index.write_bytes(index.read_bytes()[:-1])
    index.rename(staged / ".ama" / "index.bad")
    ok(ama("add", "kept.bin"))
    assert list(read_index(staged)) == ["kept.bin"]


def test_ama_exists_where_tests_expect_it():
    assert os.access(AMA, os.X_OK)
