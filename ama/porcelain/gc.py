"""Remove local objects nothing refers to; expire abandoned reservations.

An object is kept when the index names it, or when it is reachable from
HEAD's commit, a local ref, or a pending commit: the commits, their
parents (as far as they are stored here), their trees and the contents
those name. Everything else in .ama/objects is removed, with temporary
files left there by interrupted writes once their process is gone (an
hour old, for a name of another host or an older ama). Removing
an object removes only the store's name for it: with the hardlink link
mode a content object is the same inode as a work-tree file, and that file
is never touched (its space stays in use, which the report says).
Committed versions stay on the remote and are fetched again when needed.

--expire-reservations also marks abandoned the version reservations on the
remote (of the current asset class) that are older than --older-than HOURS
(default 24): commits that were interrupted and never resumed, which block
new commits of their asset. The reservation of this work tree's own pending
commit is never expired. --dry-run reports without changing anything.

gc holds the repository's transaction and index locks, so no commit, add or
checkout runs meanwhile. It refuses to run when core.objects puts the store
outside .ama/ (another work tree may share it).

--remote NAME without --expire-reservations collects garbage on that remote
instead of locally: it expires reservations (of every class) older than
--older-than HOURS (default 24), then removes the objects no committed
version names that are older than that too, and the temporary files and
unfinished multipart uploads older than that. While any commit is in flight
(a live reservation), or as soon as one starts, objects are left alone. See
docs/storage.md and docs/commit-protocol.md.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass, field

from .. import objects, ui
from ..assets import Assets
from ..checkout import interrupted_target
from ..errors import AmaError, UsageError
from ..fsutil import remove_stale_temps
from ..index import Index
from ..pending import Pending
from ..refs import list_refs, read_head
from ..remotes import open_repo_remote
from ..repo import Repo
from ..retention import refuse_shared_store
from ..txnlock import TxnLock

HEX = frozenset("0123456789abcdef")


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("-n", "--dry-run", action="store_true", help="report what would be removed; remove nothing")
    p.add_argument("--expire-reservations", action="store_true",
                   help="abandon stale version reservations on the remote")
    p.add_argument("--older-than", type=float, metavar="HOURS",
                   help="reservations (and with --remote: objects, temporary files) older than this (default: 24)")
    p.add_argument("--remote", metavar="NAME",
                   help="collect garbage on this remote; with --expire-reservations: the remote to expire on")


@dataclass
class Sweep:
    objects: list[str] = field(default_factory=list)
    freed: int = 0
    still_linked: int = 0
    temps: list[str] = field(default_factory=list)
    temp_bytes: int = 0


def run(args: argparse.Namespace) -> int:
    if args.older_than is not None and not (args.expire_reservations or args.remote):
        raise UsageError("--older-than goes with --expire-reservations or --remote")
    if args.older_than is not None and args.older_than < 0:
        raise UsageError("--older-than takes a number of hours from 0")
    if args.remote and not args.expire_reservations:
        return _collect_remote(args)
    repo = Repo.discover()
    refuse_shared_store(repo, "gc")
    with TxnLock(repo), repo.locked_index() as (_lock, index):
        pending = Pending.load(repo)
        keep = reachable(repo, index, pending)
        sweep = sweep_store(repo.store.root, keep, args.dry_run)
        _report_sweep(sweep, args.dry_run)
        if args.expire_reservations:
            hours = 24.0 if args.older_than is None else args.older_than
            expire(repo, args, hours * 3600, pending.txid if pending else None)
    return 0


def _collect_remote(args: argparse.Namespace) -> int:
    from ..remotegc import collect

    repo = Repo.discover()
    pending = Pending.load(repo)
    hours = 24.0 if args.older_than is None else args.older_than
    with open_repo_remote(repo, args.remote) as remote:
        sweep = collect(remote, hours * 3600, args.dry_run, keep_txid=pending.txid if pending else None)
    forms = ("would expire", "would remove") if args.dry_run else ("expired", "removed")
    if sweep.expired:
        ui.out(f"{forms[0]} {_plural(len(sweep.expired), 'reservation')}: {', '.join(sweep.expired)}")
    if sweep.objects_skipped:
        ui.out(f"left unreferenced objects alone: {sweep.objects_skipped}; run gc again later")
    elif sweep.objects:
        ui.out(f"{forms[1]} {_plural(len(sweep.objects), 'unreferenced object')}, "
               f"{ui.human_size(sweep.object_bytes)}")
    if sweep.leftovers:
        ui.out(f"{forms[1]} {len(sweep.leftovers)} temporary file(s) or unfinished upload(s), "
               f"{ui.human_size(sweep.leftover_bytes)}")
    if sweep.young:
        ui.out(f"kept {_plural(sweep.young, 'unreferenced object')} younger than {hours:g} hours")
    if not (sweep.expired or sweep.objects or sweep.leftovers or sweep.objects_skipped or sweep.young):
        ui.out(f"nothing to remove on {args.remote}")
    return 0


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def reachable(repo: Repo, index: Index, pending: Pending | None) -> set[str]:
    """Every object id that must stay: see the module docstring."""
    commits: list[str | None] = [*list_refs(repo).values(), read_head(repo).commit, interrupted_target(repo)]
    trees: list[str | None] = []
    if pending is not None:
        commits += [pending.commit, pending.parent]
        trees.append(pending.tree)
    try:
        found = objects.reachable(repo.store, commits, trees)
    except AmaError as e:
        raise type(e)(f"{e}; gc removed nothing (run 'ama fsck')", e.exit_code) from None
    return found.all() | {digest for _, digest in index.digests()}


def sweep_store(root: str, keep: set[str], dry_run: bool) -> Sweep:
    """Remove (or with ``dry_run`` only count) unreferenced objects and
    stale temporary files. Only names of the store's own shapes are
    touched: ``hh/<62 hex>`` objects and its temporary files."""
    sweep = Sweep()
    try:
        heads = sorted(os.listdir(root))
    except FileNotFoundError:
        return sweep
    for head in heads:
        directory = os.path.join(root, head)
        if len(head) != 2 or not HEX.issuperset(head) or not os.path.isdir(directory):
            continue
        for path, size in sorted(remove_stale_temps(directory, dry_run)):
            sweep.temps.append(path)
            sweep.temp_bytes += size
        for name in sorted(os.listdir(directory)):
            path = os.path.join(directory, name)
            if len(name) != 62 or not HEX.issuperset(name) or head + name in keep:
                continue
            st = _lstat(path)
            if st is None or not _remove(path, dry_run):
                continue
            sweep.objects.append(head + name)
            if st.st_nlink > 1:
                sweep.still_linked += 1
            else:
                sweep.freed += st.st_size
    return sweep


def _lstat(path: str) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except FileNotFoundError:
        return None


def _remove(path: str, dry_run: bool) -> bool:
    if dry_run:
        return True
    try:
        os.unlink(path)
        return True
    except FileNotFoundError:
        return False


def _report_sweep(sweep: Sweep, dry_run: bool) -> None:
    verb = "would remove" if dry_run else "removed"
    if not sweep.objects and not sweep.temps:
        ui.out("nothing to remove: every local object is in use")
        return
    if sweep.objects:
        n = len(sweep.objects)
        line = f"{verb} {n} unreferenced object{'' if n == 1 else 's'}, {ui.human_size(sweep.freed)} freed"
        if sweep.still_linked:
            k = sweep.still_linked
            line += (f" ({k} {'is a hardlink of a file' if k == 1 else 'are hardlinks of files'} outside the store: "
                     f"{'its' if k == 1 else 'their'} space stays in use)")
        ui.out(line)
    if sweep.temps:
        n = len(sweep.temps)
        ui.out(f"{verb} {n} stale temporary file{'' if n == 1 else 's'}, {ui.human_size(sweep.temp_bytes)}")


def expire(repo: Repo, args: argparse.Namespace, older_than: float, keep_txid: str | None) -> None:
    cls = read_head(repo).cls
    assets = Assets(open_repo_remote(repo, args.remote))
    if args.dry_run:
        names = _stale_reservations(assets, cls, older_than, keep_txid)
    else:
        names = assets.expire_reservations(cls, older_than, keep_txid=keep_txid)
    verb = "would expire" if args.dry_run else "expired"
    if names:
        ui.out(f"{verb} {len(names)} reservation{'' if len(names) == 1 else 's'}: {', '.join(names)}")
    else:
        ui.out(f"no reservation of class {cls} is older than {older_than / 3600:g} hours")


def _stale_reservations(assets: Assets, cls: str, older_than: float, keep_txid: str | None) -> list[str]:
    """What ``Assets.expire_reservations`` would abandon, read-only."""
    return [f"{cls}/{seq}/{n}" for seq, n, _ in assets.stale_reservations(cls, older_than, keep_txid)]
