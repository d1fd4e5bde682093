"""Free local space: remove contents of older versions that the remote holds.

The local store keeps the contents of the checked-out and staged files, of
a pending commit, of the current version and of a recent window: the
--keep newest versions of each asset's history here (default 1) and every
version committed in the last --keep-days days (default 0). The contents
only older versions name are removed from .ama/objects once the remote
(--remote, default core.remote, else origin) is verified to hold each of
them: present and of the same size, or with --hash downloaded and hashed.
If the remote lacks any of them, or cannot be reached, nothing is removed.
Trees and commits stay, so log, diff and show keep working; checking out a
pruned version fetches its contents again. --dry-run reports what would be
removed and how much space it would free.
"""

from __future__ import annotations

import argparse
import time

from .. import ui
from ..errors import AmaError, IntegrityError, NotFound, UsageError
from ..pending import Pending
from ..remote.base import short
from ..remotes import default_name, open_repo_remote
from ..repo import Repo
from ..retention import check_remote_holds, plan, refuse_shared_store, remove_contents
from ..txnlock import TxnLock


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("-n", "--dry-run", action="store_true", help="report what would be removed; remove nothing")
    p.add_argument("--keep", type=int, default=1, metavar="N",
                   help="keep the contents of the N newest versions of each asset (default: 1)")
    p.add_argument("--keep-days", type=float, default=0.0, metavar="DAYS",
                   help="also keep versions committed in the last DAYS days (default: 0)")
    p.add_argument("--remote", help="the remote that must hold what is removed (default: core.remote, else origin)")
    p.add_argument("--hash", action="store_true",
                   help="download each content and check its hash before removing it (default: presence and size)")
    p.add_argument("-j", "--jobs", type=int, default=8, help="parallel checks of the remote (default: 8)")


def run(args: argparse.Namespace) -> int:
    if args.keep < 1:
        raise UsageError("--keep takes a number of versions from 1 (the current version is always kept)")
    if args.keep_days < 0:
        raise UsageError("--keep-days takes a number of days from 0")
    if args.jobs < 1:
        raise UsageError(f"--jobs must be at least 1, not {args.jobs}")
    repo = Repo.discover()
    refuse_shared_store(repo, "prune")
    with TxnLock(repo), repo.locked_index() as (_lock, index):
        result = plan(repo, index, Pending.load(repo), args.keep, args.keep_days, time.time())
        if not result.older:
            ui.out("nothing to prune: the store holds only contents of kept versions and staged files")
            return 0
        name = args.remote or default_name(repo)
        try:
            with open_repo_remote(repo, name) as remote:
                problems = check_remote_holds(remote, result.older, args.hash, args.jobs)
        except AmaError as e:
            raise type(e)(f"{e}; prune removed nothing", e.exit_code) from None
        if problems:
            first = problems[0]
            more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
            cls = NotFound if all(p.problem == "missing" for p in problems) else IntegrityError
            raise cls(
                f"remote {name} does not hold content {short(first.digest)} intact ({first.problem}){more}; "
                f"prune removed nothing: check the remote with 'ama fsck --remote {name}'"
            )
        versions = ", ".join(result.older_versions[:5]) + (
            f" and {len(result.older_versions) - 5} more" if len(result.older_versions) > 5 else ""
        )
        if args.dry_run:
            freed = sum(result.older.values())
            ui.out(f"would remove {_count(len(result.older))} of {versions}, {ui.human_size(freed)}; "
                   f"remote {name} holds every one")
            return 0
        removed, freed, linked = remove_contents(repo, result.older)
    line = f"removed {_count(removed)} of {versions}, {ui.human_size(freed)} freed"
    if linked:
        line += f" ({linked} still linked from files outside the store: their space stays in use)"
    ui.out(line)
    return 0


def _count(n: int) -> str:
    return f"{n} content{'' if n == 1 else 's'}"
