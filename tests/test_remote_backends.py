"""One behaviour, every backend: a directory, moto in-process, moto over HTTP.

The ``remote`` fixture (tests/remote_fixtures.py) runs each test against
all three. A test that pins one backend says which in its name (local_, s3_).
"""

from __future__ import annotations

import fcntl
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from remote_fixtures import *  # noqa: F403 - the fixtures, also when no conftest.py provides them
from remote_fixtures import REMOTE_KINDS, RemoteURL, new_bucket

from ama.errors import (
    AlreadyExists,
    BadPath,
    IntegrityError,
    LockHeld,
    NotFound,
    PreconditionFailed,
    RemoteError,
    UsageError,
)
from ama.hashing import hash_bytes
from ama.remote import open_remote
from ama.remote.base import Remote, object_key
from ama.remote.local import LocalRemote
from ama.remote.s3 import S3Remote
from ama.remote.transfer import fetch_objects, push_objects

MiB = 1 << 20


def write(path: Path, data: bytes) -> tuple[str, str]:
    path.write_bytes(data)
    return hash_bytes(data), str(path)


def tamper(remote: Remote, key: str, data: bytes) -> None:
    """Overwrite a stored key behind the backend's back."""
    if isinstance(remote, LocalRemote):
        path = remote.path_of(key)
        os.chmod(path, 0o644)
        Path(path).write_bytes(data)
    else:
        assert isinstance(remote, S3Remote)
        remote.client.put_object(Bucket=remote.bucket, Key=remote.s3_key(key), Body=data)


def one_line(err: BaseException) -> str:
    text = str(err)
    assert text and "\n" not in text, text
    return text


# -- records ---------------------------------------------------------------


def test_get_of_absent_key_is_not_found(remote: Remote) -> None:
    with pytest.raises(NotFound, match="assets/x/1/HEAD"):
        remote.get("assets/x/1/HEAD")
    assert not remote.exists("assets/x/1/HEAD")


def test_created_key_reads_back_with_its_token(remote: Remote) -> None:
    token = remote.create("assets/x/1/asset.json", b'{"seq": 1}')
    assert remote.exists("assets/x/1/asset.json")
    assert remote.get("assets/x/1/asset.json") == b'{"seq": 1}'
    assert remote.get_versioned("assets/x/1/asset.json") == (b'{"seq": 1}', token)


def test_second_create_is_already_exists_and_keeps_the_first(remote: Remote) -> None:
    remote.create("aliases/x/best", b"1")
    with pytest.raises(AlreadyExists) as err:
        remote.create("aliases/x/best", b"2")
    assert "aliases/x/best" in one_line(err.value)
    assert remote.get("aliases/x/best") == b"1"


