"""Compare the work tree with the index from ``lstat`` alone where possible.

The rules (docs/design.md, "Detecting change without re-hashing"):

- missing path: renamed if its inode, with the same size and mtime, is found
  under an untracked path of the work tree, else deleted;
- same inode, size changed: modified, no hashing; if the store's object is
  that same inode (hardlink cache), the object is damaged too;
- inode changed (atomic save, copy over): hash; equal means clean and the
  snapshot is refreshed;
- same inode, mtime or ctime changed, size equal: hash to decide;
- racily clean entries (timestamps not older than the index file) are hashed;
- untracked: files not in the index and not ignored.

A clean tree therefore costs one ``lstat`` per tracked file plus the
directory walk, which ``os.scandir`` does without a ``stat`` per entry.
"""

from __future__ import annotations

import os
import stat as statmod

from .fsutil import is_temp_name, write_all
from .hashing import hash_paths
from .ignore import ROOT_FILES, Ignorer
from .index import CHANGED, MISSING, NOT_FILE, Index, file_checksum
from .index import CLEAN as UNCHANGED
from .names import is_reserved_dir
from .repo import Repo
from .tuples import namedtuple

CLEAN = "clean"
MODIFIED = "modified"
DAMAGED = "damaged"  # modified in place, and the hardlinked cache object with it
DELETED = "deleted"
RENAMED = "renamed"
TYPECHANGE = "typechange"  # no longer a regular file
UNREADABLE = "unreadable"  # still there, but cannot be read to decide
UNTRACKED = "untracked"


# (path, state, new_path): new_path only for renames. A namedtuple rather
# than typing.NamedTuple: status is start-up bound and typing costs 5 ms.
Change = namedtuple("Change", "path state new_path", defaults=(None,))


class Report:
    """What a check found. (A plain class: status is start-up bound, and
    dataclasses costs an import of inspect.)"""

    def __init__(self, changes: list[Change] | None = None, clean: list[str] | None = None):
        self.changes: list[Change] = changes if changes is not None else []
        self.untracked: list[str] = []
        self.refreshed: dict[str, tuple[str, os.stat_result]] = {}  # path -> (id, snapshot)
        self.clean: list[str] = clean if clean is not None else []
        self.hashed = 0
        # (index checksum, records) of the directory cache to write, if it
        # changed (ama/dircache.py)
        self.dircache: tuple[bytes, bytes] | None = None

    @property
    def dirty(self) -> bool:
        return bool(self.changes)


