"""Stop tracking files: remove them from the index, and from the work tree
unless --cached.

Directories are removed recursively with -r. A file whose content differs
from what is staged is not deleted from disk without --force.
"""

from __future__ import annotations

import argparse
import os

from .. import ui
from ..errors import BadPath, DirtyWorkTree
from ..repo import Repo
from ..staging import unstage
from ..statcheck import CLEAN, check


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("paths", nargs="+", metavar="PATH", help="tracked files (or directories with -r)")
    p.add_argument("--cached", action="store_true", help="only unstage; keep the files on disk")
    p.add_argument("-r", dest="recursive", action="store_true", help="allow removing directories recursively")
    p.add_argument("-f", "--force", action="store_true", help="delete files even if they changed since add")
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing on success")


def run(args: argparse.Namespace) -> int:
    repo = Repo.discover()
    with repo.locked_index() as (lock, index):
        targets: list[str] = []
        for user_path in args.paths:
            rel = repo.relpath(user_path)
            if rel in index:
                targets.append(rel)
                continue
            below = index.paths_under([rel])
            if not below:
                raise BadPath(f"{user_path}: is not tracked")
            if not args.recursive:
                raise BadPath(f"{user_path}: is a directory; use -r to remove it recursively")
            targets.extend(below)
        if not args.cached and not args.force:
            report = check(repo, index, paths=targets)
            changed = [c for c in report.changes if c.state != CLEAN and c.state != "deleted"]
            if changed:
                raise DirtyWorkTree(
                    f"{changed[0].path}: has changes since it was added "
                    f"({changed[0].state}); use --cached to keep it or --force to delete it"
                )
        removed = unstage(index, targets)
        index.write(lock)
    if not args.cached:
        for rel in removed:
            try:
                os.unlink(repo.abspath(rel))
            except FileNotFoundError:
                pass
    if not args.quiet:
        for rel in removed:
            ui.out(f"rm '{ui.quote_path(rel)}'")
    return 0
