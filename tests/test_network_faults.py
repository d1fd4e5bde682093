"""``ama commit`` to S3 when the network or the server fails.

moto's server (started for the session) sits behind ``FaultProxy`` on
127.0.0.1, which forwards requests until told to answer 500/503, drop the
connection, stall past the read timeout, lose the reply of a write that
landed, or stop listening as a stopped server does. A failed commit retries,
then says so in one line (exit 7) and keeps ``PENDING``; the next run, with
the network back, finishes it with the commit id an undisturbed run gives.

Most cases drive ``ama.cli.main`` in this process (it spares a boto3 import
per command); the stopped server is also run end to end with the command.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import ok, one_line_error, run_ama
from remote_fixtures import new_bucket
from txn_helpers import (
    DOWN,
    DROP,
    ERROR_500,
    ERROR_503,
    LOST_REPLY,
    STALL,
    BucketView,
    FaultProxy,
    InProcessAma,
    assert_consistent,
    read_pending,
    txn_env,
    write_files,
)

CLS = "data"
FILES = {f"part-{i:02d}.bin": f"content {i}\n".encode() * (i + 1) for i in range(16)}

pytestmark = pytest.mark.slow


def is_object_put(method: str, path: str) -> bool:
    return method == "PUT" and "/objects/" in path


def is_record_put(kind: str):
    return lambda method, path: method == "PUT" and f"/{kind}" in path


@pytest.fixture
def proxy(moto_server: str) -> Iterator[FaultProxy]:
    p = FaultProxy(moto_server)
    yield p
    p.close()


@pytest.fixture(scope="module")
def expected_id(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The commit id of an undisturbed commit of FILES (on a directory remote)."""
    tmp = tmp_path_factory.mktemp("reference")
    env = txn_env(tmp / "home")
    work = tmp / "work"
    work.mkdir()
    ok(run_ama("init", "--class", CLS, "--remote", tmp / "remote", cwd=work, env=env))
    write_files(work, FILES)
    ok(run_ama("add", ".", cwd=work, env=env))
    ok(run_ama("commit", "-m", "many files", cwd=work, env=env))
    return (work / ".ama/refs/assets/data/1").read_text().strip()


class Setup:
    def __init__(self, tmp_path: Path, proxy: FaultProxy, moto_server: str, ama):
        self.url = f"s3://{new_bucket(moto_server)}/faults"
        self.view = BucketView(self.url, moto_server)
        self.work = tmp_path / "work"
        self.work.mkdir()
        self.ama = ama
        ok(ama("init", "--class", CLS, "--remote", self.url, "--endpoint", proxy.url, cwd=self.work))
        write_files(self.work, FILES)
        ok(ama("add", ".", cwd=self.work))

    def commit(self):
        return self.ama("commit", "-m", "many files", cwd=self.work)

    def assert_failed_and_kept(self, result, *words: str) -> None:
        line = one_line_error(result, 7)
        assert any(w in line for w in words), line
        pending = read_pending(self.work)
        assert pending is not None and pending["version"] == 1, pending
        records = self.view.versions(CLS, 1)
        assert [r["status"] for r in records.values()] != ["committed"] or self.view.head(CLS, 1) is None
        assert_consistent(self.work, self.view)
        status = ok(self.ama("status", cwd=self.work))
        assert "interrupted" in status.out

    def assert_finished(self, result, expected: str) -> None:
        ok(result)
        assert f"[{CLS}/1 version 1] {expected[:12]}" in result.out, result.out
        assert read_pending(self.work) is None
        assert self.view.head(CLS, 1) == {"version": 1, "commit": expected}
        assert self.view.versions(CLS, 1)[1]["status"] == "committed"
        assert len(self.view.objects()) == len(FILES) + 2  # contents, one tree, the commit
        assert_consistent(self.work, self.view)


@pytest.fixture
def in_process(tmp_path, monkeypatch, capsys, aws_env, proxy, moto_server) -> Setup:
    # Generous timeouts: a busy machine must not fail a request the proxy passes.
    ama = InProcessAma(monkeypatch, capsys, tmp_path / "home",
                       AMA_S3_MAX_ATTEMPTS="2", AMA_S3_CONNECT_TIMEOUT="5", AMA_S3_READ_TIMEOUT="10")
    return Setup(tmp_path, proxy, moto_server, ama)


def retried(proxy: FaultProxy) -> bool:
    """Some request was sent again after failing."""
    return len(proxy.faulted) > len(set(proxy.faulted))


@pytest.mark.parametrize(
    ("mode", "words"),
    [
        (ERROR_503, ["SlowDown", "503"]),
        (DROP, ["connection dropped", "cannot reach"]),
    ],
)
def test_failing_upload_retries_then_stops_with_one_line_and_resumes(in_process, proxy, expected_id, mode, words):
    proxy.arm(mode, after=5, match=is_object_put)
    in_process.assert_failed_and_kept(in_process.commit(), *words)
    assert retried(proxy)
    proxy.heal()
    in_process.assert_finished(in_process.commit(), expected_id)


def test_stalled_server_times_out_then_resumes(in_process, proxy, expected_id, monkeypatch):
    monkeypatch.setenv("AMA_S3_READ_TIMEOUT", "1")
    proxy.arm(STALL, after=3, match=is_object_put)
    in_process.assert_failed_and_kept(in_process.commit(), "no answer within 1s")
    assert retried(proxy)
    monkeypatch.setenv("AMA_S3_READ_TIMEOUT", "10")
    proxy.heal()
    in_process.assert_finished(in_process.commit(), expected_id)


def test_failure_publishing_the_version_record_keeps_the_reservation(in_process, proxy, expected_id):
    # The first PUT of a version record reserves it; the second commits it.
    proxy.arm(ERROR_500, after=1, match=is_record_put("versions/"))
    in_process.assert_failed_and_kept(in_process.commit(), "InternalError")
    assert in_process.view.versions(CLS, 1)[1]["status"] == "reserved"
    assert len(in_process.view.objects()) == len(FILES) + 2, "everything was uploaded before the record"
    proxy.heal()
    in_process.assert_finished(in_process.commit(), expected_id)


@pytest.mark.parametrize("record", ["versions/", "HEAD"])
def test_lost_reply_of_a_write_that_landed_is_not_an_error(in_process, proxy, expected_id, record):
    proxy.arm(LOST_REPLY, match=is_record_put(record), times=1)
    in_process.assert_finished(in_process.commit(), expected_id)
    assert proxy.faulted, "the fault was never triggered"


def test_server_stopped_mid_push_then_back(tmp_path, proxy, moto_server, remote_url, expected_id):
    env = txn_env(tmp_path / "home", remote_url("s3-http").env,
                  AMA_S3_MAX_ATTEMPTS="2", AMA_S3_CONNECT_TIMEOUT="1")
    setup = Setup(tmp_path, proxy, moto_server, lambda *args, cwd: run_ama(*args, cwd=cwd, env=env))
    proxy.arm(DOWN, after=6, match=is_object_put)
    setup.assert_failed_and_kept(setup.commit(), "cannot reach", "connection")
    uploaded = len(setup.view.objects())
    assert 0 < uploaded < len(FILES), "the server should have stopped mid-push"
    proxy.heal()
    setup.assert_finished(setup.commit(), expected_id)
