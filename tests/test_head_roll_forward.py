"""A commit killed between its version record and its HEAD move
(failpoint ``after-version``) must not block the asset: every writer, and
pull/fetch, rolls the asset's HEAD forward to the newest committed version
(compare-and-swap), and the killed commit still finishes when resumed."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import ok, one_line_error, run_ama
from txn_helpers import txn_env, write_files

CLS = "data"


def remote_head(remote: Path) -> dict:
    return json.loads((remote / "assets" / CLS / "1" / "HEAD").read_text())


def setup(tmp_path: Path) -> tuple[Path, Path, Path, dict[str, str]]:
    """Two work trees at version 1; ``a`` was killed committing version 2
    right after its version record was committed."""
    env = txn_env(tmp_path / "home")
    remote = tmp_path / "remote"
    a = tmp_path / "a"
    a.mkdir()
    ok(run_ama("init", "--class", CLS, "--remote", remote, cwd=a, env=env))
    write_files(a, {"x.txt": "one\n"})
    ok(run_ama("add", ".", cwd=a, env=env))
    ok(run_ama("commit", "-m", "one", cwd=a, env=env))
    b = tmp_path / "b"
    ok(run_ama("clone", "--remote", remote, f"{CLS}/1", b, cwd=tmp_path, env=env))
    write_files(a, {"x.txt": "two, from a\n"})
    ok(run_ama("add", "x.txt", cwd=a, env=env))
    killed = run_ama("commit", "-m", "two", cwd=a, env={**env, "AMA_FAILPOINT": "after-version"})
    assert killed.rc == -9
    versions = remote / "assets" / CLS / "1" / "versions"
    assert json.loads((versions / "2.json").read_text())["status"] == "committed"
    assert remote_head(remote)["version"] == 1
    return a, b, remote, env


def test_another_writer_is_told_to_pull_and_the_pull_brings_the_committed_version(tmp_path: Path) -> None:
    a, b, remote, env = setup(tmp_path)
    write_files(b, {"y.txt": "from b\n"})
    ok(run_ama("add", "y.txt", cwd=b, env=env))
    line = one_line_error(run_ama("commit", "-m", "b", cwd=b, env=env), 8)
    assert "ama pull" in line
    assert remote_head(remote)["version"] == 2  # rolled forward by the writer

    ok(run_ama("pull", cwd=b, env=env))
    assert (b / "x.txt").read_text() == "two, from a\n"
    ok(run_ama("commit", "-m", "b", cwd=b, env=env))
    assert remote_head(remote)["version"] == 3

    # The killed commit finishes: its version is committed and HEAD is past it.
    ok(run_ama("commit", "--resume", cwd=a, env=env))
    assert not (a / ".ama" / "PENDING").exists()
    assert "version 2" in ok(run_ama("status", cwd=a, env=env)).out


def test_fetch_rolls_the_head_forward(tmp_path: Path) -> None:
    _a, b, remote, env = setup(tmp_path)
    ok(run_ama("fetch", cwd=b, env=env))
    assert remote_head(remote)["version"] == 2
    ok(run_ama("pull", cwd=b, env=env))
    assert (b / "x.txt").read_text() == "two, from a\n"