def race_to_create(remote: Remote, key: str, racers: int) -> dict[int, str]:
    """``racers`` threads create ``key`` at the same instant; who won, who lost."""
    barrier = threading.Barrier(racers)
    outcome: dict[int, str] = {}

    def race(i: int) -> None:
        barrier.wait()
        try:
            remote.create(key, f"writer {i}".encode())
            outcome[i] = "won"
        except AlreadyExists:
            outcome[i] = "lost"

    threads = [threading.Thread(target=race, args=(i,)) for i in range(racers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcome


def test_racing_creates_have_exactly_one_winner(remote: Remote) -> None:
    for round_ in range(3):
        key = f"assets/x/1/versions/{round_}.json"
        outcome = race_to_create(remote, key, racers=8)
        winners = [i for i, result in outcome.items() if result == "won"]
        assert len(winners) == 1 and len(outcome) == 8, outcome
        assert remote.get(key) == f"writer {winners[0]}".encode()


def test_replace_with_current_token_swaps_and_returns_a_new_token(remote: Remote) -> None:
    token = remote.create("assets/x/1/HEAD", b"1")
    new = remote.replace("assets/x/1/HEAD", b"2", token)
    assert remote.get_versioned("assets/x/1/HEAD") == (b"2", new)
    assert remote.replace("assets/x/1/HEAD", b"3", new)
    assert remote.get("assets/x/1/HEAD") == b"3"


def test_replace_with_stale_token_is_precondition_failed(remote: Remote) -> None:
    stale = remote.create("assets/x/1/HEAD", b"1")
    remote.replace("assets/x/1/HEAD", b"2", stale)
    with pytest.raises(PreconditionFailed) as err:
        remote.replace("assets/x/1/HEAD", b"3", stale)
    assert "assets/x/1/HEAD" in one_line(err.value)
    assert remote.get("assets/x/1/HEAD") == b"2"


def test_replace_of_absent_key_is_not_found(remote: Remote) -> None:
    token = remote.create("assets/x/1/HEAD", b"1")
    with pytest.raises(NotFound):
        remote.replace("assets/x/2/HEAD", b"1", token)
    assert not remote.exists("assets/x/2/HEAD")


def test_list_matches_keys_by_string_prefix_recursively(remote: Remote) -> None:
    keys = [
        "assets/x/1/asset.json",
        "assets/x/1/versions/1.json",
        "assets/x/12/asset.json",
        "assets/y/1/asset.json",
        "aliases/x/best",
    ]
    for key in keys:
        remote.create(key, b"-")
    assert sorted(remote.list("assets/x/1/")) == keys[:2]
    assert sorted(remote.list("assets/x/1")) == keys[:3]
    assert sorted(remote.list("assets/")) == keys[:4]
    assert sorted(remote.list("")) == sorted(keys)
    assert list(remote.list("nothing/")) == []


def test_list_does_not_show_locks_or_temp_files_of_a_directory_remote(remote: Remote) -> None:
    token = remote.create("assets/x/1/HEAD", b"1")
    remote.replace("assets/x/1/HEAD", b"2", token)
    assert list(remote.list("assets/")) == ["assets/x/1/HEAD"]


def test_delete_removes_the_key_and_absent_keys_are_fine(remote: Remote) -> None:
    remote.create("assets/x/1/versions/1.json", b"reserved")
    remote.delete("assets/x/1/versions/1.json")
    assert not remote.exists("assets/x/1/versions/1.json")
    remote.delete("assets/x/1/versions/1.json")
    remote.create("assets/x/1/versions/1.json", b"again")


# -- objects ---------------------------------------------------------------


def test_small_object_round_trips(remote: Remote, tmp_path: Path) -> None:
    digest, path = write(tmp_path / "a", b"hello\n")
    assert remote.has_objects([digest]) == set()
    assert remote.put_object(digest, path) is True
    assert remote.has_objects([digest, "0" * 64]) == {digest}
    remote.get_object(digest, str(tmp_path / "back"))
    assert (tmp_path / "back").read_bytes() == b"hello\n"


def test_empty_object_round_trips(remote: Remote, tmp_path: Path) -> None:
    digest, path = write(tmp_path / "empty", b"")
    assert remote.put_object(digest, path) is True
    remote.get_object(digest, str(tmp_path / "back"))
    assert (tmp_path / "back").read_bytes() == b""


def test_large_object_round_trips_in_parts(remote: Remote, tmp_path: Path) -> None:
    data = os.urandom(20 * MiB + 12345)
    digest, path = write(tmp_path / "big", data)
    sent: list[int] = []
    assert remote.put_object(digest, path, sent.append) is True
    assert sum(sent) == len(data)
    if isinstance(remote, S3Remote):
        head = remote.client.head_object(Bucket=remote.bucket, Key=remote.s3_key(object_key(digest)))
        assert head["ETag"].endswith('-5"'), "expected a 5-part multipart upload"
    got: list[int] = []
    remote.get_object(digest, str(tmp_path / "back"), got.append)
    assert sum(got) == len(data)
    assert (tmp_path / "back").read_bytes() == data


def test_present_object_is_not_sent_again(remote: Remote, tmp_path: Path) -> None:
    digest, path = write(tmp_path / "a", b"same bytes")
    assert remote.put_object(digest, path) is True
    assert remote.put_object(digest, path) is False


@pytest.mark.parametrize("size", [100, 12 * MiB], ids=["small", "multipart"])
def test_changed_file_is_refused_and_nothing_is_published(
    remote: Remote, tmp_path: Path, size: int
) -> None:
    digest = hash_bytes(b"what was added")
    path = tmp_path / "changed"
    path.write_bytes(os.urandom(size))
    with pytest.raises(IntegrityError) as err:
        remote.put_object(digest, str(path))
    assert str(path) in one_line(err.value)
    assert remote.has_objects([digest]) == set()
    assert list(remote.list("objects/")) == []
    if isinstance(remote, S3Remote):
        uploads = remote.client.list_multipart_uploads(Bucket=remote.bucket)
        assert not uploads.get("Uploads"), "the multipart upload was left open"


def test_missing_source_file_is_bad_path(remote: Remote, tmp_path: Path) -> None:
    with pytest.raises(BadPath, match="gone"):
        remote.put_object("0" * 64, str(tmp_path / "gone"))


@pytest.mark.parametrize("size", [100, 12 * MiB], ids=["small", "ranged"])
def test_tampered_object_fails_verification_and_dest_is_not_created(
    remote: Remote, tmp_path: Path, size: int
) -> None:
    data = os.urandom(size)
    digest, path = write(tmp_path / "a", data)
    remote.put_object(digest, path)
    tamper(remote, object_key(digest), data[:-1] + bytes([data[-1] ^ 1]))
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(IntegrityError) as err:
        remote.get_object(digest, str(out / "dest"))
    assert digest[:12] in one_line(err.value)
    assert os.listdir(out) == [], "dest or a temp file was left behind"


def test_get_of_absent_object_is_not_found(remote: Remote, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(NotFound):
        remote.get_object("ab" * 32, str(out / "dest"))
    assert os.listdir(out) == []


def test_has_objects_answers_for_many_digests(remote: Remote, tmp_path: Path) -> None:
    # More than one LIST-able batch, with present and absent digests interleaved.
    stored = []
    for i in range(60):
        digest, path = write(tmp_path / f"f{i}", f"file {i}".encode())
        remote.put_object(digest, path)
        stored.append(digest)
    absent = [hash_bytes(f"absent {i}".encode()) for i in range(200)]
    assert remote.has_objects(stored + absent) == set(stored)


@pytest.mark.parametrize("page", [1000, 3], ids=["listing", "listing-then-heads"])
def test_s3_has_objects_is_right_whichever_way_it_asks(
    remote: Remote, tmp_path: Path, page: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not isinstance(remote, S3Remote):
        pytest.skip("S3 only: how existence is asked")
    # Short pages make the remote look much larger than the question, which
    # must send has_objects from LIST pages over to HEAD requests.
    monkeypatch.setattr("ama.remote.s3._LIST_PAGE", page)
    stored = []
    for i in range(50):
        digest, path = write(tmp_path / f"f{i}", f"file {i}".encode())
        remote.put_object(digest, path)
        stored.append(digest)
    requests = {"ListObjectsV2": 0, "HeadObject": 0}

    def count(event_name: str, **kwargs: object) -> None:
        requests[event_name.rsplit(".", 1)[1]] += 1

    remote.client.meta.events.register("before-call.s3.ListObjectsV2", count)
    remote.client.meta.events.register("before-call.s3.HeadObject", count)
    asked = stored[::2] + [hash_bytes(f"absent {i}".encode()) for i in range(50)]
    assert remote.has_objects(asked) == set(stored[::2])
    if page == 1000:
        assert requests == {"ListObjectsV2": 1, "HeadObject": 0}
    else:
        assert requests["ListObjectsV2"] >= 1 and requests["HeadObject"] > 0


# -- transfer --------------------------------------------------------------


def test_push_reports_every_changed_file_and_still_uploads_the_rest(remote: Remote, tmp_path: Path) -> None:
    items = []
    for i in range(40):
        digest, path = write(tmp_path / f"good{i}", f"good {i}".encode() * 100)
        items.append((digest, path, os.path.getsize(path)))
    present_digest, present_path = write(tmp_path / "present", b"already there")
    remote.put_object(present_digest, present_path)
    items.append((present_digest, present_path, 13))
    bad = []
    for i in range(3):
        path = tmp_path / f"bad{i}"
        path.write_bytes(b"edited after add")
        digest = hash_bytes(f"as added {i}".encode())
        items.append((digest, str(path), 16))
        bad.append((digest, str(path)))
    # The same content at two paths, the first of them edited since.
    dup_digest, dup_path = write(tmp_path / "dup-ok", b"duplicated content")
    (tmp_path / "dup-edited").write_bytes(b"no longer duplicated")
    items.append((dup_digest, str(tmp_path / "dup-edited"), 18))
    items.append((dup_digest, dup_path, 18))

    progress: list[int] = []
    result = push_objects(remote, items, jobs=4, progress=progress.append)

    assert sorted(result.bad) == sorted([*bad, (dup_digest, str(tmp_path / "dup-edited"))])
    assert sorted(result.uploaded) == sorted([d for d, _, _ in items[:40]] + [dup_digest])
    assert result.skipped == [present_digest]
    assert result.bytes_sent == sum(size for _, _, size in items[:40]) + 18
    assert sum(progress) == sum(size for _, _, size in items)
    assert remote.has_objects(d for d, _, _ in items) == {d for d, _, _ in items} - {d for d, _ in bad}


def test_fetch_downloads_every_object_and_fails_on_a_missing_one(remote: Remote, tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    items = []
    for i in range(20):
        digest, path = write(src / f"f{i}", os.urandom(1000 + i))
        items.append((digest, path, 1000 + i))
    assert not push_objects(remote, items).bad
    out = tmp_path / "out"
    out.mkdir()
    fetch_objects(remote, [(d, str(out / f"{i}")) for i, (d, _, _) in enumerate(items)], jobs=4)
    for i, (_, path, _) in enumerate(items):
        assert (out / f"{i}").read_bytes() == Path(path).read_bytes()
    with pytest.raises(NotFound):
        fetch_objects(remote, [(items[0][0], str(out / "x")), ("cd" * 32, str(out / "y"))], jobs=2)
    assert not (out / "y").exists()


# -- opening remotes -------------------------------------------------------


def test_open_remote_picks_the_backend_from_the_url(tmp_path: Path, aws_env: dict[str, str]) -> None:
    assert isinstance(open_remote(str(tmp_path / "r")), LocalRemote)
    assert open_remote(f"file://{tmp_path}/r%20x").url == f"{tmp_path}/r x"
    with open_remote("s3://bucket/some/prefix", endpoint="http://127.0.0.1:9") as r:
        assert isinstance(r, S3Remote)
        assert (r.bucket, r.prefix) == ("bucket", "some/prefix")
    for bad in ("gs://bucket/x", "file://otherhost/x", ""):
        with pytest.raises(UsageError):
            open_remote(bad)


@pytest.mark.parametrize("kind", [k for k in REMOTE_KINDS if k != "s3-inprocess"])
def test_remote_url_serves_a_subprocess(remote_url: Callable[[str], RemoteURL], kind: str) -> None:
    r = remote_url(kind)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "AMA_"))}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[1])
    code = (
        "import sys; from ama.remote import open_remote;"
        "r = open_remote(sys.argv[1]); r.create('aliases/x/best', b'7');"
        "print(r.get('aliases/x/best').decode(), list(r.list('')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, r.url], env={**env, **r.env}, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["7", "['aliases/x/best']"]


def test_s3_missing_bucket_is_one_line(moto_server: str, aws_env: dict[str, str]) -> None:
    with S3Remote("s3://no-such-bucket-here/p", endpoint=moto_server) as r:
        with pytest.raises(RemoteError) as err:
            r.get("assets/x/1/HEAD")
    assert one_line(err.value) == (
        f"remote s3://no-such-bucket-here/p: bucket no-such-bucket-here does not exist at {moto_server}"
    )


def test_s3_knobs_in_the_environment_are_checked(monkeypatch: pytest.MonkeyPatch, aws_env: dict[str, str]) -> None:
    monkeypatch.setenv("AMA_S3_MAX_ATTEMPTS", "zero")
    with pytest.raises(UsageError, match="AMA_S3_MAX_ATTEMPTS='zero'"):
        S3Remote("s3://bucket/p", endpoint="http://127.0.0.1:9")
    monkeypatch.setenv("AMA_S3_MAX_ATTEMPTS", "2")
    with S3Remote("s3://bucket/p", endpoint="http://127.0.0.1:9") as r:
        assert r.max_attempts == 2


def test_importing_the_remote_package_does_not_import_boto3() -> None:
    code = (
        "import sys, ama.remote, ama.remote.s3, ama.remote.local, ama.remote.transfer;"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('boto3', 'botocore')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# -- directory remote ------------------------------------------------------


def test_local_object_is_a_read_only_copy_not_a_link(tmp_path: Path) -> None:
    remote = LocalRemote(str(tmp_path / "remote"))
    for name, size in (("small", 1000), ("large", 9 * MiB)):
        digest, path = write(tmp_path / name, os.urandom(size))
        remote.put_object(digest, path)
        stored = os.stat(remote.path_of(object_key(digest)))
        assert stored.st_ino != os.stat(path).st_ino
        assert stored.st_nlink == 1
        assert stored.st_mode & 0o777 == 0o444


def test_local_create_without_hard_links_is_still_exclusive(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_links(src: str, dst: str) -> None:
        raise OSError(1, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    remote = LocalRemote(str(tmp_path / "remote"))
    remote.create("aliases/x/best", b"1")
    with pytest.raises(AlreadyExists):
        remote.create("aliases/x/best", b"2")
    digest, path = write(tmp_path / "a", b"content")
    assert remote.put_object(digest, path) is True
    assert remote.put_object(digest, path) is False
    assert remote.get("aliases/x/best") == b"1"


def test_local_held_lock_is_reported_with_its_file(tmp_path: Path) -> None:
    remote = LocalRemote(str(tmp_path / "remote"), lock_timeout=0.2)
    token = remote.create("assets/x/1/HEAD", b"1")
    lock = Path(remote.path_of("assets/x/1/HEAD") + ".lock")
    # Held by a live process (this one, through another open file).
    fd = os.open(lock, os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        with pytest.raises(LockHeld) as err:
            remote.replace("assets/x/1/HEAD", b"2", token)
    finally:
        os.close(fd)
    assert str(lock) in one_line(err.value)
    assert f"pid {os.getpid()}" in str(err.value)
    remote.replace("assets/x/1/HEAD", b"2", token)


# -- S3 over HTTP: failures ------------------------------------------------


class FaultInjector:
    """Answers the first ``count`` matching requests itself, with ``status``."""

    def __init__(self, remote: S3Remote, event: str, status: int, count: int, code: str = "ServiceUnavailable"):
        self.left = count
        self.status = status
        self.code = code
        self.seen = 0
        remote.client.meta.events.register_first(f"before-send.s3.{event}", self)

    def __call__(self, request: object, **kwargs: object) -> object:
        from botocore.awsrequest import AWSResponse

        self.seen += 1
        if self.left == 0:
            return None
        self.left -= 1
        body = f"<Error><Code>{self.code}</Code><Message>injected</Message></Error>".encode()
        return AWSResponse(getattr(request, "url", ""), self.status, {}, _Raw(body))


class _Raw:
    def __init__(self, body: bytes):
        self.body = body

    def stream(self, **kwargs: object) -> object:
        yield self.body


@pytest.fixture
def http_remote(moto_server: str, aws_env: dict[str, str]) -> Iterator[S3Remote]:
    r = S3Remote(f"s3://{new_bucket(moto_server)}/p", endpoint=moto_server, max_attempts=4)
    yield r
    r.close()


def test_s3_transient_errors_are_retried_until_success(http_remote: S3Remote, tmp_path: Path) -> None:
    fault = FaultInjector(http_remote, "PutObject", 503, count=3)
    digest, path = write(tmp_path / "a", b"retried")
    assert http_remote.put_object(digest, path) is True
    assert fault.seen == 4
    FaultInjector(http_remote, "GetObject", 500, count=2)
    http_remote.get_object(digest, str(tmp_path / "back"))
    assert (tmp_path / "back").read_bytes() == b"retried"


def test_s3_persistent_errors_become_one_line_after_all_attempts(http_remote: S3Remote) -> None:
    fault = FaultInjector(http_remote, "GetObject", 503, count=100)
    with pytest.raises(RemoteError) as err:
        http_remote.get("assets/x/1/HEAD")
    message = one_line(err.value)
    assert "after 4 attempts" in message and "503" in message and http_remote.url in message
    assert fault.seen == 4


def test_s3_conditional_write_conflict_is_retried(http_remote: S3Remote) -> None:
    FaultInjector(http_remote, "PutObject", 409, count=2, code="ConditionalRequestConflict")
    assert http_remote.create("assets/x/1/asset.json", b"{}")
    assert http_remote.get("assets/x/1/asset.json") == b"{}"


def test_s3_create_whose_response_was_lost_still_succeeds(http_remote: S3Remote) -> None:
    # The write lands, its response is lost, botocore retries, and the retry
    # fails its own If-None-Match. The remote must see that the key holds
    # our bytes and report success, not AlreadyExists.
    session = http_remote.client._endpoint.http_session
    lost = []

    def land_then_fail(request: object, **kwargs: object) -> object:
        from botocore.awsrequest import AWSResponse

        if lost:
            return None
        session.send(request)
        lost.append(True)
        return AWSResponse(getattr(request, "url", ""), 500, {}, _Raw(b"<Error><Code>InternalError</Code></Error>"))

    http_remote.client.meta.events.register_first("before-send.s3.PutObject", land_then_fail)
    token = http_remote.create("assets/x/1/versions/1.json", b"reserved by me")
    assert lost
    assert http_remote.get_versioned("assets/x/1/versions/1.json") == (b"reserved by me", token)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_s3_unreachable_endpoint_is_one_line_within_bounded_time(aws_env: dict[str, str]) -> None:
    endpoint = f"http://127.0.0.1:{_closed_port()}"
    start = time.monotonic()
    with S3Remote("s3://bucket/p", endpoint=endpoint, max_attempts=3, connect_timeout=1) as r:
        with pytest.raises(RemoteError) as err:
            r.get("assets/x/1/HEAD")
    assert time.monotonic() - start < 5
    assert one_line(err.value) == (
        f"remote s3://bucket/p: cannot reach endpoint {endpoint} (connection refused) after 3 attempts"
    )


def test_s3_silent_endpoint_times_out_with_one_line(aws_env: dict[str, str]) -> None:
    # A socket that listens but never answers: the kernel accepts the
    # connection, the request goes out, no response ever comes back.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        endpoint = f"http://127.0.0.1:{silent.getsockname()[1]}"
        start = time.monotonic()
        with S3Remote("s3://bucket/p", endpoint=endpoint, max_attempts=2, read_timeout=0.5) as r:
            with pytest.raises(RemoteError) as err:
                r.exists("assets/x/1/HEAD")
        assert time.monotonic() - start < 5
    assert "no answer within 0.5s" in one_line(err.value)


def test_s3_server_stopping_mid_push_is_a_remote_error(aws_env: dict[str, str], tmp_path: Path) -> None:
    from moto.server import ThreadedMotoServer
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    items = []
    for i in range(10):
        digest, path = write(tmp_path / f"f{i}", f"file {i}".encode())
        items.append((digest, path, 6))
    with S3Remote(f"s3://{new_bucket(endpoint)}/p", endpoint=endpoint, max_attempts=3) as r:
        assert len(push_objects(r, items[:5]).uploaded) == 5
        server.stop()
        start = time.monotonic()
        with pytest.raises(RemoteError) as err:
            push_objects(r, items)
        assert time.monotonic() - start < 10
    assert f"cannot reach endpoint {endpoint}" in one_line(err.value)
