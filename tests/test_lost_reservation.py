"""A pending commit whose reservation vanished from the remote has a way
forward (commit reserves again, --abandon works), and a missing .ama/HEAD
never turns the next commit into a new asset when the work tree is on one."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from conftest import ok, one_line_error, run_ama
from txn_helpers import txn_env, write_files

CLS = "data"


def started(tmp_path: Path, versions_before: int) -> tuple[Path, Path, dict[str, str]]:
    """A work tree whose commit of version ``versions_before + 1`` was
    killed right after reserving it."""
    env = txn_env(tmp_path / "home")
    work, remote = tmp_path / "work", tmp_path / "remote"
    work.mkdir()
    ok(run_ama("init", "--class", CLS, "--remote", remote, cwd=work, env=env))
    for k in range(versions_before):
        write_files(work, {"f.txt": f"version {k + 1}\n"})
        ok(run_ama("add", "f.txt", cwd=work, env=env))
        ok(run_ama("commit", "-m", f"v{k + 1}", cwd=work, env=env))
    write_files(work, {"f.txt": "the interrupted one\n"})
    ok(run_ama("add", "f.txt", cwd=work, env=env))
    killed = run_ama("commit", "-m", "killed", cwd=work, env={**env, "AMA_FAILPOINT": "after-reserve"})
    assert killed.rc == -9
    return work, remote, env


def versions(remote: Path) -> dict[int, dict]:
    d = remote / "assets" / CLS / "1" / "versions"
    return {int(p.stem): json.loads(p.read_text()) for p in d.glob("*.json")}


def test_commit_reserves_again_when_the_reservation_was_deleted(tmp_path: Path) -> None:
    work, remote, env = started(tmp_path, versions_before=1)
    (remote / "assets" / CLS / "1" / "versions" / "2.json").unlink()
    r = ok(run_ama("commit", cwd=work, env=env))
    assert "data/1 version 2" in r.out
    assert "the reservation of data/1 version 2 is gone from the remote; reserving a new version" in r.err
    assert versions(remote)[2]["status"] == "committed"
    assert not (work / ".ama" / "PENDING").exists()


def test_a_new_asset_whose_records_vanished_is_allocated_again(tmp_path: Path) -> None:
    work, remote, env = started(tmp_path, versions_before=0)
    shutil.rmtree(remote / "assets" / CLS / "1")
    assert "data/1 version 1" in ok(run_ama("commit", cwd=work, env=env)).out


def test_an_expired_reservation_is_reserved_again(tmp_path: Path) -> None:
    work, remote, env = started(tmp_path, versions_before=1)
    record = remote / "assets" / CLS / "1" / "versions" / "2.json"
    record.write_text(json.dumps({**json.loads(record.read_text()), "status": "abandoned"}))
    assert "data/1 version 3" in ok(run_ama("commit", cwd=work, env=env)).out


def test_abandon_works_when_the_reservation_vanished(tmp_path: Path) -> None:
    work, remote, env = started(tmp_path, versions_before=1)
    (remote / "assets" / CLS / "1" / "versions" / "2.json").unlink()
    write_files(work, {"g.txt": "changed since\n"})
    ok(run_ama("add", "g.txt", cwd=work, env=env))
    r = ok(run_ama("commit", "--abandon", "-m", "fresh", cwd=work, env=env))
    assert "abandoned the interrupted commit" in r.err
    assert not (work / ".ama" / "PENDING").exists()


def committed_twice(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    env = txn_env(tmp_path / "home")
    work = tmp_path / "work"
    work.mkdir()
    ok(run_ama("init", "--class", CLS, "--remote", tmp_path / "remote", cwd=work, env=env))
    write_files(work, {"f.txt": "one\n"})
    ok(run_ama("add", "f.txt", cwd=work, env=env))
    ok(run_ama("commit", "-m", "one", cwd=work, env=env))
    write_files(work, {"f.txt": "two\n"})
    ok(run_ama("add", "f.txt", cwd=work, env=env))
    return work, env


def test_a_missing_head_is_taken_from_the_pointer_file(tmp_path: Path) -> None:
    work, env = committed_twice(tmp_path)
    (work / ".ama" / "HEAD").unlink()
    assert "[data/1 version 2]" in ok(run_ama("commit", "-m", "two", cwd=work, env=env)).out


def test_a_missing_head_is_taken_from_the_only_ref(tmp_path: Path) -> None:
    work, env = committed_twice(tmp_path)
    (work / ".ama" / "HEAD").unlink()
    (work / ".ama-asset").unlink()
    assert "[data/1 version 2]" in ok(run_ama("commit", "-m", "two", cwd=work, env=env)).out


def test_a_missing_head_with_several_assets_is_refused(tmp_path: Path) -> None:
    work, env = committed_twice(tmp_path)
    ref = work / ".ama" / "refs" / "assets" / CLS
    (ref / "7").write_text((ref / "1").read_text())
    (work / ".ama" / "HEAD").unlink()
    (work / ".ama-asset").unlink()
    line = one_line_error(run_ama("commit", "-m", "two", cwd=work, env=env), 6)
    assert ".ama/HEAD is missing" in line and "data/1" in line and "data/7" in line
