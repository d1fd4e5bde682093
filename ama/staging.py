"""Staging: turn user paths into index entries (``add``, ``update-index``).

Adding a file is: open it, refuse anything but a regular file, hash it
through the open descriptor, link it into the store, and record the
snapshot taken from that same descriptor after the link (linking changes
``st_nlink`` and ``st_ctime``). All of it happens before the index is
written, under ``index.lock``: a failure on any file leaves the index as it
was, and a crash leaves the old index or the new one, never a torn one.
"""

from __future__ import annotations

import os
import stat as statmod
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice

from .errors import BadPath
from .fsutil import is_temp_name
from .hashing import hash_open, open_regular
from .ignore import ROOT_FILES, Ignorer, Match
from .index import Index
from .names import check_path, is_reserved_dir
from .parallel import run_bounded
from .repo import Repo


@dataclass
class Expanded:
    files: list[str] = field(default_factory=list)  # work-tree relative
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (rel, why)
    ignored: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)  # tracked, gone from the work tree
    outside: list[str] = field(default_factory=list)  # untracked, outside ama's directories in a root shared with git
    git_ignored: list[tuple[str, Match]] = field(default_factory=list)  # named directories git ignores


def expand(repo: Repo, user_paths: Iterable[str], force: bool = False, ignorer: Ignorer | None = None) -> Expanded:
    """The regular files named by ``user_paths``, directories walked, and the
    tracked files at or below them that are gone (as ``git add`` does, their
    deletion is staged).

    A named path that cannot be added is an error (nothing is changed); a
    symlink or special file found while walking a directory is skipped and
    reported, as is an ignored file unless ``force``.
    """
    ignorer = ignorer or Ignorer(repo.root)
    tracked = _Tracked(repo)
    if ignorer.data_dirs_of is None:
        ignorer.data_dirs_of = tracked.dirs
    result = Expanded()
    seen: set[str] = set()
    for user_path in user_paths:
        rel = repo.relpath(user_path)
        full = repo.abspath(rel)
        try:
            st = os.lstat(full)
        except (FileNotFoundError, NotADirectoryError):
            gone = _gone_below(repo, tracked, rel)
            if not gone:
                raise BadPath(f"{user_path}: no such file or directory") from None
            result.removed.extend(p for p in gone if p not in result.removed)
            continue
        except PermissionError:
            raise BadPath(f"{user_path}: permission denied") from None
        if statmod.S_ISDIR(st.st_mode):
            if rel and not force:
                m = ignorer.match(rel, True)
                if m is not None and not m.negated and m.from_git:
                    result.git_ignored.append((rel, m))
                elif m is not None and not m.negated and not tracked.has_below(rel):
                    raise BadPath(f"{user_path}: is ignored by {m}; use --force to add it anyway")
            # A directory named to 'ama add' is data: git's rules do not hide what is in it.
            ignorer.add_data_dir(rel)
            if not rel and not force and ignorer.shares_git_root:
                _walk_shared_root(repo, ignorer, result, seen, tracked)
            else:
                _walk(repo, rel, ignorer, force, result, seen, tracked)
            result.removed.extend(p for p in _gone_below(repo, tracked, rel) if p not in result.removed)
        elif statmod.S_ISREG(st.st_mode):
            if not force and rel not in seen:
                m = ignorer.match(rel)
                if m is not None and not m.negated and rel not in tracked.files():
                    raise BadPath(f"{user_path}: is ignored by {m}; use --force to add it anyway")
            check_path(rel, user_path)
            if rel not in seen:
                seen.add(rel)
                result.files.append(rel)
        else:
            from .hashing import describe_mode

            raise BadPath(f"{user_path}: {describe_mode(st.st_mode)}; ama stores regular files only")
    # In path order, they are staged in the index's order: its writer then
    # needs no sorted copy of a million paths, and copies records in runs.
    result.files.sort()
    return result


