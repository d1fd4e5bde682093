"""The compiled core against its pure-Python twin, and status under both, on
random trees and random edits: creates, deletes, renames, same-size edits
inside the racy window, directories replaced by files and the reverse,
symlinks in the way, ignore files changing."""

import os
import random
import shutil
import subprocess
import sys
import time

import pytest
from conftest import ok, write

from ama import _purecore, policy
from ama.index import Index
from ama.names import is_reserved_dir
from ama.repo import Repo

pytestmark = pytest.mark.skipif(not policy.compiled_available(), reason="the compiled core is not built here")

SEEDS = range(12)


def random_tree(root, rng: random.Random, n: int) -> None:
    dirs = [""]
    for i in range(n):
        if rng.random() < 0.2:
            dirs.append(os.path.join(rng.choice(dirs), f"d{i}"))
        write(root / rng.choice(dirs) / f"f{i}.bin", os.urandom(rng.randint(0, 40)))


def files_of(root) -> list:
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if not is_reserved_dir(d)]
        for name in filenames:
            p = os.path.join(dirpath, name)
            if os.path.isfile(p) and not os.path.islink(p):
                out.append(os.path.relpath(p, root))
    return sorted(f for f in out if f != ".amaignore")


def random_edits(root, rng: random.Random, index_mtime_ns: int) -> None:
    for _ in range(rng.randint(1, 12)):
        files = files_of(root)
        if not files:
            break
        victim = root / rng.choice(files)
        kind = rng.choice(["create", "delete", "rename", "racy", "grow", "dir-for-file", "file-for-dir",
                           "symlink", "ignore", "touch", "new-dir", "reserved"])
        if kind == "create":
            write(victim.parent / f"new{rng.randint(0, 10**6)}.bin", b"new")
        elif kind == "delete":
            victim.unlink()
        elif kind == "rename":
            os.rename(victim, victim.parent / f"moved{rng.randint(0, 10**6)}.bin")
        elif kind == "racy":
            size = victim.stat().st_size
            victim.write_bytes(bytes(size))
            os.utime(victim, ns=(index_mtime_ns, index_mtime_ns))
        elif kind == "grow":
            with open(victim, "ab") as f:
                f.write(b"+")
        elif kind == "dir-for-file":
            victim.unlink()
            write(victim / "inner.bin", b"inner")
        elif kind == "file-for-dir":
            parent = victim.parent
            if parent != root:
                shutil.rmtree(parent)
                write(parent, b"was a directory")
        elif kind == "symlink":
            victim.unlink()
            os.symlink("/etc", victim)
        elif kind == "ignore":
            write(root / ".amaignore", f"*{rng.randint(0, 9)}.bin\nd1*/\n")
        elif kind == "touch":
            os.utime(victim, ns=(1, 1_000_000_000))
        elif kind == "new-dir":
            write(root / f"fresh{rng.randint(0, 10**6)}" / "sub" / "x.bin", b"x")
        elif kind == "reserved":
            name = "".join(c.upper() if rng.random() < 0.5 else c for c in rng.choice([".git", ".ama"]))
            write(victim.parent / name / "x.bin", b"x")


@pytest.fixture
def both(tmp_path, ama_env):
    """Run a command under each core: {"c": Result, "py": Result}."""
    from conftest import run_ama

    def run(root, *args):
        out = {}
        for core in ("c", "py"):
            env = {**ama_env, "AMA_MODULE_POLICY": core}
            # --no-refresh-like: compare outputs before any refresh is written
            out[core] = run_ama(*args, cwd=root, env=env)
        return out

    return run


@pytest.mark.parametrize("seed", SEEDS)
def test_compiled_and_pure_cores_agree_on_random_trees(repo, ama, seed):
    rng = random.Random(seed)
    random_tree(repo, rng, 60)
    ok(ama("add", "."))
    index = Index.load(str(repo / ".ama" / "index"))
    random_edits(repo, rng, index.mtime_ns)

    index = Index.load(str(repo / ".ama" / "index"))
    data = index.raw_v3()
    assert data is not None
    from ama import _speedups

    for threads in (1, 3):
        assert sorted(_speedups.check(data, str(repo), index.mtime_ns, threads)) == sorted(
            _purecore.check(data, str(repo), index.mtime_ns, threads)
        )
    c_files, c_dirs, _, _ = _speedups.walk(data, str(repo))
    py_files, py_dirs, _, _ = _purecore.walk(data, str(repo))
    assert (sorted(c_files), sorted(c_dirs)) == (sorted(py_files), sorted(py_dirs))


