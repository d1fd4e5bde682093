"""Remotes for tests: a directory, moto in-process, moto over real HTTP, and a real S3 server.

``tests/conftest.py`` does ``from remote_fixtures import *``. Fixtures:

- ``aws_env``: fake credentials and region, no profile, no proxy, no instance
  metadata, short retries; applied to ``os.environ`` for one test.
- ``moto_server``: (session) an S3 endpoint on 127.0.0.1, as its URL.
- ``remote``: parametrized over ``REMOTE_KINDS`` (``local``, ``s3-inprocess``,
  ``s3-http``, and ``s3-real`` when a real server is configured); a fresh,
  empty ``Remote`` for each test (a fresh bucket for S3).
- ``remote_kind``: which of those the current test got.
- ``remote_url``: a function ``kind -> RemoteURL(url, env)`` for running the
  ``ama`` command in a subprocess against a fresh remote of that kind
  (``local``, ``s3-http`` or ``s3-real``; an in-process mock cannot serve
  another process).

``s3-real`` is a real, independently written S3 server (Ceph's radosgw in
``make test-s3-real``, started by ``scripts/ceph-rgw.sh``), named by
``AMA_TEST_S3_ENDPOINT`` (an ``http://127.0.0.1:PORT`` URL) with the keys
in ``AMA_TEST_S3_ACCESS_KEY`` and ``AMA_TEST_S3_SECRET_KEY``. Without
``AMA_TEST_S3_ENDPOINT`` there is no ``s3-real`` case.
  ``env`` holds only the variables that remote needs; merge it into the
  subprocess's environment: ``run_ama(..., env={**ama_env, **r.env})``.

Nothing here can reach beyond this machine: S3 traffic goes to moto, in the
process or on 127.0.0.1, or to the real server, which must be on 127.0.0.1;
every AWS variable that could point elsewhere is replaced or removed.
"""

from __future__ import annotations

import functools
import logging
import os
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest

from ama.remote.base import Remote

__all__ = [
    "FAKE_AWS_ENV",
    "REAL_S3_ENDPOINT",
    "REMOTE_KINDS",
    "RemoteURL",
    "aws_env",
    "moto_server",
    "new_bucket",
    "remote",
    "remote_kind",
    "remote_url",
    "s3_credentials",
]

REAL_S3_ENDPOINT = os.environ.get("AMA_TEST_S3_ENDPOINT", "")
if REAL_S3_ENDPOINT and urlsplit(REAL_S3_ENDPOINT).hostname != "127.0.0.1":
    raise RuntimeError(f"AMA_TEST_S3_ENDPOINT={REAL_S3_ENDPOINT!r}: tests only talk to 127.0.0.1")

REMOTE_KINDS = ["local", "s3-inprocess", "s3-http"] + (["s3-real"] if REAL_S3_ENDPOINT else [])

FAKE_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "AWS_EC2_METADATA_DISABLED": "true",
    "NO_PROXY": "127.0.0.1,localhost",
    # A test that hits a dead endpoint should fail in about a second.
    "AMA_S3_MAX_ATTEMPTS": "3",
    "AMA_S3_CONNECT_TIMEOUT": "2",
    "AMA_S3_READ_TIMEOUT": "10",
}

# Variables that could send a test's S3 traffic somewhere else.
_AWS_UNSET = [
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_S3",
    "AWS_CA_BUNDLE",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
]


@dataclass
class RemoteURL:
    """A remote a subprocess can use: its URL and the variables it needs.

    ``env`` is to be merged into the subprocess's environment, which must
    not carry any of ``_AWS_UNSET`` (a real profile, endpoint or proxy).
    """

    url: str
    env: dict[str, str]


def s3_credentials(endpoint: str | None) -> tuple[str, str]:
    """The access key and secret that ``endpoint`` (None: moto in-process) accepts."""
    if REAL_S3_ENDPOINT and endpoint == REAL_S3_ENDPOINT:
        return os.environ["AMA_TEST_S3_ACCESS_KEY"], os.environ["AMA_TEST_S3_SECRET_KEY"]
    return FAKE_AWS_ENV["AWS_ACCESS_KEY_ID"], FAKE_AWS_ENV["AWS_SECRET_ACCESS_KEY"]


