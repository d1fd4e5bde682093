"""Resumable transfers: an upload of a large object, or a download of one,
that was killed midway continues where it stopped, after what is already
there was checked; a partial file whose bytes are wrong costs a transfer,
never a wrong byte."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import ok, run_ama
from e2e import Work, make_env
from storage_helpers import store_dir

from ama import fsutil
from ama.hashing import hash_bytes
from ama.remote.base import object_key
from ama.remote.local import LocalRemote

pytest_plugins = ["fixtures_history"]

MIB = 1 << 20


def big(seed: int, size: int = 24 * MIB) -> bytes:
    block = hash_bytes(f"block {seed}".encode()).encode() * (MIB // 64)
    return (block * (size // len(block) + 1))[:size]


def partial_name(root: Path, digest: str) -> Path:
    """Where an upload of a large object to the directory remote ``root`` writes."""
    return root / ".ama-tmp" / f".ama-tmp-{digest[:16]}"


def test_an_upload_continues_after_the_bytes_already_there(tmp_path: Path) -> None:
    data = big(1)
    digest = hash_bytes(data)
    src = tmp_path / "src"
    src.write_bytes(data)
    remote = LocalRemote(str(tmp_path / "remote"))
    partial = partial_name(tmp_path / "remote", digest)
    partial.parent.mkdir(parents=True)
    partial.write_bytes(data[: 10 * MIB])
    sent: list[int] = []

    assert remote.put_object(digest, str(src), sent.append)

    assert sum(sent) == len(data) - 10 * MIB
    assert remote.hash_object(digest) == digest
    assert not partial.exists()
    assert oct(os.stat(tmp_path / "remote" / object_key(digest)).st_mode & 0o777) == "0o444"


def test_a_partial_that_differs_is_kept_only_up_to_the_difference(tmp_path: Path) -> None:
    data = big(2)
    digest = hash_bytes(data)
    src = tmp_path / "src"
    src.write_bytes(data)
    remote = LocalRemote(str(tmp_path / "remote"))
    partial = partial_name(tmp_path / "remote", digest)
    partial.parent.mkdir(parents=True)
    partial.write_bytes(data[: 3 * MIB] + b"\0" * MIB + data[4 * MIB : 9 * MIB])
    sent: list[int] = []

    assert remote.put_object(digest, str(src), sent.append)

    assert sum(sent) == len(data) - 3 * MIB
    assert remote.hash_object(digest) == digest


def test_a_commit_killed_while_uploading_a_large_file_resumes_it(e2e_work: Work) -> None:
    w = e2e_work
    data = big(3)
    w.write("big.bin", data)
    w.ok("add", "big.bin")
    killed = w("commit", "-m", "big", env={**w.env, "AMA_FAILPOINT": "remote-copy-chunk:1"})
    assert killed.rc == -9
    partial = partial_name(store_dir(w), hash_bytes(data))
    assert partial.stat().st_size == 16 * MIB

    w.ok("commit")

    assert not partial.exists()
    assert (store_dir(w) / object_key(hash_bytes(data))).read_bytes() == data
    assert w.ok("fsck", "--remote", "origin", "--full").out == ""


def test_an_unfinished_s3_upload_is_continued_after_its_verified_parts(remote, remote_kind: str, tmp_path: Path) -> None:
    if remote_kind == "local":
        pytest.skip("multipart uploads are S3's")
    from ama.remote.s3 import MIN_PART_SIZE

    data = big(4, 4 * MIN_PART_SIZE + 123)
    digest = hash_bytes(data)
    src = tmp_path / "src"
    src.write_bytes(data)
    client, full = remote.client, remote.s3_key(object_key(digest))
    checksum = client.meta.config.request_checksum_calculation == "when_supported"
    extra = {"ChecksumAlgorithm": "CRC32"} if checksum else {}
    # A push killed after three parts, the third of which holds other bytes.
    upload = client.create_multipart_upload(Bucket=remote.bucket, Key=full, **extra)["UploadId"]
    for number, body in ((1, data[:MIN_PART_SIZE]), (2, data[MIN_PART_SIZE : 2 * MIN_PART_SIZE]),
                         (3, b"\0" * MIN_PART_SIZE)):
        client.upload_part(Bucket=remote.bucket, Key=full, UploadId=upload, PartNumber=number, Body=body)
    sent: list[int] = []
    upload_part = client.upload_part

    def counting(**kw):
        sent.append(kw["PartNumber"])
        return upload_part(**kw)

    client.upload_part = counting

    assert remote.put_object(digest, str(src))

    assert sorted(sent) == [3, 4, 5]
    assert remote.hash_object(digest) == digest
    assert list(remote.leftovers()) == []


# -- downloads -----------------------------------------------------------------


def stored(remote, tmp_path: Path, data: bytes) -> str:
    """Put ``data`` on ``remote`` as an object; its id."""
    digest = hash_bytes(data)
    (tmp_path / "src").write_bytes(data)
    remote.put_object(digest, str(tmp_path / "src"))
    return digest


def download_dir(tmp_path: Path) -> Path:
    out = tmp_path / "out"
    out.mkdir()
    return out


def test_a_download_from_a_directory_remote_continues_a_partial(tmp_path: Path) -> None:
    data = big(5)
    remote = LocalRemote(str(tmp_path / "remote"))
    digest = stored(remote, tmp_path, data)
    out = download_dir(tmp_path)
    (out / f".ama-tmp-{digest[:16]}").write_bytes(data[: 12 * MIB])
    got: list[int] = []

    remote.get_object(digest, str(out / "obj"), got.append)

    assert sum(got) == len(data) - 12 * MIB
    assert (out / "obj").read_bytes() == data
    assert sorted(p.name for p in out.iterdir()) == ["obj"]


def test_a_tampered_partial_download_is_kept_only_up_to_the_change(tmp_path: Path) -> None:
    data = big(9)
    remote = LocalRemote(str(tmp_path / "remote"))
    digest = stored(remote, tmp_path, data)
    out = download_dir(tmp_path)
    (out / f".ama-tmp-{digest[:16]}").write_bytes(data[: 5 * MIB] + b"\0" * MIB + data[6 * MIB : 12 * MIB])
    got: list[int] = []

    remote.get_object(digest, str(out / "obj"), got.append)

    assert sum(got) == len(data) - 5 * MIB
    assert (out / "obj").read_bytes() == data


def test_an_s3_download_fetches_only_the_ranges_a_killed_one_did_not(remote, remote_kind: str, tmp_path: Path) -> None:
    if remote_kind == "local":
        pytest.skip("ranged downloads are S3's")
    part = remote.part_size
    data = big(6, 3 * part + 99)
    digest = stored(remote, tmp_path, data)
    out = download_dir(tmp_path)
    partial = out / f".ama-tmp-{digest[:16]}"
    partial.write_bytes(b"\0" * part + data[part : 2 * part])
    (out / f"{partial.name}.ranges").write_text(f"{len(data)} {part}\n{part}\n{2 * part}")  # torn last line
    ranges: list[str] = []
    get = remote.client.get_object

    def counting(**kw):
        ranges.append(kw.get("Range", "whole"))
        return get(**kw)

    remote.client.get_object = counting
    got: list[int] = []

    remote.get_object(digest, str(out / "obj"), got.append)

    # The first part (which tells the size), then only the two ranges not noted.
    assert ranges[0] == f"bytes=0-{part - 1}"
    assert sorted(ranges[1:]) == [f"bytes={2 * part}-{3 * part - 1}", f"bytes={3 * part}-{len(data) - 1}"]
    assert sum(got) == len(data) - part
    assert (out / "obj").read_bytes() == data
    assert sorted(p.name for p in out.iterdir()) == ["obj"]


def test_a_continued_s3_download_that_does_not_verify_is_fetched_again_whole(remote, remote_kind: str,
                                                                             tmp_path: Path) -> None:
    if remote_kind == "local":
        pytest.skip("ranged downloads are S3's")
    part = remote.part_size
    data = big(7, 2 * part + 5)
    digest = stored(remote, tmp_path, data)
    out = download_dir(tmp_path)
    partial = out / f".ama-tmp-{digest[:16]}"
    partial.write_bytes(b"\0" * (2 * part))  # noted as fetched, but holds zeros
    (out / f"{partial.name}.ranges").write_text(f"{len(data)} {part}\n{part}\n")

    remote.get_object(digest, str(out / "obj"))

    assert (out / "obj").read_bytes() == data
    assert sorted(p.name for p in out.iterdir()) == ["obj"]


def test_a_partial_another_download_holds_is_left_to_it(remote, tmp_path: Path) -> None:
    data = big(10, 12 * MIB)
    digest = stored(remote, tmp_path, data)
    out = download_dir(tmp_path)
    held, partial = fsutil.open_partial(str(out), digest)
    assert partial
    with held:
        fsutil.write_all(held.fileno(), b"someone else's bytes")

        remote.get_object(digest, str(out / "obj"))

        assert (out / "obj").read_bytes() == data
        assert (out / held.name).read_bytes() == b"someone else's bytes"
        assert fsutil.remove_stale_temps(str(out)) == []


def test_a_fetched_object_has_its_mode_before_it_has_its_name(remote, tmp_path: Path, monkeypatch) -> None:
    from ama.remote.transfer import fetch_objects

    small, large = b"small", big(11, 10 * MIB)
    items = [(stored(remote, tmp_path, data), str(download_dir(tmp_path) / "obj")) for data in (small,)]
    items.append((stored(remote, tmp_path, large), str(tmp_path / "obj-large")))
    modes: dict[str, int] = {}
    replace = os.replace

    def watching(src, dst, *args, **kw):
        modes[os.fspath(dst)] = os.stat(src).st_mode & 0o777
        return replace(src, dst, *args, **kw)

    monkeypatch.setattr(os, "replace", watching)

    fetch_objects(remote, items, jobs=2, mode=0o444)

    assert modes == {dest: 0o444 for _, dest in items}


def test_stale_partials_are_kept_for_their_grace_period_and_while_held(tmp_path: Path) -> None:
    digest = hash_bytes(b"x")
    partial = Path(fsutil.partial_name(str(tmp_path), digest))
    ranges = Path(f"{partial}{fsutil.PARTIAL_RANGES_SUFFIX}")
    partial.write_bytes(b"half")
    ranges.write_text("4 1\n")
    assert fsutil.remove_stale_temps(str(tmp_path)) == []
    old = partial.stat().st_mtime - 2 * fsutil.TEMP_MAX_AGE
    for p in (partial, ranges):
        os.utime(p, (old, old))
    held, _ = fsutil.open_partial(str(tmp_path), digest)
    with held:
        assert fsutil.remove_stale_temps(str(tmp_path)) == []
    assert sorted(fsutil.remove_stale_temps(str(tmp_path))) == [(str(partial), 4), (str(ranges), 4)]


@pytest.mark.parametrize(("kind", "point"), [
    ("local", "remote-copy-chunk:1"),
    pytest.param("s3-http", "download-range:2", marks=pytest.mark.slow),
])
def test_a_clone_killed_while_downloading_a_large_file_continues_it(kind: str, point: str, remote_url,
                                                                    tmp_path: Path) -> None:
    r = remote_url(kind)
    # One range at a time, so the kill comes after exactly two are noted.
    env = make_env(tmp_path / "home", AMA_S3_CONCURRENCY="1", **r.env)
    w = Work(tmp_path / "w", env)
    w.ok("init", "--class", "data", "--remote", r.url)
    data = big(8, 40 * MIB)
    w.write("big.bin", data)
    w.commit("big", "big.bin")
    digest = hash_bytes(data)
    clone = tmp_path / "clone"

    killed = run_ama("clone", "data/1", clone, "--remote", r.url, cwd=tmp_path, env={**env, "AMA_FAILPOINT": point})

    assert killed.rc == -9
    objects = clone / ".ama" / "objects" / digest[:2]
    partial = objects / f".ama-tmp-{digest[:16]}"
    if kind == "local":
        assert partial.stat().st_size == 16 * MIB
    else:
        part = 8 * MIB
        assert (objects / f"{partial.name}.ranges").read_text() == f"{len(data)} {part}\n{part}\n{2 * part}\n"
    with open(partial, "r+b") as f:  # a byte changed inside what the killed clone fetched
        f.seek(9 * MIB)
        f.write(b"\xff")

    ok(run_ama("clone", "data/1", clone, "--remote", r.url, cwd=tmp_path, env=env))

    assert (clone / "big.bin").read_bytes() == data
    assert sorted(p.name for p in objects.iterdir()) == [digest[2:]]
    assert Work(clone, env).lines("status", "--porcelain") == []


def test_a_download_stopped_with_ctrl_c_keeps_only_a_resumable_partial(tmp_path: Path, monkeypatch) -> None:
    from ama.remote import local

    data = big(12)
    remote = LocalRemote(str(tmp_path / "remote"))
    large, small = stored(remote, tmp_path, data), stored(remote, tmp_path, b"small")
    out = download_dir(tmp_path)

    def interrupt(name: str) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(local.failpoint, "hit", interrupt)  # after the first 16 MiB chunk
    with pytest.raises(KeyboardInterrupt):
        remote.get_object(large, str(out / "large"))
    monkeypatch.setattr(local, "_copy_hashed", lambda *a: interrupt(""))
    with pytest.raises(KeyboardInterrupt):
        remote.get_object(small, str(out / "small"))
    monkeypatch.undo()

    assert sorted(p.name for p in out.iterdir()) == [f".ama-tmp-{large[:16]}"]
    got: list[int] = []
    remote.get_object(large, str(out / "large"), got.append)
    assert sum(got) == len(data) - 16 * MIB
    assert (out / "large").read_bytes() == data


def test_without_file_locks_a_download_starts_afresh_and_still_works(remote, tmp_path: Path, monkeypatch) -> None:
    import errno

    data = big(13, 12 * MIB)
    digest = stored(remote, tmp_path, data)
    out = download_dir(tmp_path)

    def no_locks(fd: int, op: int) -> None:
        raise OSError(errno.EOPNOTSUPP, "Operation not supported")

    monkeypatch.setattr(fsutil.fcntl, "flock", no_locks)

    remote.get_object(digest, str(out / "obj"))

    assert (out / "obj").read_bytes() == data
    assert sorted(p.name for p in out.iterdir()) == ["obj"]