def test_threads_taking_chunks_report_in_index_order(tmp_path):
    # Enough entries that several threads share the check (chunks of 512):
    # the exceptions come back in index order whatever thread found them.
    from ama import _speedups

    index = Index()
    for i in range(6000):
        rel = f"d{i % 7}/s{i % 3}/f{i}.bin"
        write(tmp_path / rel, b"x")
        index.add(rel, f"{i:064x}", os.lstat(tmp_path / rel))
    rng = random.Random(5)
    for i in rng.sample(range(6000), 300):
        rel = f"d{i % 7}/s{i % 3}/f{i}.bin"
        if i % 2:
            (tmp_path / rel).unlink()
        else:
            write(tmp_path / rel, b"longer")
    data = index.serialize()
    # since far ahead: only the 300 changed; since 0: every entry is racy
    for since, reported in ((2**62, 300), (0, 6000)):
        expected = _purecore.check(data, str(tmp_path), since, 1)
        assert len(expected) == reported
        for threads in (1, 2, 3, 4, 16):
            assert _speedups.check(data, str(tmp_path), since, threads) == expected


def age_directories(root) -> None:
    """Every directory's mtime an hour back: any change after this moves it."""
    old = time.time_ns() - 3600 * 10**9
    for dirpath, dirnames, _ in os.walk(root):
        dirnames[:] = [d for d in dirnames if not is_reserved_dir(d)]
        os.utime(dirpath, ns=(old, old), follow_symlinks=False)


@pytest.mark.parametrize("seed", SEEDS)
def test_both_cores_agree_through_the_directory_cache(repo, ama, seed):
    from ama import _speedups, dircache

    rng = random.Random(2000 + seed)
    random_tree(repo, rng, 60)
    ok(ama("add", "."))
    age_directories(repo)
    index = Index.load(str(repo / ".ama" / "index"))
    data = index.raw_v3()
    ahead = time.time_ns() + 3600 * 10**9  # every directory counts as old enough
    first = _speedups.walk(data, str(repo), b"", ahead)
    assert first[2] == _purecore.walk(data, str(repo), b"", ahead)[2]
    dircache.save(str(repo / ".ama"), index.checksum, first[2])
    random_edits(repo, rng, index.mtime_ns)

    cached = dircache.load(str(repo / ".ama"), index.checksum)
    assert cached == first[2]
    c = _speedups.walk(data, str(repo), cached, ahead)
    py = _purecore.walk(data, str(repo), cached, ahead)
    assert (sorted(c[0]), sorted(c[1]), c[2], c[3]) == (sorted(py[0]), sorted(py[1]), py[2], py[3])
    assert c[3] > 0  # some directories were not read
    uncached = _speedups.walk(data, str(repo))
    assert (sorted(c[0]), sorted(c[1])) == (sorted(uncached[0]), sorted(uncached[1]))


@pytest.mark.parametrize("seed", SEEDS)
def test_status_is_the_same_under_both_cores(repo, ama, both, seed):
    rng = random.Random(1000 + seed)
    random_tree(repo, rng, 60)
    if rng.random() < 0.5:
        write(repo / ".amaignore", "*3.bin\n")
    ok(ama("add", "."))
    index_mtime = (repo / ".ama" / "index").stat().st_mtime_ns
    random_edits(repo, rng, index_mtime)
    before = (repo / ".ama" / "index").read_bytes()
    for args in (("stat-check", "--no-refresh", "--untracked"), ("status", "--porcelain", "-uall"),
                 ("status", "--porcelain")):
        r = both(repo, *args)
        assert (r["c"].rc, r["c"].out, r["c"].err) == (r["py"].rc, r["py"].out, r["py"].err), args
        assert (repo / ".ama" / "index").read_bytes() == before or args[0] == "status"
        before = (repo / ".ama" / "index").read_bytes()


def test_check_never_follows_a_symlinked_directory_out_of_the_work_tree(repo, ama, tmp_path):
    write(repo / "d" / "a.bin", b"inside")
    ok(ama("add", "."))
    outside = tmp_path / "outside"
    write(outside / "a.bin", b"inside")  # same name and size elsewhere
    shutil.rmtree(repo / "d")
    os.symlink(outside, repo / "d")
    index = Index.load(str(repo / ".ama" / "index"))
    from ama import _speedups

    assert _speedups.check(index.raw_v3(), str(repo), index.mtime_ns, 1) == [("d/a.bin", 6, 0)]
    assert _purecore.check(index.raw_v3(), str(repo), index.mtime_ns, 1) == [("d/a.bin", 6, 0)]


