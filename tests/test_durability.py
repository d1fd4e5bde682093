"""Durability and subtle correctness (issue 8, item 15): short reads are
continued, never hashed as a prefix; link_out never deletes a file it
refused to overwrite; store names are fsynced with their directories; the
ref log is written under the ref lock; remotes are closed."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from blake3 import blake3

from ama import hashing
from ama import remote as remote_pkg
from ama.refs import update_ref
from ama.repo import Repo, init_repo
from ama.store import Store


def test_a_short_read_is_continued_until_eof(tmp_path: Path, monkeypatch) -> None:
    data = os.urandom(100_000)
    path = tmp_path / "f"
    path.write_bytes(data)
    real = os.pread

    def short(fd: int, n: int, offset: int) -> bytes:  # a FUSE file system's answer
        return real(fd, min(n, 7000), offset)

    monkeypatch.setattr(hashing.os, "pread", short)
    assert hashing.hash_path(str(path))[0] == blake3(data).hexdigest()


def test_a_file_shorter_than_its_size_is_an_error_not_a_prefix_id(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"x" * 5000)
    real = os.pread
    monkeypatch.setattr(hashing.os, "pread", lambda fd, n, off: real(fd, n, off)[: max(0, 3000 - off)])
    with pytest.raises(hashing.BadPath) as err:
        hashing.hash_path(str(path))
    assert "3000 of its 5000 bytes" in str(err.value)


@pytest.mark.parametrize("linkmode", ["copy", "hardlink"])
def test_link_out_never_removes_the_file_it_refuses_to_overwrite(tmp_path: Path, linkmode: str) -> None:
    store = Store(str(tmp_path / "objects"), linkmode)
    digest = store.write_bytes(b"stored")
    dest = tmp_path / "mine.txt"
    dest.write_bytes(b"the user's own file")
    with pytest.raises(FileExistsError):
        store.link_out(digest, str(dest))
    assert dest.read_bytes() == b"the user's own file"


def test_store_sync_fsyncs_new_fanout_directories_and_the_root(tmp_path: Path, monkeypatch) -> None:
    synced: list[str] = []
    monkeypatch.setattr("ama.store.fsync_dir", synced.append)
    store = Store(str(tmp_path / "objects"))
    digest = store.write_bytes(b"a tree")
    store.fsync_dirs()
    assert os.path.dirname(store.path(digest)) in synced and store.root in synced


def test_the_ref_log_is_written_in_the_order_the_ref_moved(tmp_path: Path) -> None:
    repo, _ = init_repo(str(tmp_path / "work"))
    repo = Repo(repo.root)
    ref = "assets/data/1"

    def writer(k: int) -> None:
        for i in range(40):
            update_ref(repo, ref, f"{k:02x}{i:02x}".ljust(64, "0"), reason="t")

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    lines = Path(repo.path("logs", ref)).read_text().splitlines()
    assert len(lines) == 160
    # Each entry's old value is the previous entry's new one: one chain.
    for before, after in zip(lines, lines[1:], strict=False):
        assert after.split()[0] == before.split()[1]


def test_remotes_opened_by_a_command_are_closed(monkeypatch) -> None:
    closed = []

    class Fake:
        def close(self) -> None:
            closed.append(self)

    fake = Fake()
    remote_pkg._opened.add(fake)
    remote_pkg.close_all()
    assert closed == [fake] and len(remote_pkg._opened) == 0


def test_a_commit_fsyncs_the_directories_of_its_trees_and_commit_object(tmp_path: Path, monkeypatch, capsys) -> None:
    from conftest import ok
    from txn_helpers import InProcessAma, write_files

    ama = InProcessAma(monkeypatch, capsys, tmp_path / "home")
    work = tmp_path / "work"
    work.mkdir()
    ok(ama("init", "--class", "data", "--remote", tmp_path / "remote", cwd=work))
    write_files(work, {"a.txt": "a\n"})
    ok(ama("add", ".", cwd=work))
    synced: list[str] = []
    real = __import__("ama.store", fromlist=["fsync_dir"]).fsync_dir
    monkeypatch.setattr("ama.store.fsync_dir", lambda d: (synced.append(d), real(d)))
    ok(ama("commit", "-m", "one", cwd=work))
    commit_id = (work / ".ama" / "refs" / "assets" / "data" / "1").read_text().strip()
    assert str(work / ".ama" / "objects" / commit_id[:2]) in synced
