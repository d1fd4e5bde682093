"""The data sets, generated once under the bench directory and reused.

Each generated set is written to a temporary name and renamed into place, with a
stamp of the parameters it was made with, so an interrupted generation is redone
and a finished one is never redone.  Work trees (the copies each tool versions)
are made from these pristine sets with `cp -a` and re-made when a benchmark has
edited them.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sysconfig
from pathlib import Path

CHUNK = 8 << 20


def _stamp(path: Path) -> Path:
    return path.with_name(path.name + ".done")


def _is_done(path: Path, params: dict) -> bool:
    stamp = _stamp(path)
    return path.exists() and stamp.exists() and json.loads(stamp.read_text()) == params


def _publish(tmp: Path, path: Path, params: dict) -> Path:
    _stamp(path).unlink(missing_ok=True)
    if path.exists():
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()
    tmp.rename(path)
    _stamp(path).write_text(json.dumps(params))
    return path


def _scratch(path: Path) -> Path:
    tmp = path.with_name(path.name + ".tmp")
    if tmp.is_dir():
        shutil.rmtree(tmp)
    elif tmp.exists():
        tmp.unlink()
    tmp.parent.mkdir(parents=True, exist_ok=True)
    return tmp


def big_file(root: Path, mib: int) -> Path:
    """One file of `mib` MiB of random (incompressible, unique) bytes."""
    path = root / f"big-{mib}MiB.bin"
    params = {"kind": "big", "mib": mib}
    if _is_done(path, params):
        return path
    tmp = _scratch(path)
    with open(tmp, "wb") as f:
        left = mib << 20
        while left:
            n = min(CHUNK, left)
            f.write(os.urandom(n))
            left -= n
    return _publish(tmp, path, params)


def small_files(root: Path, count: int, dirs: int, seed: int = 5) -> Path:
    """`count` files of 1-4 KiB of random bytes, spread evenly over `dirs` directories."""
    path = root / f"small-{count}"
    params = {"kind": "small", "count": count, "dirs": dirs, "seed": seed}
    if _is_done(path, params):
        return path
    tmp = _scratch(path)
    rng = random.Random(seed)
    per_dir = -(-count // dirs)
    for i in range(count):
        d = tmp / f"d{i // per_dir:04d}"
        if i % per_dir == 0:
            d.mkdir(parents=True)
        (d / f"f{i:06d}.bin").write_bytes(rng.randbytes(rng.randint(1024, 4096)))
    return _publish(tmp, path, params)


def tiny_files(root: Path, count: int, dirs: int) -> Path:
    """`count` files of a few bytes each (their own number), for index-size tests."""
    path = root / f"tiny-{count}"
    params = {"kind": "tiny", "count": count, "dirs": dirs}
    if _is_done(path, params):
        return path
    tmp = _scratch(path)
    per_dir = -(-count // dirs)
    for i in range(count):
        d = tmp / f"d{i // per_dir:04d}"
        if i % per_dir == 0:
            d.mkdir(parents=True)
        with open(d / f"{i:07d}", "w") as f:
            f.write(f"{i}\n")
    return _publish(tmp, path, params)


def stdlib_dir() -> Path:
    return Path(sysconfig.get_paths()["stdlib"])


def real_tree(root: Path, exclude: tuple[str, ...] = ()) -> Path:
    """A copy of this interpreter's standard library directory, as installed.

    Nobody generated it: __pycache__, test data with odd names, empty files, a static
    library, deep packages and whatever site-packages holds are all kept, except the
    top-level entries named in `exclude` (the quick run's smaller tree).
    """
    src = stdlib_dir()
    path = root / ("stdlib-" + "-".join(("no", *exclude)) if exclude else "stdlib")
    params = {"kind": "real", "src": str(src), "exclude": list(exclude)}
    if _is_done(path, params):
        return path
    tmp = _scratch(path)
    top = set(exclude)
    shutil.copytree(src, tmp, symlinks=True, ignore=lambda d, names: top & set(names) if d == str(src) else set())
    return _publish(tmp, path, params)


def push_set(root: Path, small: Path, count: int, big_mib: int) -> Path:
    """`count` of the small files plus one large file: what push and clone move."""
    path = root / f"push-{count}-{big_mib}MiB"
    params = {"kind": "push", "count": count, "big_mib": big_mib, "small": str(small)}
    if _is_done(path, params):
        return path
    tmp = _scratch(path)
    files = sorted(p for p in small.rglob("*") if p.is_file())[:count]
    for f in files:
        dest = tmp / "small" / f.relative_to(small)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(f, dest)
    with open(tmp / "large.bin", "wb") as out:
        left = big_mib << 20
        while left:
            n = min(CHUNK, left)
            out.write(os.urandom(n))
            left -= n
    return _publish(tmp, path, params)


def tree_stats(path: Path) -> dict:
    files = size = dirs = 0
    for _, dnames, fnames in os.walk(path):
        dirs += len(dnames)
        for name in fnames:
            files += 1
            size += os.lstat(os.path.join(_, name)).st_size
    return {"files": files, "dirs": dirs, "bytes": size}


def copy_tree(src: Path, dest: Path) -> None:
    """`cp -a`: a real copy (not hardlinks), so tools never share inodes."""
    if dest.exists():
        shutil.rmtree(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["cp", "-a", str(src), str(dest)], check=True)


def edit_files(tree: Path, count: int, seed: int = 7) -> list[Path]:
    """Change `count` files the way editors save: write a new file, rename it over."""
    files = sorted(p for p in tree.rglob("*") if p.is_file())
    chosen = random.Random(seed).sample(files, min(count, len(files)))
    for path in chosen:
        tmp = path.with_name(path.name + ".bench-tmp")
        tmp.write_bytes(path.read_bytes() + b"edited\n")
        os.replace(tmp, path)
    return chosen
