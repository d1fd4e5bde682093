"""Show or change which files of the version are materialised (a sparse work tree).

"ama sparse set PATTERN..." replaces the set, "add PATTERN..." extends it,
"list" prints it (nothing when the tree is not sparse), "disable" drops it
and materialises everything, "reapply" applies the set as it is. PATTERNs
are gitignore-style and include what they match; "!PATTERN" excludes again
("reads/" then "!reads/raw/"). set, add, disable and reapply then check out
HEAD again with what is staged on top of it: newly included files are
fetched (verified) and written, newly excluded ones are removed from the
work tree (not without --force if they have changes) and stay in the index
as not materialised: status does not report them (its long form says how
many of the tracked files are materialised), commit keeps them as they are
staged. "ama add" of a path outside the set widens it, and so does "ama mv" of a
materialised file out of it; "ama mv" of a file that is not materialised is
refused ("ama sparse add" it first). The set is kept in
.ama/sparse. A killed "ama sparse" leaves a valid work tree: each file is
either materialised and staged so, or not and staged so; running it again,
or "ama sparse reapply", finishes it.
"""

from __future__ import annotations

import argparse

from .. import ui
from ..repo import Repo


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("action", choices=("set", "add", "list", "disable", "reapply"))
    p.add_argument("patterns", nargs="*", metavar="PATTERN")
    p.add_argument("-f", "--force", action="store_true", help="remove newly excluded files even with changes")
    p.add_argument("--remote", help="remote to fetch from (default: core.remote, else origin)")
    p.add_argument("-j", "--jobs", type=int, default=8, help="parallel downloads (default: 8)")
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing on success")


def run(args: argparse.Namespace) -> int:
    from ..errors import UsageError
    from ..sparse import load, save
    from ..txnlock import TxnLock

    repo = Repo.discover()
    current = load(repo)
    if args.action == "list":
        if args.patterns:
            raise UsageError("list takes no patterns")
        ui.out("".join(p + "\n" for p in current.patterns) if current else "", end="")
        return 0
    if args.action in ("set", "add") and not args.patterns:
        raise UsageError(f"{args.action} needs at least one PATTERN")
    if args.action in ("disable", "reapply") and args.patterns:
        raise UsageError(f"{args.action} takes no patterns")
    with TxnLock(repo):
        current = load(repo)
        before = current.patterns if current else None
        if args.action == "set":
            after = list(args.patterns)
        elif args.action == "add":
            if before is None:
                raise UsageError("the work tree is not sparse (everything is materialised): use 'ama sparse set'")
            after = before + list(args.patterns)
        elif args.action == "reapply":
            after = before
        else:
            after = None
        save(repo, after)
        try:
            written, removed = _reapply(repo, args)
        except BaseException:
            save(repo, before)
            raise
    if not args.quiet:
        done = "reapplied" if args.action == "reapply" else "disabled" if after is None else "updated"
        ui.info(f"sparse set {done}: {written} file(s) written, {removed} removed")
    return 0


def _reapply(repo: Repo, args: argparse.Namespace) -> tuple[int, int]:
    """Check HEAD out again under the new set, what is staged kept staged
    (nothing to do before a first commit)."""
    from ..refs import read_head
    from ..remotes import open_repo_remote
    from ..tracking import checkout_version
    from ..version_names import resolve

    if read_head(repo).commit is None:
        return 0, 0
    remote = open_repo_remote(repo, args.remote)
    return checkout_version(repo, remote, resolve(repo, "HEAD"), args.force, args.jobs, keep_staged=True)
