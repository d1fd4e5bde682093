"""The pure-Python twin of the compiled core (``ama/_speedups.c``): the same
functions with the same signatures and results, for machines without a
compiler and for the differential tests. ``ama/policy.py`` chooses.

(``statcheck`` does not use this twin for its own walk when the compiled
core is absent: its fused one-pass walk is faster in Python.)
"""

from __future__ import annotations

import os
import stat as statmod
import struct

from .index import HEADER, MISSING, SKIP_WORKTREE, STAT, _check, _compare, _paths
from .names import is_reserved_dir
from .worktree import tracked_dirs

VERSION = 5


def check(data: bytes, root: str, since_ns: int, threads: int) -> list[tuple[str, int, int]]:
    """(path, state, position in the index) of every entry not CLEAN and not
    skip-worktree."""
    version, count, _ = _check(data, "index")
    if version != 3:
        raise ValueError("not a version 3 index")
    out = []
    stats = STAT.iter_unpack(memoryview(data)[HEADER.size : HEADER.size + count * STAT.size])
    for position, (path, e) in enumerate(zip(_paths(data, "index", version, count), stats, strict=True)):
        if e[6] & SKIP_WORKTREE:
            continue
        try:
            st = _lstat_below(root, path)
        except OSError:
            out.append((path, MISSING, position))
            continue
        state = _compare(e, st, since_ns)
        if state:
            out.append((path, state, position))
    return out


FALLBACK = 0  # store_new: this file takes the Python path (staging.store_file)
CHANGED = 1  # store_new: the file changed after it was linked (the new link removed)


def blake3(data: bytes) -> bytes:
    """The 32-byte BLAKE3 digest of ``data``."""
    from blake3 import blake3 as hasher

    return hasher(data).digest()


def store_new(root: str, objects: str, paths: list[str], max_size: int, threads: int) -> list:
    """Hash and hardlink into ``objects`` each of ``paths`` (new files of
    at most ``max_size`` bytes): (digest, stat record, size, present),
    FALLBACK or CHANGED a path, as the compiled core's ``store_new`` says."""
    return [_store_one(root, objects, path, max_size) for path in paths]


