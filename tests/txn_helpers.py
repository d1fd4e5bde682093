"""Shared helpers for the commit-transaction tests.

- ``txn_env``: the environment an ``ama`` subprocess runs with in these
  tests: isolated (conftest), with a fixed author and date so commit ids are
  reproducible, plus the fake AWS settings of an S3 remote if there is one.
- ``DirView`` / ``BucketView``: read a remote as it is stored, walking the
  directory or listing the bucket directly (not through ``ama.remote``), so
  the checks below do not trust the code they check.
- ``invariant1_problems``, ``remote_hash_problems``, ``store_problems``,
  ``ama_dir_problems``: the invariants of docs/design.md as lists of violations.
- ``FaultProxy``: an HTTP proxy on 127.0.0.1 in front of moto's server that
  forwards requests until told to fail them (500/503, dropped connections,
  stalls, or refusing connections altogether, as a stopped server does).
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import socketserver
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import blake3
from conftest import Result, isolated_env

from ama.objects import Commit, object_type, parse_tree

FIXED_IDENTITY = {
    "AMA_AUTHOR_NAME": "Txn Tester",
    "AMA_AUTHOR_EMAIL": "txn@example.com",
    "AMA_AUTHOR_DATE": "1700000000 +0000",
}

# What an S3 remote's subprocess needs from ``remote_fixtures.RemoteURL.env``.
_REMOTE_VARS = ("AWS_", "AMA_S3_", "NO_PROXY")


def txn_env(home: os.PathLike | str, remote_env: dict[str, str] | None = None, **extra: str) -> dict[str, str]:
    """An isolated environment with a fixed identity and the remote's settings."""
    Path(home).mkdir(parents=True, exist_ok=True)
    env = isolated_env(home, **FIXED_IDENTITY)
    for name, value in (remote_env or {}).items():
        if name.startswith(_REMOTE_VARS):
            env[name] = value
    env.update(extra)
    return env


def write_files(root: Path, files: dict[str, bytes | str]) -> None:
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data.encode() if isinstance(data, str) else data)


def b3(data: bytes) -> str:
    return blake3.blake3(data).hexdigest()


# -- reading a remote as stored ------------------------------------------------


class RemoteView:
    """The keys of a remote and their bytes, read from storage directly."""

    def keys(self, prefix: str = "") -> list[str]:
        raise NotImplementedError

    def read(self, key: str) -> bytes | None:
        raise NotImplementedError

    def snapshot(self) -> dict[str, bytes | None]:
        return {key: self.read(key) for key in self.keys()}

    def json(self, key: str) -> dict | None:
        data = self.read(key)
        return None if data is None else json.loads(data)

    def versions(self, cls: str, seq: int) -> dict[int, dict]:
        """Every version record of an asset, by number."""
        prefix = f"assets/{cls}/{seq}/versions/"
        records = {}
        for key in self.keys(prefix):
            name = key[len(prefix) :]
            assert name.endswith(".json") and name[:-5].isdigit(), f"stray key {key}"
            records[int(name[:-5])] = self.json(key)
        return records

    def head(self, cls: str, seq: int) -> dict | None:
        """The asset's HEAD record, without its format field (which must be 1)."""
        record = self.json(f"assets/{cls}/{seq}/HEAD")
        if record is not None:
            assert record.pop("format", 1) == 1, record
        return record

    def seqs(self, cls: str) -> list[int]:
        return sorted(
            int(k.split("/")[2]) for k in self.keys(f"assets/{cls}/") if k.endswith("/asset.json")
        )

    def objects(self) -> dict[str, bytes]:
        return {k[8:10] + k[11:]: self.read(k) for k in self.keys("objects/")}


class DirView(RemoteView):
    """A directory remote. Temporary and lock files are not keys."""

    def __init__(self, root: os.PathLike | str):
        self.root = Path(root)

    def keys(self, prefix: str = "") -> list[str]:
        found = []
        for dirpath, _dirs, files in os.walk(self.root):
            for name in files:
                if name.startswith(".") or name.endswith(".lock"):
                    continue
                key = os.path.relpath(os.path.join(dirpath, name), self.root)
                if key.startswith(prefix):
                    found.append(key)
        return sorted(found)

    def stray_files(self) -> list[str]:
        """Temporary or lock files left behind (not keys, but worth knowing)."""
        return sorted(
            os.path.relpath(os.path.join(d, n), self.root)
            for d, _, files in os.walk(self.root)
            for n in files
            if n.startswith(".") or n.endswith(".lock")
        )

    def read(self, key: str) -> bytes | None:
        try:
            return (self.root / key).read_bytes()
        except FileNotFoundError:
            return None


