"""Resumable transfers: an upload of a large object to a directory remote
that was killed midway continues where it stopped."""

from __future__ import annotations

import os
from pathlib import Path

from e2e import Work
from storage_helpers import store_dir

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
    import pytest

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
