"""``.ama/index``: the stat snapshot of every staged path.

Binary, versioned, checksummed; the format is in ``docs/index-format.md``.
In memory the index is a dict from path to a plain tuple: at a million
entries, tuples straight out of ``struct.iter_unpack`` load an order of
magnitude faster than objects. The tuple layout is private to this module
(as git's read-cache.c owns its entries): everything else goes through the
methods of ``Index``.
"""

from __future__ import annotations

import os
import stat as statmod
import struct
from bisect import bisect_left

from blake3 import blake3

from .errors import Corrupt
from .fsutil import LockFile
from .tuples import namedtuple

TYPE_CHECKING = False  # collections.abc for annotations only: status is start-up bound
if TYPE_CHECKING:
    import mmap
    from collections.abc import Callable, Iterable, Iterator

MAGIC = b"AMAINDEX"
VERSION = 3
READS = (2, 3)  # a version 2 index is read, and written back as version 3
HEADER = struct.Struct("<8sII32s")  # magic, version, entry count, cached root tree id
# Version 3: a block of stat records, then a block of digests, then the paths,
# so that a check of the work tree reads the stat block only.
STAT = struct.Struct("<QqqQQII")  # size, mtime, ctime, ino, dev, mode, flags
DIGEST = struct.Struct("<32s")
RECORD_V2 = struct.Struct("<32sQqqQQII")  # digest, size, mtime, ctime, ino, dev, nlink, mode
TRAILER_SIZE = 32

# Entry flags (the low byte) and content kind (bits 8-15).
SKIP_WORKTREE = 1  # staged but not materialised in the work tree (sparse)
KIND_SHIFT = 8
KIND_FILE = 0  # bytes in the object store, named by their BLAKE3 id
KIND_REF = 1  # a reference object naming bytes that stay at their source (docs/references.md)
_KIND_MASK = 0xFF << KIND_SHIFT
_KIND_BYTE = 45  # where the kind is in a version 3 stat record: flags (offset 44), bits 8-15

# The record layout is private to this module: other modules use the
# accessors of ``Index`` below, never tuple positions.
_DIGEST, _SIZE, _MTIME, _CTIME, _INO, _DEV, _MODE, _FLAGS = range(8)
# entry[1:6] is (size, mtime_ns, ctime_ns, ino, dev): the comparison below
# matches it with the same tuple built from lstat in one step.

_Entry = tuple  # (digest: bytes32, size, mtime_ns, ctime_ns, ino, dev, mode, flags)

RECOVER_HINT = (
    "move it aside (mv .ama/index .ama/index.bad) and 'ama add' your files again; "
    "committed versions are not affected"
)

# What a file's lstat says about its entry (``Index.compare``), the one
# stat comparison every command uses:
CLEAN = 0  # snapshot equal and older than the index: unchanged, no hashing
RACY = 1  # snapshot equal but not older than the index: hash to decide
TOUCHED = 2  # same file and size, a timestamp differs: hash to decide
CHANGED = 3  # same file, other size: the content changed, no hashing needed
REPLACED = 4  # another file (inode or device differs): hash to decide
NOT_FILE = 5  # no longer a regular file
MISSING = 6  # not there (only the compiled core's check reports it)


# One entry as named fields, built on demand (never in bulk). A namedtuple
# rather than typing.NamedTuple: typing costs status 5 ms of start-up.
Snapshot = namedtuple("Snapshot", "digest size mtime_ns ctime_ns ino dev mode flags")


def _make(digest: str, st: os.stat_result) -> _Entry:
    return (
        bytes.fromhex(digest),
        st.st_size,
        st.st_mtime_ns,
        st.st_ctime_ns,
        st.st_ino,
        st.st_dev,
        st.st_mode,
        0,
    )


def _make_stat(st: os.stat_result) -> tuple:
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev, st.st_mode)


def _compare(e: _Entry, st: os.stat_result, since: int) -> int:
    if e[_FLAGS] & SKIP_WORKTREE:
        return CLEAN  # not materialised: whatever is at the path is not its file
    if (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev) == e[1:6]:
        if e[_MTIME] < since and e[_CTIME] < since and statmod.S_ISREG(st.st_mode):
            return CLEAN
        if not statmod.S_ISREG(st.st_mode):
            return NOT_FILE
        return RACY
    if not statmod.S_ISREG(st.st_mode):
        return NOT_FILE
    if st.st_ino != e[_INO] or st.st_dev != e[_DEV]:
        return REPLACED
    if st.st_size != e[_SIZE]:
        return CHANGED
    if e[_MTIME] >= since or e[_CTIME] >= since:
        return RACY
    return TOUCHED


