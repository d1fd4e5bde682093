"""Run the compiled core (a build given on the command line, e.g. one made
with -fsanitize=address,undefined by `make test-core-asan`) against its
pure-Python twin on random trees and edits, through the directory cache
too, and feed it damaged index and cache bytes; and its store_new (the
bulk of `ama add`) and BLAKE3 likewise; exit 1 on any difference.

Usage: python scripts/core_sanitized.py PATH/TO/_speedups.so [TRIALS]
"""

import importlib.util
import os
import random
import shutil
import sys
import tempfile
import time

from ama import _purecore
from ama.index import Index


def load(path: str):
    spec = importlib.util.spec_from_file_location("_speedups", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def build(root: str, rng: random.Random) -> Index:
    dirs = [""]
    index = Index()
    for i in range(rng.randint(0, 300)):
        if rng.random() < 0.15:
            dirs.append(os.path.join(rng.choice(dirs), f"d{i}"))
        rel = os.path.join(rng.choice(dirs), f"f{i}")
        os.makedirs(os.path.join(root, os.path.dirname(rel)), exist_ok=True)
        with open(os.path.join(root, rel), "wb") as f:
            f.write(b"x" * rng.randint(0, 30))
        index.add(rel, f"{i:064x}", os.lstat(os.path.join(root, rel)))
        if rng.random() < 0.05:
            index.set_skip_worktree(rel)
    return index


def edit(root: str, index: Index, rng: random.Random) -> None:
    paths = sorted(index.paths())
    for _ in range(rng.randint(0, 20)):
        if not paths:
            return
        full = os.path.join(root, rng.choice(paths))
        how = rng.choice(["rm", "grow", "dir", "link", "new", "rmtree"])
        try:
            if how == "rm":
                os.unlink(full)
            elif how == "grow":
                with open(full, "ab") as f:
                    f.write(b"+")
            elif how == "dir":
                os.unlink(full)
                os.makedirs(os.path.join(full, "x"))
            elif how == "link":
                os.unlink(full)
                os.symlink("/", full)
            elif how == "new":
                with open(full + ".new", "wb") as f:
                    f.write(b"n")
            elif how == "rmtree" and os.path.dirname(full) != root:
                shutil.rmtree(os.path.dirname(full))
        except OSError:
            pass


def store_trial(core, seed: int) -> int:
    """store_new of the compiled core and of the twin on two copies of one
    random tree (sizes around the limit, duplicates, a symlink, a FIFO, a
    directory, a missing name), and BLAKE3 of random lengths: differences."""
    from blake3 import blake3

    from ama.index import _stat_record

    rng = random.Random(seed)
    bad = 0
    for _ in range(20):
        data = rng.randbytes(rng.choice([0, 1, 63, 64, 65, 1023, 1024, 1025, 3000, rng.randrange(70000)]))
        if core.blake3(data) != blake3(data).digest():
            print(f"seed {seed}: blake3 of {len(data)} bytes differs")
            bad += 1
    base = tempfile.mkdtemp(prefix="ama-store-")
    try:
        tree = os.path.join(base, "tree")
        paths = []
        for i in range(rng.randint(1, 300)):
            rel = f"d{i % 5}/f{i}"
            os.makedirs(os.path.join(tree, f"d{i % 5}"), exist_ok=True)
            with open(os.path.join(tree, rel), "wb") as f:
                f.write(b"same" if i % 9 == 0 else rng.randbytes(rng.choice([0, 7, 2048, 2049, rng.randrange(3000)])))
            paths.append(rel)
        os.symlink("f0", os.path.join(tree, "d0", "link"))
        os.makedirs(os.path.join(tree, "d0", "dir"))
        paths += ["d0/link", "d0/fifo", "d0/dir", "d0/missing"]
        rng.shuffle(paths)
        results = {}
        for name, module in (("c", core), ("py", _purecore)):
            root = os.path.join(base, name)
            shutil.copytree(tree, root, symlinks=True)
            os.mkfifo(os.path.join(root, "d0", "fifo"))
            objects = os.path.join(base, name + "-objects")
            for i in range(256):
                os.makedirs(os.path.join(objects, f"{i:02x}"))
            out = module.store_new(root, objects, paths, 2048, rng.choice([1, 2, 4]))
            results[name] = [
                (r[0], r[2], r[3], r[1] == _stat_record(os.lstat(os.path.join(root, p)))) if isinstance(r, tuple) else r
                for p, r in zip(paths, out)
            ]
        c, py = results["c"], results["py"]
        # which of two equal files is linked first is the threads' business
        strip = [[(r[0], r[1], r[3]) if isinstance(r, tuple) else r for r in x] for x in (c, py)]
        if strip[0] != strip[1] or not all(r[3] for r in c if isinstance(r, tuple)):
            print(f"seed {seed}: store_new differs: {c} != {py}")
            bad += 1
    finally:
        shutil.rmtree(base)
    return bad


def main() -> int:
    core = load(sys.argv[1])
    trials = int(sys.argv[2]) if len(sys.argv) > 2 else 40
    bad = 0
    for seed in range(trials):
        rng = random.Random(seed)
        root = tempfile.mkdtemp(prefix="ama-core-")
        try:
            index = build(root, rng)
            index.mtime_ns = rng.choice([0, 1 << 62])
            data = index.serialize()
            ahead = time.time_ns() + 3600 * 10**9
            old = time.time_ns() - 3600 * 10**9
            for dirpath, _, _ in os.walk(root):
                os.utime(dirpath, ns=(old, old))
            cache = core.walk(data, root, b"", ahead)[2]
            edit(root, index, rng)
            for threads in (1, 4):
                c = sorted(core.check(data, root, index.mtime_ns, threads))
                py = sorted(_purecore.check(data, root, index.mtime_ns, threads))
                if c != py:
                    print(f"seed {seed}: check differs: {c} != {py}")
                    bad += 1
                started = sorted(core.check_finish(core.check_start(data, root, index.mtime_ns, threads)))
                if started != py:
                    print(f"seed {seed}: check_start/check_finish differs: {started} != {py}")
                    bad += 1
                core.check_start(data, root, index.mtime_ns, threads)  # dropped unfinished
            for records in (b"", cache):
                c_walk = [sorted(x) if isinstance(x, list) else x for x in core.walk(data, root, records, ahead)]
                py_walk = [sorted(x) if isinstance(x, list) else x for x in _purecore.walk(data, root, records, ahead)]
                if c_walk != py_walk:
                    print(f"seed {seed}: walk differs: {c_walk} != {py_walk}")
                    bad += 1
            for _ in range(5):
                damaged = bytearray(cache)
                for _ in range(rng.randint(1, 4)):
                    if damaged:
                        damaged[rng.randrange(len(damaged))] = rng.randrange(256)
                damaged = bytes(damaged[: rng.randint(0, len(damaged))]) if rng.random() < 0.3 else bytes(damaged)
                c_walk = [sorted(x) if isinstance(x, list) else x for x in core.walk(data, root, damaged, ahead)]
                py_walk = [sorted(x) if isinstance(x, list) else x for x in _purecore.walk(data, root, damaged, ahead)]
                if c_walk[:2] != py_walk[:2]:
                    print(f"seed {seed}: walk through a damaged cache differs: {c_walk} != {py_walk}")
                    bad += 1
            for broken in (data[:60], data[:-40], b"AMAINDEX" + bytes(70)):
                for run, args in ((core.check, (broken, root, 0, 2)), (core.check_start, (broken, root, 0, 2)),
                                  (core.walk, (broken, root))):
                    try:
                        run(*args)
                    except ValueError:
                        pass
        finally:
            shutil.rmtree(root)
        bad += store_trial(core, seed)
    print(f"{trials} trials, {bad} differences")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