class _Walk:
    """One pass over (part of) the work tree."""

    def __init__(self, repo: Repo, index: Index, ignorer: Ignorer, collect_clean: bool):
        self.repo = repo
        self.index = index
        self._compare = None  # built on first use: it decodes the index
        self.ignorer = ignorer
        self.collect_clean = collect_clean
        self.seen: set[str] = set()
        self.untracked: dict[str, int] = {}  # path -> inode
        self.to_hash: list[str] = []
        self.changes: list[Change] = []
        self.clean: list[str] = []
        self._tracked_dirs: set[str] | None = None
        self.dircache: tuple[bytes, bytes] | None = None
        # Snapshots of the entries the compiled core reported, read from the
        # index bytes (index.snapshots_at): looked up again without decoding.
        self.reported: dict[str, object] = {}

    def staged(self, rel: str):
        """``rel``'s index entry (a Snapshot), or None."""
        found = self.reported.get(rel)
        return found if found is not None else self.index.get(rel)

    @property
    def compare(self):
        if self._compare is None:
            self._compare = self.index.comparer()
        return self._compare

    def tracked_dirs(self) -> set[str]:
        if self._tracked_dirs is None:
            from .worktree import tracked_dirs

            self._tracked_dirs = tracked_dirs(self.index.paths())
        return self._tracked_dirs

    def check_file(self, rel: str, st: os.stat_result, state: int | None = None) -> None:
        self.seen.add(rel)
        if state is None:
            state = self.compare(rel, st)
        if state == UNCHANGED:
            if self.collect_clean:
                self.clean.append(rel)
        elif state == NOT_FILE:
            self.changes.append(Change(rel, TYPECHANGE))
        elif state == CHANGED:
            damaged = self.repo.store.shares_inode(self.staged(rel).digest, st)
            self.changes.append(Change(rel, DAMAGED if damaged else MODIFIED))
        else:  # RACY, TOUCHED, REPLACED: the content decides
            self.to_hash.append(rel)

    def walk(self, top: str) -> None:
        """Walk the directory ``top`` (work-tree relative, '' for the root)."""
        stack = [top]
        while stack:
            stack.extend(self.scan(stack.pop()))

    def scan(self, rel_dir: str) -> list[str]:
        """Check the files directly in ``rel_dir``; return its subdirectories
        that are to be walked.

        This loop is the cost of ``status`` on a clean tree, so the common
        case (snapshot equal, not racy) is decided inline by comparing one
        comparison; everything else goes to ``check_file``.
        """
        tracked = self.index.__contains__
        compare = self.compare
        ignorer = self.ignorer
        check_ignores = ignorer.active
        seen = self.seen.add
        clean = self.clean.append if self.collect_clean else None
        check_file = self.check_file
        untracked = self.untracked
        subdirs = []
        prefix = rel_dir + "/" if rel_dir else ""
        try:
            it = os.scandir(os.path.join(self.repo.root, rel_dir) if rel_dir else self.repo.root)
        except (FileNotFoundError, NotADirectoryError, PermissionError):
            return subdirs
        with it:
            for de in it:
                rel = prefix + de.name
                if tracked(rel):
                    st = de.stat(follow_symlinks=False)
                    state = compare(rel, st)
                    if state == UNCHANGED:
                        seen(rel)
                        if clean:
                            clean(rel)
                    elif state == NOT_FILE and de.is_dir(follow_symlinks=False):
                        # A tracked file replaced by a directory: the file
                        # is missing, the directory is walked like any other.
                        subdirs.append(rel)
                    else:
                        check_file(rel, st, state)
                elif de.is_dir(follow_symlinks=False):
                    name = de.name
                    if is_reserved_dir(name):
                        continue
                    if check_ignores and rel not in self.tracked_dirs() and ignorer.is_ignored(rel, True):
                        continue
                    subdirs.append(rel)
                elif de.is_file(follow_symlinks=False):
                    if (
                        (check_ignores and ignorer.is_ignored(rel))
                        or (not prefix and de.name in ROOT_FILES)
                        or is_temp_name(de.name)
                    ):
                        continue
                    untracked[rel] = de.inode()
        return subdirs

    def walk_parallel(self, jobs: int) -> None:
        """``walk("")`` with the subtrees shared out over ``jobs`` processes.

        A clean status is one ``lstat`` and a little Python per file, and
        Python runs one thread at a time: forked workers are the only way to
        use more than one core. The top of the tree is scanned here until
        there are a few subtrees per worker; they are dealt out round-robin,
        each worker walks its share and sends back what it found. A worker
        that fails has its share walked here instead.
        """
        from collections import deque

        units = deque([""])
        while units and len(units) < 4 * jobs:
            units.extend(self.scan(units.popleft()))
        units = sorted(units)
        if len(units) < 2:
            for unit in units:
                self.walk(unit)
            return
        shares = [units[i::jobs] for i in range(jobs)]
        workers = [(share, *self._fork(share)) for share in shares[1:]]
        for unit in shares[0]:
            self.walk(unit)
        for share, pid, fd in workers:
            data = _read_all(fd)
            _, status = os.waitpid(pid, 0)
            if status == 0 and data:
                import pickle

                self._merge(pickle.loads(data))
            else:
                for unit in share:
                    self.walk(unit)

    def _fork(self, share: list[str]) -> tuple[int, int]:
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid:
            os.close(write_fd)
            return pid, read_fd
        # In the worker: start from nothing, walk the share, report, exit
        # without running any of the parent's exit handlers.
        code = 1
        try:
            os.close(read_fd)
            self.seen, self.untracked, self.to_hash, self.changes, self.clean = set(), {}, [], [], []
            for unit in share:
                self.walk(unit)
            import pickle

            state = ("\0".join(self.seen), self.untracked, self.to_hash, self.changes, self.clean)
            write_all(write_fd, pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL))
            code = 0
        finally:
            os._exit(code)

    def _merge(self, state) -> None:
        seen, untracked, to_hash, changes, clean = state
        if seen:
            self.seen.update(seen.split("\0"))
        self.untracked.update(untracked)
        self.to_hash.extend(to_hash)
        self.changes.extend(changes)
        self.clean.extend(clean)

    def run_core(self, core, data: bytes, started) -> list[str]:
        """The whole-tree walk by the compiled core: it stats the entries in
        index order (its threads, ``started`` already or started now, doing
        so while this thread walks for untracked names) and lists untracked
        names; Python decides only about the entries it returns. Returns the
        missing paths."""
        root = self.repo.root
        if started is None:
            from .policy import check_threads

            started = core.check_start(data, root, self.index.mtime_ns, check_threads())
        self.untracked_by_core(core, data)
        missing = []
        found = core.check_finish(started)
        self.reported = self.index.snapshots_at({rel: position for rel, _, position in found})
        for rel, state, _ in found:
            st = None
            if state != MISSING:
                try:
                    st = os.lstat(os.path.join(root, rel))
                except OSError:
                    pass
            if st is None or statmod.S_ISDIR(st.st_mode):
                # Gone, or a directory now: the walk lists what it holds.
                missing.append(rel)
            else:
                self.check_file(rel, st, state)
        return missing

    def untracked_by_core(self, core, data: bytes) -> None:
        """The untracked names, listed by the compiled core's walk (through
        the directory cache)."""
        root = self.repo.root
        import time

        from . import dircache

        checksum = self.index.checksum
        cached = dircache.load(self.repo.ama_dir, checksum)
        files, dirs, records, _ = core.walk(data, root, cached, dircache.cutoff(time.time_ns()))
        if checksum is not None and records != cached:
            self.dircache = (checksum, records)
        ignorer = self.ignorer
        check_ignores = ignorer.active
        for rel in files:
            if (
                ("/" not in rel and rel in ROOT_FILES)
                or is_temp_name(rel.rpartition("/")[2])
                or (check_ignores and ignorer.is_ignored(rel))
            ):
                continue
            try:
                self.untracked[rel] = os.lstat(os.path.join(root, rel)).st_ino
            except OSError:
                pass
        if dirs:
            # Directories holding nothing tracked: walked here, with ignore
            # rules, as the pure-Python walk would.
            sub = _Walk(self.repo, Index(), ignorer, False)
            for rel in dirs:
                if not (check_ignores and ignorer.is_ignored(rel, True)):
                    sub.walk(rel)
            self.untracked.update(sub.untracked)

    def check_path(self, rel: str) -> None:
        """Check one path the user named (a file or a directory)."""
        full = self.repo.abspath(rel)
        try:
            st = os.lstat(full)
        except FileNotFoundError:
            return
        if statmod.S_ISDIR(st.st_mode):
            self.walk(rel)
        elif rel in self.index:
            self.check_file(rel, st)
        elif statmod.S_ISREG(st.st_mode) and not self.ignorer.is_ignored(rel):
            self.untracked[rel] = st.st_ino


