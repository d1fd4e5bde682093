"""Download the latest version of the current asset without checking it out.

Reads the asset's HEAD on the remote, brings that version's commit, trees
and contents into the local store (every byte verified), and moves the
local ref (.ama/refs/assets/CLASS/SEQ, logged with reason "fetch"). The work
tree, the index and HEAD are not touched: 'ama pull' or 'ama checkout' does
that. Prints "asset CLASS/SEQ: version N (was M)", or "asset CLASS/SEQ: up to
date (version N)".
"""

from __future__ import annotations

import argparse

from .. import ui
from ..refs import read_head
from ..remotes import open_repo_remote
from ..repo import Repo
from ..tracking import fetch_latest


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("--remote", help="remote to fetch from (default: core.remote, else origin)")
    p.add_argument("-j", "--jobs", type=int, default=8, help="parallel downloads (default: 8)")
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing on success")


def run(args: argparse.Namespace) -> int:
    repo = Repo.discover()
    head = read_head(repo)
    remote = open_repo_remote(repo, args.remote)
    fetched = fetch_latest(repo, remote, head, args.jobs)
    if args.quiet:
        return 0
    if fetched.ref_moved:
        was = fetched.old_version if fetched.old_version is not None else "none"
        ui.out(f"asset {fetched.asset}: version {fetched.version} (was {was})")
    elif fetched.old_commit == fetched.commit:
        ui.out(f"asset {fetched.asset}: up to date (version {fetched.version})")
    else:
        ui.out(f"asset {fetched.asset}: up to date (version {fetched.old_version} here, {fetched.version} on the remote)")
    if head.version is not None and head.version < fetched.version:
        ui.info(f"the work tree is at version {head.version}: 'ama pull' checks out version {fetched.version}")
    return 0