class BucketView(RemoteView):
    """An S3 remote, listed and read with a plain boto3 client."""

    def __init__(self, url: str, endpoint: str | None = None):
        import boto3
        from remote_fixtures import s3_credentials

        bucket, _, prefix = url[len("s3://") :].partition("/")
        self.bucket = bucket
        self.base = prefix.strip("/") + "/" if prefix.strip("/") else ""
        key, secret = s3_credentials(endpoint)
        self.client = boto3.client(
            "s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=key, aws_secret_access_key=secret
        )

    def keys(self, prefix: str = "") -> list[str]:
        found = []
        for page in self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self.base + prefix
        ):
            found.extend(obj["Key"][len(self.base) :] for obj in page.get("Contents", ()))
        return sorted(found)

    def read(self, key: str) -> bytes | None:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self.base + key)["Body"].read()
        except self.client.exceptions.NoSuchKey:
            return None


def view_of(url: str, env: dict[str, str] | None = None) -> RemoteView:
    if url.startswith("s3://"):
        return BucketView(url, (env or {}).get("AWS_ENDPOINT_URL_S3"))
    return DirView(url)


# -- running ama in this process ---------------------------------------------------


class InProcessAma:
    """``ama(*args, cwd=...)`` through ``ama.cli.main`` in the test process, for
    remotes only this process can reach (moto's ``mock_aws``), or to spare a
    boto3 import per command. The environment comes from ``txn_env``."""

    def __init__(self, monkeypatch, capsys, home: os.PathLike | str, **extra: str):
        for name, value in txn_env(home, **extra).items():
            if name.startswith("AMA_") or name == "HOME":
                monkeypatch.setenv(name, value)
        monkeypatch.delenv("AMA_FAILPOINT", raising=False)
        self.capsys = capsys

    def __call__(self, *args: str | os.PathLike, cwd: os.PathLike | str) -> Result:
        from ama import cli

        self.capsys.readouterr()
        here = os.getcwd()
        try:
            rc = cli.main(["-C", str(cwd), *map(str, args)])
        finally:
            os.chdir(here)
        out, err = self.capsys.readouterr()
        return Result(rc, out, err)


# -- invariants -------------------------------------------------------------------


def remote_hash_problems(view: RemoteView) -> list[str]:
    """Invariant 2 on a remote: every object's bytes hash to its name."""
    return [f"remote object {d} hashes to {b3(data)}" for d, data in view.objects().items() if b3(data) != d]


def invariant1_problems(view: RemoteView) -> list[str]:
    """Invariant 1: a version record naming a commit implies the commit, its
    trees and every content it names are on the remote, and hash to their
    names. Also: a HEAD names a committed version with that commit."""
    problems = []
    objects = view.objects()

    def get(digest: str, what: str) -> bytes | None:
        data = objects.get(digest)
        if data is None:
            problems.append(f"{what}: object {digest} missing")
        elif b3(data) != digest:
            problems.append(f"{what}: object {digest} hashes to {b3(data)}")
            return None
        return data

    def walk_tree(tree_id: str, where: str) -> None:
        data = get(tree_id, where)
        if data is None:
            return
        if object_type(data) != "tree":
            problems.append(f"{where}: {tree_id} is not a tree")
            return
        for entry in parse_tree(data, tree_id):
            if entry.kind == "tree":
                walk_tree(entry.digest, f"{where}/{entry.name}")
            else:
                get(entry.digest, f"{where}/{entry.name}")

    for key in view.keys("assets/"):
        parts = key.split("/")
        if len(parts) == 5 and parts[3] == "versions":
            record = view.json(key)
            if record.get("status") == "committed" and not record.get("commit"):
                problems.append(f"{key}: committed without a commit id")
            if not record.get("commit"):
                continue
            data = get(record["commit"], key)
            if data is None:
                continue
            commit = Commit.parse(data, record["commit"])
            if commit.asset != f"{parts[1]}/{parts[2]}" or f"{commit.version}.json" != parts[4]:
                problems.append(f"{key}: names commit of {commit.asset} version {commit.version}")
            if record.get("tree") and record["tree"] != commit.tree:
                problems.append(f"{key}: tree {record['tree']} but the commit has {commit.tree}")
            walk_tree(commit.tree, key)
        elif len(parts) == 4 and parts[3] == "HEAD":
            head = view.json(key)
            record = view.json(f"assets/{parts[1]}/{parts[2]}/versions/{head['version']}.json")
            if not record or record.get("status") != "committed" or record.get("commit") != head["commit"]:
                problems.append(f"{key}: points at {head} but that version record is {record}")
    return problems


