"""Content ids are BLAKE3-256 and agree with b3sum, whichever path hashes them."""

import os
import random
import subprocess

import pytest
from blake3 import blake3
from conftest import has_b3sum, ok, write

from ama.hashing import EMPTY_ID, MMAP_THRESHOLD, hash_path, hash_paths

MIB = 1024 * 1024
_rng = random.Random(20240611)
SIZES = sorted(
    {
        0,
        1,
        1024,
        1025,
        MIB,
        MMAP_THRESHOLD - 1,
        MMAP_THRESHOLD,  # the first size hashed through mmap
        MMAP_THRESHOLD + 1,
        5 * MIB + 123,
        *(_rng.randrange(2, 64 * 1024) for _ in range(4)),
        *(_rng.randrange(64 * 1024, 3 * MIB) for _ in range(2)),
    }
)


@pytest.fixture(scope="module")
def sample_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("hash-samples")
    rng = random.Random(7)
    files = {}
    for size in SIZES:
        data = rng.randbytes(size)
        files[write(d / f"f{size}", data)] = data
    return files


def test_mmap_path_is_exercised():
    assert MMAP_THRESHOLD <= 4 * MIB < max(SIZES)


def test_hash_object_ids_equal_blake3_of_the_bytes(sample_files, ama, tmp_path):
    paths = list(sample_files)
    out = ok(ama("hash-object", *paths)).out.split()
    assert out == [blake3(data).hexdigest() for data in sample_files.values()]


@pytest.mark.skipif(not has_b3sum(), reason="b3sum is not installed")
def test_hash_object_ids_equal_b3sum(sample_files, ama):
    paths = [str(p) for p in sample_files]
    b3 = subprocess.run(["b3sum", "--no-names", *paths], capture_output=True, text=True, check=True).stdout.split()
    assert ok(ama("hash-object", *paths)).out.split() == b3


def test_library_hash_matches_blake3_and_reports_the_hashed_size(sample_files):
    for path, data in sample_files.items():
        digest, st = hash_path(str(path))
        assert digest == blake3(data).hexdigest(), path.name
        assert st.st_size == len(data)


def test_empty_input_has_the_blake3_empty_id():
    assert EMPTY_ID == blake3(b"").hexdigest() == "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"


def test_hash_object_stdin_equals_hash_of_the_file(sample_files, ama):
    path, data = next((p, d) for p, d in sample_files.items() if len(d) > MMAP_THRESHOLD)
    r = ok(ama("hash-object", "--stdin", input=data))
    assert r.out.strip() == blake3(data).hexdigest()


def test_hash_object_w_stores_content_under_its_id(sample_files, ama, repo):
    path, data = next((p, d) for p, d in sample_files.items() if len(d) == 1024)
    digest = ok(ama("hash-object", "-w", path)).out.strip()
    assert (repo / ".ama" / "objects" / digest[:2] / digest[2:]).read_bytes() == data
    assert ok(ama("cat-file", "-s", digest)).out.strip() == "1024"
    assert ok(ama("cat-file", "-p", digest, binary=True)).out == data



@pytest.mark.parametrize(("count", "size", "pooled"), [(100, 10, False), (1100, 10, True), (70, 150_000, True)],
                         ids=["few-small-serial", "many-pooled", "large-pooled"])
def test_hash_paths_yields_each_id_in_order_serial_or_pooled(tmp_path, monkeypatch, count, size, pooled):
    """A few small files hash in the calling thread (a pool costs more than
    it saves), many or large ones in a pool; either way the ids come back in
    order, and a vanished file is None."""
    import concurrent.futures

    pools = []

    class Pool(concurrent.futures.ThreadPoolExecutor):
        def __init__(self, *a, **kw):
            pools.append(1)
            super().__init__(*a, **kw)

    monkeypatch.setattr(concurrent.futures, "ThreadPoolExecutor", Pool)
    rng = random.Random(count)
    items, want = [], []
    for i in range(count):
        data = rng.randbytes(size)
        path = tmp_path / f"f{i:05d}"
        path.write_bytes(data)
        items.append((str(path), f"f{i:05d}"))
        want.append((f"f{i:05d}", blake3(data).hexdigest()))
    os.unlink(items[7][0])
    want[7] = ("f00007", None)
    got = [(name, digest) for name, digest, _ in hash_paths(items, jobs=4, tolerant=True)]
    assert got == want
    assert bool(pools) == pooled
