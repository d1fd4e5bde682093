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
import os
import sys

from .. import ui
from ..errors import PendingTransaction, UsageError
from ..hashing import hash_bytes
from ..index import Index
from ..objects import Commit, build_trees, index_files, write_index_tree
from ..pending import Pending
from ..refs import Head, read_head
from ..remotes import open_repo_remote
from ..repo import Repo
from ..staging import stage_tracked_changes
from ..txn import abandon, commit_staged, execute, refuse_dirty, version_committed
from ..txnlock import TxnLock


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("-m", "--message", help="the version's message")
    p.add_argument("-a", "--all", action="store_true",
                   help="first stage every tracked file modified, deleted or renamed since 'ama add' (not new files)")
    p.add_argument("--remote", help="remote to commit to (default: core.remote, else origin)")
    p.add_argument("-j", "--jobs", type=int, default=8, help="parallel uploads (default: 8)")
    p.add_argument("-q", "--quiet", action="store_true", help="no summary line and no progress bar")
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
    if args.quiet:
        os.environ["AMA_NO_PROGRESS"] = "1"  # this process only: ui.Progress reads it
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
        return _commit(repo, read_head(repo), args)


def _commit(repo: Repo, head: Head, args: argparse.Namespace) -> int:
    commit_id = commit_staged(repo, args.message, args.remote, args.jobs, head)
    if commit_id is not None:
        _report(repo, commit_id, args.quiet)
    elif head.commit is None:
        ui.out("nothing to commit: stage files with 'ama add'")
    else:
        ui.out(f"nothing to commit: {head.asset} version {head.version} already has these files")
    return 0


def _report(repo: Repo, commit_id: str, quiet: bool = False) -> None:
    if not quiet:
        commit = Commit.parse(repo.store.read_bytes(commit_id), commit_id)
        ui.out(f"[{commit.asset} version {commit.version}] {commit_id[:12]} {commit.message.splitlines()[0]}")
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
        _report(repo, commit_id, args.quiet)
        if tree != pending.tree:
            ui.info("the staged files changed since; run 'ama commit' again to commit those changes")
        return 0
    choice = "resume" if args.resume else "abandon" if args.abandon else _ask(pending)
    if choice == "resume":
        refuse_dirty(repo, index, pending.remote)
        pending.tree = write_index_tree(repo.store, index)
        if args.message:
            pending.message = args.message
        commit_id = execute(repo, remote, index, pending, resuming=True, jobs=args.jobs)
        _report(repo, commit_id, args.quiet)
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
    code = _commit(repo, fresh, args)
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
