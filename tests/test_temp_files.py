"""ama's temp files have one name pattern (``.ama-tmp-<pid>-<host>-<random>``,
``ama.fsutil``): no walk shows or stages them, and the next command of the
same kind removes those whose process is gone, never a live one's."""

from __future__ import annotations

import errno
import os
import subprocess
from pathlib import Path

import pytest
from conftest import ok, run_ama
from txn_helpers import txn_env, write_files

from ama import fsutil
from ama.store import Store


def leftover(directory: Path, pid: int | None = None) -> Path:
    """A temp file as a process with ``pid`` (default: one that is gone) leaves it."""
    if pid is None:
        child = subprocess.Popen(["true"])
        child.wait()
        pid = child.pid
    path = directory / f"{fsutil.TEMP_PREFIX}{pid}-{fsutil.host_tag()}-0123456789ab"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"half written")
    return path


@pytest.fixture
def work(tmp_path: Path) -> tuple[Path, dict[str, str], Path]:
    env = txn_env(tmp_path / "home")
    root = tmp_path / "work"
    root.mkdir()
    remote = tmp_path / "remote"
    ok(run_ama("init", "--class", "data", "--remote", remote, cwd=root, env=env))
    write_files(root, {"a.txt": "a\n", "sub/b.bin": b"b" * 3000})
    ok(run_ama("add", ".", cwd=root, env=env))
    ok(run_ama("commit", "-m", "one", cwd=root, env=env))
    return root, env, remote


def test_status_and_add_never_show_or_stage_temp_files(work) -> None:
    root, env, _ = work
    leftover(root / "sub")
    leftover(root)
    assert ok(run_ama("status", "--porcelain", cwd=root, env=env)).out == ""
    ok(run_ama("add", ".", cwd=root, env=env))
    assert ok(run_ama("ls-files", cwd=root, env=env)).out.split() == ["a.txt", "sub/b.bin"]
    assert "nothing to commit" in ok(run_ama("status", cwd=root, env=env)).out


def test_a_killed_checkout_leaves_temps_the_next_checkout_removes(work) -> None:
    root, env, _ = work
    write_files(root, {"c.txt": "c\n"})
    ok(run_ama("add", "c.txt", cwd=root, env=env))
    ok(run_ama("commit", "-m", "two", cwd=root, env=env))
    killed = run_ama("checkout", "--force", "data/1/1", cwd=root, env={**env, "AMA_FAILPOINT": "checkout-temp-placed"})
    assert killed.rc == -9
    assert list(root.rglob(".ama-tmp-*")) != []
    assert ok(run_ama("status", "--porcelain", cwd=root, env=env)).out.count(".ama-tmp") == 0
    ok(run_ama("checkout", "--force", "data/1/1", cwd=root, env=env))
    assert list(root.rglob(".ama-tmp-*")) == []


def test_temps_of_a_killed_command_in_ama_dir_go_with_the_next_commit(work) -> None:
    root, env, _ = work
    stale = [leftover(root / ".ama"), leftover(root)]
    live = leftover(root / ".ama", pid=os.getpid())  # a running process's: kept
    write_files(root, {"c.txt": "c\n"})
    ok(run_ama("add", "c.txt", cwd=root, env=env))
    ok(run_ama("commit", "-m", "two", cwd=root, env=env))
    assert [p for p in stale if p.exists()] == []
    assert live.exists()


def test_a_commit_killed_mid_upload_leaves_a_temp_the_next_commit_removes(work) -> None:
    root, env, remote = work
    write_files(root, {"big.bin": os.urandom(200_000)})
    ok(run_ama("add", "big.bin", cwd=root, env=env))
    killed = run_ama("commit", "-m", "two", cwd=root, env={**env, "AMA_FAILPOINT": "remote-object-copied"})
    assert killed.rc == -9
    temps = list((remote / ".ama-tmp").iterdir())
    assert len(temps) == 1 and temps[0].stat().st_size == 200_000
    ok(run_ama("commit", "--resume", "-m", "two", cwd=root, env=env))
    assert list((remote / ".ama-tmp").iterdir()) == []
    assert ok(run_ama("ls-remote", cwd=root, env=env)).out.count(".ama-tmp") == 0


def test_a_failed_store_write_leaves_no_temp_file(tmp_path: Path, monkeypatch) -> None:
    store = Store(str(tmp_path / "objects"))

    def full(fd: int, data: bytes) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("ama.store.write_all", full)
    with pytest.raises(OSError):
        store.write_bytes(b"a tree")
    assert [f for d in (tmp_path / "objects").iterdir() for f in d.iterdir()] == []


def test_the_cleanup_keeps_a_live_process_temp_and_another_host_fresh_one(tmp_path: Path) -> None:
    mine = leftover(tmp_path, pid=os.getpid())
    gone = leftover(tmp_path)
    other_host = tmp_path / f"{fsutil.TEMP_PREFIX}{os.getpid()}-ffffffff-0123456789ab"
    other_host.write_bytes(b"x")
    removed = fsutil.remove_stale_temps(str(tmp_path))
    assert removed == [(str(gone), len(b"half written"))]
    assert mine.exists() and other_host.exists()
    old = os.stat(other_host).st_mtime - 2 * fsutil.TEMP_MAX_AGE
    os.utime(other_host, (old, old))
    assert fsutil.remove_stale_temps(str(tmp_path)) == [(str(other_host), 1)]