def _gone_below(repo: Repo, tracked: _Tracked, rel: str) -> list[str]:
    """Tracked paths equal to or below ``rel`` whose file no longer exists
    (a path that became a symlink or a directory is not gone: it is refused
    or walked instead; one not materialised in a sparse tree is not gone)."""
    gone = []
    index = tracked.files()
    for path in index.paths_under([rel]):
        if index.is_skip_worktree(path):
            continue  # not materialised (sparse): absent on purpose
        try:
            os.lstat(repo.abspath(path))
        except (FileNotFoundError, NotADirectoryError):
            gone.append(path)
    return gone


class _Tracked:
    """The staged paths, read only if an ignored path needs them: an
    ignored file that is already tracked stays tracked (as in git)."""

    def __init__(self, repo: Repo):
        self.repo = repo
        self._files: Index | None = None
        self._dirs: set[str] | None = None

    def files(self) -> Index:
        if self._files is None:
            self._files = self.repo.load_index()
        return self._files

    def has_below(self, rel_dir: str) -> bool:
        return self.files().has_below(rel_dir)

    def dirs(self) -> set[str]:
        if self._dirs is None:
            from .worktree import tracked_dirs

            self._dirs = tracked_dirs(self.files().paths())
        return self._dirs


def _walk_shared_root(repo: Repo, ignorer: Ignorer, result: Expanded, seen: set[str], tracked: _Tracked) -> None:
    """The root of a work tree that is also git's: only the directories ama
    tracks are walked, and only the files it tracks at the top are taken;
    everything else there is the project's code (listed in ``outside``)."""
    walked = []
    with os.scandir(repo.root) as it:
        entries = sorted(it, key=lambda d: d.name)
    for de in entries:
        if de.is_dir(follow_symlinks=False):
            if is_reserved_dir(de.name):
                continue
            if de.name in tracked.dirs():
                walked.append(de.name)
            elif not ignorer.is_ignored(de.name, True):
                result.outside.append(de.name + "/")
        elif not de.is_file(follow_symlinks=False):
            if de.name in tracked.files():
                kind = "symbolic link" if de.is_symlink() else "special file"
                result.skipped.append((de.name, f"is a {kind}; ama stores regular files only"))
        elif de.name in tracked.files():
            if de.name not in seen:
                seen.add(de.name)
                result.files.append(de.name)
        elif de.name not in ROOT_FILES and not is_temp_name(de.name) and not ignorer.is_ignored(de.name):
            result.outside.append(de.name)
    for top in walked:
        _walk(repo, top, ignorer, False, result, seen, tracked)


def _walk(
    repo: Repo, top: str, ignorer: Ignorer, force: bool, result: Expanded, seen: set[str], tracked: _Tracked
) -> None:
    check_ignores = ignorer.active and not force
    stack = [top]
    while stack:
        rel_dir = stack.pop()
        prefix = rel_dir + "/" if rel_dir else ""
        try:
            it = os.scandir(repo.abspath(rel_dir))
        except PermissionError:
            raise BadPath(f"{rel_dir or '.'}: permission denied (cannot list the directory)") from None
        with it:
            for de in sorted(it, key=lambda d: d.name):
                rel = prefix + de.name
                if de.is_dir(follow_symlinks=False):
                    if is_reserved_dir(de.name):
                        continue
                    if check_ignores and ignorer.is_ignored(rel, True) and rel not in tracked.dirs():
                        result.ignored.append(rel + "/")
                        continue
                    stack.append(rel)
                elif de.is_file(follow_symlinks=False):
                    if (not prefix and de.name in ROOT_FILES) or is_temp_name(de.name):
                        continue
                    check_path(rel, rel)
                    if check_ignores and ignorer.is_ignored(rel) and rel not in tracked.files():
                        result.ignored.append(rel)
                        continue
                    if rel not in seen:
                        seen.add(rel)
                        result.files.append(rel)
                else:
                    kind = "symbolic link" if de.is_symlink() else "special file"
                    result.skipped.append((rel, f"is a {kind}; ama stores regular files only"))


