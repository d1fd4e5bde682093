"""Check referenced sources, or record what they hold now.

A reference (a path added as s3://... or https://...; docs/references.md)
pins the bytes its source held when it was added. Without --check, each
reference under PATH (every one when no PATH is given) is probed again and
its entry replaced by what the source holds now, a modification that the
next commit publishes; a materialised copy of the old bytes that is
unchanged is removed from the work tree (the bytes stay in the store).
With --check nothing changes: one line per reference whose source changed
or vanished (HEAD requests only, no bytes), exit 1 if any.
"""

from __future__ import annotations

import argparse
import os

from .. import ui
from ..errors import EXIT_DIFFERS, DirtyWorkTree
from ..repo import Repo


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("paths", nargs="*", metavar="PATH", help="limit to references at or below these paths")
    p.add_argument("--check", action="store_true", help="only report sources that changed or vanished")
    p.add_argument("--hash", action="store_true", help="read the bytes once to record their BLAKE3 id")


def run(args: argparse.Namespace) -> int:
    from .. import references, sources

    repo = Repo.discover()
    prefixes = [repo.relpath(p) for p in args.paths] or [""]
    if args.check:
        index = repo.load_index()
        refs = {p: index.digest(p) for p in index.paths_under(prefixes) if p in index.reference_paths()}
        problems = references.check_all(repo.store, None, refs)
        for path, problem in problems.items():
            ui.out(f"{ui.quote_path(path)}: {problem}")
        ui.info(f"{len(refs)} reference(s) checked, {len(problems)} changed or missing")
        return EXIT_DIFFERS if problems else 0
    changed = 0
    with repo.locked_index() as (lock, index):
        ref_paths = index.reference_paths()
        paths = [p for p in index.paths_under(prefixes) if p in ref_paths]
        for path in paths:
            old = references.load(repo.store, None, index.digest(path))
            new = sources.probe(old.url)
            if args.hash or old.blake3:
                new.blake3 = sources.hash_source(new)
            new_id = references.hash_and_store(repo.store, new)
            if new_id == index.digest(path):
                continue
            full = repo.abspath(path)
            if not index.is_skip_worktree(path) and os.path.lexists(full):
                if not index.unchanged(path, full):
                    raise DirtyWorkTree(f"{path}: the materialised copy has local changes; 'ama add' it or restore it first")
                os.unlink(full)
            index.add_reference(path, new_id, new.size)
            ui.info(f"{ui.quote_path(path)}: {references.describe(old)} -> now {new.size} bytes, ETag {new.etag}")
            changed += 1
        if changed:
            index.write(lock)
    ui.info(f"{len(paths)} reference(s) probed, {changed} re-pinned")
    return 0
