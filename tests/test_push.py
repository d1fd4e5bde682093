"""``ama push --remote``: copy versions to another remote, verified,
idempotent, resumable; never overwrite a version that differs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import one_line_error
from e2e import Work, make_env
from storage_helpers import A1, A3, B, commit_three_versions, remote_object

from ama.hashing import hash_bytes

pytest_plugins = ["fixtures_history"]


@pytest.fixture
def three(e2e_work: Work, tmp_path: Path) -> Work:
    commit_three_versions(e2e_work)
    e2e_work.ok("remote", "add", "backup", str(tmp_path / "backup"))
    return e2e_work


def log_of(w: Work) -> list[str]:
    return [line.split()[1] for line in w.lines("log", "--oneline")]


def test_push_copies_every_version_and_a_clone_reads_them_back(three: Work, tmp_path: Path) -> None:
    three.ok("alias", "set", "best")
    out = three.lines("push", "--remote", "backup")
    assert len(out) == 1 and out[0].startswith("data/1: copied 3 version(s), 10 object(s) (")
    assert three.ok("fsck", "--remote", "backup", "--full").out == ""
    assert three.lines("push", "--remote", "backup") == ["data/1: backup already has versions 1-3"]

    clone = Work(tmp_path / "c", three.env)
    clone.ok("init", "--remote", str(tmp_path / "backup"))
    clone.ok("checkout", "data/best/1")
    assert (clone.root / "a.bin").read_bytes() == A1
    clone.ok("checkout", "data/1")
    assert log_of(clone) == ["data/1/3", "data/1/2", "data/1/1"]
    assert (clone.root / "a.bin").read_bytes() == A3


def test_push_of_a_version_copies_the_versions_before_it(three: Work, tmp_path: Path) -> None:
    three.ok("push", "--remote", "backup", "data/1/2")
    backup = tmp_path / "backup" / "assets" / "data" / "1"
    assert sorted(p.name for p in (backup / "versions").iterdir()) == ["1.json", "2.json"]
    assert json.loads((backup / "HEAD").read_text())["version"] == 2
    assert not remote_object(tmp_path / "backup", A3).exists()
    three.ok("push", "--remote", "backup")
    assert json.loads((backup / "HEAD").read_text())["version"] == 3


def test_objects_not_in_the_local_store_come_from_the_source(three: Work, tmp_path: Path) -> None:
    three.ok("prune")
    three.ok("push", "--remote", "backup")
    assert three.ok("fsck", "--remote", "backup", "--full").out == ""


def test_a_killed_push_is_finished_by_the_next(three: Work, tmp_path: Path) -> None:
    for point in ("push-copied-object:3", "push-copied-version:1"):
        r = three("push", "--remote", "backup", "-j", "1", env={**three.env, "AMA_FAILPOINT": point})
        assert r.rc == -9
        # Whatever is there is whole: a version record only with its objects.
        assert three.ok("fsck", "--remote", "backup", "--full").out == ""
    three.ok("push", "--remote", "backup")
    assert three.ok("fsck", "--remote", "backup", "--full").out == ""
    assert three.lines("push", "--remote", "backup") == ["data/1: backup already has versions 1-3"]


def test_a_version_that_differs_at_the_destination_is_not_overwritten(three: Work, tmp_path: Path) -> None:
    three.ok("push", "--remote", "backup", "data/1/2")
    taken = tmp_path / "backup" / "assets" / "data" / "1" / "versions" / "3.json"
    taken.write_text(json.dumps({"version": 3, "status": "reserved", "txid": "someone else"}))
    line = one_line_error(three("push", "--remote", "backup"), 8)
    assert line.startswith("ama push: version data/1/3 differs on ")
    assert "(reserved there, committed " in line and line.endswith("nothing of it was overwritten")
    assert json.loads(taken.read_text())["txid"] == "someone else"


def test_push_to_the_same_remote_or_an_unknown_one_is_refused(three: Work) -> None:
    assert "are the same remote" in one_line_error(three("push", "--remote", "origin"), 2)
    assert "no remote named 'nowhere'" in one_line_error(three("push", "--remote", "nowhere"), 2)
    assert "asset data/7 does not exist" in one_line_error(three("push", "--remote", "backup", "data/7"), 11)


def test_a_history_moves_from_the_embedded_store_to_s3_and_clones_back(three: Work, remote_url, tmp_path) -> None:
    s3 = remote_url("s3-http")
    aws = {k: v for k, v in s3.env.items() if k.startswith(("AWS_", "AMA_S3_")) or k == "NO_PROXY"}
    endpoint = aws["AWS_ENDPOINT_URL_S3"]
    w = Work(three.root, {**three.env, **aws})
    w.ok("remote", "add", "s3", s3.url)
    w.ok("config", "remote.s3.endpoint", endpoint)
    assert w.lines("push", "--remote", "s3")[0].startswith("data/1: copied 3 version(s), 10 object(s)")
    assert w.ok("fsck", "--remote", "s3", "--full").out == ""
    assert w.lines("push", "--remote", "s3") == ["data/1: s3 already has versions 1-3"]

    back = Work(tmp_path / "back", make_env(tmp_path, **aws))
    back.ok("clone", "data/1", ".", "--remote", s3.url, "--endpoint", endpoint)
    assert log_of(back) == ["data/1/3", "data/1/2", "data/1/1"]
    assert (back.root / "a.bin").read_bytes() == A3 and (back.root / "b.bin").read_bytes() == B
    back.ok("checkout", "data/1/1")
    assert hash_bytes((back.root / "a.bin").read_bytes()) == hash_bytes(A1)
