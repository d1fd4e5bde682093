"""ama ls / get / cat: a version's files read from a fresh directory, with
no work tree, against a directory remote and S3 over HTTP (moto)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import ok, one_line_error, run_ama
from e2e import Work, make_env

from ama.hashing import hash_bytes

BIG = bytes(range(256)) * 40_000  # 10 MB: more than one S3 part, many chunks


@dataclass
class Published:
    """data/1/1 on a remote, and a fresh directory (no repository) to read it from."""

    url: str
    env: dict[str, str]
    outside: Path
    home: Path

    def __call__(self, *args: str, **kw):
        kw.setdefault("env", self.env)
        return run_ama(*args, "--remote", self.url, cwd=kw.pop("cwd", self.outside), **kw)

    def ok(self, *args: str, **kw):
        return ok(self(*args, **kw))


def publish(tmp_path: Path, url: str, extra_env: dict[str, str]) -> Published:
    home = tmp_path / "home"
    home.mkdir()
    env = {**make_env(home), **extra_env}
    w = Work(tmp_path / "data", env)
    w.ok("init", "--remote", url)
    w.write("a.txt", "alpha\n")
    w.write("d/b.sh", "#!/bin/sh\n")
    os.chmod(w.root / "d" / "b.sh", 0o755)
    w.write("d/e/big.bin", BIG)
    w.write("d/e/small.txt", "small\n")
    w.write("weird name\tx", "tab\n")
    w.commit("first", ".")
    outside = tmp_path / "outside"
    outside.mkdir()
    return Published(url, env, outside, home)


@pytest.fixture(params=["local", "s3-http"])
def published(request, tmp_path: Path, remote_url) -> Published:
    r = remote_url(request.param)
    return publish(tmp_path, r.url, r.env)


@pytest.fixture
def local_published(tmp_path: Path, remote_url) -> Published:
    r = remote_url("local")
    return publish(tmp_path, r.url, r.env)


def corrupt_remote_object(p: Published, digest: str) -> None:
    """Replace the remote's copy of ``digest`` with other bytes of the same length."""
    key = f"objects/{digest[:2]}/{digest[2:]}"
    if p.url.startswith("s3://"):
        from remote_fixtures import _admin_client

        bucket, _, prefix = p.url[len("s3://") :].partition("/")
        client = _admin_client(p.env["AWS_ENDPOINT_URL_S3"])
        full = f"{prefix}/{key}" if prefix else key
        data = bytearray(client.get_object(Bucket=bucket, Key=full)["Body"].read())
        data[len(data) // 2] ^= 0xFF
        client.put_object(Bucket=bucket, Key=full, Body=bytes(data))
        return
    path = Path(p.url) / key
    os.chmod(path, 0o644)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def cache_ids(p: Published) -> set[str]:
    root = p.home / "cache" / "objects"
    if not root.exists():
        return set()
    return {d.name + f.name for d in root.iterdir() for f in d.iterdir() if not f.name.startswith(".")}


# -- ls ------------------------------------------------------------------------


def test_ls_lists_a_version_from_a_fresh_directory(published: Published):
    p = published
    assert p.ok("ls", "data/1").out == 'a.txt\nd/\n"weird name\\tx"\n'
    assert p.ok("ls", "data/1/1", "d").out == "b.sh\ne/\n"
    assert p.ok("ls", "data/1", "d", "-r").out == "b.sh\ne/big.bin\ne/small.txt\n"
    assert p.ok("ls", "data/1", "-r", "-z").out == "a.txt\0d/b.sh\0d/e/big.bin\0d/e/small.txt\0weird name\tx\0"
    long = p.ok("ls", "data/1", "d", "--long").out.splitlines()
    assert long[0] == f"100755 file {hash_bytes(b'#!/bin/sh' + bytes([10]))} 10\tb.sh"
    assert long[1].startswith("040000 tree ") and long[1].endswith(f" {len(BIG) + 6}\te")
    # A file lists itself, by the path asked for.
    assert p.ok("ls", "data/1", "d/e/small.txt").out == "d/e/small.txt\n"
    assert not (p.outside / ".ama").exists()


def test_ls_fetches_only_the_trees_on_the_way(local_published: Published):
    p = local_published
    p.ok("ls", "data/1", "d")
    first = cache_ids(p)
    assert len(first) == 3  # the commit, the root tree and d's tree; not d/e's
    p.ok("ls", "data/1", "d/e")
    assert len(cache_ids(p) - first) == 1
    assert hash_bytes(BIG) not in cache_ids(p), "contents are not cached by ls"


def test_ls_errors_are_one_line(local_published: Published):
    p = local_published
    assert "asset data/7 does not exist" in one_line_error(p("ls", "data/7"), 11)
    assert "version data/1/9 does not exist" in one_line_error(p("ls", "data/1/9"), 11)
    assert "nope: not in version data/1/1" in one_line_error(p("ls", "data/1", "nope"), 11)
    assert "not in version" in one_line_error(p("ls", "data/1", "a.txt/x"), 11)
    assert "'..'" in one_line_error(p("ls", "data/1", "d/../.."), 4)
    assert "outside a repository" in one_line_error(p("ls", "HEAD"), 2)


# -- cat -----------------------------------------------------------------------


def test_cat_streams_exact_bytes(published: Published):
    p = published
    assert p.ok("cat", "data/1", "a.txt").out == "alpha\n"
    r = p("cat", "data/1/1", "d/e/big.bin", binary=True)
    assert r.rc == 0 and r.out == BIG
    assert hash_bytes(BIG) not in cache_ids(p), "cat streams without storing"


def test_cat_refuses_a_directory_and_a_missing_path(local_published: Published):
    p = local_published
    assert "d: is a directory in version data/1/1" in one_line_error(p("cat", "data/1", "d"), 4)
    assert "/: is a directory" in one_line_error(p("cat", "data/1", ""), 4)
    assert "d/zz: not in version data/1/1" in one_line_error(p("cat", "data/1", "d/zz"), 11)


# -- get -----------------------------------------------------------------------


def test_get_writes_a_file_and_a_directory(published: Published):
    p = published
    p.ok("get", "data/1", "d/e/big.bin")
    assert (p.outside / "big.bin").read_bytes() == BIG
    p.ok("get", "data/1", "d", "-o", "copy")
    assert (p.outside / "copy" / "e" / "big.bin").read_bytes() == BIG
    assert (p.outside / "copy" / "b.sh").read_text() == "#!/bin/sh\n"
    assert os.stat(p.outside / "copy" / "b.sh").st_mode & 0o111
    assert not os.stat(p.outside / "copy" / "e" / "small.txt").st_mode & 0o111
    p.ok("get", "data/1", "/")
    assert sorted(os.listdir(p.outside / "data-1-1")) == ["a.txt", "d", "weird name\tx"]
    assert sorted(os.listdir(p.outside)) == ["big.bin", "copy", "data-1-1"], "no temporary names left"


def test_get_into_an_existing_directory_and_over_an_existing_file(local_published: Published):
    p = local_published
    (p.outside / "into").mkdir()
    p.ok("get", "data/1", "a.txt", "-o", "into")
    assert (p.outside / "into" / "a.txt").read_text() == "alpha\n"
    (p.outside / "a.txt").write_text("mine\n")
    assert "a.txt: already exists; use --force" in one_line_error(p("get", "data/1", "a.txt"), 4)
    assert (p.outside / "a.txt").read_text() == "mine\n"
    p.ok("get", "data/1", "a.txt", "--force")
    assert (p.outside / "a.txt").read_text() == "alpha\n"
    (p.outside / "d").mkdir()
    (p.outside / "d" / "d").mkdir()
    assert "already exists" in one_line_error(p("get", "data/1", "d", "-o", "d"), 4)


# -- a damaged remote object ---------------------------------------------------


def test_corrupt_remote_content_is_refused_by_cat_and_get(published: Published):
    p = published
    corrupt_remote_object(p, hash_bytes(BIG))
    r = p("cat", "data/1", "d/e/big.bin", binary=True)
    assert r.rc == 10 and b"is corrupt" in r.err and r.err.count(b"\n") == 1
    assert len(r.out) < len(BIG), "the last bytes are withheld"
    assert "is corrupt" in one_line_error(p("get", "data/1", "d/e/big.bin"), 10)
    assert "is corrupt" in one_line_error(p("get", "data/1", "d", "-o", "dd"), 10)
    assert os.listdir(p.outside) == [], "nothing written, no temporary left"
    assert hash_bytes(BIG) not in cache_ids(p)
    # Other files of the version are still served.
    assert p.ok("cat", "data/1", "d/e/small.txt").out == "small\n"


def test_corrupt_remote_tree_is_refused(local_published: Published):
    p = local_published
    p.ok("ls", "data/1")
    d_tree = p.ok("ls", "data/1", "--long").out.splitlines()[1].split(" ")[2]
    corrupt_remote_object(p, d_tree)
    assert "is corrupt" in one_line_error(p("ls", "data/1", "d"), 10)
    assert d_tree not in cache_ids(p)


# -- inside a repository -------------------------------------------------------


def test_inside_a_repository_head_and_the_local_store_serve(local_published: Published, tmp_path: Path):
    p = local_published
    work = tmp_path / "data"
    # The remote is gone: the repository's own store has everything.
    os.rename(p.url, p.url + ".away")
    r = ok(run_ama("cat", "HEAD", "d/e/small.txt", cwd=work, env=p.env))
    assert r.out == "small\n"
    r = ok(run_ama("get", "HEAD", "a.txt", "-o", str(tmp_path / "x.txt"), cwd=work, env=p.env))
    assert (tmp_path / "x.txt").read_text() == "alpha\n"


def test_a_killed_get_leaves_nothing_the_next_get_does_not_clean(local_published: Published):
    p = local_published
    killed = p("get", "data/1", "d", "-o", "copy", env={**p.env, "AMA_FAILPOINT": "get-assembled"})
    assert killed.rc == -9
    left = os.listdir(p.outside)
    assert len(left) == 1 and left[0].startswith(".ama-tmp-"), left
    assert not (p.outside / "copy").exists()
    p.ok("get", "data/1", "a.txt")
    assert sorted(os.listdir(p.outside)) == ["a.txt"]


def test_a_get_killed_while_downloading_continues_where_it_stopped(tmp_path: Path, remote_url):
    r = remote_url("local")
    env = make_env(tmp_path / "home", **r.env)
    w = Work(tmp_path / "data", env)
    w.ok("init", "--remote", r.url)
    data = os.urandom(1 << 20) * 24  # more than one 16 MiB chunk of a directory remote's copy
    w.write("big.bin", data)
    w.commit("big", "big.bin")
    out = tmp_path / "out"
    out.mkdir()
    get = ("get", "data/1", "big.bin", "--remote", r.url)
    killed = run_ama(*get, cwd=out, env={**env, "AMA_FAILPOINT": "remote-copy-chunk:1"})
    assert killed.rc == -9
    partial = out / f".ama-tmp-{hash_bytes(data)[:16]}"
    assert partial.stat().st_size == 16 << 20, sorted(os.listdir(out))
    ok(run_ama(*get, cwd=out, env=env))
    assert (out / "big.bin").read_bytes() == data
    assert sorted(os.listdir(out)) == ["big.bin"]
