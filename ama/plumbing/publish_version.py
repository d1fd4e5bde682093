"""Publish COMMIT as the version it names, reserved by 'ama reserve-version'
with the transaction id TXID (stage 2 of a commit).

Uploads what the remote lacks of the commit's contents (from the object
store, else the work-tree file at the same path; every byte verified), then
its trees and the commit object; turns the reservation into the committed
version (compare-and-swap) and moves the asset's HEAD on the remote
(compare-and-swap). Then, locally, moves the ref assets/CLASS/SEQ (if it is
at the commit's parent) and, if the work tree is on that asset, HEAD and
.ama-asset. Every step is skipped when an earlier run did it: after a crash,
run the same command again; after success it changes nothing.
"""

from __future__ import annotations

import argparse

from .. import ui
from ..assets import ABANDONED, COMMITTED, Assets
from ..errors import Conflict, NotFound, UsageError
from ..objects import Commit, object_type, walk_tree
from ..refs import ZERO, read_head, read_ref
from ..remotes import default_name, open_repo_remote
from ..repo import Repo
from ..store import resolve_prefix
from ..txn import local_failure, publish, record_locally
from ..txnlock import TxnLock
from .reserve_version import TXID


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("commit", metavar="COMMIT", help="the commit object ('ama commit-tree' prints its id)")
    p.add_argument("--txid", required=True, metavar="TXID", help="the transaction that reserved its version")
    p.add_argument("--remote", help="remote to publish on (default: core.remote, else origin)")
    p.add_argument("-j", "--jobs", type=int, default=8, help="parallel uploads (default: 8)")


def run(args: argparse.Namespace) -> int:
    repo = Repo.discover()
    if not TXID.match(args.txid):
        raise UsageError(f"--txid '{args.txid}': use up to 128 letters, digits, '.', '_' and '-'")
    commit_id = resolve_prefix(repo.store, args.commit)
    data = repo.store.read_bytes(commit_id)
    if object_type(data) != "commit":
        raise NotFound(f"{args.commit} is not a commit")
    commit = Commit.parse(data, commit_id)
    cls, _, seq_text = commit.asset.partition("/")
    if not seq_text.isdigit():
        raise UsageError(f"commit {commit_id[:12]} names no asset version ('asset {commit.asset}')")
    seq, n = int(seq_text), commit.version
    name = f"{commit.asset}/{n}"
    with TxnLock(repo):
        remote = open_repo_remote(repo, args.remote or default_name(repo), committing=True)
        _check_reservation(Assets(remote), cls, seq, n, name, args.txid, commit_id, commit)
        files, refs = [], set()
        for path, entry in walk_tree(repo.store.read_bytes, commit.tree):
            files.append((path, entry.digest, entry.size))
            if entry.kind == "ref":
                refs.add(path)
        publish(repo, remote, commit_id, commit, args.txid, files, refs, args.jobs)
        try:
            _record(repo, commit_id, commit, cls, seq)
        except OSError as e:
            raise local_failure(e, name, f"run 'ama publish-version {commit_id} --txid {args.txid}' again") from e
    return 0


def _check_reservation(assets: Assets, cls: str, seq: int, n: int, name: str, txid: str, commit_id: str,
                       commit: Commit) -> None:
    """Refuse, changing nothing, unless version ``name`` is reserved (or
    already committed) by ``txid`` on top of the commit's parent."""
    try:
        record, _ = assets.read_version(cls, seq, n)
    except NotFound:
        raise NotFound(f"version {name} is not reserved on {assets.remote.url}: "
                       f"reserve it first with 'ama reserve-version'") from None
    if record.get("txid") != txid:
        raise Conflict(f"version {name} was reserved by another transaction, not {txid}; nothing was changed")
    status = record.get("status")
    if status == COMMITTED:
        if record.get("commit") != commit_id:
            raise Conflict(f"version {name} is already committed with another commit "
                           f"({str(record.get('commit'))[:12]}); nothing was changed")
        return
    if status == ABANDONED:
        raise Conflict(f"the reservation of version {name} was abandoned (cancelled or expired); "
                       f"reserve a new version with 'ama reserve-version'")
    if record.get("parent") != commit.parent:
        reserved = (record.get("parent") or "none")[:12]
        raise UsageError(f"commit {commit_id[:12]} has parent {(commit.parent or 'none')[:12]} but version {name} "
                         f"was reserved on top of {reserved}; write the commit with that parent")


def _record(repo: Repo, commit_id: str, commit: Commit, cls: str, seq: int) -> None:
    """The local ref moves only forward (from the parent); HEAD and the
    pointer file only if the work tree is on this asset at that point."""
    ref = f"assets/{commit.asset}"
    current = read_ref(repo, ref)
    if current not in (commit_id, commit.parent):
        ui.info(f"published {commit.asset}/{commit.version}; the local ref {ref} is at "
                f"{(current or ZERO)[:12]}, not at the commit's parent, so it was left as it is")
        return
    head = read_head(repo)
    on_asset = head.cls == cls and head.seq in (seq, None) and head.commit in (commit_id, commit.parent)
    record_locally(repo, commit_id, commit, move_head=on_asset)
