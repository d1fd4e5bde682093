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
from collections.abc import Collection

from . import failpoint, ident, ui
from .assets import ABANDONED, COMMITTED, RESERVED, Assets
from .errors import EXIT_IO, AmaError, Conflict, DirtyWorkTree, IntegrityError, LockHeld, NotFound, UsageError
from .fsutil import LockFile
from .index import Index
from .inputs import clear_inputs, read_inputs
from .objects import Commit, write_index_tree
from .pending import Pending
from .pointer import write_pointer
from .refs import Head, read_head, read_ref, update_ref, write_head
from .remote.base import Remote
from .remotes import default_name, open_repo_remote
from .repo import Repo
from .version_transfer import push_closure, push_contents


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


def commit_staged(repo: Repo, message: str | None, remote: str | None = None, jobs: int = 8,
                  head: Head | None = None) -> str | None:
    """Commit the staged files as the next version of ``head``'s asset (the
    work tree's by default; ``Head(cls)`` for a new asset); return the commit
    id, or None if there is nothing to commit. The caller holds the
    ``TxnLock`` and has finished any interrupted commit. Refuses tracked
    files changed since 'ama add' (``DirtyWorkTree``, ``IntegrityError``) and
    a missing message (``UsageError``)."""
    from .provenance import collect

    index = repo.load_index()
    head = head or read_head(repo)
    refuse_dirty(repo, index, remote)
    inputs = read_inputs(repo)
    if not index and head.commit is None:
        return None
    if head.commit and not inputs:
        tree = write_index_tree(repo.store, index)
        from .worktree import head_commit

        if head_commit(repo, head.commit).tree == tree:
            return None
    if not message:
        raise UsageError("give the version a message with -m MESSAGE")
    remote_name = remote or default_name(repo)
    opened = open_repo_remote(repo, remote_name, committing=True)
    pending = new_pending(repo, index, head, message, remote_name, inputs, collect(repo.root))
    return execute(repo, opened, index, pending, resuming=False, jobs=jobs)


def refuse_dirty(repo: Repo, index: Index, remote_name: str | None = None) -> None:
    """Stop a commit while a tracked file was modified, deleted, renamed or
    damaged since 'ama add': one error naming the first, with what to run."""
    from .statcheck import DAMAGED, check

    report = check(repo, index)
    damaged = [c for c in report.changes if c.state == DAMAGED]
    if damaged:
        raise IntegrityError(_damaged_message(repo, index, damaged, remote_name))
    if report.changes:
        c = report.changes[0]
        more = f" (and {len(report.changes) - 1} more)" if len(report.changes) > 1 else ""
        what = f"{c.state} -> {c.new_path}" if c.new_path else c.state
        hint = "'ama add' it" if c.state != "deleted" else f"'ama add {c.path}' to stage the deletion"
        hint += " (or 'ama commit -a' to stage every such change)"
        raise DirtyWorkTree(f"{c.path}: {what} since 'ama add'{more}; run {hint}, then commit")