def check(
    repo: Repo,
    index: Index,
    paths: list[str] | None = None,
    collect_clean: bool = False,
    ignorer: Ignorer | None = None,
    started: tuple | None = None,
) -> Report:
    """Classify every tracked path (or those under ``paths``) and find untracked files.

    ``started``: (index bytes, root, index mtime, handle) of the compiled
    core's ``check_start`` for this repository and index, under way already
    (``ama status`` starts it before importing this module; ama/cli.py)."""
    ignorer = ignorer or Ignorer(repo.root)
    w = _Walk(repo, index, ignorer, collect_clean)
    if ignorer.data_dirs_of is None:
        ignorer.data_dirs_of = w.tracked_dirs  # git's rules do not hide what is in them
    missing = None
    data = index.raw_v3() if paths is None and not collect_clean else None
    handle = None
    if started is not None:
        begun_on, root, mtime_ns, handle = started
        if begun_on is not data or root != repo.root or mtime_ns != index.mtime_ns:
            # Not the check wanted here: its threads end now (a fork must not copy them).
            _finish_quietly(handle)
            handle = None
    if paths is None:
        core = None
        if data is not None:
            from .policy import core as active_core
            from .policy import is_compiled

            core = active_core() if is_compiled() else None
        if core is not None:
            missing = w.run_core(core, data, handle)
        else:
            jobs = _parallel_jobs(len(index))
            if jobs > 1:
                w.walk_parallel(jobs)
            else:
                w.walk("")
            wanted = index.paths()
    else:
        for rel in paths:
            w.check_path(rel)
        wanted = index.paths_under(paths)
    report = Report(changes=w.changes, clean=w.clean)
    report.dircache = w.dircache

    if w.to_hash:
        _decide_by_hash(repo, w, report)

    if missing is None:
        missing = [p for p in wanted if p not in w.seen and not index.is_skip_worktree(p)]
    if missing:
        _classify_missing(repo, index, w, missing, paths)

    renamed_to = {c.new_path for c in w.changes if c.state == RENAMED}
    report.untracked = sorted(p for p in w.untracked if p not in renamed_to)
    report.changes.sort(key=lambda c: c.path)
    report.clean.sort()
    return report


def _finish_quietly(handle) -> None:
    from .policy import core

    try:
        core().check_finish(handle)
    except Exception:  # noqa: BLE001, S110 - its result is not wanted, nor its failure
        pass


