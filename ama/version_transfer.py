"""A version's objects between the local store and a remote (``ama.remote.transfer``
moves any list of objects in parallel; this module decides which, per version).

``push_staged`` uploads the contents the index names (``push_contents``
those of any list of files), ``push_closure`` the
trees and the commit object of a version, ``fetch_version`` brings a
version's commit, trees and contents into the local store. Every byte is
verified against its name on the way (by the backends' put/get_object).
"""

from __future__ import annotations

import os
from collections.abc import Collection
from typing import TYPE_CHECKING

from . import failpoint, ui
from .errors import Corrupt, IntegrityError
from .index import Index
from .objects import HEX64, MAX_DEPTH, Commit, object_type, parse_tree, reachable
from .remote.base import Remote
from .remote.transfer import PushResult, fetch_objects, push_objects
from .repo import Repo

if TYPE_CHECKING:
    from .store import Store

DEFAULT_JOBS = 8
# Objects in the local store are read-only; a fetched one is never visible
# under its name writable.
OBJECT_MODE = 0o444


class _CountingRemote:
    """Delegates to a remote, hitting the ``after-object`` failpoint after
    every object it publishes (used only when a failpoint is set)."""

    def __init__(self, remote: Remote):
        self._remote = remote

    def __getattr__(self, name: str):
        return getattr(self._remote, name)

    def put_object(self, digest, path, progress=None):
        created = self._remote.put_object(digest, path, progress)
        if created:
            failpoint.hit("after-object")
        return created


def _with_failpoints(remote: Remote) -> Remote:
    return _CountingRemote(remote) if os.environ.get("AMA_FAILPOINT") else remote  # type: ignore[return-value]


def content_items(repo: Repo, files: list[tuple[str, str, int]], refs: Collection[str]) -> list[tuple[str, str, int]]:
    """(digest, source, size) for every content of ``files`` ((path, id,
    size) rows, of the index or of a tree): the store's copy first, the
    work-tree file at that path as a second source of the same bytes.

    A reference (docs/references.md) is its small reference object; with
    ``core.pushRefs`` (``commit --push-refs``) also the referenced bytes,
    fetched from their source into the store first, verified, so that the
    version no longer depends on the source.
    """
    items = []
    push_refs = refs and repo.config.get("core.pushrefs") == "true"
    for path, digest, size in files:
        stored = repo.store.path(digest)
        if path in refs:
            items.append((digest, stored, os.path.getsize(stored)))
            if push_refs:
                from .references import content

                data = content(repo.store, None, digest)
                items.append((data, repo.store.path(data), size))
            continue
        if os.path.exists(stored):
            items.append((digest, stored, size))
        items.append((digest, repo.abspath(path), size))
    return items


def push_staged(repo: Repo, remote: Remote, index: Index, jobs: int = DEFAULT_JOBS) -> PushResult:
    """Upload every staged content the remote lacks; refuse changed files."""
    files = [(path, digest, size) for path, digest, size, _ in index.files()]
    return push_contents(repo, remote, files, index.reference_paths(), jobs)


def push_contents(repo: Repo, remote: Remote, files: list[tuple[str, str, int]], refs: Collection[str],
                  jobs: int = DEFAULT_JOBS) -> PushResult:
    """Upload every content of ``files`` ((path, id, size) rows) the remote
    lacks; ``refs`` are the paths that are references.

    Raises ``IntegrityError`` naming the files whose bytes no longer match
    what was added (after uploading all the others): nothing is ever
    published under a name its bytes do not hash to.
    """
    items = content_items(repo, files, refs)
    total = sum(size for _, _, size in items)
    with ui.Progress("Uploading", total=total, unit="bytes") as bar:
        result = push_objects(_with_failpoints(remote), items, jobs=jobs, progress=bar.advance)
    published = set(result.uploaded) | set(result.skipped)
    bad = sorted({digest for digest, _ in result.bad if digest not in published})
    if bad:
        by_digest: dict[str, list[str]] = {}
        for path, digest, _ in files:
            by_digest.setdefault(digest, []).append(path)
        names = sorted(p for d in bad for p in by_digest.get(d, []))
        shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
        raise IntegrityError(
            f"{shown}: changed since 'ama add' (bytes no longer match); nothing was uploaded under the old "
            f"name. Run 'ama add' on them, then commit again"
        )
    return result


def push_closure(repo: Repo, remote: Remote, commit_id: str, tree_id: str, jobs: int = DEFAULT_JOBS) -> None:
    """Upload the trees of a version, then its commit object (in that order,
    so a commit on the remote always has its trees)."""
    store = repo.store
    tree_ids = reachable(store, trees=[tree_id], strict=True).trees
    trees = [(t, store.path(t), os.path.getsize(store.path(t))) for t in sorted(tree_ids)]
    _push_or_fail(remote, trees, jobs)
    failpoint.hit("after-trees")
    _push_or_fail(remote, [(commit_id, store.path(commit_id), os.path.getsize(store.path(commit_id)))], 1)


