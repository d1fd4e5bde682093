"""Commit the staged files as the next version of the asset, on the remote.

A two-stage transaction (docs/commit-protocol.md): reserve the version on
the remote, then upload what it lacks, verified, and publish. Tracked files
that were modified, deleted or renamed since 'ama add' stop the commit.

If a previous commit was interrupted (Ctrl-C, crash, network failure), it is
finished first. If the staged files changed since, you are asked whether the
changes belong to the interrupted version; without a terminal pass --resume
(yes: commit everything as that version) or --abandon (no: release the
reservation and commit the changes as a new asset with no parent).
--abandon gives up an interrupted commit even if nothing changed since (for
one whose reservation expired), unless its version is already committed.
--abort only cancels it: the reservation is released (if it is still this
commit's), .ama/PENDING removed; the staged files and the asset the work
tree is on stay as they are, and nothing is uploaded.
A new -m given when finishing an interrupted commit is used, unless its
version is already committed on the remote (then its message is kept, and
you are told).
"""

from __future__ import annotations

import argparse
import sys

from .. import ui
from ..errors import AmaError, DirtyWorkTree, IntegrityError, PendingTransaction, UsageError
from ..hashing import hash_bytes
from ..index import Index
from ..inputs import read_inputs
from ..objects import build_trees, index_files, write_index_tree
from ..pending import Pending
from ..refs import Head, read_head
from ..remotes import default_name, open_repo_remote
from ..repo import Repo
from ..staging import stage_tracked_changes
from ..statcheck import DAMAGED, check
from ..txn import abandon, execute, new_pending, version_committed
from ..txnlock import TxnLock


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("-m", "--message", help="the version's message")
    p.add_argument("-a", "--all", action="store_true",
                   help="first stage every tracked file modified, deleted or renamed since 'ama add' (not new files)")
    p.add_argument("--remote", help="remote to commit to (default: core.remote, else origin)")
    p.add_argument("-j", "--jobs", type=int, default=8, help="parallel uploads (default: 8)")
    p.add_argument(
        "--push-refs",
        action="store_true",
        help="also copy the bytes of references into the remote (as core.pushRefs=true)",
    )
    choice = p.add_mutually_exclusive_group()
    choice.add_argument("--resume", action="store_true", help="include new changes in the interrupted version")
    choice.add_argument("--abandon", action="store_true", help="give up the interrupted version; commit as a new asset")
    choice.add_argument("--abort", action="store_true",
                        help="cancel the interrupted commit: release its reservation, keep the staged files")


def run(args: argparse.Namespace) -> int:
    repo = Repo.discover()
    if args.push_refs:
        # For this process only, as git's -c: not saved.
        repo.config.set("core.pushrefs", "true")
    if repo.config.get("core.pushrefs") == "true":
        from ..references import pin_contents

        # Before the transaction: the tree then names the bytes it pushes.
        pin_contents(repo)
    with TxnLock(repo):
        if args.all:
            stage_tracked_changes(repo)
        index = repo.load_index()
        pending = Pending.load(repo)
        if pending is not None:
            if args.abort:
                return _abort(repo, pending)
            return _recover(repo, index, pending, args)
        if args.resume or args.abandon or args.abort:
            raise UsageError("there is no interrupted commit to resume, abandon or abort")
        return _commit(repo, index, read_head(repo), args)


def _refuse_dirty(repo: Repo, index: Index, remote_name: str | None = None) -> None:
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


def _commit(repo: Repo, index: Index, head: Head, args: argparse.Namespace) -> int:
    _refuse_dirty(repo, index, args.remote)
    inputs = read_inputs(repo)
    if not index and head.commit is None:
        ui.out("nothing to commit: stage files with 'ama add'")
        return 0
    if head.commit and not inputs:
        from ..objects import Commit

        tree = write_index_tree(repo.store, index)
        if Commit.parse(repo.store.read_bytes(head.commit), head.commit).tree == tree:
            ui.out(f"nothing to commit: {head.asset} version {head.version} already has these files")
            return 0
    if not args.message:
        raise UsageError("give the version a message with -m MESSAGE")
    remote_name = args.remote or default_name(repo)
    remote = open_repo_remote(repo, remote_name, committing=True)
    pending = new_pending(repo, index, head, args.message, remote_name, inputs, _metadata(repo))
    commit_id = execute(repo, remote, index, pending, resuming=False, jobs=args.jobs)
    _report(repo, pending, commit_id)
    return 0


def _metadata(repo: Repo) -> dict:
    from ..provenance import collect

    return collect(repo.root)


