"""Bring back some files of the work tree: ``checkout VERSION -- PATH...``
and ``restore [--source VERSION] PATH...``.

The files come from the index (the staged content) or from a version, whose
trees are read on demand (``ama.access``): only the trees on the way to the
paths and the contents of the files restored are fetched. Each object is
verified before it is placed, by ``checkout.place`` (a temporary name
renamed into place). A file whose current bytes are neither what the index
holds nor what is being restored has changes nobody stored: it is not
overwritten without ``force``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable

from .access import Source, Version
from .checkout import place, safe_path
from .errors import BadPath, DirtyWorkTree, PathNotFound
from .hashing import hash_path
from .index import Index
from .objects import MODE_EXEC, MODE_FILE
from .repo import Repo

# path -> (digest, size, mode)
Files = dict[str, tuple[str, int, str]]


def from_index(index: Index, rels: Iterable[str]) -> Files:
    """The staged files at or below each of ``rels``."""
    files: Files = {}
    for rel in rels:
        found = index.paths_under([rel])
        if not found:
            raise PathNotFound(f"{rel or '.'}: not tracked (nothing staged there to restore)")
        for path in found:
            snap = index.get(path)
            files[path] = (index.digest(path), snap.size, MODE_EXEC if snap.mode & 0o100 else MODE_FILE)
    return files


def from_version(version: Version, rels: Iterable[str]) -> Files:
    """The files of ``version`` at or below each of ``rels`` (only their trees are read)."""
    files: Files = {}
    for rel in rels:
        top = version.entry(rel)
        for e in version.walk(top) if top.is_dir else [top]:
            files[e.path] = (e.id, e.size, MODE_EXEC if e.executable else MODE_FILE)
    return files


def restore(
    repo: Repo,
    source: Source,
    files: Files,
    stage: bool,
    force: bool = False,
    jobs: int = 8,
    progress: Callable[[int], None] | None = None,
) -> tuple[list[str], list[str]]:
    """Make the work-tree files of ``files`` hold their contents; return
    (paths written, paths that already held them).

    With ``stage`` the index records them too (``checkout VERSION -- PATH``);
    otherwise only entries whose content is the one restored get a fresh
    snapshot, others stay staged as they were (``restore --source``).
    """
    for path in files:
        safe_path(repo, path)
    with repo.locked_index() as (lock, index):
        todo, already = _to_write(repo, index, files, force)
        _fetch(repo, source, {files[p][0]: files[p][1] for p in todo}, jobs, progress)
        placed: set[str] = set()
        for path in todo:
            digest, _size, mode = files[path]
            st = place(repo, digest, repo.abspath(path), mode, shared_ok=digest not in placed and _unlinked(repo, digest))
            placed.add(digest)
            if stage or _staged(index, path) == digest:
                index.add(path, digest, st)
        for path in already:
            digest = files[path][0]
            if stage and _staged(index, path) != digest:
                index.add(path, digest, os.lstat(repo.abspath(path)))
        index.write(lock)
    from .sparse import widen

    widen(repo, files)
    return todo, already


def _to_write(repo: Repo, index: Index, files: Files, force: bool) -> tuple[list[str], list[str]]:
    todo, already = [], []
    for path, (digest, _size, _mode) in sorted(files.items()):
        full = repo.abspath(path)
        if not os.path.lexists(full):
            todo.append(path)
            continue
        if os.path.isdir(full) and not os.path.islink(full):
            raise BadPath(f"{path}: is a directory in the work tree; move it away to restore the file")
        try:
            current = hash_path(full, path)[0]
        except BadPath:
            current = None
        if current == digest and not _mode_differs(full, files[path][2]):
            already.append(path)
            continue
        if not force and current is not None and _staged(index, path) != current and current != digest:
            raise DirtyWorkTree(
                f"{path}: has changes that are not stored anywhere; 'ama add' them first, "
                "or use --force to discard them"
            )
        if not force and current is None:
            raise DirtyWorkTree(f"{path}: is not a regular file ama can read; move it away or use --force")
        todo.append(path)
    return todo, already


def _mode_differs(full: str, mode: str) -> bool:
    return bool(os.lstat(full).st_mode & 0o100) != (mode == MODE_EXEC)


def _fetch(repo: Repo, source: Source, digests: dict[str, int], jobs: int, progress) -> None:
    """Every object of ``digests`` sound in the local store: a missing one is
    fetched (verified), a present one is hashed and, if damaged, fetched again
    over it."""
    from .remote.transfer import fetch_objects
    from .version_transfer import checked_id

    store = repo.store
    items = []
    for digest in sorted(digests):
        checked_id(digest)
        if store.has(digest) and store.verify(digest):
            continue
        path = store.path(digest)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        items.append((digest, path))
    fetch_objects(source.remote, items, jobs=jobs, progress=progress)
    for _digest, path in items:
        os.chmod(path, 0o444)


def _unlinked(repo: Repo, digest: str) -> bool:
    """Whether no other file shares the store object's inode: only then may
    a hardlink be placed (two work-tree paths must never share one inode)."""
    return os.stat(repo.store.path(digest)).st_nlink <= 1


def _staged(index: Index, path: str) -> str | None:
    return index.digest(path) if path in index else None