def _parallel_jobs(entries: int) -> int:
    """How many processes to walk with: one for small trees (forking costs
    more than it saves), never while other threads run (fork would copy
    their locks mid-use), at most one per core."""
    threshold = int(os.environ.get("AMA_PARALLEL_MIN", "20000"))
    if entries < threshold or not hasattr(os, "fork"):
        return 1
    import threading

    if threading.active_count() > 1:
        return 1
    return min(4, os.cpu_count() or 1)


def _read_all(fd: int) -> bytes:
    chunks = []
    try:
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
    finally:
        os.close(fd)
    return b"".join(chunks)


def _referenced(repo: Repo, ref_id: str) -> str | None:
    from .errors import AmaError
    from .references import known_content, load

    try:
        return known_content(repo.store, ref_id, load(repo.store, None, ref_id))
    except AmaError:
        return None


def _decide_by_hash(repo: Repo, w: _Walk, report: Report) -> None:
    index = w.index
    refs = index.reference_paths() if w.to_hash else set()
    items = [(repo.abspath(rel), rel) for rel in w.to_hash]
    for rel, digest, st in hash_paths(items, tolerant=True):
        report.hashed += 1
        staged = w.staged(rel)
        if digest is None:
            gone = not os.path.lexists(repo.abspath(rel))
            w.changes.append(Change(rel, DELETED if gone else UNREADABLE))
            continue
        if (st.st_mode ^ staged.mode) & 0o100:
            # Same bytes, exec bit flipped: a change to stage, as in git.
            w.changes.append(Change(rel, MODIFIED))
            continue
        # A materialised reference holds the referenced bytes, not its
        # reference object (docs/references.md).
        expected = staged.digest if rel not in refs else _referenced(repo, staged.digest)
        if digest == expected:
            report.refreshed[rel] = (staged.digest, st)
            if w.collect_clean:
                w.clean.append(rel)
        else:
            damaged = expected is not None and repo.store.shares_inode(expected, st)
            w.changes.append(Change(rel, DAMAGED if damaged else MODIFIED))


def _classify_missing(repo: Repo, index: Index, w: _Walk, missing: list[str], paths: list[str] | None) -> None:
    if paths is not None:
        # Renames are found by inode among untracked files anywhere in the
        # work tree, not only under the paths the user named.
        full = _Walk(repo, Index(), w.ignorer, False)
        full.walk("")
        candidates = full.untracked
    else:
        candidates = w.untracked
    by_inode: dict[int, list[str]] = {}
    for path, ino in candidates.items():
        by_inode.setdefault(ino, []).append(path)
    for rel in missing:
        e = w.staged(rel)
        target = None
        for cand in by_inode.get(e.ino, ()):
            try:
                st = os.lstat(repo.abspath(cand))
            except FileNotFoundError:
                continue
            # A rename keeps the file's size and mtime; an inode number
            # freed by a deletion and reused for a new file does not.
            if st.st_dev == e.dev and st.st_size == e.size and st.st_mtime_ns == e.mtime_ns:
                target = cand
                break
        if target:
            w.changes.append(Change(rel, RENAMED, target))
            w.untracked.pop(target, None)
        else:
            w.changes.append(Change(rel, DELETED))


def apply_refresh(repo: Repo, report: Report) -> bool:
    """Write refreshed snapshots back, and the directory cache, if the index
    lock is free right now. Returns whether the index was written.

    Like git's opportunistic refresh: never waits, never fails the command.
    A held lock, a read-only ``.ama``, a full disk or any other failure to
    write leaves the index as it was (the next command refreshes again);
    an entry changed by someone else since we read it is left alone. The
    directory cache is written only if the index is still the one walked,
    keyed by the index as it is when written (a refresh changes no path).
    """
    if not report.refreshed and report.dircache is None:
        return False
    from .errors import AmaError
    from .fsutil import LockFile

    lock = LockFile(repo.index_path, timeout=0)
    try:
        lock.acquire()
    except (AmaError, OSError):
        return False
    wrote = False
    try:
        if report.refreshed:
            index = repo.load_index()
            walked = report.dircache is not None and index.checksum == report.dircache[0]
            for rel, (digest, st) in report.refreshed.items():
                if rel in index and index.digest(rel) == digest:
                    index.refresh(rel, st)
            index.write(lock)
            wrote = True
            checksum = index.checksum
        else:
            # The directory cache alone: the index's trailer says whether it
            # is still the one walked, without a second copy of the index
            # (at 1,000,000 entries the copy was 100 MB of the peak).
            checksum = file_checksum(repo.index_path)
            walked = checksum == report.dircache[0]
        if walked:
            from . import dircache

            dircache.save(repo.ama_dir, checksum, report.dircache[1])
        return wrote
    except (AmaError, OSError):
        return wrote
    finally:
        try:
            lock.release()
        except OSError:
            pass  # a lock file that cannot be removed is free all the same (flock)
