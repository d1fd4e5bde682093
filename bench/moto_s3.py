"""A local S3 endpoint for the push and clone rows: moto's server on 127.0.0.1.

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
import urllib.request
from pathlib import Path

BUCKET = "ama-bench"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def client_env(endpoint: str, empty_file: Path) -> dict[str, str]:
    """Fake keys and `endpoint` for every S3 client; `empty_file` stands in for ~/.aws/*."""
    return {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
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