def _real_s3_env() -> dict[str, str]:
    """FAKE_AWS_ENV with the real server's keys and endpoint (and no session token,
    which a real server would try to verify)."""
    key, secret = s3_credentials(REAL_S3_ENDPOINT)
    env = {k: v for k, v in FAKE_AWS_ENV.items() if k != "AWS_SESSION_TOKEN"}
    return {**env, "AWS_ACCESS_KEY_ID": key, "AWS_SECRET_ACCESS_KEY": secret, "AWS_ENDPOINT_URL_S3": REAL_S3_ENDPOINT}


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    for name in _AWS_UNSET:
        monkeypatch.delenv(name, raising=False)
    for name, value in FAKE_AWS_ENV.items():
        monkeypatch.setenv(name, value)
    return dict(FAKE_AWS_ENV)


# moto checks a write's condition and then writes, with other threads free
# to run in between, so two racing If-None-Match writes can both succeed,
# which S3 never allows. Handling one request at a time gives moto S3's
# atomic conditional writes; the racing tests then test our code, not moto.
_MOTO_LOCK = threading.RLock()


def _one_request_at_a_time(handler: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(handler)
    def serialized(*args: Any, **kwargs: Any) -> Any:
        with _MOTO_LOCK:
            return handler(*args, **kwargs)

    return serialized


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication
    from moto.server import ThreadedMotoServer

    # werkzeug logs every request at INFO; failures still show.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    original = DomainDispatcherApplication.__call__
    DomainDispatcherApplication.__call__ = _one_request_at_a_time(original)  # type: ignore[method-assign]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()
        DomainDispatcherApplication.__call__ = original  # type: ignore[method-assign]


def new_bucket(endpoint: str | None) -> str:
    """Create a bucket with a fresh name at ``endpoint`` (None: the in-process mock)."""
    name = f"ama-test-{uuid.uuid4().hex[:16]}"
    _admin_client(endpoint).create_bucket(Bucket=name)
    return name


@functools.cache
def _admin_client(endpoint: str | None) -> Any:
    # Kept for the session: making a client costs a tenth of a second, and
    # moto's in-process mock intercepts clients made before it started.
    import boto3

    key, secret = s3_credentials(endpoint)
    return boto3.client(
        "s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=key, aws_secret_access_key=secret
    )


@pytest.fixture(params=REMOTE_KINDS)
def remote_kind(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def remote(
    remote_kind: str, request: pytest.FixtureRequest, tmp_path: os.PathLike[str], aws_env: dict[str, str]
) -> Iterator[Remote]:
    if remote_kind == "local":
        from ama.remote.local import LocalRemote

        yield LocalRemote(os.path.join(tmp_path, "remote"))
        return

    from ama.remote.s3 import MIN_PART_SIZE, S3Remote

    # The smallest part S3 allows, so a 20 MiB file is a four-part upload
    # and a four-range download.
    small_parts = {"part_size": MIN_PART_SIZE, "multipart_threshold": MIN_PART_SIZE}
    if remote_kind in ("s3-http", "s3-real"):
        if remote_kind == "s3-real":
            endpoint = REAL_S3_ENDPOINT
            monkeypatch = request.getfixturevalue("monkeypatch")
            monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
            for name, value in _real_s3_env().items():
                monkeypatch.setenv(name, value)
        else:
            endpoint = request.getfixturevalue("moto_server")
        with S3Remote(f"s3://{new_bucket(endpoint)}/some/prefix", endpoint=endpoint, **small_parts) as r:
            yield r
        return

    from moto import mock_aws
    from moto.core.botocore_stubber import BotocoreStubber

    monkeypatch = request.getfixturevalue("monkeypatch")
    monkeypatch.setattr(BotocoreStubber, "__call__", _one_request_at_a_time(BotocoreStubber.__call__))
    with mock_aws():
        with S3Remote(f"s3://{new_bucket(None)}/some/prefix", **small_parts) as r:
            yield r


@pytest.fixture
def remote_url(request: pytest.FixtureRequest, tmp_path: os.PathLike[str]) -> Callable[[str], RemoteURL]:
    """``remote_url(kind)``, kind one of local, s3-http, s3-real: a fresh remote for a subprocess."""
    count = 0

    def make(kind: str = "local") -> RemoteURL:
        nonlocal count
        count += 1
        if kind == "local":
            return RemoteURL(os.path.join(tmp_path, f"remote-{count}"), {})
        if kind == "s3-http":
            endpoint = request.getfixturevalue("moto_server")
            env = {**FAKE_AWS_ENV, "AWS_ENDPOINT_URL_S3": endpoint}
            return RemoteURL(f"s3://{new_bucket(endpoint)}/prefix", env)
        if kind == "s3-real" and REAL_S3_ENDPOINT:
            return RemoteURL(f"s3://{new_bucket(REAL_S3_ENDPOINT)}/prefix", _real_s3_env())
        raise ValueError(f"remote_url: kind must be 'local', 's3-http' or (configured) 's3-real', not {kind!r}")

    return make