CHUNK = 128
REORDER_LIMIT = 64  # finished chunks held back to record the files in order
THREADS_MIN_AVERAGE = 64 << 10  # bytes a file, on average, for hashing threads to pay
# The core's store_new: files a call, the largest it hashes (its BLAKE3 is
# portable C, ~250-500 MB/s here: larger files go to the blake3 package).
STORE_BATCH = 1024
CORE_MAX_SIZE = 16 << 10


@dataclass
class StageResult:
    added: list[str] = field(default_factory=list)  # new or changed content
    unchanged: list[str] = field(default_factory=list)
    modes: dict[str, int] = field(default_factory=dict)  # link mode -> files
    bytes: int = 0
    touched: int = 0  # files hashed and recorded (their snapshot changed)


def store_file(
    repo: Repo, rel: str, full: str | None = None, shared_ok: bool = True
) -> tuple[str, str, os.stat_result, str]:
    """Hash and store one file; return (rel, content id, snapshot, link mode used).

    ``full`` overrides where the file is read from (hash-object -w takes
    files from anywhere); ``rel`` is then only its name in messages.
    """
    full = full or repo.abspath(rel)
    fd, st = open_regular(full, rel)
    try:
        digest, st = hash_open(fd, st, rel)
        mode = repo.store.add_file(full, fd, digest, st, rel, shared_ok)
        final = os.fstat(fd)
        if final.st_size != st.st_size or final.st_mtime_ns != st.st_mtime_ns:
            raise BadPath(f"{rel}: changed while ama added it; add it again")
        return rel, digest, final, mode
    finally:
        os.close(fd)


def stage(
    repo: Repo,
    index: Index,
    files: list[str],
    progress: Callable[[int], None] | None = None,
    jobs: int | None = None,
) -> StageResult:
    """Hash, store and record ``files`` into ``index`` (in memory; the caller
    writes it under the lock it holds)."""
    result = StageResult()

    def pending() -> Iterator[str]:
        """The files whose stat does not say they are staged as they are,
        found as the hashing threads ask for more (no list of them all)."""
        for rel in files:
            if rel in index and index.unchanged(rel, repo.abspath(rel)):
                result.unchanged.append(rel)
                if progress:
                    progress(1)
            else:
                yield rel

    dropped: set[str] = set()

    def record(item: tuple[str, str, os.stat_result, str]) -> None:
        rel, digest, st, mode = item
        old = index.digest(rel) if rel in index else None
        index.add(rel, digest, st)
        result.touched += 1
        if old == digest:
            result.unchanged.append(rel)
        else:
            if old is not None and _drop_damaged(repo, old, st):
                dropped.add(old)
            result.added.append(rel)
            result.bytes += st.st_size
        result.modes[mode] = result.modes.get(mode, 0) + 1
        if progress:
            progress(1)

    todo = pending()
    first = list(islice(todo, 2 * CHUNK))
    if jobs is None:
        jobs = _default_jobs(repo, first)
    def record_stored(rel: str, digest: bytes, stat_record: bytes, size: int, present: bool) -> None:
        index.add_stored(rel, digest, stat_record)
        result.touched += 1
        result.added.append(rel)
        result.bytes += size
        mode = "present" if present else "hardlink"
        result.modes[mode] = result.modes.get(mode, 0) + 1
        if progress:
            progress(1)

    if len(first) < 2 * CHUNK or jobs <= 1:
        for rel in first:
            record(store_file(repo, rel))
        if len(first) == 2 * CHUNK:
            _store_rest(repo, index, todo, record, record_stored)
    else:
        # Chunks, not one task per file: a future per 2 KiB file costs more
        # than hashing it. The system calls of one thread overlap the
        # hashing and bookkeeping of another. Chunks are cut and handed out
        # only as threads free up, and recorded as they finish (in order,
        # below), so what is held besides the index is a few chunks per
        # thread, however many files there are; the first failure stops
        # handing them out.
        def chunks() -> Iterator[list[str]]:
            yield first[:CHUNK]
            yield first[CHUNK:]
            while chunk := list(islice(todo, CHUNK)):
                yield chunk

        def store_chunk(numbered: tuple[int, list[str]]) -> list[tuple[str, str, os.stat_result, str]]:
            return [store_file(repo, rel) for rel in numbered[1]]

        # Recorded in the order of the files (path order), so that the index
        # stays in path order and is written without a sorted copy; a chunk
        # that finishes early waits for the ones before it, unless too many
        # wait (one huge file must not make the others pile up).
        finished: dict[int, list] = {}
        expected = 0
        for (number, _), items in run_bounded(store_chunk, enumerate(chunks()), jobs):
            finished[number] = items
            if len(finished) > REORDER_LIMIT:
                expected = max(finished) + 1
                for held in sorted(finished):
                    for item in finished.pop(held):
                        record(item)
            while expected in finished:
                for item in finished.pop(expected):
                    record(item)
                expected += 1
        for held in sorted(finished):
            for item in finished.pop(held):
                record(item)
    if dropped:
        _restore_shared(repo, index, dropped)
    repo.store.fsync_dirs()
    return result


