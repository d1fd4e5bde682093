"""References to bytes that stay where they are (ama/sources.py): what is
recorded, and that fetched bytes are the recorded ones or an error."""

from __future__ import annotations

import os

import pytest
from blake3 import blake3

from ama import sources
from ama.errors import Corrupt, IntegrityError, NotFound
from ama.sources import Reference


def fetch_bytes(ref: Reference, tmp_path) -> tuple[str, bytes]:
    path = tmp_path / "fetched"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        digest = sources.fetch(ref, fd)
    finally:
        os.close(fd)
    return digest, path.read_bytes()


# -- the reference object ------------------------------------------------------


def test_reference_round_trips_through_its_canonical_bytes():
    ref = Reference("s3://b/k", 5, etag="e", version_id="v1", checksums={"sha256": "x"}, blake3="a" * 64)
    data = ref.serialize()
    assert data.startswith(b"ama-ref 1\n")
    assert Reference.parse(data) == ref
    assert Reference.parse(data).serialize() == data


@pytest.mark.parametrize(
    "body",
    [
        b"{}",
        b'{"format":1,"url":"file:///etc/passwd","size":1}',
        b'{"format":1,"url":"s3://b/k","size":-1}',
        b'{"format":1,"url":"s3://b/k","size":1,"colour":"red"}',
        b'{"format":2,"url":"s3://b/k","size":1}',
        b'{"format":1,"url":"s3://b/k","size":1,"blake3":"zz"}',
        b"[1]",
        b"\xff",
    ],
)
def test_a_malformed_reference_is_corrupt(body):
    with pytest.raises(Corrupt):
        Reference.parse(b"ama-ref 1\n" + body, "abc")


def test_strongest_check_prefers_blake3_then_checksums_then_md5_etag():
    md5 = "0" * 32
    assert Reference("s3://b/k", 1, etag=md5, checksums={"crc32": "x"}, blake3="a" * 64).strongest_check == "blake3"
    assert Reference("s3://b/k", 1, etag=md5, checksums={"crc32": "x", "sha256": "y"}).strongest_check == "sha256"
    assert Reference("s3://b/k", 1, etag=md5).strongest_check == "md5-etag"
    assert Reference("s3://b/k", 1, etag=md5 + "-3").strongest_check == "size"
    assert Reference("https://h/k", 1, etag=md5).strongest_check == "size"


# -- HTTP sources ----------------------------------------------------------------


def test_http_probe_records_size_etag_and_date(http_source):
    url = http_source.put("data/a.csv", b"a,b\n1,2\n", etag="v1")
    ref = sources.probe(url)
    assert (ref.url, ref.size, ref.etag) == (url, 8, "v1")
    assert ref.last_modified == "Tue, 14 Nov 2023 22:13:20 GMT"
    assert ref.blake3 is None


def test_http_fetch_returns_the_bytes_and_their_b3sum(http_source, tmp_path):
    data = os.urandom(3 << 20)
    ref = sources.probe(http_source.put("big.bin", data))
    digest, got = fetch_bytes(ref, tmp_path)
    assert got == data
    assert digest == blake3(data).hexdigest()
    assert sources.hash_source(ref) == digest


def test_http_source_overwritten_is_refused_before_bytes_move(http_source, tmp_path):
    url = http_source.put("a.bin", b"first")
    ref = sources.probe(url)
    http_source.put("a.bin", b"other")
    assert sources.check(ref).startswith("changed")
    with pytest.raises(IntegrityError, match="source changed"):
        fetch_bytes(ref, tmp_path)
    assert (tmp_path / "fetched").read_bytes() == b""


def test_http_source_without_etag_is_checked_by_size_and_blake3(http_source, tmp_path):
    url = http_source.put("a.bin", b"first", etag=None)
    ref = sources.probe(url)
    ref.blake3 = sources.hash_source(ref)
    http_source.put("a.bin", b"fir5t", etag=None)
    assert sources.check(ref) is None  # a HEAD cannot see a same-size change without an ETag...
    with pytest.raises(IntegrityError, match="hash to"):  # ...but the bytes can
        fetch_bytes(ref, tmp_path)


