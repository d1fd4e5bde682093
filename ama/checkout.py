"""Materialise a version into the work tree.

Every path is validated before anything is written: names with '..',
absolute names, names inside ``.ama/`` and names reaching through a
symlinked directory are refused (invariant 5). Files are placed from the
local store by the repository's link mode, each through a temporary file
renamed into place, and unstaged changes are never clobbered without
``force``. A ``.ama/CHECKOUT`` marker names the target while files are being
replaced, so an interrupted checkout can be finished by running it again.
"""

from __future__ import annotations

import errno
import os
import stat as statmod
from collections.abc import Collection
from typing import TYPE_CHECKING

from . import failpoint, ui
from .errors import EXIT_IO, AmaError, BadPath, Corrupt, DirtyWorkTree, IntegrityError, NotFound
from .fsutil import atomic_write, remove_stale_temps, temp_name
from .hashing import hash_path
from .index import CHANGED, CLEAN, KIND_REF, NOT_FILE, Index
from .names import name_problem
from .objects import HEX64, MODE_EXEC
from .repo import Repo

if TYPE_CHECKING:
    from .refs import Head

MARKER = "CHECKOUT"


def safe_path(repo: Repo, name: str, leaving: Collection[str] = ()) -> str:
    """``name`` if it is a plain relative path inside the work tree.

    A file where ``name`` needs a directory is refused unless it is one of
    ``leaving``, the tracked files the checkout removes first.
    """
    problem = name_problem(name)
    if problem:
        raise BadPath(f"refusing path {name!r} from the version: {problem}")
    parts = name.split("/")
    here = repo.root
    for part in parts[:-1]:
        here = os.path.join(here, part)
        try:
            st = os.lstat(here)
        except FileNotFoundError:
            break
        if statmod.S_ISLNK(st.st_mode):
            raise BadPath(f"refusing path {name!r} from the version: {os.path.relpath(here, repo.root)} is a symlink")
        if not statmod.S_ISDIR(st.st_mode):
            rel = os.path.relpath(here, repo.root)
            if rel in leaving:
                break
            raise BadPath(f"cannot place {name!r}: {rel} is a file")
    return name


def check_in_the_way(repo: Repo, files: Collection[str], leaving: Collection[str]) -> None:
    """Refuse a version whose file would replace a directory that holds
    anything but tracked files the checkout removes, or that has a path
    both as a file and as a directory."""
    for name in files:
        parts = name.split("/")
        for i in range(1, len(parts)):
            if "/".join(parts[:i]) in files:
                raise BadPath(f"refusing the version: {'/'.join(parts[:i])!r} is both a file and a directory in it")
        full = repo.abspath(name)
        if not os.path.isdir(full) or os.path.islink(full):
            continue
        for dirpath, _dirs, names in os.walk(full):
            for entry in names:
                rel = os.path.relpath(os.path.join(dirpath, entry), repo.root)
                if rel not in leaving:
                    raise DirtyWorkTree(
                        f"{name}: the version has a file here, and the directory in the way holds {rel}, "
                        f"which is not tracked; move it away"
                    )


def interrupted_target(repo: Repo) -> str | None:
    """The commit an interrupted checkout was placing (``.ama/CHECKOUT``).

    The marker only relaxes the clobber check for files that already hold
    the target's bytes; a damaged one is read as no marker, which is the
    strict case, and the next checkout rewrites it."""
    try:
        with open(repo.path(MARKER), "rb") as f:
            value = f.read().strip().decode("ascii", "replace")
    except FileNotFoundError:
        return None
    return value if HEX64.match(value) else None