class Index:
    def __init__(self, entries: dict[str, _Entry] | None = None, mtime_ns: int = 0, tree: str | None = None):
        self._parsed: dict[str, _Entry] | None = entries if entries is not None else {}
        # The file's bytes until the entries are first needed (a check by the
        # compiled core reads them in place and may never need them).
        self._raw: tuple[bytes, str, int, int] | None = None  # data, path, version, count
        # The root tree id these entries make, when known (git's cache-tree,
        # for the root only): status compares it with HEAD's tree instead of
        # walking the committed trees. Every content change must go through
        # ``add``/``remove``, which drop it.
        self.tree = tree
        # When the index file was last written: entries whose timestamps are
        # not older than this are "racily clean" and must be hashed.
        self.mtime_ns = mtime_ns
        # Paths whose entry was taken from a fresh hash of the file in this
        # process (staged or refreshed): their snapshot is trusted on write.
        self.verified: set[str] = set()
        # The BLAKE3 trailer of the file as read or last written (None in
        # memory only): it names the exact content, so the directory cache
        # (ama/dircache.py) is keyed by it.
        self.checksum: bytes | None = None
        self._sorted: list[str] | None = None  # sorted paths, for bisection
        self._dirs: set[str] | None = None  # a superset of the implied directories

    @classmethod
    def load(cls, path: str) -> Index:
        try:
            with open(path, "rb") as f:
                st = os.fstat(f.fileno())
                data = _map(f, st.st_size)
                mtime_ns = st.st_mtime_ns
        except FileNotFoundError:
            return cls()
        version, count, tree = _check(data, path)
        index = cls(None, mtime_ns, tree)
        index._parsed = None
        index._raw = (data, path, version, count)
        index.checksum = data[-TRAILER_SIZE:]
        return index

    @property
    def _entries(self) -> dict[str, _Entry]:
        entries = self._parsed
        if entries is None:
            data, path, version, count = self._raw
            entries = self._parsed = _decode(data, path, version, count)
            self._raw = None
        return entries

    def snapshots_at(self, positions: dict[str, int]) -> dict[str, Snapshot]:
        """path -> Snapshot for paths at these entry numbers of the file as
        read (what the compiled core reports), straight from its bytes: the
        few entries a status must look at again cost no decoding of the
        rest. {} unless the file is version 3 and not yet decoded."""
        raw = self.raw_v3()
        if raw is None:
            return {}
        count = self._raw[3]
        digests_at = HEADER.size + count * STAT.size
        out = {}
        for path, i in positions.items():
            at = digests_at + i * DIGEST.size
            out[path] = Snapshot(raw[at : at + DIGEST.size].hex(), *STAT.unpack_from(raw, HEADER.size + i * STAT.size))
        return out

    def raw_v3(self) -> bytes | None:
        """The file's bytes if read as version 3 and not yet decoded."""
        if self._raw is not None and self._raw[2] == 3:
            return self._raw[0]
        return None

    # -- reading ---------------------------------------------------------------

    def __len__(self) -> int:
        return self._raw[3] if self._raw is not None else len(self._entries)

    def __contains__(self, path: object) -> bool:
        return path in self._entries

    def __bool__(self) -> bool:
        return len(self) > 0

    def paths(self) -> Iterable[str]:
        """Every staged path, in no particular order."""
        return self._entries.keys()

    def sorted_paths(self) -> list[str]:
        if self._sorted is None:
            self._sorted = sorted(self._entries)
        return self._sorted

    def digest(self, path: str) -> str:
        """The content id ``path`` is staged with (KeyError if it is not)."""
        return self._entries[path][_DIGEST].hex()

    def get(self, path: str) -> Snapshot | None:
        e = self._entries.get(path)
        return None if e is None else Snapshot(e[0].hex(), *e[1:])

    def files(self) -> Iterator[tuple[str, str, int, int]]:
        """(path, content id, size, st_mode) of every staged file."""
        for path, e in self._entries.items():
            yield path, e[_DIGEST].hex(), e[_SIZE], e[_MODE]

    def digests(self) -> Iterator[tuple[str, str]]:
        """(path, content id) of every staged file."""
        for path, e in self._entries.items():
            yield path, e[_DIGEST].hex()

    def total_size(self) -> int:
        return sum(e[_SIZE] for e in self._entries.values())

    def is_racy(self, path: str) -> bool:
        e = self._entries[path]
        return e[_MTIME] >= self.mtime_ns or e[_CTIME] >= self.mtime_ns

    def is_skip_worktree(self, path: str) -> bool:
        """Whether ``path`` is staged but not materialised (sparse): status
        does not check or report it, write-tree carries it unchanged."""
        return bool(self._entries[path][_FLAGS] & SKIP_WORKTREE)

    def set_skip_worktree(self, path: str, on: bool = True) -> None:
        """Mark ``path`` (not) materialised; its content stays staged."""
        e = self._entries[path]
        flags = (e[_FLAGS] | SKIP_WORKTREE) if on else (e[_FLAGS] & ~SKIP_WORKTREE)
        self._entries[path] = e[:_FLAGS] + (flags,)

    def skip_worktree_paths(self) -> list[str]:
        return [p for p, e in self._entries.items() if e[_FLAGS] & SKIP_WORKTREE]

    def kind(self, path: str) -> int:
        """The content kind of ``path``'s entry: KIND_FILE (0); other values
        are reserved for references (issue 13)."""
        return (self._entries[path][_FLAGS] >> KIND_SHIFT) & 0xFF

    def same_inode(self, path: str, st: os.stat_result) -> bool:
        """Whether ``st`` is of the very file ``path`` was staged from."""
        e = self._entries[path]
        return st.st_ino == e[_INO] and st.st_dev == e[_DEV]

    def compare(self, path: str, st: os.stat_result) -> int:
        """What ``st`` (an lstat of ``path``'s file) says about its entry:
        CLEAN, RACY, TOUCHED, CHANGED, REPLACED or NOT_FILE."""
        return _compare(self._entries[path], st, self.mtime_ns)

    def comparer(self) -> Callable[[str, os.stat_result], int]:
        """``compare`` for loops over many files: the common case (equal,
        not racy) is decided by one tuple comparison."""
        entries = self._entries
        since = self.mtime_ns

        def compare(path: str, st: os.stat_result) -> int:
            e = entries[path]
            if (
                (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev) == e[1:6]
                and e[2] < since
                and e[3] < since
            ):
                return CLEAN
            return _compare(e, st, since)

        return compare

    def unchanged(self, path: str, full: str) -> bool:
        """Whether ``path`` is staged and its file ``full`` is CLEAN."""
        if path not in self._entries:
            return False
        try:
            st = os.lstat(full)
        except OSError:
            return False
        return self.compare(path, st) == CLEAN

    def paths_under(self, prefixes: Iterable[str]) -> list[str]:
        """Tracked paths equal to or below any of ``prefixes`` ('' is all)."""
        ordered = self.sorted_paths()
        result: set[str] = set()
        for prefix in prefixes:
            if prefix in ("", "."):
                return list(ordered)
            if prefix in self._entries:
                result.add(prefix)
            below = prefix.rstrip("/") + "/"
            i = bisect_left(ordered, below)
            while i < len(ordered) and ordered[i].startswith(below):
                result.add(ordered[i])
                i += 1
        return sorted(result)

    def has_below(self, directory: str) -> bool:
        """Whether any staged path is below ``directory``."""
        below = directory.rstrip("/") + "/"
        ordered = self.sorted_paths()
        i = bisect_left(ordered, below)
        return i < len(ordered) and ordered[i].startswith(below)

    def same_content(self, other: Index) -> bool:
        """Whether both name the same files with the same contents and modes."""
        if self._entries.keys() != other._entries.keys():
            return False
        theirs = other._entries
        return all(
            e[_DIGEST] == theirs[p][_DIGEST] and (e[_MODE] ^ theirs[p][_MODE]) & 0o100 == 0
            for p, e in self._entries.items()
        )

    # -- changing ----------------------------------------------------------------

    def add(self, path: str, digest: str, st: os.stat_result) -> list[str]:
        """Stage ``path`` with content ``digest`` and the snapshot ``st``
        taken with its hash. Returns the staged paths this drops because a
        file cannot be a directory too: a staged ``path/...`` below it, or a
        staged file where one of its parent directories now is."""
        return self._put(path, _make(digest, st))

    def add_unread(self, path: str, digest: str, size: int, st_mode: int) -> list[str]:
        """Stage content ``digest`` at ``path`` without a file read: a
        snapshot of zeros, which the stat comparison never finds CLEAN."""
        return self._put(path, (bytes.fromhex(digest), size, 0, 0, 0, 0, statmod.S_IFREG | (st_mode & 0o777), 0))

    def add_reference(self, path: str, ref_id: str, size: int, st: os.stat_result | None = None) -> list[str]:
        """Stage reference object ``ref_id`` at ``path``: not materialised
        (skip-worktree), or with ``st`` materialised as the file whose
        snapshot ``st`` is, taken when its bytes were placed or verified."""
        flags = KIND_REF << KIND_SHIFT
        if st is None:
            entry = (bytes.fromhex(ref_id), size, 0, 0, 0, 0, statmod.S_IFREG | 0o644, flags | SKIP_WORKTREE)
        else:
            entry = _make(ref_id, st)[:_FLAGS] + (flags,)
        return self._put(path, entry)

    def refresh(self, path: str, st: os.stat_result) -> None:
        """Take ``st`` as ``path``'s snapshot: its file was just hashed and
        found to hold the staged content (the content and kind stay)."""
        e = self._entries[path]
        self._entries[path] = (e[_DIGEST], *_make_stat(st), e[_FLAGS] & ~SKIP_WORKTREE)
        self.verified.add(path)

    def reference_paths(self) -> set[str]:
        """The staged paths that are references (kind ``KIND_REF``)."""
        raw = self.raw_v3()
        if raw is not None:
            # The kind byte of every entry, straight from the stat block:
            # an index holding files only is not decoded (status asks).
            count = self._raw[3]
            kinds = raw[HEADER.size + _KIND_BYTE : HEADER.size + count * STAT.size : STAT.size]
            if not kinds.strip(b"\0"):
                return set()
        ref = KIND_REF << KIND_SHIFT
        return {p for p, e in self._entries.items() if e[_FLAGS] & _KIND_MASK == ref}

    def keep(self, path: str, other: Index) -> None:
        """Copy ``path``'s entry from ``other`` unchanged."""
        self._put(path, other._entries[path])

    def move(self, old: str, new: str) -> list[str]:
        """Stage ``old``'s entry at ``new`` instead, its snapshot unchanged
        and not re-verified (``ama mv``: the next stat comparison decides).
        Returns the staged paths dropped as ``add`` does."""
        entry = self._entries[old]
        self.remove(old)
        self.remove(new)
        dropped = self._put(new, entry)
        self.verified.discard(new)
        return dropped

    def _put(self, path: str, entry: _Entry) -> list[str]:
        entries = self._entries
        old = entries.get(path)
        dropped: list[str] = []
        if old is None:
            dropped = self._conflicts(path)
            for p in dropped:
                self.remove(p)
            self._sorted = None
            if self._dirs is not None:
                self._add_dirs(path)
            self.tree = None
        elif old[_DIGEST] != entry[_DIGEST] or old[_SIZE] != entry[_SIZE] or ((old[_MODE] ^ entry[_MODE]) & 0o100):
            self.tree = None
        entries[path] = entry
        self.verified.add(path)
        return dropped

    def _conflicts(self, path: str) -> list[str]:
        """Staged paths that cannot coexist with a new file at ``path``."""
        entries = self._entries
        found = []
        parent = path
        while "/" in parent:
            parent = parent.rsplit("/", 1)[0]
            if parent in entries:
                found.append(parent)
        if self._dirs is None:
            self._dirs = set()
            for p in entries:
                self._add_dirs(p)
        if path in self._dirs:
            found.extend(self.paths_under([path]))
        return found

    def _add_dirs(self, path: str) -> None:
        dirs = self._dirs
        while "/" in path:
            path = path.rsplit("/", 1)[0]
            if path in dirs:
                break
            dirs.add(path)

    def remove(self, path: str) -> bool:
        if self._entries.pop(path, None) is None:
            return False
        self._sorted = None
        self.verified.discard(path)
        self.tree = None
        return True

    def serialize(self) -> bytes:
        paths = self.sorted_paths()
        entries = self._entries
        rows = [entries[p] for p in paths]
        pack = STAT.pack
        stats = b"".join([pack(*e[1:]) for e in rows])
        digests = b"".join([e[0] for e in rows])
        names = "\0".join(paths).encode() + (b"\0" if paths else b"")
        tree = bytes.fromhex(self.tree) if self.tree else bytes(32)
        data = b"".join((HEADER.pack(MAGIC, VERSION, len(paths), tree), stats, digests, names))
        return data + blake3(data, max_threads=blake3.AUTO if len(data) > 1 << 24 else 1).digest()

    def write(self, lock: LockFile) -> None:
        """Write through the held ``lock`` and move it over the index."""
        self.smudge_racy()
        data = self.serialize()
        lock.write(data)
        lock.commit()
        self.checksum = data[-TRAILER_SIZE:]

    def smudge_racy(self) -> None:
        """Keep racily clean entries from becoming trusted by this write.

        An entry racy relative to the index as it was read would look older
        than the index written now, and a same-size edit made within its
        timestamp tick would never be seen. As git does (racy-git.txt), such
        entries not re-verified in this process are smudged: their ctime is
        zeroed, so the next stat-check hashes them. An index built in memory
        (``mtime_ns`` 0) was not read from a file and has none.
        """
        if not self.mtime_ns:
            return
        since = self.mtime_ns
        entries = self._entries
        racy = [
            p
            for p, e in entries.items()
            if (e[_MTIME] >= since or e[_CTIME] >= since) and e[_CTIME] and p not in self.verified
        ]
        for p in racy:
            e = entries[p]
            entries[p] = e[:_CTIME] + (0,) + e[_CTIME + 1 :]