def test_http_source_follows_redirects(http_source, tmp_path):
    http_source.put("real.bin", b"payload")
    ref = sources.probe(f"{http_source.url}/redirect/real.bin")
    assert ref.size == 7
    assert fetch_bytes(ref, tmp_path)[1] == b"payload"


def test_http_source_whose_length_differs_is_refused(http_source, tmp_path):
    http_source.put("a.bin", b"payload")
    ref = Reference(f"{http_source.url}/badlength/a.bin", 7)
    with pytest.raises(IntegrityError):
        fetch_bytes(ref, tmp_path)


def test_http_source_deleted_is_missing(http_source):
    url = http_source.put("a.bin", b"x")
    ref = sources.probe(url)
    del http_source.files["a.bin"]
    assert sources.check(ref) == "missing"
    with pytest.raises(NotFound):
        sources.probe(url)


# -- S3 sources ------------------------------------------------------------------


@pytest.fixture
def s3_source(aws_env, moto_server, monkeypatch):
    from remote_fixtures import _admin_client, new_bucket

    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", moto_server)
    sources._clients.clear()
    client = _admin_client(moto_server)

    def make(versioned: bool) -> tuple[str, object]:
        bucket = new_bucket(moto_server)
        if versioned:
            client.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        return bucket, client

    yield make
    sources._clients.clear()


def test_s3_versioned_source_serves_the_recorded_version_after_an_overwrite(s3_source, tmp_path):
    bucket, client = s3_source(versioned=True)
    client.put_object(Bucket=bucket, Key="d/x.bin", Body=b"version one")
    ref = sources.probe(f"s3://{bucket}/d/x.bin")
    assert ref.versioned and ref.size == 11
    client.put_object(Bucket=bucket, Key="d/x.bin", Body=b"version two!")
    assert sources.check(ref) is None
    digest, got = fetch_bytes(ref, tmp_path)
    assert got == b"version one"
    assert digest == blake3(b"version one").hexdigest()


def test_s3_unversioned_source_overwritten_is_detected_and_refused(s3_source, tmp_path):
    bucket, client = s3_source(versioned=False)
    client.put_object(Bucket=bucket, Key="x.bin", Body=b"one")
    ref = sources.probe(f"s3://{bucket}/x.bin")
    assert not ref.versioned
    assert ref.strongest_check != "size"
    client.put_object(Bucket=bucket, Key="x.bin", Body=b"two")
    assert sources.check(ref).startswith("changed (ETag")
    with pytest.raises(IntegrityError, match="source changed"):
        fetch_bytes(ref, tmp_path)
    client.delete_object(Bucket=bucket, Key="x.bin")
    assert sources.check(ref) == "missing"


def test_s3_full_object_checksum_is_recorded_and_verified(s3_source, tmp_path):
    bucket, client = s3_source(versioned=False)
    client.put_object(Bucket=bucket, Key="x.bin", Body=b"checked bytes", ChecksumAlgorithm="SHA256")
    ref = sources.probe(f"s3://{bucket}/x.bin")
    assert ref.strongest_check == "sha256"
    assert fetch_bytes(ref, tmp_path)[1] == b"checked bytes"
    ref.checksums["sha256"] = "AAAA"
    with pytest.raises(IntegrityError, match="sha256"):
        fetch_bytes(ref, tmp_path)


def test_s3_prefix_lists_every_object_below_it(s3_source):
    bucket, client = s3_source(versioned=False)
    for key in ("p/a.csv", "p/sub/b.csv", "other/c.csv"):
        client.put_object(Bucket=bucket, Key=key, Body=key.encode())
    found = sorted(sources.list_prefix(f"s3://{bucket}/p"))
    assert found == [("a.csv", f"s3://{bucket}/p/a.csv"), ("sub/b.csv", f"s3://{bucket}/p/sub/b.csv")]


def test_s3_single_part_etag_is_an_md5_check_when_no_checksum_is_reported(s3_source, tmp_path):
    bucket, client = s3_source(versioned=False)
    client.put_object(Bucket=bucket, Key="x.bin", Body=b"plain")
    ref = sources.probe(f"s3://{bucket}/x.bin")
    ref.checksums = {}
    assert ref.strongest_check == "md5-etag"
    assert fetch_bytes(ref, tmp_path)[1] == b"plain"
