"""Every lock of ama is released by the kernel when its owner dies
(``ama.fsutil.Lock``): a killed process never leaves a lock that blocks the
next command, a live holder is reported (exit 5) by pid, and two processes
never hold one lock at once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from conftest import held_lock, ok, one_line_error, write

from ama.errors import EXIT_LOCKED, LockHeld
from ama.fsutil import Lock, LockFile
from ama.remote.local import LocalRemote

# -- the helper itself ------------------------------------------------------


def test_a_lock_file_left_behind_is_taken_over(tmp_path: Path) -> None:
    path = tmp_path / "txn.lock"
    path.write_bytes(b"")  # a holder killed before it wrote anything
    with Lock(str(path), timeout=0, record_owner=True):
        assert path.read_text().split()[0] == str(os.getpid())
    assert not path.exists()


def test_a_live_holder_blocks_and_is_named(tmp_path: Path) -> None:
    path = tmp_path / "txn.lock"
    with held_lock(path) as pid:
        with pytest.raises(LockHeld) as err:
            Lock(str(path), timeout=0.05).acquire()
    assert f"pid {pid}" in str(err.value) and str(path) in str(err.value)
    assert "\n" not in str(err.value)


def test_a_waiter_does_not_lock_a_file_its_holder_renamed(tmp_path: Path) -> None:
    target = tmp_path / "index"
    first = LockFile(str(target), timeout=0).acquire()
    # A waiter opened index.lock before the holder committed it.
    fd = os.open(first.path, os.O_RDWR)
    first.write(b"new")
    first.commit()
    second = LockFile(str(target), timeout=0).acquire()
    try:
        assert os.fstat(fd).st_ino != os.fstat(second.fd).st_ino
        assert target.read_bytes() == b"new"
    finally:
        second.release()
        os.close(fd)


# Each worker takes the lock over and over and checks that nobody else is
# inside: the file "inside" names the last holder; finding a live process
# there (other than itself) means two held the lock at once.
WORKER = textwrap.dedent(
    """
    import os, sys, time
    from ama.fsutil import Lock
    from ama.errors import LockHeld
    lock_path, inside, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
    def alive(pid):
        # A killed holder stays a zombie until the test reaps it; the kernel
        # has already released its lock then, so a zombie does not count.
        try:
            with open(f"/proc/{pid}/stat") as f:
                return f.read().rpartition(")")[2].split()[0] != "Z"
        except FileNotFoundError:
            return False
    for _ in range(rounds):
        lock = Lock(lock_path, timeout=30)
        lock.acquire()
        try:
            with open(inside) as f:
                other = f.read().strip()
        except FileNotFoundError:
            other = ""
        if other and int(other) != os.getpid() and alive(int(other)) and open(inside).read().strip() == other:
            print("VIOLATION", other, flush=True)
        with open(inside, "w") as f:
            f.write(str(os.getpid()))
        time.sleep(0.0005)
        with open(inside, "w") as f:
            f.write("")
        lock.release()
    """
)


@pytest.mark.slow
def test_two_processes_never_hold_the_lock_together_even_when_holders_are_killed(tmp_path: Path) -> None:
    lock, inside = tmp_path / "txn.lock", tmp_path / "inside"
    args = [sys.executable, "-c", WORKER, str(lock), str(inside)]
    steady = [subprocess.Popen([*args, "300"], stdout=subprocess.PIPE, text=True) for _ in range(4)]
    # Meanwhile, holders that are killed at random moments, often while
    # they hold the lock: their lock file stays behind for the others.
    for k in range(25):
        victim = subprocess.Popen([*args, "100000"], stdout=subprocess.PIPE, text=True)
        time.sleep(0.01 + (k % 5) * 0.01)
        victim.send_signal(signal.SIGKILL)
        out, _ = victim.communicate(timeout=30)
        assert "VIOLATION" not in out
    for p in steady:
        out, _ = p.communicate(timeout=120)
        assert p.returncode == 0
        assert "VIOLATION" not in out


# -- the repository's locks -----------------------------------------------


@pytest.fixture
def staged(repo: Path, ama) -> Path:
    write(repo / "kept.bin", b"k")
    ok(ama("add", "kept.bin"))
    return repo


@pytest.mark.parametrize("name", ["index.lock", "txn.lock", "refs/assets/work/1.lock"])
def test_a_lock_file_left_by_a_killed_command_does_not_block(staged: Path, ama, name: str) -> None:
    (staged / ".ama" / name).parent.mkdir(parents=True, exist_ok=True)
    (staged / ".ama" / name).write_bytes(b"half-written")
    write(staged / "new.bin", b"n")
    ok(ama("add", "new.bin"))
    ok(ama("commit", "-m", "one"))
    assert ok(ama("status", "--porcelain")).out == ""
    assert not (staged / ".ama" / "index.lock").exists()


@pytest.mark.parametrize(("name", "args"), [("index.lock", ("add", "new.bin")), ("txn.lock", ("commit", "-m", "one"))])
def test_a_lock_held_by_a_live_process_is_reported_by_pid(staged: Path, ama, name: str, args) -> None:
    write(staged / "new.bin", b"n")
    with held_lock(staged / ".ama" / name) as pid:
        line = one_line_error(ama(*args), EXIT_LOCKED)
    assert name in line and f"pid {pid}" in line
    ok(ama(*args))


def test_a_remote_lock_left_by_a_killed_writer_does_not_block(tmp_path: Path) -> None:
    remote = LocalRemote(str(tmp_path / "remote"), lock_timeout=0)
    token = remote.create("assets/x/1/HEAD", b"1")
    held = subprocess.run(
        [
            sys.executable,
            "-c",
            "import os, signal, sys\n"
            "from ama.remote.local import LocalRemote\n"
            "r = LocalRemote(sys.argv[1])\n"
            "with r._locked(r.path_of('assets/x/1/HEAD')):\n"
            "    os.kill(os.getpid(), signal.SIGKILL)\n",
            remote.root,
        ],
    )
    assert held.returncode == -signal.SIGKILL
    assert Path(remote.path_of("assets/x/1/HEAD") + ".lock").exists()
    remote.replace("assets/x/1/HEAD", b"2", token)
    assert remote.get("assets/x/1/HEAD") == b"2"
    assert not Path(remote.path_of("assets/x/1/HEAD") + ".lock").exists()