def _store_rest(repo: Repo, index: Index, files: Iterator[str], record, record_stored) -> None:
    """Store and record ``files`` on this thread, in batches: the new files
    of a batch by the core's ``store_new`` (ama/policy.py; the compiled one
    hashes and links them on threads of its own, outside the GIL) while
    the store links by hardlink, the rest, and any file the core hands
    back, by ``store_file``, which says what is wrong with it."""
    from .policy import core

    active = core()
    store = repo.store
    threads = min(4, os.cpu_count() or 1)
    ready = False
    while batch := list(islice(files, STORE_BATCH)):
        if store.modes_to_try()[0] != "hardlink":
            for rel in batch:
                record(store_file(repo, rel))
            continue
        if not ready:
            store.make_fanout_dirs()
            ready = True
        is_new = [rel not in index for rel in batch]
        new = [rel for rel, n in zip(batch, is_new, strict=True) if n]
        results = iter(active.store_new(repo.root, store.root, new, CORE_MAX_SIZE, threads))
        for rel, n in zip(batch, is_new, strict=True):
            item = next(results) if n else active.FALLBACK
            if isinstance(item, tuple):
                record_stored(rel, *item)
            elif item == active.CHANGED:
                raise BadPath(f"{rel}: changed while ama added it; add it again")
            else:
                record(store_file(repo, rel))


def _default_jobs(repo: Repo, sample: list[str]) -> int:
    """Hashing threads for files like ``sample`` (the first ones to add).

    Small files are system calls and a little Python each: threads only
    pass the GIL back and forth (at 4 threads, ~50 futex calls a file) and
    add 2x slower than one thread does. Files from ``THREADS_MIN_AVERAGE``
    up spend their time in reads and BLAKE3, which release the GIL, and
    waiting reads (a cold disk, a network file system) then overlap; files
    of ``hashing.MMAP_THRESHOLD`` and more are hashed on all cores anyway.
    """
    if len(sample) < 2 * CHUNK:
        return 1
    total = 0
    for rel in sample:
        try:
            total += os.lstat(repo.abspath(rel)).st_size
        except OSError:
            pass  # store_file reports it
    if total < THREADS_MIN_AVERAGE * len(sample):
        return 1
    return min(8, (os.cpu_count() or 1) * 2)


def _restore_shared(repo: Repo, index: Index, dropped: set[str]) -> None:
    """Other staged paths may name a content whose damaged object was just
    dropped: store it again from one of them whose bytes still match."""
    for path, digest in list(index.digests()):
        if digest in dropped and not repo.store.has(digest):
            try:
                _, now, st, _ = store_file(repo, path)
            except BadPath:
                continue
            if now == digest:
                index.add(path, now, st)


def _drop_damaged(repo: Repo, old_digest: str, st: os.stat_result) -> bool:
    """The file was edited in place and its old hardlinked object with it:
    that object's bytes no longer match its name and nothing can use it."""
    path = repo.store.path(old_digest)
    try:
        obj = os.lstat(path)
    except FileNotFoundError:
        return False
    if obj.st_ino == st.st_ino and obj.st_dev == st.st_dev:
        os.unlink(path)
        return True
    return False