def check_clobber(
    repo: Repo,
    index: Index,
    files: dict[str, tuple[str, int, str]],
    target_commit: str,
    skipped: dict[str, tuple[str, int, str]] | None = None,
) -> None:
    """Refuse if the checkout would lose work: unstaged changes, untracked
    files in the way, or staged changes not committed yet (``skipped``: the
    files it stages not materialised, which keep theirs)."""
    from .refs import read_head
    from .statcheck import DELETED, check
    from .worktree import staged_changes

    report = check(repo, index)
    resuming = interrupted_target(repo) == target_commit
    for change in report.changes:
        if change.state == DELETED:
            continue
        wanted = files.get(change.path)
        if resuming and wanted and _content_is(repo, change.path, wanted[0]):
            continue
        raise DirtyWorkTree(
            f"{change.path}: has changes that are not staged ({change.state}); "
            f"'ama add' them, or use --force to discard them"
        )
    # Anything untracked where the version puts a file (an ignored file or a
    # symlink too, which the untracked walk does not list) is the user's.
    for path, wanted in files.items():
        if path in index:
            continue
        try:
            st = os.lstat(repo.abspath(path))
        except (FileNotFoundError, NotADirectoryError):
            continue
        if statmod.S_ISLNK(st.st_mode):
            raise DirtyWorkTree(f"{path}: untracked symlink would be replaced; move it away or use --force")
        if not statmod.S_ISDIR(st.st_mode) and not _content_is(repo, path, wanted[0]):
            raise DirtyWorkTree(f"{path}: untracked file would be overwritten; move it away or use --force")
    # Staged but not committed: its only copy may be this file (and its
    # store object, which nothing would refer to any more).
    for code, path in staged_changes(repo, index, read_head(repo).commit):
        wanted = files.get(path) or (skipped or {}).get(path)
        if code != "D" and (wanted is None or wanted[0] != index.digest(path)):
            raise DirtyWorkTree(
                f"{path}: has staged changes that are not committed and would be lost; "
                f"commit them, or use --force to discard them"
            )


def _content_is(repo: Repo, rel: str, digest: str) -> bool:
    try:
        return hash_path(repo.abspath(rel), rel)[0] == digest
    except BadPath:
        return False


def materialize(
    repo: Repo,
    files: dict[str, tuple[str, int, str]],
    head: Head,
    force: bool = False,
    tree: str | None = None,
    remote=None,
) -> tuple[int, int]:
    """Make the work tree hold exactly ``files`` (path -> (digest, size, mode)).

    Returns (files written, files removed). The contents must already be in
    the local store; one found damaged there is fetched again from
    ``remote`` (see ``ensure_sound``) before anything is written. In a sparse
    work tree (``ama.sparse``) the files outside the set are staged as not
    materialised (skip-worktree) instead, and removed from the work tree; a
    reference outside the set stays a reference not materialised.
    """
    from .sparse import split

    files, skipped = split(repo, files)
    with repo.locked_index() as (lock, index):
        _resolve_staged_references(repo, index, files, remote)
        # Files never materialised here are not ours to remove, and a file
        # someone put at such a path is not ours to overwrite.
        unmaterialised = set(index.skip_worktree_paths())
        leaving = {path for path in index.paths() if path not in files and path not in unmaterialised}
        # Files leaving the sparse set go only once the index says they are
        # not materialised: a kill before that leaves them, as staged.
        dematerialise = sorted(leaving & skipped.keys())
        leaving -= skipped.keys()
        for name in files:
            safe_path(repo, name, leaving)
        for name in skipped:
            safe_path(repo, name, leaving | set(skipped))
        check_in_the_way(repo, files, leaving)
        if not force:
            check_clobber(repo, index, files, head.commit or "", skipped)
            for path in sorted(unmaterialised & files.keys()):
                content = placed_content(repo, files[path][0])
                if os.path.lexists(repo.abspath(path)) and not _content_is(repo, path, content):
                    raise DirtyWorkTree(f"{path}: untracked file would be overwritten; move it away or use --force")
        new = Index()
        placed: set[str] = set()
        to_place = []
        for path, (digest, size, mode) in sorted(files.items()):
            full = repo.abspath(path)
            # A reference puts the bytes it names in the work tree.
            content = placed_content(repo, digest)
            if not force and path in index and index.digest(path) == digest:
                kept = _kept(index, path, full, mode, content)
                if kept is not None:
                    if kept is True:
                        new.keep(path, index)
                    else:
                        _stage_placed(new, path, digest, content, size, kept)
                    placed.add(content)
                    continue
            to_place.append((path, digest, content, size, mode))
        ensure_sound(repo, index, {content: path for path, _, content, _, _ in reversed(to_place)}, remote)
        if os.path.exists(repo.path(MARKER)):
            # An interrupted checkout may have left temp files beside the
            # paths it was placing, and files it had placed or not yet
            # removed where its version is not materialised.
            for directory in {os.path.dirname(p) for p in (*files, *leaving, *skipped)}:
                remove_stale_temps(repo.abspath(directory))
            dematerialise += _left_by_a_checkout(repo, unmaterialised & skipped.keys(), skipped)
        atomic_write(repo.path(MARKER), (head.commit or "").encode())
        written = removed = 0
        # Removals first: a file of the version may take the place of a
        # directory that held only removed files, or the other way round.
        removed += _remove_files(repo, sorted(leaving))
        replaced: list[str] = []
        for path, digest, content, size, mode in to_place:
            try:
                st = place(repo, content, repo.abspath(path), mode, shared_ok=content not in placed)
            except OSError as e:
                raise _stopped(path, e, replaced, removed) from e
            placed.add(content)
            _stage_placed(new, path, digest, content, size, st)
            written += 1
            replaced.append(path)
        for path, (digest, size, mode) in sorted(skipped.items()):
            if _is_reference(repo, index, path, digest):
                new.add_reference(path, digest, size)  # not materialised, as every reference can be
            else:
                new.add_unread(path, digest, size, 0o755 if mode == MODE_EXEC else 0o644)
                new.set_skip_worktree(path)
        new.tree = tree
        try:
            new.write(lock)
        except OSError as e:
            raise _stopped(".ama/index", e, replaced, removed) from e
        failpoint.hit("checkout-index-written")
        removed += _remove_files(repo, dematerialise)
    from .pointer import write_pointer
    from .refs import write_head

    write_head(repo, head)
    if head.asset and head.version and head.commit:
        write_pointer(repo, head.asset, head.version, head.commit)
    os.unlink(repo.path(MARKER))
    return written, removed