def store_problems(root: Path) -> list[str]:
    """Invariant 2 locally: every object in ``.ama/objects`` hashes to its name."""
    problems = []
    objects = root / ".ama" / "objects"
    for sub in objects.iterdir():
        if len(sub.name) != 2 or not sub.is_dir():
            continue
        for obj in sub.iterdir():
            if obj.name.startswith((".tmp-", ".ama-tmp")):
                continue
            if b3(obj.read_bytes()) != sub.name + obj.name:
                problems.append(f"local object {sub.name + obj.name} does not hash to its name")
    return problems


def ama_dir_problems(root: Path) -> list[str]:
    """Invariant 3: every file in ``.ama/`` is readable and well formed."""
    from ama.config import Config
    from ama.index import parse
    from ama.refs import list_refs, read_head
    from ama.repo import Repo

    repo = Repo(str(root))
    problems = []

    def check(what: str, fn: Callable[[], object]) -> None:
        try:
            fn()
        except Exception as e:  # noqa: BLE001 - every failure is a finding
            problems.append(f"{what}: {type(e).__name__}: {e}")

    index = root / ".ama" / "index"
    if index.exists():
        check("index", lambda: parse(index.read_bytes(), str(index)))
    check("HEAD", lambda: read_head(repo))
    check("refs", lambda: list_refs(repo))
    check("config", lambda: Config(repo.path("config")).get("core.linkmode"))
    pending = root / ".ama" / "PENDING"
    if pending.exists():

        def pending_ok() -> None:
            record = json.loads(pending.read_text())
            for name in ("txid", "class", "tree", "message", "remote"):
                assert name in record, f"PENDING lacks {name}"

        check("PENDING", pending_ok)
    for log in (root / ".ama" / "logs").rglob("*"):
        if log.is_file():
            for line in log.read_text().splitlines():
                old_new = line.split(" ", 2)[:2]
                if len(old_new) != 2 or not all(len(x) == 64 for x in old_new):
                    problems.append(f"log {log}: bad line {line!r}")
    return problems


def assert_consistent(root: Path, view: RemoteView) -> None:
    problems = invariant1_problems(view) + remote_hash_problems(view) + store_problems(root) + ama_dir_problems(root)
    assert not problems, "\n".join(problems)


# -- a proxy that fails requests on demand -----------------------------------------


PASS = "pass"
ERROR_500 = "500"
ERROR_503 = "503"
DROP = "drop"  # read the request, close the connection without an answer
LOST_REPLY = "lost-reply"  # forward the request, then drop the answer
STALL = "stall"  # read the request, answer nothing until the client gives up
DOWN = "down"  # refuse connections, as a stopped server does

_HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade", "expect"}

_ERROR_BODY = {
    ERROR_500: (500, "InternalError", "We encountered an internal error. Please try again."),
    ERROR_503: (503, "SlowDown", "Please reduce your request rate."),
}


