"""Compare tracked paths with their index snapshots; one record per path.

Each record is "STATE<TAB>PATH" (renames: "renamed<TAB>OLD<TAB>NEW"); with -z
fields and records end with NUL. States: modified, damaged (modified in place
and the hardlinked cache object with it), deleted, renamed, typechange, and
with --all also clean; with --untracked also untracked. Hashing happens only
where stat cannot decide. Exit 0 if every tracked path is clean, 1 if any
differs. With --pending, a commit transaction in flight or interrupted is
reported first as "pending<TAB>.ama/PENDING" and the exit code is 9 (the
pre-commit hook of 'ama hooks install' uses this).
"""

from __future__ import annotations

import os

from .. import ui
from ..errors import EXIT_DIFFERS, EXIT_PENDING, BadPath
from ..repo import AMA_DIR, Repo
from ..statcheck import RENAMED, UNTRACKED, apply_refresh, check

TYPE_CHECKING = False  # argparse only for annotations: the fast path never imports it
if TYPE_CHECKING:
    import argparse

PENDING = "pending"


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("paths", nargs="*", metavar="PATH", help="limit to these paths (default: all tracked)")
    p.add_argument("-z", action="store_true", help="NUL-terminated fields and records")
    p.add_argument("-a", "--all", action="store_true", help="also print clean paths")
    p.add_argument("--untracked", action="store_true", help="also print untracked files (they do not change the exit code)")
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing; only the exit code")
    p.add_argument("--no-refresh", action="store_true", help="do not write refreshed snapshots back to the index")
    p.add_argument("--pending", action="store_true", help="also fail (exit 9) while a commit transaction is pending")


def run(args: argparse.Namespace) -> int:
    repo = Repo.discover()
    index = repo.load_index()
    paths = [repo.relpath(p) for p in args.paths] or None
    for user_path, rel in zip(args.paths, paths or [], strict=False):
        if not os.path.lexists(repo.abspath(rel)) and not index.paths_under([rel]):
            raise BadPath(f"{user_path}: did not match any tracked file")
    pending = args.pending and os.path.lexists(repo.pending_path)
    report = check(repo, index, paths=paths, collect_clean=args.all)
    if not args.no_refresh:
        apply_refresh(repo, report)
    if not args.quiet:
        records = [(c.state, c.path) + ((c.new_path,) if c.state == RENAMED else ()) for c in report.changes]
        records += [("clean", p) for p in report.clean]
        if args.untracked:
            records += [(UNTRACKED, p) for p in report.untracked]
        records.sort(key=lambda r: r[1])
        if pending:
            records.insert(0, (PENDING, f"{AMA_DIR}/PENDING"))
        if args.z:
            ui.out("".join("\0".join(r) + "\0" for r in records), end="")
        else:
            ui.out("".join("\t".join(r[:1] + tuple(ui.quote_path(x) for x in r[1:])) + "\n" for r in records), end="")
    if pending:
        return EXIT_PENDING
    return EXIT_DIFFERS if report.dirty else 0
