"""Make the work tree hold a version: its files, nothing else that is tracked.

VERSION is CLASS/SEQ[/N], CLASS/ALIAS[/N], a commit id or HEAD; without it,
the version named by the pointer file (.ama-asset) if there is one, else the
latest version of the current asset. Missing contents are fetched from the
remote and every byte is verified. Files with unstaged changes, and
untracked files in the way, are not overwritten without --force.
"""

from __future__ import annotations

import argparse

from .. import ui
from ..checkout import materialize
from ..pointer import read_pointer
from ..refs import Head, read_head, read_ref, update_ref
from ..remotes import open_repo_remote
from ..repo import Repo
from ..revparse import resolve
from ..sync import fetch_version
from ..txn import TxnLock


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("version", nargs="?", metavar="VERSION")
    p.add_argument("-f", "--force", action="store_true", help="discard unstaged changes in the way")
    p.add_argument("--remote", help="remote to fetch from (default: core.remote, else origin)")
    p.add_argument("-j", "--jobs", type=int, default=8, help="parallel downloads (default: 8)")
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing on success")


def run(args: argparse.Namespace) -> int:
    repo = Repo.discover()
    name = args.version
    if name is None:
        pointer = read_pointer(repo)
        head = read_head(repo)
        name = pointer.name if pointer else (f"{head.asset}" if head.asset else "HEAD")
    with TxnLock(repo):
        remote = open_repo_remote(repo, args.remote)
        target = resolve(repo, name, remote)
        written, removed = checkout_version(repo, remote, target, args.force, args.jobs)
    if not args.quiet:
        ui.info(f"checked out {target.name} ({target.commit[:12]}): {written} file(s) written, {removed} removed")
    return 0


def checkout_version(repo: Repo, remote, target, force: bool, jobs: int) -> tuple[int, int]:
    """Fetch what is missing and materialise ``target`` (a Resolved)."""
    commit, files = fetch_version(repo, remote, target.commit, jobs)
    wanted = {path: (digest, size, mode) for path, digest, size, mode in files}
    head = Head(target.cls, target.seq, target.version, target.commit)
    # The ref is set only once the version's paths were accepted and placed:
    # a refused version must leave no ref behind.
    done = materialize(repo, wanted, head, force, tree=commit.tree)
    ref = f"assets/{target.cls}/{target.seq}"
    if read_ref(repo, ref) is None:
        update_ref(repo, ref, target.commit, reason=f"checkout: {target.name}")
    return done
