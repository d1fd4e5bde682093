"""Verify every stored object against its name, locally or on a remote.

Without --remote: every object in the local store. Prints "damaged ID" for
each object whose bytes no longer hash to its id (for a hardlinked object
this means its work-tree twin was edited in place; the paths that use it
are named), and "missing ID PATH" for staged entries whose object is gone.

With --remote NAME: every committed version on that remote (or those of
--asset CLASS, CLASS/SEQ, CLASS/ALIAS or CLASS/SEQ/N): its commit, every
tree and every content must be there, commits and trees must hash to their
ids, contents must have the size their tree gives (--full: every content is
read and hashed; --sample N: N random contents are). One line per problem,
tab-separated: PROBLEM KIND ID VERSIONS, PROBLEM being missing, damaged,
wrong-size or bad-record, VERSIONS the versions it breaks (comma-separated).
--repair then puts a good copy from the local store over each missing or
damaged object (verified before it is sent, read back and hashed after)
and prints "repaired KIND ID".

Exit 0 if all is well (or everything found was repaired), 1 otherwise.
"""

from __future__ import annotations

import argparse

from .. import ui
from ..errors import EXIT_DIFFERS, UsageError
from ..repo import Repo


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing; only the exit code")
    p.add_argument("--remote", metavar="NAME", help="check the committed versions on this remote")
    depth = p.add_mutually_exclusive_group()
    depth.add_argument("--full", action="store_true", help="with --remote: read and hash every content")
    depth.add_argument("--sample", type=int, metavar="N", help="with --remote: read and hash N random contents")
    p.add_argument("--asset", metavar="NAME", help="with --remote: only CLASS, CLASS/SEQ, CLASS/ALIAS or CLASS/SEQ/N")
    p.add_argument("--repair", action="store_true",
                   help="with --remote: put good local copies over missing or damaged objects")
    p.add_argument("-j", "--jobs", type=int, default=8, help="with --remote: parallel reads (default: 8)")


def run(args: argparse.Namespace) -> int:
    if args.remote is None:
        if args.full or args.sample is not None or args.asset or args.repair:
            raise UsageError("--full, --sample, --asset and --repair go with --remote NAME")
        return _check_local(args)
    if args.sample is not None and args.sample < 0:
        raise UsageError("--sample takes a number of contents from 0")
    if args.jobs < 1:
        raise UsageError(f"--jobs must be at least 1, not {args.jobs}")
    return _check_remote(args)


def _check_local(args: argparse.Namespace) -> int:
    repo = Repo.discover()
    store = repo.store
    index = repo.load_index()
    users: dict[str, list[str]] = {}
    for path, digest in index.digests():
        users.setdefault(digest, []).append(path)
    bad = 0
    checked = 0
    with ui.Progress("Checking objects", unit="objects") as bar:
        for digest in store.iter_ids():
            checked += 1
            bar.advance()
            if not store.verify(digest):
                bad += 1
                paths = users.get(digest, [])
                where = f" (used by {', '.join(paths[:3])}{' ...' if len(paths) > 3 else ''})" if paths else ""
                if not args.quiet:
                    ui.out(f"damaged {digest}{where}")
    for digest, paths in sorted(users.items()):
        if not store.has(digest):
            bad += 1
            if not args.quiet:
                ui.out(f"missing {digest} {paths[0]}")
    if not args.quiet:
        ui.info(f"checked {checked} object(s): {bad} problem(s)")
    return EXIT_DIFFERS if bad else 0


def _check_remote(args: argparse.Namespace) -> int:
    from ..assets import Assets
    from ..remotecheck import check_heads, check_remote, committed_versions, repair
    from ..remotes import open_repo_remote

    repo = Repo.discover()
    with open_repo_remote(repo, args.remote) as remote:
        assets = Assets(remote)
        versions = committed_versions(assets, args.asset)
        with ui.Progress("Checking objects", unit="objects") as bar:
            report = check_remote(remote, versions, full=args.full, sample=args.sample or 0,
                                  jobs=args.jobs, progress=bar.advance)
        problems = report.problems + check_heads(assets, versions)
        for p in problems if not args.quiet else ():
            ui.out(f"{p.what}\t{p.kind}\t{p.name}\t{','.join(p.versions)}")
        left = len(problems)
        if args.repair and problems:
            fixed, unfixable = repair(remote, repo.store, problems, args.jobs)
            kinds = {p.name: p.kind for p in problems}
            for digest in fixed if not args.quiet else ():
                ui.out(f"repaired\t{kinds[digest]}\t{digest}")
            left -= len(fixed)
            if unfixable and not args.quiet:
                ui.info(f"{len(unfixable)} object(s) have no good copy in the local store to repair from")
    if not args.quiet:
        hashed = f", {report.hashed} read and hashed" if report.hashed else ""
        ui.info(f"checked {len(report.versions)} version(s), {report.objects} object(s){hashed} "
                f"on {args.remote}: {len(problems)} problem(s)"
                + (f", {len(problems) - left} repaired" if args.repair and problems else ""))
    return EXIT_DIFFERS if left else 0
