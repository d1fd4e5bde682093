"""On a full disk every message says what did happen (issue 8, item 14):
a commit already on the remote says so, a checkout says which files it
replaced, and a download that runs out of space is the disk-full code."""

from __future__ import annotations

import errno
import json
from pathlib import Path

import pytest
from conftest import ok
from txn_helpers import InProcessAma, write_files

from ama.errors import EXIT_IO


@pytest.fixture
def ama(monkeypatch, capsys, tmp_path: Path) -> InProcessAma:
    return InProcessAma(monkeypatch, capsys, tmp_path / "home")


@pytest.fixture
def work(tmp_path: Path, ama) -> Path:
    root = tmp_path / "work"
    root.mkdir()
    ok(ama("init", "--class", "data", "--remote", tmp_path / "remote", cwd=root))
    write_files(root, {"a.txt": "a\n", "b.txt": "b\n", "c.txt": "c\n"})
    ok(ama("add", ".", cwd=root))
    return root


def full_disk(*args: object, **kw: object) -> None:
    raise OSError(errno.ENOSPC, "No space left on device")


def test_a_commit_on_the_remote_that_cannot_be_recorded_here_says_so(work: Path, ama, monkeypatch) -> None:
    monkeypatch.setattr("ama.txn.write_head", full_disk)
    r = ama("commit", "-m", "one", cwd=work)
    assert r.rc == EXIT_IO
    assert "version data/1/1 was committed on the remote" in r.err and "no space left" in r.err
    assert "nothing was changed" not in r.err
    monkeypatch.undo()
    record = json.loads((work.parent / "remote" / "assets" / "data" / "1" / "versions" / "1.json").read_text())
    assert record["status"] == "committed"


def test_a_checkout_that_runs_out_of_space_says_which_files_it_replaced(work: Path, ama, monkeypatch) -> None:
    ok(ama("commit", "-m", "one", cwd=work))
    write_files(work, {"a.txt": "A\n", "b.txt": "B\n", "c.txt": "C\n"})
    ok(ama("add", ".", cwd=work))
    ok(ama("commit", "-m", "two", cwd=work))
    from ama import checkout

    real = checkout.place
    calls = []

    def place(*args, **kw):
        calls.append(args)
        if len(calls) == 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(*args, **kw)

    monkeypatch.setattr(checkout, "place", place)
    r = ama("checkout", "data/1/1", cwd=work)
    assert r.rc == EXIT_IO
    assert "2 files were replaced (a.txt, b.txt)" in r.err and "no space left on device" in r.err
    assert "nothing was changed" not in r.err
    monkeypatch.setattr(checkout, "place", real)
    ok(ama("checkout", "data/1/1", cwd=work))
    assert (work / "c.txt").read_text() == "c\n"


def test_a_download_out_of_space_is_the_disk_full_code(work: Path, ama, monkeypatch, tmp_path: Path) -> None:
    ok(ama("commit", "-m", "one", cwd=work))
    monkeypatch.setattr("ama.remote.local._copy_hashed", full_disk)
    r = ama("clone", "--remote", tmp_path / "remote", "data/1", tmp_path / "clone", cwd=tmp_path)
    assert r.rc == EXIT_IO, r.err
    assert "no space left on device" in r.err
