"""The pure-Python twin of the compiled core (``ama/_speedups.c``): the same
functions with the same signatures and results, for machines without a
compiler and for the differential tests. ``ama/policy.py`` chooses.

(``statcheck`` does not use this twin for its own walk when the compiled
core is absent: its fused one-pass walk is faster in Python.)
"""

from __future__ import annotations

import os
import stat as statmod

from .index import MISSING, SKIP_WORKTREE, _check, _compare, _decode
from .names import is_reserved_dir
from .worktree import tracked_dirs

VERSION = 1


def check(data: bytes, root: str, since_ns: int, threads: int) -> list[tuple[str, int]]:
    """(path, state) of every entry not CLEAN and not skip-worktree."""
    version, count, _ = _check(data, "index")
    if version != 3:
        raise ValueError("not a version 3 index")
    out = []
    for path, e in _decode(data, "index", version, count).items():
        if e[7] & SKIP_WORKTREE:
            continue
        try:
            st = _lstat_below(root, path)
        except OSError:
            out.append((path, MISSING))
            continue
        state = _compare(e, st, since_ns)
        if state:
            out.append((path, state))
    return out


def _lstat_below(root: str, path: str) -> os.stat_result:
    """lstat ``path`` without following a symlink in any of its directories."""
    full = root
    *dirs, name = path.split("/")
    for d in dirs:
        full = os.path.join(full, d)
        if not statmod.S_ISDIR(os.lstat(full).st_mode):
            raise NotADirectoryError(full)
    return os.lstat(os.path.join(full, name))


def walk(data: bytes, root: str) -> tuple[list[str], list[str]]:
    """(untracked files, untracked directories): a directory holding no
    tracked path is returned without being read."""
    version, count, _ = _check(data, "index")
    if version != 3:
        raise ValueError("not a version 3 index")
    tracked = _decode(data, "index", version, count).keys()
    dirs_with_tracked = tracked_dirs(tracked)
    files: list[str] = []
    untracked_dirs: list[str] = []
    stack = [""]
    while stack:
        rel_dir = stack.pop()
        prefix = rel_dir + "/" if rel_dir else ""
        try:
            it = os.scandir(os.path.join(root, rel_dir) if rel_dir else root)
        except OSError:
            continue
        with it:
            for de in it:
                rel = prefix + de.name
                if de.is_dir(follow_symlinks=False):
                    if is_reserved_dir(de.name):
                        continue
                    if rel in dirs_with_tracked:
                        stack.append(rel)
                    else:
                        untracked_dirs.append(rel)
                elif de.is_file(follow_symlinks=False) and rel not in tracked:
                    files.append(rel)
    return files, untracked_dirs
