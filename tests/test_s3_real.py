"""What a real, independently written S3 server does that moto does not.

Runs only when ``AMA_TEST_S3_ENDPOINT`` names a server (``make test-s3-real``
starts Ceph's radosgw for it with ``scripts/ceph-rgw.sh``); the backend and
protocol cases of tests/test_remote_backends.py and tests/test_protocol.py
run against it as their ``s3-real`` case. The quirks pinned here are those
of the Debian 12 radosgw (16.2); see docs/remote-layout.md.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import ok, run_ama
from remote_fixtures import REAL_S3_ENDPOINT, RemoteURL
from txn_helpers import txn_env, view_of, write_files

from ama.config import Config
from ama.remote.probe import CONDITIONAL, probe
from ama.remote.s3 import S3Remote

pytestmark = pytest.mark.skipif(not REAL_S3_ENDPOINT, reason="no real S3 server (AMA_TEST_S3_ENDPOINT)")


@pytest.fixture
def real(remote_url) -> RemoteURL:
    return remote_url("s3-real")


@pytest.fixture
def s3(remote: S3Remote, remote_kind: str) -> Iterator[S3Remote]:
    if remote_kind != "s3-real":
        pytest.skip("real server only")
    yield remote


@pytest.mark.parametrize("remote_kind", ["s3-real"], indirect=True)
def test_s3_real_probe_finds_conditional_writes_with_unquoted_if_match(s3: S3Remote) -> None:
    found = probe(s3)
    assert found.writes == CONDITIONAL
    # radosgw before 2025 compares If-Match without the ETag's quotes.
    assert found.if_match_unquoted
    assert list(s3.list("")) == []


@pytest.mark.parametrize("remote_kind", ["s3-real"], indirect=True)
def test_s3_real_empty_object_round_trips(s3: S3Remote, tmp_path: Path) -> None:
    from ama.hashing import hash_bytes

    src = tmp_path / "empty"
    src.write_bytes(b"")
    digest = hash_bytes(b"")
    s3.put_object(digest, str(src))
    s3.get_object(digest, str(tmp_path / "back"))
    assert (tmp_path / "back").read_bytes() == b""


def test_s3_real_commit_clone_and_config_remembers_the_quoting(real: RemoteURL, tmp_path: Path) -> None:
    env = txn_env(tmp_path / "home", real.env)
    work = tmp_path / "work"
    work.mkdir()
    ok(run_ama("init", "--class", "data", "--remote", real.url, cwd=work, env=env))
    config = Config(str(work / ".ama/config"))
    assert (config.get("remote.origin.writes"), config.get("remote.origin.ifmatch")) == (CONDITIONAL, "unquoted")
    files = {"a.txt": "one\n", "empty": "", "big.bin": b"\x01" * (9 << 20)}
    write_files(work, files)
    ok(run_ama("add", ".", cwd=work, env=env))
    ok(run_ama("commit", "-m", "first", cwd=work, env=env))
    write_files(work, {"a.txt": "two\n"})
    ok(run_ama("add", "a.txt", cwd=work, env=env))
    ok(run_ama("commit", "-m", "second", cwd=work, env=env))
    assert view_of(real.url, real.env).head("data", 1)["version"] == 2
    ok(run_ama("clone", "--remote", real.url, "data/1/1", tmp_path / "clone", cwd=tmp_path, env=env))
    assert (tmp_path / "clone/empty").read_bytes() == b""
    assert (tmp_path / "clone/big.bin").read_bytes() == b"\x01" * (9 << 20)
    assert (tmp_path / "clone/a.txt").read_text() == "one\n"