def _stopped(path: str, e: OSError, replaced: list[str], removed: int) -> AmaError:
    """A checkout that failed part-way says what it did change; the
    CHECKOUT marker stays, so running it again finishes it."""
    why = "no space left on device" if e.errno in (errno.ENOSPC, errno.EDQUOT) else (e.strerror or str(e))
    if replaced or removed:
        names = ", ".join(replaced[:3]) + (", ..." if len(replaced) > 3 else "")
        done = f"{len(replaced)} files were replaced" + (f" ({names})" if replaced else "")
        done += f" and {removed} removed before that"
    else:
        done = "no file was changed"
    return AmaError(f"{path}: cannot write ({why}); {done}; free space and run the checkout again to finish", EXIT_IO)


def ensure_sound(repo: Repo, index: Index, wanted: dict[str, str], remote) -> None:
    """Make sure every object of ``wanted`` (digest -> a path it goes to)
    hashes to its id before it is placed.

    An object is known sound when this process verified it (fetched, or
    hashed) or when it is protected by a fresh snapshot: it is the inode of
    a tracked file whose index entry still matches it exactly and is not
    racily clean, so nothing wrote to it since it was hashed. Every other
    object is hashed; a damaged one is moved aside under the id its bytes
    hash to (``Store.quarantine``) and fetched again from ``remote``,
    verified. When no good copy can be had, nothing is written.
    """
    store = repo.store
    suspects = [d for d in wanted if d not in store.verified]
    if not suspects:
        return
    protected = _protected_by_snapshot(store, index, set(suspects))
    damaged: dict[str, str] = {}
    for digest in suspects:
        if digest in protected or store.verify(digest):
            continue
        damaged[digest] = store.quarantine(digest)
    if not damaged:
        return
    from .version_transfer import fetch_contents

    try:
        if remote is None:
            raise NotFound("no remote to fetch from")
        fetch_contents(repo, remote, {d: 0 for d in damaged}, jobs=4)
    except AmaError as e:
        first = min(damaged, key=lambda d: wanted[d])
        more = f" (and {len(damaged) - 1} more)" if len(damaged) > 1 else ""
        raise IntegrityError(
            f"{wanted[first]}{more}: the local copy of its content {first[:12]} is damaged (moved aside as "
            f"object {damaged[first][:12]}) and no good copy could be fetched ({e}); nothing was written"
        ) from None
    for digest, real in sorted(damaged.items(), key=lambda item: wanted[item[0]]):
        ui.warn(
            f"{wanted[digest]}: the local copy of its content {digest[:12]} was damaged; "
            f"moved aside as object {real[:12]}, a good copy was fetched"
        )


def _protected_by_snapshot(store, index: Index, digests: set[str]) -> set[str]:
    """The objects of ``digests`` that a fresh index snapshot vouches for:
    the object is the inode of a staged file and compares CLEAN with its
    entry (same inode, size and times, not racily clean)."""
    protected = set()
    for path, digest in index.digests():
        if digest not in digests or digest in protected:
            continue
        try:
            st = os.lstat(store.path(digest))
        except FileNotFoundError:
            continue
        if index.compare(path, st) == CLEAN:
            protected.add(digest)
    return protected


