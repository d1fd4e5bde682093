"""Bring back some files of the work tree: ``checkout VERSION -- PATH...``
and ``restore [--source VERSION] PATH...``.

The files come from the index (the staged content) or from a version, whose
trees are read on demand (``ama.access``): only the trees on the way to the
paths and the contents of the files restored are fetched. Each object is
sound before it is placed (fetched verified, or checked by
``checkout.ensure_sound``), by ``checkout.place`` (a temporary name renamed
into place). A file whose current bytes are neither what the index
holds nor what is being restored has changes nobody stored: it is not
overwritten without ``force``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from contextlib import nullcontext

from .access import Source, Version
from .checkout import ensure_sound, place, safe_path
from .errors import BadPath, DirtyWorkTree, PathNotFound
from .fsutil import LockFile
from .hashing import hash_path
from .index import KIND_REF, Index
from .objects import MODE_EXEC, MODE_FILE
from .repo import Repo

# path -> (id, size, mode, is a reference); a reference's id is its reference
# object's, and what goes in the work tree are the bytes it names.
Files = dict[str, tuple[str, int, str, bool]]


def from_index(index: Index, rels: Iterable[str]) -> Files:
    """The staged files at or below each of ``rels``."""
    files: Files = {}
    for rel in rels:
        # A staged file is its own answer (no sort of every staged path).
        found = [rel] if rel in index else index.paths_under([rel])
        if not found:
            raise PathNotFound(f"{rel or '.'}: not tracked (nothing staged there to restore)")
        for path in found:
            snap = index.get(path)
            mode = MODE_EXEC if snap.mode & 0o100 else MODE_FILE
            files[path] = (index.digest(path), snap.size, mode, index.kind(path) == KIND_REF)
    return files


def from_version(version: Version, rels: Iterable[str]) -> Files:
    """The files of ``version`` at or below each of ``rels`` (only their trees are read)."""
    files: Files = {}
    for rel in rels:
        top = version.entry(rel)
        for e in version.walk(top) if top.is_dir else [top]:
            files[e.path] = (e.id, e.size, MODE_EXEC if e.executable else MODE_FILE, e.reference)
    return files


def restore(
    repo: Repo,
    source: Source,
    files: Files,
    stage: bool,
    force: bool = False,
    jobs: int = 8,
    progress: Callable[[int], None] | None = None,
    locked: tuple[LockFile, Index] | None = None,
) -> tuple[list[str], list[str]]:
    """Make the work-tree files of ``files`` hold their contents; return
    (paths written, paths that already held them).

    With ``stage`` the index records them too (``checkout VERSION -- PATH``);
    otherwise only entries whose content is the one restored get a fresh
    snapshot, others stay staged as they were (``restore --source``).
    ``locked``: the index lock the caller holds and the index read under it
    (``files`` taken from it), else the index is locked and read here.
    """
    for path in files:
        safe_path(repo, path)
    # The bytes each path gets: a reference's are brought into the local
    # store first, verified (``references.content``).
    contents = {path: _content(source, f) for path, f in files.items()}
    with nullcontext(locked) if locked else repo.locked_index() as (lock, index):
        todo, already = _to_write(repo, source, index, files, contents, force)
        _fetch(repo, source, index, {contents[p]: (files[p][1], p) for p in todo}, jobs, progress)
        placed: set[str] = set()
        for path in todo:
            content, mode = contents[path], files[path][2]
            shared_ok = content not in placed and _unlinked(repo, content)
            st = place(repo, content, repo.abspath(path), mode, shared_ok=shared_ok)
            placed.add(content)
            if stage or _staged(index, path) == files[path][0]:
                _stage(index, path, files[path], st)
        for path in already:
            if stage and _staged(index, path) != files[path][0]:
                _stage(index, path, files[path], os.lstat(repo.abspath(path)))
        index.write(lock)
    from .sparse import widen

    widen(repo, files)
    return todo, already


def _to_write(
    repo: Repo, source: Source, index: Index, files: Files, contents: dict[str, str], force: bool
) -> tuple[list[str], list[str]]:
    todo, already = [], []
    for path in sorted(files):
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
        if current == contents[path] and not _mode_differs(full, files[path][2]):
            already.append(path)
            continue
        stored = current == contents[path] or (current is not None and current == _staged_content(source, index, path))
        if not force and current is not None and not stored:
            raise DirtyWorkTree(
                f"{path}: has changes that are not stored anywhere; 'ama add' them first, "
                "or use --force to discard them"
            )
        if not force and current is None:
            raise DirtyWorkTree(f"{path}: is not a regular file ama can read; move it away or use --force")
        todo.append(path)
    return todo, already


def _content(source: Source, f: tuple[str, int, str, bool]) -> str:
    if not f[3]:
        return f[0]
    from .references import content

    return content(source.store, source.remote, f[0])


def _staged_content(source: Source, index: Index, path: str) -> str | None:
    """The id of the bytes ``path`` is staged with; for a reference, only if
    known here without fetching anything."""
    if path not in index:
        return None
    digest = index.digest(path)
    if index.kind(path) != KIND_REF:
        return digest
    from .references import known_content, load

    store = source.store
    return known_content(store, digest, load(store, None, digest)) if store.has(digest) else None


def _stage(index: Index, path: str, f: tuple[str, int, str, bool], st: os.stat_result) -> None:
    if f[3]:
        index.add_reference(path, f[0], f[1], st)
    else:
        index.add(path, f[0], st)


def _mode_differs(full: str, mode: str) -> bool:
    return bool(os.lstat(full).st_mode & 0o100) != (mode == MODE_EXEC)


def _fetch(repo: Repo, source: Source, index: Index, wanted: dict[str, tuple[int, str]], jobs: int, progress) -> None:
    """Every content of ``wanted`` (id -> (size, a path it goes to)) sound in
    the local store: a missing one is fetched, verified; a present one is
    checked by ``checkout.ensure_sound`` (hashed unless a fresh snapshot
    vouches for it; a damaged one is moved aside and fetched again)."""
    store = repo.store
    # (The ids come from the index, or from trees whose entries
    # ``access`` checked: never a path.)
    missing = [(d, store.dir_ready(d)) for d in sorted(wanted) if not store.has(d)]
    if missing:
        from .remote.transfer import fetch_objects
        from .version_transfer import OBJECT_MODE

        fetch_objects(source.remote, missing, jobs=jobs, progress=progress, mode=OBJECT_MODE)
        store.fsync_dirs()
        store.verified.update(d for d, _ in missing)
    # Only the entries of the paths restored may vouch for an object: a scan
    # of every staged entry would cost more than it spares.
    vouching = Index(mtime_ns=index.mtime_ns)
    for _, path in wanted.values():
        if path in index:
            vouching.keep(path, index)
    ensure_sound(repo, vouching, {d: path for d, (_, path) in wanted.items()}, _RemoteWhenNeeded(source))


class _RemoteWhenNeeded:
    """``source.remote``, opened only if something is fetched from it."""

    def __init__(self, source: Source):
        self._source = source

    def __getattr__(self, name: str):
        return getattr(self._source.remote, name)


def _unlinked(repo: Repo, digest: str) -> bool:
    """Whether no other file shares the store object's inode: only then may
    a hardlink be placed (two work-tree paths must never share one inode)."""
    return os.stat(repo.store.path(digest)).st_nlink <= 1


def _staged(index: Index, path: str) -> str | None:
    return index.digest(path) if path in index else None