def _store_one(root: str, objects: str, path: str, max_size: int):
    from .fsutil import unlink_quietly
    from .hashing import same_snapshot
    from .index import _stat_record

    full = f"{root}/{path}"
    try:
        fd = os.open(full, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return FALLBACK
    try:
        st = os.fstat(fd)
        if not statmod.S_ISREG(st.st_mode) or st.st_size > max_size:
            return FALLBACK
        data = os.pread(fd, st.st_size + 1, 0)  # a file that grew is not hashed short
        if len(data) != st.st_size:
            return FALLBACK
        digest = blake3(data)
        if not same_snapshot(st, os.fstat(fd)):
            return FALLBACK
        hexdigest = digest.hex()
        dest = f"{objects}/{hexdigest[:2]}/{hexdigest[2:]}"
        present = False
        try:
            os.link(full, dest, follow_symlinks=False)
        except FileExistsError:
            present = True
        except OSError:
            return FALLBACK  # the Python path decides: another link mode, or an error
        else:
            try:
                linked = os.lstat(dest)
            except OSError:
                linked = None
            if linked is None or linked.st_ino != st.st_ino or linked.st_dev != st.st_dev:
                unlink_quietly(dest)  # saved over between hash and link: never under this name
                return FALLBACK
        final = os.fstat(fd)
        if final.st_size != st.st_size or final.st_mtime_ns != st.st_mtime_ns:
            if not present:
                os.unlink(dest)
            return CHANGED
        return digest, _stat_record(final), final.st_size, present
    except OSError:
        return FALLBACK
    finally:
        os.close(fd)


class _Check:
    """What check_start returns: the arguments, until check_finish runs it."""

    def __init__(self, *args) -> None:
        self.args = args


def check_start(data: bytes, root: str, since_ns: int, threads: int) -> _Check:
    """check, to be finished by ``check_finish``; the compiled core runs it
    meanwhile, this twin when it is finished."""
    return _Check(data, root, since_ns, threads)


def check_finish(handle: _Check) -> list[tuple[str, int, int]]:
    """What check returns for the arguments given to check_start, once."""
    if not isinstance(handle, _Check):
        raise TypeError("check_finish takes what check_start returned")
    args, handle.args = handle.args, None
    if args is None:
        raise ValueError("this check is already finished")
    return check(*args)


def _lstat_below(root: str, path: str) -> os.stat_result:
    """lstat ``path`` without following a symlink in any of its directories."""
    full = root
    *dirs, name = path.split("/")
    for d in dirs:
        full = os.path.join(full, d)
        if not statmod.S_ISDIR(os.lstat(full).st_mode):
            raise NotADirectoryError(full)
    return os.lstat(os.path.join(full, name))


# A record of the directory cache (ama/dircache.py): mtime_ns, ctime_ns,
# ino, dev, path length, untracked files, untracked directories, names length.
_RECORD = struct.Struct("<qqQQIIII")
_PATH_MAX = 4096  # the compiled core's path buffer


def _parse_cache(cache: bytes) -> dict[bytes, tuple]:
    """path -> (mtime_ns, ctime_ns, ino, dev, untracked files, names); {} if
    the records do not parse (as the compiled core, it then reads everything)."""
    out: dict[bytes, tuple] = {}
    at, end, prev = 0, len(cache), None
    while at < end:
        if end - at < _RECORD.size:
            return {}
        mtime, ctime, ino, dev, plen, nfiles, ndirs, nlen = _RECORD.unpack_from(cache, at)
        start = at + _RECORD.size
        if plen + nlen > end - start:
            return {}
        path = cache[start : start + plen]
        blob = cache[start + plen : start + plen + nlen]
        at = start + plen + nlen
        if blob and blob[-1:] != b"\0":
            return {}
        names = blob[:-1].split(b"\0") if blob else []
        if (
            len(names) != nfiles + ndirs
            or any(n in (b"", b".", b"..") or b"/" in n for n in names)
            or b"\0" in path
            or (prev is not None and path <= prev)
        ):
            return {}
        prev = path
        out[path] = (mtime, ctime, ino, dev, nfiles, names)
    return out


def _record(st: os.stat_result, path: bytes, files: list[bytes], dirs: list[bytes]) -> bytes:
    blob = b"".join(n + b"\0" for n in files + dirs)
    head = _RECORD.pack(st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev, len(path), len(files), len(dirs), len(blob))
    return head + path + blob


def walk(data: bytes, root: str, cache: bytes = b"", cutoff_ns: int = 0) -> tuple[list[str], list[str], bytes, int]:
    """(untracked files, untracked directories, records to cache, cache
    hits): a directory holding no tracked path is returned without being
    read; with a cutoff, a directory whose cached stat is unchanged is not
    read either (its recorded names are listed)."""
    version, count, _ = _check(data, "index")
    if version != 3:
        raise ValueError("not a version 3 index")
    tracked = _paths(data, "index", version, count)
    dirs_with_tracked = tracked_dirs(tracked)
    children: dict[str, list[str]] = {}
    for d in dirs_with_tracked:
        parent, _, name = d.rpartition("/")
        children.setdefault(parent, []).append(name)
    cached = _parse_cache(cache) if cutoff_ns > 0 else {}
    files: list[str] = []
    untracked_dirs: list[str] = []
    records: list[tuple[bytes, bytes]] = []
    hits = 0
    stack = [""]
    while stack:
        rel_dir = stack.pop()
        prefix = rel_dir + "/" if rel_dir else ""
        full = os.path.join(root, rel_dir) if rel_dir else root
        st = None
        if cutoff_ns > 0:
            try:
                st = os.lstat(full) if rel_dir else os.stat(full)
            except OSError:
                continue
            if not statmod.S_ISDIR(st.st_mode):
                continue  # (entered from the cache: never through a symlink)
        key = os.fsencode(rel_dir)
        rec = cached.get(key) if st is not None else None
        if rec and rec[:4] == (st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev):
            hits += 1
            nfiles, names = rec[4], [os.fsdecode(n) for n in rec[5]]
            files += [prefix + n for n in names[:nfiles]]
            untracked_dirs += [prefix + n for n in names[nfiles:]]
            records.append((key, _record(st, key, rec[5][:nfiles], rec[5][nfiles:])))
            stack += [prefix + n for n in children.get(rel_dir, ()) if n not in ("", ".", "..") and not is_reserved_dir(n)]
            continue
        complete = st is not None and max(st.st_mtime_ns, st.st_ctime_ns) < cutoff_ns
        own_files: list[bytes] = []
        own_dirs: list[bytes] = []
        try:
            it = os.scandir(full)
        except OSError:
            continue
        with it:
            try:
                for de in it:
                    rel = prefix + de.name
                    if len(os.fsencode(rel)) + 2 >= _PATH_MAX:
                        complete = False
                        continue
                    if de.is_dir(follow_symlinks=False):
                        if is_reserved_dir(de.name):
                            continue
                        if rel in dirs_with_tracked:
                            stack.append(rel)
                        else:
                            untracked_dirs.append(rel)
                            own_dirs.append(os.fsencode(de.name))
                    elif de.is_file(follow_symlinks=False) and rel not in tracked:
                        files.append(rel)
                        own_files.append(os.fsencode(de.name))
            except OSError:
                complete = False
        if complete:
            records.append((key, _record(st, key, own_files, own_dirs)))
    records.sort()
    return files, untracked_dirs, b"".join(r for _, r in records), hits