def test_version_names_the_active_core(tmp_path, ama_env):
    from conftest import run_ama

    def version(policy: str) -> str:
        return ok(run_ama("--version", cwd=tmp_path, env={**ama_env, "AMA_MODULE_POLICY": policy})).out

    from ama.policy import CORE_VERSION

    assert f"core: compiled (ama._speedups version {CORE_VERSION})" in version("c")
    assert "core: compiled" in version("allow")
    assert "core: pure Python" in version("py")
    assert "expected c, allow or py" in version("bogus")


def test_an_unknown_policy_is_a_usage_error(repo, ama, ama_env):
    from conftest import one_line_error, run_ama

    write(repo / "a.bin", b"a")
    ok(ama("add", "a.bin"))
    r = run_ama("status", cwd=repo, env={**ama_env, "AMA_MODULE_POLICY": "fast"})
    assert "AMA_MODULE_POLICY='fast': expected c, allow or py" in one_line_error(r, 2)


def test_the_entries_the_core_reports_are_looked_up_without_decoding_the_index(repo, ama, monkeypatch):
    from ama import statcheck
    from ama.repo import Repo

    for name in ("a.bin", "d/b.bin", "d/c.bin", "d/e.bin"):
        write(repo / name, name.encode() * 3)
    ok(ama("add", "."))
    for name, data in (("a.bin", b"grown, so modified"), ("d/e.bin", b"same size, new bytes!")):
        write(repo / "new.tmp", data)  # saved as editors do: a new inode, hashed
        os.replace(repo / "new.tmp", repo / name)
    (repo / "d" / "b.bin").unlink()
    os.rename(repo / "d" / "c.bin", repo / "d" / "moved.bin")
    monkeypatch.setattr(policy, "_core", __import__("ama._speedups").__dict__["_speedups"])
    r = Repo(str(repo))
    index = r.load_index()
    report = statcheck.check(r, index)
    assert index.raw_v3() is not None  # never decoded
    assert sorted((c.path, c.state, c.new_path) for c in report.changes) == [
        ("a.bin", statcheck.MODIFIED, None), ("d/b.bin", statcheck.DELETED, None),
        ("d/c.bin", statcheck.RENAMED, "d/moved.bin"), ("d/e.bin", statcheck.MODIFIED, None)]


@pytest.mark.parametrize("core_name", ["c", "py"])
def test_a_started_check_finishes_with_what_check_returns(tmp_path, core_name):
    # check_start + check_finish == check, in both cores; once only; the
    # compiled one's threads run between the two (several entries changed
    # meanwhile may or may not be seen, so nothing changes here meanwhile).
    from ama import _speedups

    core = _speedups if core_name == "c" else _purecore
    index = Index()
    for i in range(5000):
        rel = f"d{i % 5}/f{i}.bin"
        write(tmp_path / rel, b"x")
        index.add(rel, f"{i:064x}", os.lstat(tmp_path / rel))
    for i in range(0, 5000, 37):
        (tmp_path / f"d{i % 5}/f{i}.bin").unlink()
    data = index.serialize()
    expected = _purecore.check(data, str(tmp_path), 2**62, 1)
    assert len(expected) == len(range(0, 5000, 37))
    for threads in (1, 2, 4):
        handle = core.check_start(data, str(tmp_path), 2**62, threads)
        assert core.check_finish(handle) == expected
        with pytest.raises(ValueError, match="already finished"):
            core.check_finish(handle)
    with pytest.raises(TypeError):
        core.check_finish(object())
    # Dropped unfinished: its threads are waited for, nothing leaks or crashes.
    for _ in range(20):
        core.check_start(data, str(tmp_path), 2**62, 4)
    # The arguments are taken and checked by check_start, as check would.
    with pytest.raises(TypeError):
        core.check_finish(core.check_start(data, str(tmp_path), "0", 2))
    if core is _speedups:  # (the pure core reports every entry missing)
        with pytest.raises(FileNotFoundError):
            core.check_start(data, str(tmp_path / "gone"), 0, 2)


