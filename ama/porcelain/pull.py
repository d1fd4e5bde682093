"""Fetch the latest version of the current asset, then check it out.

Changes staged here are carried over onto the new version, so the next
'ama commit' builds on it (its parent is the new version). A path that is
staged here and was also changed in the new version stops the pull (exit
8), and so do unstaged changes to tracked files and untracked files in the
way (exit 12); --force takes the new version's side of such a path and
discards such changes. A refused pull has still fetched (objects and the
local ref, as 'ama fetch'); HEAD, the index and the work tree are as they
were. A pending interrupted commit must be finished or abandoned first
(exit 9).
"""

from __future__ import annotations

import argparse

from .. import ui
from ..checkout import materialize
from ..errors import PendingTransaction
from ..pending import Pending
from ..refs import Head, read_head
from ..remotes import open_repo_remote
from ..repo import Repo
from ..tracking import fetch_latest, pull_files
from ..txnlock import TxnLock


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("-f", "--force", action="store_true",
                   help="discard unstaged changes in the way; conflicting paths take the new version")
    p.add_argument("--remote", help="remote to pull from (default: core.remote, else origin)")
    p.add_argument("-j", "--jobs", type=int, default=8, help="parallel downloads (default: 8)")
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing on success")


def run(args: argparse.Namespace) -> int:
    repo = Repo.discover()
    with TxnLock(repo):
        pending = Pending.load(repo)
        if pending is not None:
            raise PendingTransaction(
                f"the commit of {pending.describe()} was interrupted: finish it with 'ama commit' "
                f"(or give it up with 'ama commit --abandon'), then pull"
            )
        head = read_head(repo)
        remote = open_repo_remote(repo, args.remote)
        fetched = fetch_latest(repo, remote, head, args.jobs)
        if head.commit == fetched.commit:
            if not args.quiet:
                ui.out(f"asset {fetched.asset}: already up to date (version {fetched.version})")
            return 0
        if head.version is not None and head.version > fetched.version:
            ui.warn(f"{head.asset}: this work tree is at version {head.version}, newer than the remote's "
                    f"{fetched.version}; nothing was changed")
            return 0
        files = pull_files(repo, repo.load_index(), head.commit, fetched.files, args.force)
        target = Head(fetched.cls, fetched.seq, fetched.version, fetched.commit)
        # The index's cached root tree is the version's only when nothing
        # staged was carried over.
        exact = files == {path: (digest, size, mode) for path, digest, size, mode in fetched.files}
        written, removed = materialize(
            repo, files, target, args.force, tree=fetched.tree if exact else None, remote=remote
        )
    if not args.quiet:
        was = f"version {head.version}" if head.version else "no version"
        ui.out(
            f"asset {fetched.asset}: version {fetched.version} (was {was}): "
            f"{written} file(s) written, {removed} removed"
        )
    return 0
