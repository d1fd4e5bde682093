"""Move or rename a tracked file or directory, in the work tree and in the
index at once (as 'git mv').

'ama mv OLD NEW' renames OLD to NEW; if NEW is an existing directory, OLD
goes inside it ('ama mv a b c DIR' moves several). The staged content moves
with the path: nothing is hashed again, and a file modified since 'ama add'
stays modified at its new path. A target that exists is refused unless -f;
an untracked OLD is refused.
"""

from __future__ import annotations

import argparse
import os

from .. import ui
from ..errors import BadPath, UsageError
from ..repo import Repo
from ..staging import move_entries


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("paths", nargs="+", metavar="PATH", help="OLD NEW, or SOURCE... DIRECTORY")
    p.add_argument("-f", "--force", action="store_true", help="overwrite an existing target file")
    p.add_argument("-n", "--dry-run", action="store_true", help="only show what would be moved")
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing on success")


def run(args: argparse.Namespace) -> int:
    if len(args.paths) < 2:
        raise UsageError("name a SOURCE and a DESTINATION")
    repo = Repo.discover()
    *sources, dest = args.paths
    dest_rel = repo.relpath(dest)
    into = os.path.isdir(repo.abspath(dest_rel)) and not os.path.islink(repo.abspath(dest_rel))
    if len(sources) > 1 and not into:
        raise BadPath(f"{dest}: is not a directory (moving several paths needs one)")
    moves = []
    for source in sources:
        rel = repo.relpath(source)
        if not rel:
            raise BadPath(f"{source}: cannot move the work tree itself")
        target = f"{dest_rel}/{rel.rsplit('/', 1)[-1]}" if into and dest_rel else rel.rsplit("/", 1)[-1] if into else dest_rel
        moves.append((source, rel, target))
    with repo.locked_index() as (lock, index):
        moved = move_entries(repo, lock, index, moves, force=args.force, dry_run=args.dry_run)
    if not args.quiet:
        for old, new in moved:
            ui.out(f"{'would rename' if args.dry_run else 'renamed'} '{ui.quote_path(old)}' -> '{ui.quote_path(new)}'")
    return 0