def _damaged_message(repo: Repo, index: Index, damaged: list, remote_name: str | None) -> str:
    """A file edited in place through its hardlinked cache: the bytes it was
    added with are gone from this machine; say whether the remote has them."""
    c = damaged[0]
    more = f" (and {len(damaged) - 1} more)" if len(damaged) > 1 else ""
    digest = index.digest(c.path)
    try:
        with open_repo_remote(repo, remote_name) as remote:
            kept = digest in remote.has_objects([digest])
        where = "the remote still has them" if kept else "the remote does not have them"
    except AmaError:
        where = "the remote could not be asked whether it has them"
    return (
        f"{c.path}: edited in place since 'ama add'{more}, and its hardlinked copy in the object store "
        f"with it: the added bytes are lost here ({where}); nothing was uploaded. "
        f"Run 'ama add {c.path}', then commit"
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
        pending.seq = own_seq(assets, pending.cls, pending.txid, user, look=resuming)
        pending.save(repo)
    failpoint.hit("after-seq")
    if pending.version is None:
        try:
            pending.version = own_version(assets, pending.cls, pending.seq, pending.parent, pending.txid, user,
                                          look=resuming)
        except Conflict:
            # Nothing was reserved, so there is nothing to finish later:
            # the user pulls and commits afresh.
            Pending.remove(repo)
            raise
        pending.save(repo)
    failpoint.hit("after-reserve")

    # Stage 2: publish.
    commit = pending.make_commit()
    commit_id = repo.store.write_bytes(commit.serialize())
    repo.store.fsync_dirs()  # the trees and the commit, before PENDING or the remote names them
    if pending.commit != commit_id:
        pending.commit = commit_id
        pending.save(repo)
    files = [(path, digest, size) for path, digest, size, _ in index.files()]
    publish(repo, remote, commit_id, commit, pending.txid, files, index.reference_paths(), jobs)

    # Locally: ref, log, HEAD; PENDING goes last.
    try:
        record_locally(repo, commit_id, commit)
        cache_tree(repo, index, pending.tree)
        clear_inputs(repo)
        Pending.remove(repo)
    except OSError as e:
        raise local_failure(e, f"{pending.asset}/{pending.version}", "run 'ama commit' again") from e
    return commit_id


def own_seq(assets: Assets, cls: str, txid: str, user: str, look: bool) -> int:
    """The seq of transaction ``txid``'s new asset of class ``cls``: the one
    it allocated earlier (looked for only if ``look``), else a new one."""
    seq = assets.find_own_seq(cls, txid) if look else None
    return seq or assets.allocate_seq(cls, txid, user)


def own_version(assets: Assets, cls: str, seq: int, parent: str | None, txid: str, user: str, look: bool) -> int:
    """The version transaction ``txid`` holds of ``cls/seq``: the one it
    reserved earlier (looked for only if ``look``; not one abandoned since),
    else a new reservation on top of ``parent`` (``Conflict`` if the asset
    moved on)."""
    n = assets.find_own_version(cls, seq, txid) if look else None
    if n is not None and assets.read_version(cls, seq, n)[0].get("status") != ABANDONED:
        return n
    return assets.reserve_version(cls, seq, parent, txid, user)


def publish(repo: Repo, remote: Remote, commit_id: str, commit: Commit, txid: str,
            files: list[tuple[str, str, int]], refs: Collection[str], jobs: int) -> None:
    """Stage 2 on the remote: upload what the version needs (the contents
    of ``files``, (path, id, size) rows; then its trees and commit), commit
    the version record reserved by ``txid``, move the asset's HEAD. Each step
    is skipped or accepted when an earlier run of the same transaction did it."""
    assets = Assets(remote)
    cls, seq = split_asset(commit.asset)
    n = commit.version
    record, _ = assets.read_version(cls, seq, n)
    if record.get("status") != COMMITTED:
        push_contents(repo, remote, files, refs, jobs=jobs)
        failpoint.hit("after-contents")
        push_closure(repo, remote, commit_id, commit.tree, jobs=jobs)
        # 'ama gc --remote' may have removed an object this commit found
        # present and did not send: look once more, send what is gone, and
        # only then let the version record name them (docs/commit-protocol.md,
        # "Remote garbage collection").
        push_contents(repo, remote, files, refs, jobs=jobs)
        push_closure(repo, remote, commit_id, commit.tree, jobs=jobs)
        failpoint.hit("before-version")
        assets.commit_version(
            cls,
            seq,
            n,
            txid,
            {
                "commit": commit_id,
                "tree": commit.tree,
                "author": commit.author,
                "time": commit.time,
                "message": commit.message.split("\n", 1)[0],
                "size": sum(size for _, _, size in files),
                "files": len(files),
            },
        )
    failpoint.hit("after-version")
    assets.advance_head(cls, seq, n, commit_id, commit.parent)
    failpoint.hit("after-head")


def record_locally(repo: Repo, commit_id: str, commit: Commit, move_head: bool = True) -> None:
    """Move the local ref of the commit's asset to it (logged) and, if
    ``move_head``, HEAD and the pointer file too."""
    cls, seq = split_asset(commit.asset)
    ref = f"assets/{commit.asset}"
    if read_ref(repo, ref) != commit_id:
        update_ref(repo, ref, commit_id, reason=f"commit: {commit.message.splitlines()[0] if commit.message else ''}")
    failpoint.hit("after-ref")
    if move_head:
        write_head(repo, Head(cls, seq, commit.version, commit_id))
        write_pointer(repo, commit.asset, commit.version, commit_id)


def local_failure(e: OSError, version: str, finish: str) -> AmaError:
    """The error for a version committed on the remote whose local record
    failed: it says so, not "nothing was changed", and how to finish."""
    where = f"{e.filename}: " if e.filename else ""
    why = "no space left on device" if e.errno in (errno.ENOSPC, errno.EDQUOT) else (e.strerror or str(e))
    return AmaError(
        f"version {version} was committed on the remote, but recording it here failed ({where}{why}); "
        f"free space and {finish} to finish",
        EXIT_IO,
    )


def split_asset(asset: str) -> tuple[str, int]:
    """'CLASS/SEQ' (as a commit names its asset) -> (class, seq)."""
    cls, _, seq = asset.partition("/")
    return cls, int(seq)


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