def unstage(index: Index, rels: Iterable[str]) -> list[str]:
    return [rel for rel in rels if index.remove(rel)]


def stage_tracked_changes(repo: Repo) -> None:
    """What ``commit -a`` stages: every tracked file modified, deleted or
    renamed since ``add`` (never an untracked one). Files no longer regular
    or unreadable are left for the commit to refuse."""
    from .statcheck import DAMAGED, DELETED, MODIFIED, RENAMED, check

    with repo.locked_index() as (lock, index):
        report = check(repo, index)
        files = [c.path for c in report.changes if c.state in (MODIFIED, DAMAGED)]
        files += [c.new_path for c in report.changes if c.state == RENAMED and c.new_path]
        gone = [c.path for c in report.changes if c.state in (DELETED, RENAMED)]
        if files or gone:
            stage(repo, index, files)
            unstage(index, gone)
            index.write(lock)


def move_entries(repo: Repo, lock, index: Index, moves: list[tuple[str, str, str]], force: bool = False,
                 dry_run: bool = False) -> list[tuple[str, str]]:
    """Rename each (as given, OLD, NEW) in the work tree and in ``index``,
    then write the index through ``lock``; return the (OLD, NEW) moved.

    Everything is checked before anything moves. An entry keeps its
    snapshot under the new name, so the next stat-check hashes it if the
    rename changed its ctime, and a file modified since ``add`` stays
    modified. If the index cannot be written, the renames are undone.
    """
    plan = []
    for shown, old, new in moves:
        full_old, full_new = repo.abspath(old), repo.abspath(new)
        try:
            st = os.lstat(full_old)
        except FileNotFoundError:
            if any(index.is_skip_worktree(p) for p in index.paths_under([old])):
                # Staged but outside the sparse set: nothing on disk to move
                # (git mv refuses these too without --sparse).
                raise BadPath(
                    f"{shown}: is not materialised (outside the sparse set); 'ama sparse add {old}' first"
                ) from None
            raise BadPath(f"{shown}: no such file or directory") from None
        if statmod.S_ISDIR(st.st_mode):
            paths = [p for p in index.paths_under([old]) if p != old]
        else:
            paths = [old] if old in index else []
        if not paths:
            raise BadPath(f"{shown}: is not tracked; 'ama add' it first, or move it with mv")
        if new == old or new.startswith(old + "/"):
            raise BadPath(f"{shown}: cannot be moved onto or into itself")
        check_path(new, new)
        if not os.path.isdir(os.path.dirname(full_new)):
            raise BadPath(f"{os.path.dirname(new) or '.'}: no such directory")
        if os.path.lexists(full_new) and (not force or os.path.isdir(full_new) or statmod.S_ISDIR(st.st_mode)):
            raise BadPath(f"{new}: already exists" + ("; use -f to overwrite it" if not os.path.isdir(full_new) else ""))
        plan.append((old, new, full_old, full_new, [(p, new + p[len(old):]) for p in paths]))
    if dry_run:
        return [(old, new) for old, new, *_ in plan]
    # Materialised files moved outside the sparse set widen it (as 'ama add'
    # does) before anything moves: a set too wide costs nothing, one too
    # narrow would take them out of the work tree at the next reapply.
    from .sparse import widen

    widen(repo, [q for *_, renames in plan for p, q in renames if not index.is_skip_worktree(p)])
    done: list[tuple[str, str]] = []
    try:
        for _old, _new, full_old, full_new, renames in plan:
            os.rename(full_old, full_new)
            done.append((full_old, full_new))
            for p, q in renames:
                index.move(p, q)
        index.write(lock)
    except BaseException:
        for full_old, full_new in reversed(done):
            os.rename(full_new, full_old)
        raise
    return [(old, new) for old, new, *_ in plan]