def placed_content(repo: Repo, digest: str) -> str:
    """The object whose bytes a tree entry naming ``digest`` puts in the work
    tree: the entry's own for a file; for a reference, the referenced bytes
    (``version_transfer.resolve_references`` must have brought them in)."""
    refs = repo.store.ref_contents
    if digest not in refs:
        return digest
    content = refs[digest]
    if content is None:
        raise Corrupt(f"the bytes of reference {digest[:12]} were not fetched; nothing was placed for it")
    return content


def _left_by_a_checkout(repo: Repo, paths: Collection[str], skipped: dict[str, tuple[str, int, str]]) -> list[str]:
    """The files of ``paths`` (staged, not materialised, and outside the
    sparse set) that hold exactly their staged bytes: an interrupted
    checkout placed them, or had not removed them yet. Anything else there
    is someone's own file, left alone."""
    ours = []
    for path in sorted(paths):
        full = repo.abspath(path)
        if os.path.isfile(full) and not os.path.islink(full) and _content_is(repo, path, skipped[path][0]):
            ours.append(path)
    return ours


def _resolve_staged_references(repo: Repo, index: Index, files: dict[str, tuple[str, int, str]], remote) -> None:
    """Bring in the bytes of the references among ``files`` that are staged
    here but were in no fetched tree (added, not committed yet), as
    ``version_transfer.fetch_version`` does for the others."""
    refs = repo.store.ref_contents
    staged = [d for p, (d, _, _) in files.items() if d not in refs and _is_reference(repo, index, p, d)]
    if not staged:
        return
    from .version_transfer import resolve_references

    for digest in staged:
        refs[digest] = None
    resolve_references(repo, remote, staged)


def _is_reference(repo: Repo, index: Index, path: str, digest: str) -> bool:
    """Whether ``digest`` at ``path`` is a reference object: met as one in a
    fetched tree, or staged as one here."""
    if digest in repo.store.ref_contents:
        return True
    return path in index and index.digest(path) == digest and index.kind(path) == KIND_REF


def _stage_placed(index: Index, path: str, digest: str, content: str, size: int, st: os.stat_result) -> None:
    if content == digest:
        index.add(path, digest, st)
    else:
        index.add_reference(path, digest, size, st)


def _kept(index: Index, path: str, full: str, mode: str, content: str) -> os.stat_result | bool | None:
    """Whether the file of staged ``path`` still holds its staged content
    and the version's exec bit: True when its snapshot says so (``CLEAN``),
    a fresh snapshot when hashing had to decide (racy, touched or replaced)
    and found it equal, else None."""
    try:
        st = os.lstat(full)
    except FileNotFoundError:
        return None
    if bool(st.st_mode & 0o100) != (mode == MODE_EXEC):
        return None
    state = index.compare(path, st)
    if state == CLEAN:
        return True
    if state in (CHANGED, NOT_FILE):
        return None
    try:
        digest, st = hash_path(full, path)
    except BadPath:
        return None
    return st if digest == content else None


def place(repo: Repo, digest: str, full: str, mode: str, shared_ok: bool = True) -> os.stat_result:
    """Put object ``digest`` at ``full`` (atomically) by the repo's link mode."""
    os.makedirs(os.path.dirname(full), exist_ok=True)
    tmp = temp_name(os.path.dirname(full))
    perm = 0o755 if mode == MODE_EXEC else 0o644
    repo.store.link_out(digest, tmp, shared_ok)
    failpoint.hit("checkout-temp-placed")
    os.chmod(tmp, perm)
    os.replace(tmp, full)
    try:
        # rename(2) does nothing when both names are links to one inode (a
        # hardlinked file checked out again): the temporary name stays.
        os.unlink(tmp)
    except FileNotFoundError:
        pass
    return os.lstat(full)


def _remove_files(repo: Repo, paths) -> int:
    """Unlink work-tree ``paths`` (already gone is fine), pruning the
    directories they leave empty; how many were removed."""
    removed = 0
    for path in paths:
        try:
            os.unlink(repo.abspath(path))
            removed += 1
        except FileNotFoundError:
            pass
        _prune_empty_dirs(repo, os.path.dirname(path))
    return removed


def _prune_empty_dirs(repo: Repo, rel_dir: str) -> None:
    while rel_dir:
        try:
            os.rmdir(repo.abspath(rel_dir))
        except OSError:
            return
        rel_dir = os.path.dirname(rel_dir)
