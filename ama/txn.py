"""The commit transaction (docs/commit-protocol.md).

Stage 1, reserve: write ``.ama/PENDING`` before anything leaves the machine,
allocate the asset's seq if it has none (create-if-absent ``asset.json``),
reserve the next version (create-if-absent ``versions/<n>.json``).

Stage 2, commit: upload the contents the remote lacks (verified), then the
trees, then the commit object; mark the version committed (compare-and-swap),
move the asset's HEAD (compare-and-swap); locally move the ref, log it,
remove ``PENDING``.

Every step is idempotent and finds its own earlier work by the transaction
id, so an interrupted transaction is completed by running it again.
"""

from __future__ import annotations

import errno
import uuid

from . import failpoint, ident, ui
from .assets import COMMITTED, RESERVED, Assets
from .errors import EXIT_IO, AmaError, Conflict, LockHeld, NotFound
from .fsutil import LockFile
from .index import Index
from .inputs import clear_inputs
from .objects import write_index_tree
from .pending import Pending
from .pointer import write_pointer
from .refs import Head, read_ref, update_ref, write_head
from .remote.base import Remote
from .repo import Repo
from .version_transfer import push_closure, push_staged


def new_pending(repo: Repo, index: Index, head: Head, message: str, remote_name: str,
                inputs: list[list[str]], meta: dict) -> Pending:
    when, tz = ident.now()
    return Pending(
        txid=uuid.uuid4().hex,
        cls=head.cls,
        seq=head.seq,
        parent=head.commit,
        tree=write_index_tree(repo.store, index),
        message=message,
        author=ident.author(repo.root),
        time=when,
        tz=tz,
        remote=remote_name,
        inputs=inputs,
        meta=meta,
    )


def execute(repo: Repo, remote: Remote, index: Index, pending: Pending, resuming: bool, jobs: int) -> str:
    """Run (or finish) the transaction; return the commit id."""
    assets = Assets(remote)
    user = pending.author
    pending.save(repo)
    failpoint.hit("after-pending")

    # Stage 1: reserve.
    if resuming and pending.version is not None and not _reservation_holds(assets, pending):
        # The reservation is gone from the remote (deleted, expired, the
        # remote reset): nothing was committed under it, so reserve afresh.
        ui.info(f"the reservation of {pending.describe()} is gone from the remote; reserving a new version")
        pending.version = None
        pending.commit = None
        if pending.parent is None and not _asset_exists(assets, pending):
            pending.seq = None
        pending.save(repo)
        resuming = False
    if pending.seq is None:
        seq = assets.find_own_seq(pending.cls, pending.txid) if resuming else None
        pending.seq = seq or assets.allocate_seq(pending.cls, pending.txid, user)
        pending.save(repo)
    failpoint.hit("after-seq")
    if pending.version is None:
        n = assets.find_own_version(pending.cls, pending.seq, pending.txid) if resuming else None
        if n is None:
            try:
                n = assets.reserve_version(pending.cls, pending.seq, pending.parent, pending.txid, user)
            except Conflict:
                # Nothing was reserved, so there is nothing to finish later:
                # the user pulls and commits afresh.
                Pending.remove(repo)
                raise
        pending.version = n
        pending.save(repo)
    failpoint.hit("after-reserve")

    # Stage 2: publish.
    commit = pending.make_commit()
    commit_id = repo.store.write_bytes(commit.serialize())
    repo.store.fsync_dirs()  # the trees and the commit, before PENDING or the remote names them
    if pending.commit != commit_id:
        pending.commit = commit_id
        pending.save(repo)
    record, _ = assets.read_version(pending.cls, pending.seq, pending.version)
    if record.get("status") != COMMITTED:
        push_staged(repo, remote, index, jobs=jobs)
        failpoint.hit("after-contents")
        push_closure(repo, remote, commit_id, pending.tree, jobs=jobs)
        # 'ama gc --remote' may have removed an object this commit found
        # present and did not send: look once more, send what is gone, and
        # only then let the version record name them (docs/commit-protocol.md,
        # "Remote garbage collection").
        push_staged(repo, remote, index, jobs=jobs)
        push_closure(repo, remote, commit_id, pending.tree, jobs=jobs)
        failpoint.hit("before-version")
        size = index.total_size()
        assets.commit_version(
            pending.cls,
            pending.seq,
            pending.version,
            pending.txid,
            {
                "commit": commit_id,
                "tree": pending.tree,
                "author": pending.author,
                "time": pending.time,
                "message": pending.message.split("\n", 1)[0],
                "size": size,
                "files": len(index),
            },
        )
    failpoint.hit("after-version")
    assets.advance_head(pending.cls, pending.seq, pending.version, commit_id, pending.parent)
    failpoint.hit("after-head")

    # Locally: ref, log, HEAD; PENDING goes last.
    try:
        _record_locally(repo, index, pending, commit_id)
    except OSError as e:
        # The version exists on the remote whatever happens here: say so,
        # not "nothing was changed". PENDING stays, so a rerun finishes.
        where = f"{e.filename}: " if e.filename else ""
        why = "no space left on device" if e.errno in (errno.ENOSPC, errno.EDQUOT) else (e.strerror or str(e))
        raise AmaError(
            f"version {pending.asset}/{pending.version} was committed on the remote, but recording it here "
            f"failed ({where}{why}); free space and run 'ama commit' again to finish",
            EXIT_IO,
        ) from e
    return commit_id


