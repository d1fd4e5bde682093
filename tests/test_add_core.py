"""The core's ``store_new``, the bulk of ``ama add`` (new small files,
hardlink mode), and the portable C BLAKE3 it hashes with: the compiled core
and its pure-Python twin give the same results, and both give what the
Python path (``staging.store_file``) gives."""

import os
import random
import stat

import pytest
from blake3 import blake3
from conftest import ok, read_index, run_ama, write

from ama import _purecore, staging
from ama.index import _stat_record

try:
    from ama import _speedups
except ImportError:  # no compiler: the pure-Python core only
    _speedups = None

CORES = [pytest.param(_speedups, id="c", marks=pytest.mark.skipif(_speedups is None, reason="not built")),
         pytest.param(_purecore, id="py")]


@pytest.mark.skipif(_speedups is None, reason="the compiled core is not built")
def test_portable_blake3_matches_the_blake3_package():
    rng = random.Random(7)
    lengths = list(range(0, 2200)) + [1024 * k + d for k in range(2, 70) for d in (-1, 0, 1)]
    lengths += [rng.randrange(1, 400_000) for _ in range(40)] + [1 << 20, (1 << 20) + 1]
    for n in lengths:
        data = rng.randbytes(n)
        assert _speedups.blake3(data) == blake3(data).digest(), n


def _objects(tmp_path):
    objects = tmp_path / "objects"
    for i in range(256):
        (objects / f"{i:02x}").mkdir(parents=True)
    return objects


@pytest.mark.parametrize("core", CORES)
def test_store_new_hashes_links_and_snapshots_what_it_can_and_hands_back_the_rest(tmp_path, core):
    root = tmp_path / "work"
    sizes = {"empty": 0, "one": 1, "small": 100, "at-max": 4096, "over-max": 4097}
    for name, size in sizes.items():
        write(root / "d" / name, bytes([len(name)]) * size)
    write(root / "d" / "present", b"already stored")
    os.symlink("one", root / "d" / "link")
    os.mkfifo(root / "d" / "fifo")
    (root / "d" / "dir").mkdir()
    objects = _objects(tmp_path)
    known = blake3(b"already stored").hexdigest()
    write(objects / known[:2] / known[2:], b"already stored")
    paths = [f"d/{n}" for n in [*sizes, "present", "link", "fifo", "dir", "gone"]]

    results = dict(zip(paths, core.store_new(str(root), str(objects), paths, 4096, 2), strict=True))

    for name in ["empty", "one", "small", "at-max", "present"]:
        digest, record, size, present = results[f"d/{name}"]
        content = (root / "d" / name).read_bytes()
        assert digest == blake3(content).digest() and size == len(content)
        assert present == (name == "present")
        # the snapshot after the link (which changed the file's ctime and link count)
        assert record == _stat_record(os.lstat(root / "d" / name))
        obj = objects / digest.hex()[:2] / digest.hex()[2:]
        assert obj.read_bytes() == content
        assert (os.lstat(obj).st_ino == os.lstat(root / "d" / name).st_ino) == (name != "present")
    for name in ["over-max", "link", "fifo", "dir", "gone"]:
        assert results[f"d/{name}"] == core.FALLBACK, name
    assert not os.path.exists(objects / blake3(b"\x08" * 4097).hexdigest()[:2] / blake3(b"\x08" * 4097).hexdigest()[2:])


def test_the_pure_core_unlinks_a_file_that_changed_after_it_was_linked(tmp_path, monkeypatch):
    """A write between the link and the last fstat: the object's name would
    hold other bytes than it names (the same inode), so the new link goes
    and the add fails for that file."""
    root = tmp_path / "work"
    write(root / "f", b"before")
    objects = _objects(tmp_path)
    real_fstat = os.fstat
    calls = []

    def fstat(fd):
        calls.append(fd)
        st = real_fstat(fd)
        if len(calls) == 3:  # the last one, after the link
            return os.stat_result((*st[:6], st.st_size + 1, *st[7:]))
        return st

    monkeypatch.setattr(_purecore.os, "fstat", fstat)
    assert _purecore.store_new(str(root), str(objects), ["f"], 4096, 1) == [_purecore.CHANGED]
    digest = blake3(b"before").hexdigest()
    assert not os.path.exists(objects / digest[:2] / digest[2:])


def _tree(root, n=700, seed=3):
    rng = random.Random(seed)
    contents = {}
    for i in range(n):
        name = f"d{i % 7}/sub{i % 3}/f{i:04d}"
        # a few duplicates (the object is then present), a few over the core's limit
        data = b"dup" if i % 50 == 0 else rng.randbytes(rng.choice([0, 5, 300, 5000, 20000]))
        write(root / name, data)
        contents[name] = data
    return contents


@pytest.mark.parametrize("policy", ["c", "py", "python-path"])
def test_add_of_many_files_stages_the_same_whichever_path_stores_them(repo, ama_env, monkeypatch, policy):
    if policy == "c" and _speedups is None:
        pytest.skip("the compiled core is not built")
    contents = _tree(repo)
    env = dict(ama_env, AMA_MODULE_POLICY="c" if policy == "c" else "py")
    # -j 2: hashing threads, each file by store_file (store_new is for one thread)
    r = ok(run_ama("add", *(["-j", "2"] if policy == "python-path" else []), ".", cwd=repo, env=env))
    assert "700 file(s)" in r.err
    entries = read_index(repo)
    assert {p: e[0] for p, e in entries.items()} == {p: blake3(d).hexdigest() for p, d in contents.items()}
    linked: dict[bytes, int] = {}
    for path, e in entries.items():
        st = os.lstat(repo / path)
        assert (e[1], e[2], e[3], e[4]) == (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino), path
        linked[contents[path]] = linked.get(contents[path], 0) + (st.st_nlink - 1)
    assert set(linked.values()) == {1}  # each content hardlinked into the store once
    assert ok(run_ama("stat-check", cwd=repo, env=env)).out == ""
    assert ok(run_ama("fsck", cwd=repo, env=env)).rc == 0


def test_add_in_copy_mode_never_hardlinks_through_the_core(repo, ama_env):
    ok(run_ama("init", "--linkmode", "copy", repo, cwd=repo, env=ama_env))
    contents = _tree(repo, n=400)
    ok(run_ama("add", ".", cwd=repo, env=ama_env))
    assert all(os.lstat(repo / p).st_nlink == 1 for p in contents)
    assert ok(run_ama("fsck", cwd=repo, env=ama_env)).rc == 0


def test_a_file_the_core_finds_changed_after_linking_fails_the_add_and_leaves_the_index(repo, ama_env, monkeypatch):
    from ama.index import Index
    from ama.policy import core
    from ama.repo import Repo

    _tree(repo, n=300)
    r = Repo(str(repo))
    active = core()
    monkeypatch.setattr(active, "store_new", lambda root, objects, paths, limit, threads: [active.CHANGED] * len(paths))
    found = staging.expand(r, [str(repo)])
    with pytest.raises(staging.BadPath, match="changed while ama added it"):
        staging.stage(r, Index(), found.files)
    assert not os.path.exists(repo / ".ama" / "index") or read_index(repo) == {}
    assert stat.S_ISDIR(os.lstat(repo / ".ama").st_mode)
