"""Versioning bytes that stay where they are (issue 13): ``ama add`` of
s3:// and http(s):// URLs records references; commit, clone, ls, get and cat
bring back exactly the recorded bytes, or fail saying what changed."""

from __future__ import annotations

import os

from blake3 import blake3
from conftest import one_line_error
from e2e import Work

pytest_plugins = ["fixtures_history"]


def b3(data: bytes) -> str:
    return blake3(data).hexdigest()


def test_add_url_records_a_reference_that_clone_materialises(e2e_work: Work, http_source):
    data = b"id,value\n1,2\n" * 100
    url = http_source.put("tables/a.csv", data)
    out = e2e_work.ok("add", url)
    assert "1 reference(s) recorded" in out.err
    assert not (e2e_work.root / "a.csv").exists()  # nothing was downloaded
    assert "a.csv" in e2e_work.ok("ls-files").out
    status = e2e_work.ok("status", "--porcelain").out
    assert "D" not in status.split("a.csv")[0][-3:]  # a reference is never "deleted"
    e2e_work.ok("commit", "-m", "referenced")
    gets_before = sum(1 for m, _ in http_source.requests if m == "GET")
    assert gets_before == 0  # committing a reference moves no bytes
    copy = e2e_work.clone("data/1", "copy")
    assert (copy.root / "a.csv").read_bytes() == data
    assert copy.ok("status", "--porcelain").out == ""
    assert copy.ok("cat", "data/1/1", "a.csv", binary=True).out == data


def test_add_url_with_hash_records_the_b3sum_id(e2e_work: Work, http_source):
    data = os.urandom(100_000)
    url = http_source.put("blob.bin", data, etag=None)
    e2e_work.ok("add", url, "--hash", "--to", "raw/blob.bin")
    digest = e2e_work.ok("ls-files", "-s").out.split()[1]
    shown = e2e_work.ok("cat-file", "-p", digest).out
    assert f'"blake3":"{b3(data)}"' in shown
    assert f'"url":"{url}"' in shown


def test_a_changed_http_source_fails_clone_naming_the_path(e2e_work: Work, http_source, tmp_path):
    url = http_source.put("a.bin", b"original bytes")
    e2e_work.ok("add", url)
    e2e_work.ok("commit", "-m", "v1")
    http_source.put("a.bin", b"replaced bytes!")
    r = e2e_work("clone", "data/1", str(tmp_path / "copy"))
    err = one_line_error(r, 10)
    assert "source changed" in err
    assert not (tmp_path / "copy" / "a.bin").exists()


def test_refresh_check_reports_changed_and_missing_sources(e2e_work: Work, http_source):
    a = http_source.put("a.bin", b"aaa")
    b = http_source.put("b.bin", b"bbb")
    e2e_work.ok("add", a)
    e2e_work.ok("add", b)
    assert e2e_work("refresh", "--check").rc == 0
    http_source.put("a.bin", b"AAAA")
    del http_source.files["b.bin"]
    r = e2e_work("refresh", "--check")
    assert r.rc == 1
    assert "a.bin: changed (size 3 -> 4)" in r.out
    assert "b.bin: missing" in r.out


def test_refresh_re_pins_a_changed_source_as_a_modification(e2e_work: Work, http_source):
    url = http_source.put("a.bin", b"one")
    e2e_work.ok("add", url)
    e2e_work.ok("commit", "-m", "v1")
    http_source.put("a.bin", b"two!")
    e2e_work.ok("refresh")
    assert "M  a.bin" in e2e_work.ok("status", "--porcelain").out
    e2e_work.ok("commit", "-m", "v2")
    assert e2e_work.ok("cat", "data/1/2", "a.bin", binary=True).out == b"two!"


def test_push_refs_keeps_a_copy_that_serves_after_the_source_is_gone(e2e_work: Work, http_source, tmp_path):
    url = http_source.put("a.bin", b"keep me")
    e2e_work.ok("add", url)
    e2e_work.ok("commit", "-m", "v1", "--push-refs")
    del http_source.files["a.bin"]
    copy = e2e_work.clone("data/1", "copy")
    assert (copy.root / "a.bin").read_bytes() == b"keep me"


def test_a_deleted_source_without_a_copy_is_a_clear_error(e2e_work: Work, http_source, tmp_path):
    url = http_source.put("a.bin", b"gone soon")
    e2e_work.ok("add", url)
    e2e_work.ok("commit", "-m", "v1")
    del http_source.files["a.bin"]
    r = e2e_work("get", "data/1/1", "a.bin", "-o", str(tmp_path / "out.bin"))
    err = one_line_error(r, 11)
    assert "a.bin" in err and "no such object" in err
    assert not (tmp_path / "out.bin").exists()