def _map(f, size: int) -> bytes | mmap.mmap:
    """The bytes of the open file ``f``, mapped rather than copied: a check
    by the compiled core reads them in place, and at 100,000 entries the
    copy of read() costs as much as verifying the checksum. ama replaces the
    index by rename, never in place, so the mapping keeps the file as read."""
    if size:
        import mmap

        try:
            return mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        except (OSError, ValueError):
            pass  # a file system that cannot map: read it
    return f.read()


def file_checksum(path: str) -> bytes | None:
    """The checksum of the index file at ``path`` as it is now, read alone
    (its trailer names its content: equal trailers, same index), or None
    if there is no index."""
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size < HEADER.size + TRAILER_SIZE:
                return None
            return os.pread(f.fileno(), TRAILER_SIZE, size - TRAILER_SIZE)
    except FileNotFoundError:
        return None


def parse(data: bytes, path: str = ".ama/index") -> tuple[dict[str, _Entry], str | None]:
    version, count, tree = _check(data, path)
    return _decode(data, path, version, count), tree


def _check(data: bytes, path: str) -> tuple[int, int, str | None]:
    """The checks that need no decoding: (version, count, cached tree id)."""
    if len(data) < HEADER.size + TRAILER_SIZE:
        raise Corrupt(f"{path} is truncated; {RECOVER_HINT}")
    magic, version, count, tree = HEADER.unpack_from(data)
    if magic != MAGIC:
        raise Corrupt(f"{path} is not an ama index (bad signature); {RECOVER_HINT}")
    # The checksum before the version: a damaged version field is damage,
    # not a format this ama does not know (every version keeps the trailer).
    body = memoryview(data)[:-TRAILER_SIZE]
    if blake3(body, max_threads=blake3.AUTO if len(body) > 1 << 24 else 1).digest() != data[-TRAILER_SIZE:]:
        raise Corrupt(f"{path} is corrupt (checksum mismatch); {RECOVER_HINT}")
    if version not in READS:
        raise Corrupt(f"{path} has format version {version}; this ama reads versions 2 and 3; {RECOVER_HINT}")
    record = RECORD_V2.size if version == 2 else STAT.size + DIGEST.size
    if HEADER.size + count * record > len(body):
        raise Corrupt(f"{path} is truncated; {RECOVER_HINT}")
    return version, count, (tree.hex() if any(tree) else None)


def _decode(data: bytes, path: str, version: int, count: int) -> dict[str, _Entry]:
    body = memoryview(data)[:-TRAILER_SIZE]
    start = HEADER.size
    if version == 2:
        end = start + count * RECORD_V2.size
    else:
        digests_at = start + count * STAT.size
        end = digests_at + count * DIGEST.size
    try:
        names = str(body[end:], "utf-8")
    except UnicodeDecodeError:
        raise Corrupt(f"{path} is corrupt (bad path name); {RECOVER_HINT}") from None
    paths = names.split("\0")[:-1] if count else []
    if len(paths) != count:
        raise Corrupt(f"{path} is corrupt (entry count mismatch); {RECOVER_HINT}")
    if version == 2:
        # nlink is dropped; the flags are new (nothing skipped, kind file).
        records = ((d, s, m, c, i, dev, mode, 0) for d, s, m, c, i, dev, _, mode in RECORD_V2.iter_unpack(body[start:end]))
    else:
        records = map(
            tuple.__add__,
            DIGEST.iter_unpack(body[digests_at:end]),
            STAT.iter_unpack(body[start:digests_at]),
        )
    return dict(zip(paths, records, strict=True))
