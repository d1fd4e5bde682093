"""The Python API (ama.open/read/ls/get/versions/resolve, ama.Repository)
and the fsspec filesystem, in-process, against a published version."""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from conftest import write
from test_access import BIG, Published, cache_ids, corrupt_remote_object, publish

import ama
from ama.errors import IntegrityError, IsADirectory, NotFound, PathNotFound, VersionNotFound
from ama.hashing import hash_bytes


def use(p: Published, monkeypatch: pytest.MonkeyPatch) -> Published:
    """Run this process as the published remote's reader would: its
    environment, a directory outside any repository."""
    for key, value in p.env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(p.outside)
    return p


@pytest.fixture(params=["local", "s3-http"])
def api(request, tmp_path: Path, remote_url, monkeypatch: pytest.MonkeyPatch) -> Published:
    r = remote_url(request.param)
    return use(publish(tmp_path, r.url, r.env), monkeypatch)


@pytest.fixture
def local_api(tmp_path: Path, remote_url, monkeypatch: pytest.MonkeyPatch) -> Published:
    r = remote_url("local")
    return use(publish(tmp_path, r.url, r.env), monkeypatch)


def test_read_open_ls_get_resolve_versions(api: Published):
    url = api.url
    assert ama.read("data/1", "a.txt", remote=url) == b"alpha\n"
    with ama.open("data/1/1", "d/e/big.bin", remote=url) as f:
        assert f.read(10) == BIG[:10]
        assert f.read() == BIG[10:]
        assert f.raw.verified
    with ama.open("data/1", "a.txt", remote=url, mode="r") as f:
        assert f.readline() == "alpha\n"
    names = [(e.path, e.kind, e.size) for e in ama.ls("data/1", remote=url)]
    assert names == [("a.txt", "file", 6), ("d", "directory", len(BIG) + 16), ("weird name\tx", "file", 4)]
    files = ama.ls("data/1", "d", recursive=True, remote=url)
    assert [e.path for e in files] == ["d/b.sh", "d/e/big.bin", "d/e/small.txt"]
    assert files[0].executable and files[1].id == hash_bytes(BIG)
    assert ama.get("data/1", "d/e", "out", remote=url) == "out"
    assert (api.outside / "out" / "big.bin").read_bytes() == BIG
    commit = ama.resolve("data/1", remote=url)
    assert ama.resolve("data/1/1", remote=url) == commit and len(commit) == 64
    (info,) = ama.versions("data/1", remote=url)
    assert (info.name, info.version, info.commit, info.message) == ("data/1/1", 1, commit, "first")
    # A full commit id names the version too.
    assert ama.read(commit, "a.txt", remote=url) == b"alpha\n"


def test_errors_are_specific(local_api: Published):
    url = local_api.url
    with pytest.raises(VersionNotFound, match="asset data/9 does not exist"):
        ama.read("data/9", "a.txt", remote=url)
    with pytest.raises(PathNotFound, match="nope: not in version data/1/1"):
        ama.open("data/1", "nope", remote=url)
    with pytest.raises(FileNotFoundError):
        ama.read("data/1", "d/nope", remote=url)
    with pytest.raises(IsADirectory):
        ama.read("data/1", "d", remote=url)
    with pytest.raises(NotFound):
        ama.versions("data/9", remote=url)


def test_seek_verifies_the_whole_object_first(local_api: Published):
    url = local_api.url
    with ama.open("data/1", "d/e/big.bin", remote=url) as f:
        f.seek(len(BIG) - 100)
        assert f.read() == BIG[-100:]
        f.seek(5)
        assert f.read(3) == BIG[5:8]
        assert f.raw.verified and f.seekable()
    # The verified copy now serves from the local cache.
    assert hash_bytes(BIG) in cache_ids(local_api)


def test_corrupt_remote_object_is_refused_by_the_api(api: Published):
    url = api.url
    corrupt_remote_object(api, hash_bytes(BIG))
    with pytest.raises(IntegrityError, match="is corrupt"):
        ama.read("data/1", "d/e/big.bin", remote=url)
    with ama.open("data/1", "d/e/big.bin", remote=url) as f:
        got = b""
        with pytest.raises(IntegrityError):
            while chunk := f.read(1 << 16):
                got += chunk
        assert len(got) < len(BIG)
        with pytest.raises(IntegrityError):
            f.read()
    with ama.open("data/1", "d/e/big.bin", remote=url) as f, pytest.raises(IntegrityError):
        f.seek(100)
    with pytest.raises(IntegrityError):
        ama.get("data/1", "d/e/big.bin", "x.bin", remote=url)
    assert not (api.outside / "x.bin").exists()
    assert hash_bytes(BIG) not in cache_ids(api), "nothing unverified enters the local store"


