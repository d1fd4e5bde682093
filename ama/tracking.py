"""Keeping a work tree's asset up to date with the remote, and checking out a version.

``fetch_latest`` brings the asset's newest committed version into the local
store and moves the local ref to it (``fetch``). ``pull_files`` is what
``pull`` checks out: that version's files with the changes staged here on
top of them, so that staged work survives a pull and the next commit
builds on the new version. ``checkout_version`` fetches a version and
materialises it (``checkout``, ``clone``).
"""

from __future__ import annotations

from dataclasses import dataclass

from . import failpoint
from .assets import Assets
from .checkout import materialize
from .errors import Conflict, NotFound, UsageError
from .index import Index
from .objects import Commit, file_mode, walk_tree
from .refs import ZERO, Head, read_ref, update_ref
from .remote.base import Remote
from .repo import Repo
from .version_transfer import fetch_version


@dataclass
class Fetched:
    cls: str
    seq: int
    version: int
    commit: str
    tree: str
    old_commit: str | None
    old_version: int | None
    files: list[tuple[str, str, int, str]]  # (path, digest, size, mode), as sync.fetch_trees
    ref_moved: bool

    @property
    def asset(self) -> str:
        return f"{self.cls}/{self.seq}"


def fetch_latest(repo: Repo, remote: Remote, head: Head, jobs: int) -> Fetched:
    """Fetch the newest committed version of ``head``'s asset (commit, trees
    and contents) and move the local ref to it. The ref never moves back:
    if it names a newer version than the remote's HEAD it is left alone."""
    if head.seq is None:
        raise UsageError(f"asset class {head.cls} has no commits yet: there is nothing to fetch")
    remote_head = Assets(remote).settled_head(head.cls, head.seq)
    if remote_head is None:
        raise NotFound(f"asset {head.asset} has no committed version on {remote.url}")
    commit, files = fetch_version(repo, remote, remote_head.commit, jobs)
    ref = f"assets/{head.cls}/{head.seq}"
    old = read_ref(repo, ref)
    old_version = _version_of(repo, old)
    moved = False
    if old != remote_head.commit and (old_version is None or old_version < remote_head.version):
        update_ref(repo, ref, remote_head.commit, old=old or ZERO, reason="fetch")
        moved = True
    return Fetched(
        head.cls, head.seq, remote_head.version, remote_head.commit, commit.tree, old, old_version, files, moved
    )


def _version_of(repo: Repo, commit_id: str | None) -> int | None:
    if commit_id is None or not repo.store.has(commit_id):
        return None
    return Commit.parse(repo.store.read_bytes(commit_id), commit_id).version


def pull_files(
    repo: Repo, index: Index, base: str | None, target: list[tuple[str, str, int, str]], force: bool = False
) -> dict[str, tuple[str, int, str]]:
    """The files of ``target`` with the staged changes relative to commit
    ``base`` applied on top: path -> (digest, size, mode).

    A path staged here and also changed (differently) between ``base`` and
    ``target`` is a conflict: nothing is decided for the user, unless
    ``force``, which takes the target's side.
    """
    theirs = {path: (digest, size, mode) for path, digest, size, mode in target}
    ours = {path: (digest, size, file_mode(mode)) for path, digest, size, mode in index.files()}
    if base is None:
        ancestor: dict[str, tuple[str, int, str]] = {}
    else:
        store = repo.store
        tree = Commit.parse(store.read_bytes(base), base).tree
        ancestor = {path: (e.digest, e.size, e.mode) for path, e in walk_tree(store.read_bytes, tree)}
    result = dict(theirs)
    conflicts = []
    for path in sorted(ancestor.keys() | ours.keys()):
        was, now = ancestor.get(path), ours.get(path)
        if _same(was, now):
            continue
        incoming = theirs.get(path)
        if _same(incoming, was) or _same(incoming, now):
            if now is None:
                result.pop(path, None)
            else:
                result[path] = now
        else:
            conflicts.append(path)
    if conflicts and not force:
        more = f" (and {len(conflicts) - 1} more)" if len(conflicts) > 1 else ""
        raise Conflict(
            f"{conflicts[0]}{more}: staged here and changed differently in the new version; keep a copy of "
            f"yours, then 'ama pull --force' takes the new version (and 'ama add' yours again if it should win)"
        )
    return result


def _same(a: tuple[str, int, str] | None, b: tuple[str, int, str] | None) -> bool:
    if a is None or b is None:
        return a is b
    return a[0] == b[0] and a[2] == b[2]


def checkout_version(
    repo: Repo, remote: Remote, target, force: bool, jobs: int, keep_staged: bool = False
) -> tuple[int, int]:
    """Fetch what is missing and materialise ``target`` (a Resolved); with
    ``keep_staged``, with the staged changes on top of it (``ama sparse``
    changes what is materialised, not what is staged)."""
    commit, files = fetch_version(repo, remote, target.commit, jobs)
    failpoint.hit("after-fetch")
    wanted = {path: (digest, size, mode) for path, digest, size, mode in files}
    tree = commit.tree
    if keep_staged:
        staged = pull_files(repo, repo.load_index(), target.commit, files)
        if staged != wanted:
            wanted, tree = staged, None
    head = Head(target.cls, target.seq, target.version, target.commit)
    # The ref is set only once the version's paths were accepted and placed:
    # a refused version must leave no ref behind.
    done = materialize(repo, wanted, head, force, tree=tree, remote=remote)
    ref = f"assets/{target.cls}/{target.seq}"
    if read_ref(repo, ref) is None:
        update_ref(repo, ref, target.commit, reason=f"checkout: {target.name}")
    return done