def test_status_starts_the_check_before_importing_the_command(repo, ama, monkeypatch, capsys):
    # The fast path of `ama status` finds the repository, loads the index and
    # begins the compiled core's check before importing ama.porcelain.status;
    # statcheck finishes that very check rather than checking again.
    from ama import _speedups, cli, statcheck

    write(repo / "a.bin", b"a")
    write(repo / "d" / "b.bin", b"b")
    ok(ama("add", "."))
    write(repo / "new.tmp", b"edited")  # saved as editors do: a new inode
    os.replace(repo / "new.tmp", repo / "a.bin")
    monkeypatch.chdir(repo)
    monkeypatch.setattr(policy, "_core", _speedups)
    args = cli.parse(["status", "--porcelain"])
    r, index, started = args._started
    assert (r.root, started[0], started[2]) == (str(repo), index.raw_v3(), index.mtime_ns)
    monkeypatch.setattr(_speedups, "check", None)  # never called
    report = statcheck.check(r, index, started=started)
    assert [(c.path, c.state) for c in report.changes] == [("a.bin", statcheck.MODIFIED)]
    with pytest.raises(ValueError, match="already finished"):
        _speedups.check_finish(started[3])
    # Begun on another index: finished and dropped, the check made afresh.
    other = Repo(str(repo)).load_index()
    handle = _speedups.check_start(other.raw_v3(), str(repo), other.mtime_ns, 2)
    report = statcheck.check(r, index, started=(other.raw_v3(), str(repo), other.mtime_ns, handle))
    assert [(c.path, c.state) for c in report.changes] == [("a.bin", statcheck.MODIFIED)]
    with pytest.raises(ValueError, match="already finished"):
        _speedups.check_finish(handle)
    assert cli.main(["status", "--porcelain"]) == 0
    assert capsys.readouterr().out == "AM a.bin\nA  d/b.bin\n"


def test_status_outside_a_repository_or_under_the_pure_core_starts_nothing(repo, ama, tmp_path, monkeypatch):
    from ama import cli

    write(repo / "a.bin", b"a")
    ok(ama("add", "."))
    monkeypatch.chdir(tmp_path)
    assert not hasattr(cli.parse(["status"]), "_started")
    monkeypatch.chdir(repo)
    monkeypatch.setattr(policy, "_core", _purecore)
    r, index, started = cli._start_status()
    assert (r.root, len(index), started) == (str(repo), 1, None)


def test_status_starts_the_check_before_importing_the_index_module(repo, ama, ama_env):
    # The check begins on the mapped index bytes before ama.index (and blake3)
    # is imported; Index.load then checks those bytes, not a second read.
    for i in range(30):
        write(repo / "d" / f"f{i}.bin", b"x")
    ok(ama("add", "."))
    script = (
        "import sys\n"
        "from ama import _speedups, policy\n"
        "seen = []\n"
        "start = _speedups.check_start\n"
        "def spy(*a):\n"
        "    seen.append('ama.index' in sys.modules or 'blake3' in sys.modules)\n"
        "    return start(*a)\n"
        "_speedups.check_start = spy\n"
        "from ama import cli\n"
        "code = cli.main(['status', '--porcelain'])\n"
        "print(seen)\n"
        "sys.exit(code)\n"
    )
    env = {**{k: v for k, v in ama_env.items() if k != "PYTHONDONTWRITEBYTECODE"}, "AMA_MODULE_POLICY": "c"}
    r = subprocess.run([sys.executable, "-c", script], cwd=repo, env=env, capture_output=True, text=True)
    assert (r.returncode, r.stdout.splitlines()[-1], r.stderr) == (0, "[False]", "")


def test_an_index_loaded_from_mapped_bytes_is_the_one_read_from_its_file(repo, ama):
    from ama.errors import Corrupt

    write(repo / "a.bin", b"a")
    ok(ama("add", "."))
    path = str(repo / ".ama" / "index")
    data = (repo / ".ama" / "index").read_bytes()
    read = Index.load(path)
    given = Index.load(path, (data, read.mtime_ns))
    assert given.raw_v3() is data
    assert (given.mtime_ns, given.checksum, sorted(given.paths())) == (read.mtime_ns, read.checksum, ["a.bin"])
    with pytest.raises(Corrupt, match="checksum mismatch"):
        Index.load(path, (data[:-1] + bytes([data[-1] ^ 1]), 0))