def test_s3_prefix_in_a_versioned_bucket_survives_overwrites(e2e_work: Work, moto_server, tmp_path):
    from remote_fixtures import FAKE_AWS_ENV, _admin_client, new_bucket

    client = _admin_client(moto_server)
    bucket = new_bucket(moto_server)
    client.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    client.put_object(Bucket=bucket, Key="run/a.txt", Body=b"a1")
    client.put_object(Bucket=bucket, Key="run/sub/b.txt", Body=b"b1")
    env = {**e2e_work.env, **FAKE_AWS_ENV, "AWS_ENDPOINT_URL_S3": moto_server}
    work = Work(e2e_work.root, env)
    r = work.ok("add", f"s3://{bucket}/run/", "--to", "raw")
    assert "2 reference(s) recorded" in r.err
    assert "not versioned" not in r.err
    work.ok("commit", "-m", "run")
    client.put_object(Bucket=bucket, Key="run/a.txt", Body=b"a2-overwritten")
    copy = work.clone("data/1", "copy")
    assert (copy.root / "raw" / "a.txt").read_bytes() == b"a1"
    assert (copy.root / "raw" / "sub" / "b.txt").read_bytes() == b"b1"


def test_unversioned_bucket_warns_and_detects_an_overwrite(e2e_work: Work, moto_server):
    from remote_fixtures import FAKE_AWS_ENV, _admin_client, new_bucket

    client = _admin_client(moto_server)
    bucket = new_bucket(moto_server)
    client.put_object(Bucket=bucket, Key="x.bin", Body=b"x1")
    env = {**e2e_work.env, **FAKE_AWS_ENV, "AWS_ENDPOINT_URL_S3": moto_server}
    work = Work(e2e_work.root, env)
    assert "not versioned" in work.ok("add", f"s3://{bucket}/x.bin").err
    client.put_object(Bucket=bucket, Key="x.bin", Body=b"x2")
    r = work("refresh", "--check")
    assert r.rc == 1 and "x.bin: changed (ETag" in r.out


def test_add_of_a_url_that_names_nothing_stages_nothing(e2e_work: Work, http_source):
    r = e2e_work("add", f"{http_source.url}/nothing-here.bin")
    one_line_error(r, 11)
    assert e2e_work.ok("ls-files").out == ""


def test_a_tree_with_an_unknown_entry_kind_is_refused(e2e_work: Work, tmp_path):
    e2e_work.write("a.txt", "a")
    e2e_work.commit("v1", "a.txt")
    store = e2e_work.root / ".ama" / "objects"
    tree = b"ama-tree 1\n100644 docker " + b"0" * 64 + b" 5\timage\n"
    digest = b3(tree)
    path = store / digest[:2] / digest[2:]
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(tree)
    r = e2e_work("ls-tree", digest)
    assert r.rc == 6 and "docker" in r.err


def test_status_refs_gives_each_reference_its_state_letter(e2e_work: Work, http_source):
    e2e_work.ok("add", http_source.put("a.bin", b"aaa"))
    e2e_work.ok("add", http_source.put("b.bin", b"bbb"))
    e2e_work.ok("add", http_source.put("c.bin", b"ccc"))
    e2e_work.ok("commit", "-m", "v1")
    assert e2e_work.ok("status", "--porcelain").out == ""  # a clean tree says nothing
    http_source.put("b.bin", b"BBBB")
    del http_source.files["c.bin"]
    out = e2e_work.ok("status", "--porcelain", "--refs").out
    assert out.splitlines() == [" @ a.bin", " C b.bin", " ! c.bin"]
    human = e2e_work.ok("status", "--refs").out
    assert "References: 3, 1 intact at their source" in human
    assert "b.bin: changed (size 3 -> 4)" in human


def test_pull_with_a_reference_staged_places_its_bytes_and_keeps_it_a_reference(e2e_work: Work, http_source):
    e2e_work.write("a.txt", "one\n")
    e2e_work.ok("add", "a.txt")
    e2e_work.ok("commit", "-m", "one")
    other = e2e_work.clone("data/1", "other")
    e2e_work.write("a.txt", "two\n")
    e2e_work.ok("add", "a.txt")
    e2e_work.ok("commit", "-m", "two")
    data = b"referenced\n" * 10
    other.ok("add", http_source.put("r.csv", data), "--to", "r.csv")
    staged = [line for line in other.lines("ls-files", "-s") if line.endswith("r.csv")]
    other.ok("pull")
    assert (other.root / "r.csv").read_bytes() == data  # not the reference object's bytes
    assert [line for line in other.lines("ls-files", "-s") if line.endswith("r.csv")] == staged
    assert other.ok("status", "--porcelain").out == "A  r.csv\n"