def _report(repo: Repo, pending: Pending, commit_id: str) -> None:
    ui.out(f"[{pending.asset} version {pending.version}] {commit_id[:12]} {pending.message.splitlines()[0]}")
    from ..gitrepo import pointer_staging_note

    note = pointer_staging_note(repo)
    if note:
        ui.info(note)


def _abort(repo: Repo, pending: Pending) -> int:
    remote = open_repo_remote(repo, pending.remote)
    if version_committed(remote, pending):
        raise UsageError(
            f"{pending.describe()} is already committed on the remote and cannot be cancelled; "
            f"run 'ama commit' to finish it here"
        )
    released = abandon(repo, remote, pending)
    head = read_head(repo)
    where = f"{head.asset} version {head.version}" if head.asset and head.version else f"class {head.cls}, no commit yet"
    what = (f"its reservation of {pending.describe()} was released" if released
            else "it held no reservation that was still its own")
    ui.info(f"cancelled the interrupted commit: {what}; nothing was uploaded or published; "
            f"the staged files are unchanged and the work tree stays on {where}")
    return 0


def _recover(repo: Repo, index: Index, pending: Pending, args: argparse.Namespace) -> int:
    remote = open_repo_remote(repo, pending.remote, committing=True)
    # Only the id for now: the store gets the trees if they are committed.
    tree = build_trees(index_files(index), hash_bytes, index.reference_paths())
    committed = version_committed(remote, pending)
    if committed or (tree == pending.tree and not args.abandon):
        # Said once the commit is finished: a failure stays one line on stderr.
        notes = [f"finished the interrupted commit of {pending.describe()}"]
        if args.message and args.message != pending.message:
            if committed:
                notes.append(f"{pending.describe()} was already committed on the remote with the message of the "
                             f"interrupted commit ('{pending.message.splitlines()[0]}'); -m was not used")
            else:
                pending.message = args.message
                notes.append(f"used the new message (-m) for {pending.describe()}")
        # A version already committed on the remote is only finished here:
        # its contents are not uploaded again, whatever the index holds now.
        commit_id = execute(repo, remote, index, pending, resuming=True, jobs=args.jobs)
        for note in notes:
            ui.info(note)
        _report(repo, pending, commit_id)
        if tree != pending.tree:
            ui.info("the staged files changed since; run 'ama commit' again to commit those changes")
        return 0
    choice = "resume" if args.resume else "abandon" if args.abandon else _ask(pending)
    if choice == "resume":
        _refuse_dirty(repo, index, pending.remote)
        pending.tree = write_index_tree(repo.store, index)
        if args.message:
            pending.message = args.message
        commit_id = execute(repo, remote, index, pending, resuming=True, jobs=args.jobs)
        _report(repo, pending, commit_id)
        return 0
    released = abandon(repo, remote, pending)
    head = read_head(repo)
    old = (f"{head.asset} stays at version {head.version} on the remote" if head.asset and head.version
           else "no earlier version exists")
    ui.info(f"abandoned the interrupted commit of {pending.describe()}"
            + ("; its reservation was released" if released else "") + f"; {old}")
    fresh = Head(cls=head.cls)
    if not args.message:
        args.message = pending.message
    code = _commit(repo, index, fresh, args)
    now = read_head(repo)
    if now.asset and now.asset != head.asset:
        ui.info(f"the work tree now follows the new asset {now.asset}"
                + (f"; {head.asset} is unchanged (check it out with 'ama checkout {head.asset}')" if head.asset else ""))
    return code


def _ask(pending: Pending) -> str:
    if not (sys.stdin.isatty() and sys.stderr.isatty()):
        raise PendingTransaction(
            f"the commit of {pending.describe()} was interrupted and the staged files changed since: "
            f"pass --resume to commit all staged files as {pending.describe()}, --abandon to release it "
            f"and commit them as a new {pending.cls} asset with no parent, or --abort to cancel the commit"
        )
    sys.stderr.write(
        f"The commit of {pending.describe()} was interrupted, and the staged files changed since.\n"
        f"Are the changes part of that version?\n"
        f"  [y]es: upload what the remote lacks and commit all staged files as {pending.describe()}\n"
        f"  [n]o: release {pending.describe()} and commit the staged files as a new {pending.cls} asset "
        f"with no parent\n"
        f"  anything else: change nothing ('ama commit --abort' cancels the interrupted commit)\n"
        f"[y/n]: "
    )
    sys.stderr.flush()
    answer = sys.stdin.readline().strip().lower()
    if answer in ("y", "yes"):
        return "resume"
    if answer in ("n", "no"):
        return "abandon"
    raise PendingTransaction("no answer given; nothing was changed (run 'ama commit' again)")