def _record_locally(repo: Repo, index: Index, pending: Pending, commit_id: str) -> None:
    ref = f"assets/{pending.cls}/{pending.seq}"
    if read_ref(repo, ref) != commit_id:
        update_ref(repo, ref, commit_id, reason=f"commit: {pending.message.splitlines()[0] if pending.message else ''}")
    failpoint.hit("after-ref")
    write_head(repo, Head(pending.cls, pending.seq, pending.version, commit_id))
    write_pointer(repo, pending.asset, pending.version, commit_id)
    cache_tree(repo, index, pending.tree)
    clear_inputs(repo)
    Pending.remove(repo)


def _reservation_holds(assets: Assets, pending: Pending) -> bool:
    """Whether the version ``pending`` reserved is still its own, reserved or committed."""
    try:
        record, _ = assets.read_version(pending.cls, pending.seq, pending.version)
    except NotFound:
        return False
    return record.get("txid") == pending.txid and record.get("status") in (RESERVED, COMMITTED)


def _asset_exists(assets: Assets, pending: Pending) -> bool:
    try:
        assets.read_asset(pending.cls, pending.seq)
    except NotFound:
        return False
    return True


def cache_tree(repo: Repo, committed: Index, tree: str) -> None:
    """Record in the index that its entries make ``tree``, if they still are
    the ones just committed and the index lock is free (never waits)."""
    lock = LockFile(repo.index_path, timeout=0)
    try:
        lock.acquire()
    except LockHeld:
        return
    try:
        index = repo.load_index()
        if index.tree != tree and index.same_content(committed):
            index.tree = tree
            index.write(lock)
    finally:
        lock.release()


def abandon(repo: Repo, remote: Remote, pending: Pending) -> bool:
    """Give up an interrupted transaction: release its reservation (if it
    got one and it is still only reserved) and remove PENDING."""
    assets = Assets(remote)
    released = False
    seq = pending.seq if pending.seq is not None else assets.find_own_seq(pending.cls, pending.txid)
    if seq is not None:
        try:
            n = pending.version or assets.find_own_version(pending.cls, seq, pending.txid)
        except NotFound:
            n = None
        if n is not None:
            try:
                record, _ = assets.read_version(pending.cls, seq, n)
            except NotFound:
                record = {}  # the reservation is gone already: nothing to release
            if record.get("status") == COMMITTED and record.get("txid") == pending.txid:
                return False
            released = bool(record) and assets.abandon(pending.cls, seq, n, pending.txid)
    Pending.remove(repo)
    return released


def version_committed(remote: Remote, pending: Pending) -> bool:
    if pending.seq is None or pending.version is None:
        return False
    try:
        record, _ = Assets(remote).read_version(pending.cls, pending.seq, pending.version)
    except NotFound:
        return False
    return record.get("status") == COMMITTED and record.get("txid") == pending.txid
