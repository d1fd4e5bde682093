"""A local S3 endpoint for the push and clone rows: moto's server on 127.0.0.1,
or a real server already running there (`AMA_BENCH_S3_ENDPOINT`, e.g. Ceph's
radosgw from `scripts/ceph-rgw.sh`, with its keys in `AMA_BENCH_S3_ACCESS_KEY`
and `AMA_BENCH_S3_SECRET_KEY`; see bench/README.md).

Nothing leaves the machine: every client is given this endpoint and fake keys, and
the shared config and credential files are replaced by an empty file so a user's real
profile is never read.  moto keeps objects in a single Python process, so it is
the bottleneck for every client alike; the rows compare clients, not S3.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

BUCKET = "ama-bench"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def client_env(endpoint: str, empty_file: Path, keys: tuple[str, str] | None = None) -> dict[str, str]:
    """Keys (fake ones for moto) and `endpoint` for every S3 client; `empty_file` stands in for ~/.aws/*."""
    key, secret = keys or ("testing", "testing")
    token = {} if keys else {"AWS_SESSION_TOKEN": "testing"}  # a real server would try to verify it
    return {
        "AWS_ACCESS_KEY_ID": key,
        "AWS_SECRET_ACCESS_KEY": secret,
        **token,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ENDPOINT_URL_S3": endpoint,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": str(empty_file),
        "AWS_SHARED_CREDENTIALS_FILE": str(empty_file),
    }


class MotoServer:
    """moto's S3 server as a child process, started on first use."""

    name = "moto"
    keys = None

    def __init__(self, python: Path, log: Path):
        self.python = python
        self.log = log
        self.proc: subprocess.Popen | None = None
        self.endpoint = ""

    def start(self) -> str:
        if self.proc:
            return self.endpoint
        port = free_port()
        self.endpoint = f"http://127.0.0.1:{port}"
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(
                [str(self.python), "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"moto server exited; see {self.log}")
            try:
                urllib.request.urlopen(self.endpoint + "/moto-api/", timeout=2).close()
                return self.endpoint
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("moto server did not answer within 60 s")

    def reset(self) -> None:
        """Forget every bucket and object, then create the empty bench bucket."""
        self._request("POST", "/moto-api/reset")
        self._request("PUT", f"/{BUCKET}")

    def _request(self, method: str, path: str) -> None:
        req = urllib.request.Request(self.endpoint + path, method=method, data=b"")
        urllib.request.urlopen(req, timeout=30).close()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.proc = None


class ExternalS3:
    """A real S3 server already running on 127.0.0.1, named by AMA_BENCH_S3_ENDPOINT.

    Same interface as MotoServer; `reset` empties the bench bucket (a real
    server has no reset call), `stop` leaves the server to whoever started it.
    """

    name = "external"

    def __init__(self, endpoint: str, key: str, secret: str):
        if urllib.parse.urlsplit(endpoint).hostname != "127.0.0.1":
            raise RuntimeError(f"AMA_BENCH_S3_ENDPOINT={endpoint!r}: the bench only talks to 127.0.0.1")
        self.endpoint = endpoint
        self.keys = (key, secret)
        self._client = None

    @property
    def client(self):
        if self._client is None:
            import boto3

            self._client = boto3.client(
                "s3", endpoint_url=self.endpoint, region_name="us-east-1",
                aws_access_key_id=self.keys[0], aws_secret_access_key=self.keys[1],
            )
        return self._client

    def start(self) -> str:
        self.reset()
        return self.endpoint

    def reset(self) -> None:
        c = self.client
        try:
            c.create_bucket(Bucket=BUCKET)
        except (c.exceptions.BucketAlreadyOwnedByYou, c.exceptions.BucketAlreadyExists):
            pass
        for page in c.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
            keys = [{"Key": o["Key"]} for o in page.get("Contents", ())]
            if keys:
                c.delete_objects(Bucket=BUCKET, Delete={"Objects": keys, "Quiet": True})

    def count(self, prefix: str) -> tuple[int, int]:
        count = size = 0
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix):
            for o in page.get("Contents", ()):
                count += 1
                size += o["Size"]
        return count, size

    def stop(self) -> None:
        pass


def s3_server(python: Path, log: Path) -> MotoServer | ExternalS3:
    """The server of this run: the one AMA_BENCH_S3_ENDPOINT names, else moto's."""
    endpoint = os.environ.get("AMA_BENCH_S3_ENDPOINT")
    if endpoint:
        return ExternalS3(
            endpoint, os.environ["AMA_BENCH_S3_ACCESS_KEY"], os.environ["AMA_BENCH_S3_SECRET_KEY"]
        )
    return MotoServer(python, log)
