"""``ama prune``: remove contents of older versions that the remote verifiably holds."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import one_line_error, run_ama
from e2e import Work, object_path
from storage_helpers import A1, A2, A3, B, commit_three_versions, store_dir
from storage_helpers import remote_object as storage_remote_object

from ama.hashing import hash_bytes

pytest_plugins = ["fixtures_history"]



@pytest.fixture
def three(e2e_work: Work) -> Work:
    commit_three_versions(e2e_work)
    return e2e_work


def stored(w: Work, data: bytes) -> bool:
    return object_path(w, hash_bytes(data)).exists()


def remote_object(w: Work, data: bytes) -> Path:
    return storage_remote_object(store_dir(w), data)


def test_prune_removes_contents_only_older_versions_use(three: Work) -> None:
    out = three.ok("prune").out

    assert out == "removed 2 contents of data/1/1, data/1/2, 2.1 KiB freed\n"
    assert not stored(three, A1) and not stored(three, A2)
    assert stored(three, A3) and stored(three, B)
    assert "nothing to commit, working tree clean" in three.ok("status").out
    assert three.ok("prune").out.startswith("nothing to prune")


def test_a_pruned_version_is_fetched_again_on_checkout(three: Work) -> None:
    three.ok("prune")
    three.ok("checkout", "data/1/1")
    assert (three.root / "a.bin").read_bytes() == A1
    assert stored(three, A1)


def test_dry_run_says_what_and_how_much_and_removes_nothing(three: Work) -> None:
    out = three.ok("prune", "--dry-run").out
    assert out == "would remove 2 contents of data/1/1, data/1/2, 2.1 KiB; remote origin holds every one\n"
    assert stored(three, A1) and stored(three, A2)


def test_keep_and_keep_days_widen_the_window(three: Work) -> None:
    assert three.ok("prune", "-n", "--keep", "2").out.startswith("would remove 1 content of data/1/1,")
    # The versions were made in 2023 (AMA_AUTHOR_DATE): 20 years covers them.
    assert three.ok("prune", "-n", "--keep-days", str(365 * 20)).out.startswith("nothing to prune")
    assert three.ok("prune", "--keep", "3").out.startswith("nothing to prune")


def test_staged_contents_never_pushed_are_kept(three: Work) -> None:
    three.write("new.bin", b"only here")
    three.ok("add", "new.bin")
    three.ok("prune")
    assert stored(three, b"only here")


def test_a_remote_that_lacks_a_content_means_nothing_is_removed(three: Work) -> None:
    os.unlink(remote_object(three, A1))
    line = one_line_error(three("prune"), 11)
    assert line == (
        f"ama prune: remote origin does not hold content {hash_bytes(A1)[:12]} intact (missing); "
        "prune removed nothing: check the remote with 'ama fsck --remote origin'"
    )
    assert stored(three, A1) and stored(three, A2)


def test_a_remote_copy_of_another_size_means_nothing_is_removed(three: Work) -> None:
    path = remote_object(three, A2)
    os.chmod(path, 0o644)
    path.write_bytes(A2[:-1])
    assert "(1199 bytes instead of 1200)" in one_line_error(three("prune"), 10)
    assert stored(three, A1) and stored(three, A2)


def test_hash_option_catches_a_same_size_damage(three: Work) -> None:
    path = remote_object(three, A2)
    os.chmod(path, 0o644)
    path.write_bytes(b"x" * len(A2))
    three.ok("prune", "-n")
    line = one_line_error(three("prune", "--hash"), 10)
    assert "damaged (its bytes hash to" in line and "prune removed nothing" in line
    assert stored(three, A1) and stored(three, A2)


def test_no_remote_configured_is_one_line_and_removes_nothing(three: Work) -> None:
    three.ok("config", "core.remote", "backup")
    line = one_line_error(three("prune"), 2)
    assert "no remote named 'backup'" in line
    assert stored(three, A1)


def test_an_unreachable_remote_is_one_line_and_removes_nothing(three: Work) -> None:
    three.ok("remote", "add", "dead", "s3://bucket/p")
    three.ok("config", "remote.dead.endpoint", "http://127.0.0.1:9")
    env = {**three.env, "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "AWS_REGION": "us-east-1",
           "AMA_S3_MAX_ATTEMPTS": "1", "AMA_S3_CONNECT_TIMEOUT": "1"}
    line = one_line_error(three("prune", "--remote", "dead", env=env), 7)
    assert "cannot reach endpoint http://127.0.0.1:9" in line and line.endswith("; prune removed nothing")
    assert stored(three, A1)


def test_prune_killed_midway_leaves_a_store_the_next_prune_finishes(three: Work) -> None:
    killed = three("prune", env={**three.env, "AMA_FAILPOINT": "prune-removed:1"})
    assert killed.rc == -9
    assert stored(three, A1) != stored(three, A2)
    assert three.ok("fsck").err.endswith("0 problem(s)\n")
    assert three.ok("prune").out.startswith("removed 1 content of data/1/1, data/1/2")
    three.ok("checkout", "data/1/2")
    assert (three.root / "a.bin").read_bytes() == A2


def test_prune_outside_a_repository_fails(tmp_path: Path, e2e_env: dict[str, str]) -> None:
    one_line_error(run_ama("prune", cwd=tmp_path, env=e2e_env), 3)