class FaultProxy:
    """A reverse proxy for an HTTP endpoint on 127.0.0.1 that can fail.

    ``arm(mode, after=N, match=...)``: forward the next N requests that
    ``match(method, path)`` (all requests by default), then apply ``mode`` to
    every request until ``heal()``. ``requests`` counts what was forwarded.
    ``rewrite(name, value)``, if set, is applied to every forwarded request
    header: it returns the value to send, or None to drop the header (to
    play a server that ignores or misreads some header).
    """

    def __init__(self, upstream: str):
        host, _, port = upstream.removeprefix("http://").rstrip("/").partition(":")
        self.upstream = (host, int(port))
        self.mode = PASS
        self.armed: tuple[str, int, Callable[[str, str], bool], int | None] | None = None
        self.lock = threading.Lock()
        self.forwarded: list[tuple[str, str]] = []
        self.faulted: list[tuple[str, str]] = []
        self.stall_release = threading.Event()
        self.rewrite: Callable[[str, str], str | None] | None = None
        self._server: socketserver.ThreadingTCPServer | None = None
        self._stopping: threading.Thread | None = None
        self.port = 0
        self._start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _start(self) -> None:
        proxy = self

        class Handler(_ProxyHandler):
            owner = proxy

        socketserver.ThreadingTCPServer.allow_reuse_address = True
        server = socketserver.ThreadingTCPServer(("127.0.0.1", self.port), Handler)
        server.daemon_threads = True
        self.port = server.server_address[1]
        self._server = server
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def arm(self, mode: str, after: int = 0, match: Callable[[str, str], bool] | None = None,
            times: int | None = None) -> None:
        """Pass ``after`` matching requests, then fault: the next ``times``
        matching requests, or (``times`` None) every request until ``heal``."""
        with self.lock:
            self.armed = (mode, after, match or (lambda method, path: True), times)
            self.mode = PASS
        if mode == DOWN and after == 0:
            self._go_down()

    def heal(self) -> None:
        with self.lock:
            self.armed = None
            self.mode = PASS
        self.stall_release.set()
        if self._stopping is not None:
            self._stopping.join()
            self._stopping = None
        if self._server is None:
            self._start()
        self.stall_release = threading.Event()

    def _go_down(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()

    def decide(self, method: str, path: str) -> str:
        """The fate of one request (called by the handler)."""
        with self.lock:
            if self.mode != PASS:
                self.faulted.append((method, path))
                return self.mode
            if self.armed is not None:
                mode, after, match, times = self.armed
                if match(method, path):
                    if after > 0:
                        self.armed = (mode, after - 1, match, times)
                    elif times is not None:
                        self.armed = (mode, 0, match, times - 1) if times > 1 else None
                        self.faulted.append((method, path))
                        return mode
                    else:
                        self.mode = mode
                        self.faulted.append((method, path))
                        if mode == DOWN:
                            self._stopping = threading.Thread(target=self._go_down, daemon=True)
                            self._stopping.start()
                        return mode
            self.forwarded.append((method, path))
            return PASS

    def close(self) -> None:
        self.stall_release.set()
        self._go_down()


class _ProxyHandler(BaseHTTPRequestHandler):
    owner: FaultProxy
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        pass

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            raw = []
            while True:
                line = self.rfile.readline()
                raw.append(line)
                size = int(line.split(b";")[0].strip(), 16)
                if size == 0:
                    while True:
                        trailer = self.rfile.readline()
                        raw.append(trailer)
                        if trailer in (b"\r\n", b"\n", b""):
                            return b"".join(raw)
                raw.append(self.rfile.read(size + 2))
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _handle(self) -> None:
        body = self._read_body()
        fate = self.owner.decide(self.command, self.path)
        if fate in (DROP, DOWN):
            self._drop()
            return
        if fate == STALL:
            self.owner.stall_release.wait(30)
            self._drop()
            return
        if fate in _ERROR_BODY:
            status, code, message = _ERROR_BODY[fate]
            payload = (
                f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
                f"<Message>{message}</Message><RequestId>fault</RequestId></Error>"
            ).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)
            return
        conn = http.client.HTTPConnection(*self.owner.upstream, timeout=30)
        try:
            conn.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
            rewrite = self.owner.rewrite
            for name, value in self.headers.items():
                if name.lower() not in _HOP_BY_HOP or name.lower() == "transfer-encoding":
                    sent = rewrite(name, value) if rewrite else value
                    if sent is not None:
                        conn.putheader(name, sent)
            conn.endheaders()
            if body:
                conn.send(body)
            resp = conn.getresponse()
            data = resp.read()
        finally:
            conn.close()
        if fate == LOST_REPLY:
            self._drop()
            return
        self.send_response(resp.status, resp.reason)
        for name, value in resp.getheaders():
            if name.lower() not in _HOP_BY_HOP and name.lower() != "content-length":
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _drop(self) -> None:
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = _handle


def wait_for(predicate: Callable[[], bool], timeout: float = 20.0, what: str = "condition") -> None:
    """Poll ``predicate`` until true (not a timing assertion: a deadlock guard)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def read_pending(root: Path) -> dict | None:
    pending = root / ".ama" / "PENDING"
    return json.loads(pending.read_text()) if pending.exists() else None
