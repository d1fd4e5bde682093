"""Make the work tree hold a version: its files, nothing else that is tracked.

VERSION is CLASS/SEQ[/N], CLASS/ALIAS[/N], a commit id or HEAD; without it,
the version named by the pointer file (.ama-asset) if there is one, else the
latest version of the current asset. Missing contents are fetched from the
remote and every byte is verified. Files with unstaged changes, and
untracked files in the way, are not overwritten without --force.

With paths, "ama checkout VERSION -- PATH...", only the files at or below
each PATH are taken from VERSION, written and staged; nothing else changes
(HEAD stays). Only the trees on the way to the paths and the contents of
those files are fetched, verified. A file whose bytes are neither the staged
nor the checked-out content is not overwritten without --force. (To bring
back the staged content of a file, use "ama restore PATH".)
"""

from __future__ import annotations

import argparse

from .. import ui
from ..repo import Repo
from ..txnlock import TxnLock


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("version", nargs="?", metavar="VERSION")
    p.add_argument("paths", nargs="*", metavar="PATH", help="only these files or directories (after --)")
    p.add_argument("-f", "--force", action="store_true", help="discard unstaged changes in the way")
    p.add_argument("--remote", help="remote to fetch from (default: core.remote, else origin)")
    p.add_argument("-j", "--jobs", type=int, default=8, help="parallel downloads (default: 8)")
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing on success")


def run(args: argparse.Namespace) -> int:
    repo = Repo.discover()
    if args.paths:
        return _checkout_paths(repo, args)
    # Imported here: a path-limited checkout needs none of them.
    from ..errors import Corrupt
    from ..pointer import POINTER_FILE, read_pointer
    from ..refs import read_head
    from ..remotes import open_repo_remote
    from ..tracking import checkout_version
    from ..version_names import resolve

    name, pointer = args.version, None
    if name is None:
        pointer = read_pointer(repo)
        head = read_head(repo)
        name = pointer.name if pointer else (f"{head.asset}" if head.asset else "HEAD")
    with TxnLock(repo):
        remote = open_repo_remote(repo, args.remote)
        target = resolve(repo, name, remote)
        if pointer is not None and target.commit != pointer.commit:
            raise Corrupt(f"{POINTER_FILE} pins {pointer.name} as commit {pointer.commit[:12]}, but {pointer.name} "
                          f"on the remote is commit {target.commit[:12]}: fix the pointer file or check out by name")
        written, removed = checkout_version(repo, remote, target, args.force, args.jobs)
    if not args.quiet:
        ui.info(f"checked out {target.name} ({target.commit[:12]}): {written} file(s) written, {removed} removed")
    return 0


def _checkout_paths(repo: Repo, args: argparse.Namespace) -> int:
    from ..access import open_source
    from ..restore import from_version, restore
    from .restore import report

    rels = [repo.relpath(p) for p in args.paths]
    with TxnLock(repo):
        source = open_source(args.remote, repo.root)
        files = from_version(source.version(args.version), rels)
        with ui.Progress("Downloading", total=sum(f[1] for f in files.values()), unit="bytes") as bar:
            written, already = restore(repo, source, files, stage=True, force=args.force, jobs=args.jobs, progress=bar.advance)
    report(written, already, args.quiet)
    return 0