def _push_or_fail(remote: Remote, items, jobs: int) -> None:
    result = push_objects(remote, items, jobs=jobs)
    if result.bad:
        digest, _ = result.bad[0]
        raise IntegrityError(f"local object {digest} is damaged; run 'ama fsck'")


# -- fetching ---------------------------------------------------------------


def checked_id(digest: str) -> str:
    """``digest`` if it is an object id; ids come from remote records and
    trees, and one that is a path must never reach the store's file names."""
    if not HEX64.match(digest):
        raise Corrupt(f"the version names a malformed object id {digest!r}; refusing it")
    return digest


def fetch_object(repo: Repo, remote: Remote, digest: str) -> bytes:
    """An object's bytes, from the local store or else fetched into it."""
    return fetch_into(repo.store, remote, digest)


def fetch_into(store: Store, remote: Remote, digest: str) -> bytes:
    """An object's bytes, from ``store`` or else fetched (verified) into it."""
    checked_id(digest)
    if not store.has(digest):
        download_into(store, remote, digest)
    return store.read_bytes(digest)


def download_into(store: Store, remote: Remote, digest: str) -> None:
    """Fetch object ``digest`` into ``store``: verified before it gets its name."""
    fetch_objects(remote, [(digest, _store_dest(store, digest))], jobs=1, mode=OBJECT_MODE)


def _dest(repo: Repo, digest: str) -> str:
    return _store_dest(repo.store, digest)


def _store_dest(store: Store, digest: str) -> str:
    # The directory is remembered: Store.fsync_dirs() fsyncs it once per batch.
    return store.dir_ready(digest)


def fetch_commit(repo: Repo, remote: Remote, commit_id: str) -> Commit:
    data = fetch_object(repo, remote, commit_id)
    if object_type(data) != "commit":
        raise IntegrityError(f"object {commit_id} is not a commit")
    return Commit.parse(data, commit_id)


def fetch_trees(repo: Repo, remote: Remote, tree_id: str) -> list[tuple[str, str, int, str]]:
    """Fetch every tree below ``tree_id``; return (path, digest, size, mode) of its files."""
    files = []
    stack = [("", tree_id, 0)]
    while stack:
        prefix, tid, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise Corrupt(f"tree {tree_id} is nested deeper than {MAX_DEPTH} directories; refusing it")
        for entry in parse_tree(fetch_object(repo, remote, tid), tid):
            if entry.kind == "tree":
                stack.append((prefix + entry.name + "/", entry.digest, depth + 1))
            else:
                if entry.kind == "ref":
                    repo.store.ref_contents.setdefault(entry.digest, None)
                files.append((prefix + entry.name, entry.digest, entry.size, entry.mode))
    files.sort()
    return files


def resolve_references(repo: Repo, remote: Remote, wanted: Collection[str] | None = None) -> None:
    """Bring the bytes of every reference met in fetched trees (of those in
    ``wanted``, when given) into the local store, verified: from the store,
    a copy on the remote, or the source (``references.content``); a changed
    source fails here, before anything is placed."""
    from .references import content

    store = repo.store
    for ref_id in sorted(r for r, done in store.ref_contents.items() if done is None):
        if wanted is not None and ref_id not in wanted:
            continue
        store.ref_contents[ref_id] = content(store, remote, ref_id)


def fetch_contents(repo: Repo, remote: Remote, digests: dict[str, int], jobs: int = DEFAULT_JOBS) -> int:
    """Fetch the contents the local store lacks; return how many were fetched."""
    store = repo.store
    missing = [(d, _dest(repo, d)) for d in sorted(digests) if not store.has(checked_id(d))]
    if missing:
        total = sum(digests[d] for d, _ in missing)
        with ui.Progress("Downloading", total=total, unit="bytes") as bar:
            fetch_objects(remote, missing, jobs=jobs, progress=bar.advance, mode=OBJECT_MODE)
        store.fsync_dirs()
        # fetch_objects verified every byte against its id.
        store.verified.update(d for d, _ in missing)
    return len(missing)


def fetch_version(repo: Repo, remote: Remote, commit_id: str, jobs: int = DEFAULT_JOBS):
    """Bring a version's commit, trees and contents (those of the sparse set,
    in a sparse work tree) into the local store.

    Returns (commit, files) with files as from ``fetch_trees``.
    """
    commit = fetch_commit(repo, remote, commit_id)
    files = fetch_trees(repo, remote, commit.tree)
    refs = repo.store.ref_contents
    from .sparse import split

    # In a sparse work tree only the contents of materialised files; the
    # object of a reference outside the set too (small; a commit carries it),
    # but not the bytes it names.
    inside, outside = split(repo, {path: (d, size) for path, d, size, _ in files})
    # A reference's own object is small: its size in the tree is the bytes'.
    wanted = {d: 0 if d in refs else size for d, size in inside.values()}
    wanted.update({d: 0 for d, _ in outside.values() if d in refs})
    fetch_contents(repo, remote, wanted, jobs)
    resolve_references(repo, remote, {d for d, _ in inside.values() if d in refs})
    repo.store.fsync_dirs()  # the names of everything fetched, before a ref names them
    return commit, files