def test_many_threads_read_at_once(local_api: Published):
    url = local_api.url
    want = {"a.txt": b"alpha\n", "d/e/big.bin": BIG, "d/e/small.txt": b"small\n"}

    def one(i: int) -> bool:
        path = list(want)[i % 3]
        if i % 2:
            with ama.open("data/1", path, remote=url) as f:
                if i % 5 == 0:
                    f.seek(1)
                    f.seek(0)
                return f.read() == want[path]
        return ama.read("data/1/1", path, remote=url) == want[path]

    with ThreadPoolExecutor(8) as pool:
        assert all(pool.map(one, range(48)))


def test_import_ama_is_lazy():
    code = "import sys, ama; print(sorted(m for m in ('ama.api', 'ama.access', 'blake3') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
    assert callable(ama.open) and ama.Repository.__doc__


def test_repository_status_add_commit(local_api: Published, tmp_path: Path):
    repo = ama.Repository(tmp_path / "data")
    assert repo.status().clean
    write(tmp_path / "data" / "new.txt", "new\n")
    status = repo.status()
    assert status.untracked == ["new.txt"] and not status.clean
    assert repo.add("new.txt") == ["new.txt"]
    assert repo.status().staged == [("A", "new.txt")]
    commit = repo.commit("second")
    assert commit == ama.resolve("data/1/2", remote=local_api.url)
    assert repo.status().clean
    assert repo.commit("nothing") is None
    assert ama.read("data/1/2", "new.txt", remote=local_api.url) == b"new\n"


# -- fsspec --------------------------------------------------------------------


def test_fsspec_reads_through_ama_urls(api: Published):
    fsspec = pytest.importorskip("fsspec")
    fs = fsspec.filesystem("ama", remote=api.url)
    assert fs.ls("ama://", detail=False) == ["data"]
    assert fs.ls("ama://data/1", detail=False) == ["data/1/1"]
    assert fs.ls("ama://data/1/1/d", detail=False) == ["data/1/1/d/b.sh", "data/1/1/d/e"]
    assert fs.cat("ama://data/1/1/a.txt") == b"alpha\n"
    assert fs.cat_file("ama://data/1/1/d/e/big.bin", 10, 20) == BIG[10:20]
    assert fs.info("ama://data/1/1/d/e/big.bin")["size"] == len(BIG)
    assert fs.find("ama://data/1/1/d") == ["data/1/1/d/b.sh", "data/1/1/d/e/big.bin", "data/1/1/d/e/small.txt"]
    assert not fs.exists("ama://data/1/1/nope") and fs.isdir("ama://data/1/1/d")
    with fsspec.open("ama://data/1/1/a.txt", "r", remote=api.url) as f:
        assert f.read() == "alpha\n"
    with fsspec.open("ama://data/1/1/d/e/big.bin", "rb", remote=api.url) as f:
        assert hashlib.sha256(f.read()).digest() == hashlib.sha256(BIG).digest()
    fs.get("ama://data/1/1/d/e/small.txt", str(api.outside / "small.txt"))
    assert (api.outside / "small.txt").read_text() == "small\n"
    with pytest.raises(FileNotFoundError):
        fs.cat("ama://data/1/1/nope")
    with pytest.raises(io.UnsupportedOperation):
        fs.open("ama://data/1/1/a.txt", "wb")


def test_fsspec_refuses_a_corrupt_object(local_api: Published):
    fsspec = pytest.importorskip("fsspec")
    corrupt_remote_object(local_api, hash_bytes(BIG))
    fs = fsspec.filesystem("ama", remote=local_api.url)
    with pytest.raises(IntegrityError):
        fs.cat("ama://data/1/1/d/e/big.bin")
    with pytest.raises(IntegrityError), fsspec.open("ama://data/1/1/d/e/big.bin", remote=local_api.url) as f:
        f.read()
    assert not os.path.exists(local_api.outside / "big.bin")
