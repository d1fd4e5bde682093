"""Verify every object in the local store against its name.

Prints "damaged ID" for each object whose bytes no longer hash to its id
(for a hardlinked object this means its work-tree twin was edited in place;
the paths that use it are named), and "missing ID PATH" for staged entries
whose object is gone. Exit 0 if all is well, 1 otherwise.
"""

from __future__ import annotations

import argparse

from .. import ui
from ..errors import EXIT_DIFFERS
from ..repo import Repo


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing; only the exit code")


def run(args: argparse.Namespace) -> int:
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
