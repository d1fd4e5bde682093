"""Change the index directly.

PATHs are files (not directories). Without --add only paths already in the
index are updated; --add also stages new ones. --remove drops entries whose
file is gone; --force-remove drops them regardless. --refresh re-checks
snapshots without staging new content: changed paths are printed as
"PATH: needs update" and the exit code is 1. --cacheinfo MODE,ID,PATH records
an object already in the store under PATH without reading any file.
"""

from __future__ import annotations

import argparse
import os
import sys

from .. import ui
from ..errors import EXIT_DIFFERS, BadPath, NotFound, UsageError
from ..names import check_path
from ..objects import HEX64
from ..repo import Repo
from ..staging import stage, unstage
from ..statcheck import apply_refresh, check


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("paths", nargs="*", metavar="PATH")
    p.add_argument("--add", action="store_true", help="stage paths not yet in the index")
    p.add_argument("--remove", action="store_true", help="drop entries whose file no longer exists")
    p.add_argument("--force-remove", action="store_true", help="drop entries even if the file exists")
    p.add_argument("--refresh", action="store_true", help="refresh snapshots; report paths that need update")
    p.add_argument("--cacheinfo", action="append", default=[], metavar="MODE,ID,PATH", help="record a stored object")
    p.add_argument("--stdin", action="store_true", help="read paths from standard input")
    p.add_argument("-z", action="store_true", help="with --stdin: paths are NUL-separated")


def _paths(args: argparse.Namespace) -> list[str]:
    paths = list(args.paths)
    if args.stdin:
        data = sys.stdin.buffer.read()
        paths += [os.fsdecode(n) for n in data.split(b"\0" if args.z else b"\n") if n]
    return paths


def run(args: argparse.Namespace) -> int:
    repo = Repo.discover()
    rels = [repo.relpath(p) for p in _paths(args)]
    if args.refresh:
        return _refresh(repo, rels)
    with repo.locked_index() as (lock, index):
        to_stage = []
        to_remove = []
        for rel in rels:
            full = repo.abspath(rel)
            exists = os.path.lexists(full)
            if args.force_remove or (args.remove and not exists):
                to_remove.append(rel)
            elif not exists:
                raise BadPath(f"{rel}: does not exist (use --remove to drop it from the index)")
            elif os.path.isdir(full) and not os.path.islink(full):
                raise BadPath(f"{rel}: is a directory; update-index takes files (use 'ama add' for directories)")
            elif rel not in index and not args.add:
                raise BadPath(f"{rel}: is not in the index (use --add to stage it)")
            else:
                check_path(rel, rel)
                to_stage.append(rel)
        for spec in args.cacheinfo:
            _cacheinfo(repo, index, spec)
        unstage(index, to_remove)
        stage(repo, index, to_stage)
        index.write(lock)
    return 0


def _cacheinfo(repo: Repo, index, spec: str) -> None:
    try:
        mode, digest, path = spec.split(",", 2)
        st_mode = int(mode, 8)
    except ValueError:
        raise UsageError(f"--cacheinfo '{spec}': expected MODE,ID,PATH (e.g. 100644,<id>,data/x)") from None
    if not HEX64.match(digest):
        raise UsageError(f"--cacheinfo '{spec}': '{digest}' is not an object id (64 lowercase hex digits)")
    if not repo.store.has(digest):
        raise NotFound(f"--cacheinfo: object {digest} is not in the store (store it with hash-object -w)")
    size = os.stat(repo.store.path(digest)).st_size
    rel = repo.relpath(path, cwd=repo.root)
    if not rel:
        raise BadPath(f"--cacheinfo '{spec}': PATH must name a file in the work tree")
    check_path(rel, path)
    # No file was read: a snapshot of zeros, which stat-check never trusts.
    index.add_unread(rel, digest, size, st_mode)


def _refresh(repo: Repo, rels: list[str]) -> int:
    index = repo.load_index()
    report = check(repo, index, paths=rels or None)
    apply_refresh(repo, report)
    for change in report.changes:
        ui.out(f"{ui.quote_path(change.path)}: needs update")
    return EXIT_DIFFERS if report.dirty else 0
