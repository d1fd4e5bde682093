"""Show what the local object store holds, and what 'ama prune' would free.

The store's objects sorted by what they are for: contents of checked-out
and staged files (and how much of that is shared with the work-tree files
themselves, by hardlink), contents of kept versions and of a pending commit,
contents only older versions use (what 'ama prune' removes), trees and
commits, and objects nothing names ('ama gc' removes those). With the
remote reachable (--remote, default core.remote, else origin), also how
many staged contents it does not have yet (unpushed); --offline skips that.
"""

from __future__ import annotations

import argparse
import time

from .. import ui
from ..errors import AmaError
from ..pending import Pending
from ..remotes import default_name, open_repo_remote
from ..repo import Repo
from ..retention import plan, usage


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("--keep", type=int, default=1, metavar="N", help="the window 'ama prune --keep N' would keep (default: 1)")
    p.add_argument("--keep-days", type=float, default=0.0, metavar="DAYS", help="as 'ama prune --keep-days'")
    p.add_argument("--remote", metavar="NAME", help="the remote to compare with (default: core.remote, else origin)")
    p.add_argument("--offline", action="store_true", help="do not ask the remote what is unpushed")


def run(args: argparse.Namespace) -> int:
    repo = Repo.discover()
    index = repo.load_index()
    result = plan(repo, index, Pending.load(repo), max(1, args.keep), max(0.0, args.keep_days), time.time())
    u = usage(repo, result)
    rows = [
        ("checked out or staged", u.tracked, f"{ui.human_size(u.shared)} shared with work-tree files" if u.shared else ""),
        ("kept versions, pending", u.pending, ""),
        ("older versions", u.older, f"ama prune frees {ui.human_size(u.older_freed)}" if u.older[0] else ""),
        ("trees and commits", u.metadata, ""),
        ("unreferenced", u.unreferenced, "ama gc removes them" if u.unreferenced[0] else ""),
    ]
    for label, (count, size), note in rows:
        ui.out(f"{label:<24}{count:>9} {ui.human_size(size):>10}" + (f"  ({note})" if note else ""))
    ui.out(f"{'total':<24}{'':>9} {ui.human_size(u.total):>10}")
    if not args.offline and result.tracked:
        name = args.remote or default_name(repo)
        try:
            with open_repo_remote(repo, name) as remote:
                present = remote.has_objects(result.tracked)
        except AmaError as e:
            ui.out(f"unpushed: unknown ({e})")
            return 0
        missing = [d for d in result.tracked if d not in present]
        size = sum(result.tracked[d] for d in missing)
        ui.out(f"unpushed: {len(missing)} staged content(s), {ui.human_size(size)}, not on {name}")
    return 0
