"""``.ama/index``: the stat snapshot of every staged path.

Binary, versioned, checksummed; the format is in ``docs/index-format.md``.
In memory the entries are kept as the file lays them out: fixed-size stat
records and raw digests in two bytearrays, and a dict from path to record
number (below, "The record layout"). That layout is private to this module
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
# accessors of ``Index`` below, never record positions. In memory, entry
# ``i`` (its slot) is the 48-byte stat record at ``i * 48`` of one bytearray
# and the 32-byte digest at ``i * 32`` of another, exactly as in the file; a
# dict maps each path to its slot. That is ~220 bytes an entry at a million
# (the path string, its dict slot and slot number, 80 bytes of records)
# where a tuple of Python ints per entry took ~410. An entry added is
# appended; one removed leaves a dead slot that the next write drops (the
# file holds live entries only, in path order).
_SIZE, _MTIME, _CTIME, _INO, _DEV, _MODE, _FLAGS = range(7)  # fields of a stat record
_FLAGS_AT = 44  # where the flags word is in a stat record
_FLAGS_WORD = struct.Struct("<I")
_TIMES = struct.Struct("<8xqq24x")  # mtime and ctime of a stat record
_CTIME_WORD = struct.Struct("<q")
_CTIME_AT = 16

# Entries per piece when the file is written: what a write holds besides
# the index is a sorted list of paths and one piece.
WRITE_CHUNK = 1 << 16

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


def _stat_record(st: os.stat_result, flags: int = 0) -> bytes:
    return STAT.pack(st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev, st.st_mode, flags)


def _compare(e: tuple, st: os.stat_result, since: int) -> int:
    """What ``st`` says about the entry whose unpacked stat record is ``e``."""
    if e[_FLAGS] & SKIP_WORKTREE:
        return CLEAN  # not materialised: whatever is at the path is not its file
    if (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev) == e[:5]:
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
    def __init__(self, entries: dict[str, tuple] | None = None, mtime_ns: int = 0, tree: str | None = None):
        # path -> slot; None until the file's entries are first needed.
        self._slots: dict[str, int] | None = {}
        self._stats = bytearray()  # STAT.size bytes a slot
        self._digests = bytearray()  # DIGEST.size bytes a slot
        # One byte a slot, 1 if its entry was taken from a fresh hash of the
        # file in this process (staged or refreshed): its snapshot is trusted
        # on write (``smudge_racy``).
        self._verified = bytearray()
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
        # The BLAKE3 trailer of the file as read or last written (None in
        # memory only): it names the exact content, so the directory cache
        # (ama/dircache.py) is keyed by it.
        self.checksum: bytes | None = None
        self._sorted: list[str] | None = None  # sorted paths, for bisection
        # A superset of the implied directories (removing a path leaves its
        # directories), but never a staged file or a directory below one:
        # staging a file drops the directories at and below it.
        self._dirs: set[str] | None = None
        # (digest bytes, size, mtime_ns, ctime_ns, ino, dev, mode, flags) per
        # path: how tests build an index of chosen fields.
        for path, e in (entries or {}).items():
            self._append(path, e[0], STAT.pack(*e[1:]), 0)

    @classmethod
    def load(cls, path: str, mapped: tuple | None = None) -> Index:
        """The index file at ``path``; ``mapped``: its bytes and mtime as
        read already (ama/cli.py's status start), then only checked."""
        if mapped is not None:
            data, mtime_ns = mapped
        else:
            try:
                with open(path, "rb") as f:
                    st = os.fstat(f.fileno())
                    data = _map(f, st.st_size)
                    mtime_ns = st.st_mtime_ns
            except FileNotFoundError:
                return cls()
        version, count, tree = _check(data, path)
        index = cls(None, mtime_ns, tree)
        index._slots = None
        index._raw = (data, path, version, count)
        index.checksum = data[-TRAILER_SIZE:]
        return index

    def _decoded(self) -> dict[str, int]:
        """path -> slot, decoding the file's entries the first time."""
        slots = self._slots
        if slots is None:
            data, path, version, count = self._raw
            paths = _paths(data, path, version, count)
            self._stats, self._digests = _blocks(data, version, count)
            self._verified = bytearray(count)
            slots = self._slots = dict(zip(paths, range(count), strict=True))
            self._raw = None
        return slots

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

    def _stat(self, path: str) -> tuple:
        """``path``'s stat record, unpacked (KeyError if not staged)."""
        slot = self._decoded()[path]
        return STAT.unpack_from(self._stats, slot * STAT.size)

    def _digest_bytes(self, slot: int) -> bytes:
        at = slot * DIGEST.size
        return bytes(self._digests[at : at + DIGEST.size])

    def __len__(self) -> int:
        return self._raw[3] if self._raw is not None else len(self._slots)

    def __contains__(self, path: object) -> bool:
        return path in self._decoded()

    def __bool__(self) -> bool:
        return len(self) > 0

    def paths(self) -> Iterable[str]:
        """Every staged path, in no particular order."""
        return self._decoded().keys()

    def sorted_paths(self) -> list[str]:
        if self._sorted is None:
            self._sorted = sorted(self._decoded())
        return self._sorted

    def digest(self, path: str) -> str:
        """The content id ``path`` is staged with (KeyError if it is not)."""
        at = self._decoded()[path] * DIGEST.size
        return self._digests[at : at + DIGEST.size].hex()

    def get(self, path: str) -> Snapshot | None:
        slot = self._decoded().get(path)
        if slot is None:
            return None
        at = slot * DIGEST.size
        return Snapshot(self._digests[at : at + DIGEST.size].hex(), *STAT.unpack_from(self._stats, slot * STAT.size))

    def files(self) -> Iterator[tuple[str, str, int, int]]:
        """(path, content id, size, st_mode) of every staged file."""
        slots = self._decoded()
        stats, digests, unpack = self._stats, self._digests, STAT.unpack_from
        for path, slot in slots.items():
            e = unpack(stats, slot * STAT.size)
            yield path, digests[slot * DIGEST.size : (slot + 1) * DIGEST.size].hex(), e[_SIZE], e[_MODE]

    def digests(self) -> Iterator[tuple[str, str]]:
        """(path, content id) of every staged file."""
        slots = self._decoded()
        digests = self._digests
        for path, slot in slots.items():
            yield path, digests[slot * DIGEST.size : (slot + 1) * DIGEST.size].hex()

    def total_size(self) -> int:
        slots = self._decoded()
        stats, unpack = self._stats, STAT.unpack_from
        return sum(unpack(stats, slot * STAT.size)[_SIZE] for slot in slots.values())

    def is_racy(self, path: str) -> bool:
        e = self._stat(path)
        return e[_MTIME] >= self.mtime_ns or e[_CTIME] >= self.mtime_ns

    def _flags(self, slot: int) -> int:
        return _FLAGS_WORD.unpack_from(self._stats, slot * STAT.size + _FLAGS_AT)[0]

    def is_skip_worktree(self, path: str) -> bool:
        """Whether ``path`` is staged but not materialised (sparse): status
        does not check or report it, write-tree carries it unchanged."""
        return bool(self._flags(self._decoded()[path]) & SKIP_WORKTREE)

    def set_skip_worktree(self, path: str, on: bool = True) -> None:
        """Mark ``path`` (not) materialised; its content stays staged."""
        slot = self._decoded()[path]
        flags = self._flags(slot)
        flags = (flags | SKIP_WORKTREE) if on else (flags & ~SKIP_WORKTREE)
        _FLAGS_WORD.pack_into(self._stats, slot * STAT.size + _FLAGS_AT, flags)

    def skip_worktree_paths(self) -> list[str]:
        flags = self._flags
        return [p for p, slot in self._decoded().items() if flags(slot) & SKIP_WORKTREE]

    def kind(self, path: str) -> int:
        """The content kind of ``path``'s entry: KIND_FILE (0); other values
        are reserved for references (issue 13)."""
        return (self._flags(self._decoded()[path]) >> KIND_SHIFT) & 0xFF

    def same_inode(self, path: str, st: os.stat_result) -> bool:
        """Whether ``st`` is of the very file ``path`` was staged from."""
        e = self._stat(path)
        return st.st_ino == e[_INO] and st.st_dev == e[_DEV]

    def compare(self, path: str, st: os.stat_result) -> int:
        """What ``st`` (an lstat of ``path``'s file) says about its entry:
        CLEAN, RACY, TOUCHED, CHANGED, REPLACED or NOT_FILE."""
        return _compare(self._stat(path), st, self.mtime_ns)

    def comparer(self) -> Callable[[str, os.stat_result], int]:
        """``compare`` for loops over many files: the common case (equal,
        not racy) is decided by one tuple comparison."""
        slots = self._decoded()
        stats = self._stats  # a bytearray changed in place, never replaced
        unpack = STAT.unpack_from
        since = self.mtime_ns

        def compare(path: str, st: os.stat_result) -> int:
            e = unpack(stats, slots[path] * 48)
            if (
                (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev) == e[:5]
                and e[1] < since
                and e[2] < since
            ):
                return CLEAN
            return _compare(e, st, since)

        return compare

    def unchanged(self, path: str, full: str) -> bool:
        """Whether ``path`` is staged and its file ``full`` is CLEAN."""
        if path not in self._decoded():
            return False
        try:
            st = os.lstat(full)
        except OSError:
            return False
        return self.compare(path, st) == CLEAN

    def paths_under(self, prefixes: Iterable[str]) -> list[str]:
        """Tracked paths equal to or below any of ``prefixes`` ('' is all)."""
        ordered = self.sorted_paths()
        slots = self._decoded()
        result: set[str] = set()
        for prefix in prefixes:
            if prefix in ("", "."):
                return list(ordered)
            if prefix in slots:
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
        ours, theirs = self._decoded(), other._decoded()
        if ours.keys() != theirs.keys():
            return False
        for path, slot in ours.items():
            their = theirs[path]
            if self._digest_bytes(slot) != other._digest_bytes(their):
                return False
            mine = STAT.unpack_from(self._stats, slot * STAT.size)[_MODE]
            if (mine ^ STAT.unpack_from(other._stats, their * STAT.size)[_MODE]) & 0o100:
                return False
        return True

    # -- changing ----------------------------------------------------------------

    def add(self, path: str, digest: str, st: os.stat_result) -> list[str]:
        """Stage ``path`` with content ``digest`` and the snapshot ``st``
        taken with its hash. Returns the staged paths this drops because a
        file cannot be a directory too: a staged ``path/...`` below it, or a
        staged file where one of its parent directories now is."""
        return self._put(path, bytes.fromhex(digest), _stat_record(st))

    def add_stored(self, path: str, digest: bytes, record: bytes) -> list[str]:
        """``add`` for what the compiled core's ``store_new`` returns: the
        raw digest and the stat record it packed as ``STAT`` does."""
        return self._put(path, digest, record)

    def add_unread(self, path: str, digest: str, size: int, st_mode: int) -> list[str]:
        """Stage content ``digest`` at ``path`` without a file read: a
        snapshot of zeros, which the stat comparison never finds CLEAN."""
        record = STAT.pack(size, 0, 0, 0, 0, statmod.S_IFREG | (st_mode & 0o777), 0)
        return self._put(path, bytes.fromhex(digest), record)

    def add_reference(self, path: str, ref_id: str, size: int, st: os.stat_result | None = None) -> list[str]:
        """Stage reference object ``ref_id`` at ``path``: not materialised
        (skip-worktree), or with ``st`` materialised as the file whose
        snapshot ``st`` is, taken when its bytes were placed or verified."""
        flags = KIND_REF << KIND_SHIFT
        if st is None:
            record = STAT.pack(size, 0, 0, 0, 0, statmod.S_IFREG | 0o644, flags | SKIP_WORKTREE)
        else:
            record = _stat_record(st, flags)
        return self._put(path, bytes.fromhex(ref_id), record)

    def refresh(self, path: str, st: os.stat_result) -> None:
        """Take ``st`` as ``path``'s snapshot: its file was just hashed and
        found to hold the staged content (the content and kind stay)."""
        slot = self._decoded()[path]
        at = slot * STAT.size
        self._stats[at : at + STAT.size] = _stat_record(st, self._flags(slot) & ~SKIP_WORKTREE)
        self._verified[slot] = 1

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
        flags = self._flags
        return {p for p, slot in self._decoded().items() if flags(slot) & _KIND_MASK == ref}

    def keep(self, path: str, other: Index) -> None:
        """Copy ``path``'s entry from ``other`` unchanged."""
        slot = other._decoded()[path]
        at = slot * STAT.size
        self._put(path, other._digest_bytes(slot), bytes(other._stats[at : at + STAT.size]))

    def move(self, old: str, new: str) -> list[str]:
        """Stage ``old``'s entry at ``new`` instead, its snapshot unchanged
        and not re-verified (``ama mv``: the next stat comparison decides).
        Returns the staged paths dropped as ``add`` does."""
        slot = self._decoded()[old]
        at = slot * STAT.size
        digest, record = self._digest_bytes(slot), bytes(self._stats[at : at + STAT.size])
        self.remove(old)
        self.remove(new)
        return self._put(new, digest, record, verified=0)

    def _append(self, path: str, digest: bytes, record: bytes, verified: int) -> None:
        self._slots[path] = len(self._verified)
        self._stats += record
        self._digests += digest
        self._verified.append(verified)

    def _put(self, path: str, digest: bytes, record: bytes, verified: int = 1) -> list[str]:
        slots = self._decoded()
        slot = slots.get(path)
        dropped: list[str] = []
        if slot is None:
            dropped = self._conflicts(path)
            for p in dropped:
                self.remove(p)
            self._sorted = None
            if self._dirs is not None:
                self._add_dirs(path)
            self.tree = None
            self._append(path, digest, record, verified)
            return dropped
        at = slot * STAT.size
        old = STAT.unpack_from(self._stats, at)
        new = STAT.unpack_from(record)
        if self._digest_bytes(slot) != digest or old[_SIZE] != new[_SIZE] or (old[_MODE] ^ new[_MODE]) & 0o100:
            self.tree = None
        self._stats[at : at + STAT.size] = record
        self._digests[slot * DIGEST.size : (slot + 1) * DIGEST.size] = digest
        self._verified[slot] = verified
        return dropped

    def _conflicts(self, path: str) -> list[str]:
        """Staged paths that cannot coexist with a new file at ``path``
        (whose directories ``_dirs`` then no longer holds)."""
        slots = self._decoded()
        dirs = self._dirs
        if dirs is None:
            dirs = self._dirs = set()
            for p in slots:
                self._add_dirs(p)
        found = []
        parent = path
        while "/" in parent:
            parent = parent.rsplit("/", 1)[0]
            if parent in dirs:
                break  # a directory: neither it nor any above it is a staged file
            if parent in slots:
                found.append(parent)
        if path in dirs:
            found.extend(self.paths_under([path]))
            below = path + "/"
            dirs.difference_update([d for d in dirs if d.startswith(below)])
            dirs.discard(path)
        return found

    def _add_dirs(self, path: str) -> None:
        dirs = self._dirs
        while "/" in path:
            path = path.rsplit("/", 1)[0]
            if path in dirs:
                break
            dirs.add(path)

    def remove(self, path: str) -> bool:
        # The slot stays, dead: the next write leaves it out.
        if self._decoded().pop(path, None) is None:
            return False
        self._sorted = None
        self.tree = None
        return True

    # -- writing -------------------------------------------------------------------

    def _pieces(self) -> Iterator[bytes]:
        """The file's bytes without its trailer, in pieces of at most
        WRITE_CHUNK entries: header, stat block, digest block, path table."""
        slots = self._decoded()
        # Entries staged or read in path order need no sorted copy of the paths.
        paths = slots.keys() if _in_order(slots) else self.sorted_paths()
        tree = bytes.fromhex(self.tree) if self.tree else bytes(32)
        yield HEADER.pack(MAGIC, VERSION, len(paths), tree)
        for block, width in ((self._stats, STAT.size), (self._digests, DIGEST.size)):
            for chunk in _chunks(paths):
                yield _gather(block, [slots[p] for p in chunk], width)
        for chunk in _chunks(paths):
            yield ("\0".join(chunk) + "\0").encode()

    def serialize(self) -> bytes:
        data = b"".join(self._pieces())
        return data + blake3(data, max_threads=blake3.AUTO if len(data) > 1 << 24 else 1).digest()

    def write(self, lock: LockFile) -> None:
        """Write through the held ``lock`` and move it over the index: piece
        by piece, the checksum taken as they go, so a million entries cost
        no whole-file bytes in memory."""
        self.smudge_racy()
        hasher = blake3(max_threads=blake3.AUTO if len(self) > 200_000 else 1)
        for piece in self._pieces():
            hasher.update(piece)
            lock.write(piece)
        trailer = hasher.digest()
        lock.write(trailer)
        lock.commit()
        self.checksum = trailer

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
        self._decoded()
        verified, stats = self._verified, self._stats
        racy = [
            slot
            for slot, (mtime, ctime) in enumerate(_TIMES.iter_unpack(stats))
            if (mtime >= since or ctime >= since) and ctime and not verified[slot]
        ]
        for slot in racy:  # dead slots too: harmless, never written
            _CTIME_WORD.pack_into(stats, slot * STAT.size + _CTIME_AT, 0)


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


def _in_order(paths: Iterable[str]) -> bool:
    """Whether ``paths`` are strictly increasing (compared in C, no copy)."""
    following = iter(paths)
    next(following, None)
    return all(map(str.__lt__, paths, following))


def _chunks(paths: Iterable[str]) -> Iterator[list[str]]:
    from itertools import islice  # not at import: status is start-up bound

    rest = iter(paths)
    while chunk := list(islice(rest, WRITE_CHUNK)):
        yield chunk


def _gather(block: bytearray, slots: list[int], width: int) -> bytes:
    """The ``width``-byte records of ``block`` at ``slots``, in that order:
    a run of consecutive slots (an index as read, or files staged in path
    order) is copied as one slice."""
    if not slots:
        return b""
    parts = []
    rest = iter(slots)
    first = last = next(rest)
    for slot in rest:
        if slot != last + 1:
            parts.append(block[first * width : (last + 1) * width])
            first = slot
        last = slot
    parts.append(block[first * width : (last + 1) * width])
    return b"".join(parts)


def parse(data: bytes, path: str = ".ama/index") -> Index:
    """The index in ``data``, decoded (every check of ``docs/index-format.md``)."""
    version, count, tree = _check(data, path)
    index = Index(None, 0, tree)
    index._slots = None
    index._raw = (data, path, version, count)
    index._decoded()
    return index


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


def _paths(data: bytes, path: str, version: int, count: int) -> list[str]:
    """The path table, in file order (checks 6 and 7)."""
    end = HEADER.size + count * (RECORD_V2.size if version == 2 else STAT.size + DIGEST.size)
    try:
        names = str(memoryview(data)[end:-TRAILER_SIZE], "utf-8")
    except UnicodeDecodeError:
        raise Corrupt(f"{path} is corrupt (bad path name); {RECOVER_HINT}") from None
    paths = names.split("\0")[:-1] if count else []
    if len(paths) != count:
        raise Corrupt(f"{path} is corrupt (entry count mismatch); {RECOVER_HINT}")
    return paths


def _blocks(data: bytes, version: int, count: int) -> tuple[bytearray, bytearray]:
    """The stat block and the digest block, as version 3 lays them out."""
    start = HEADER.size
    if version == 3:
        digests_at = start + count * STAT.size
        view = memoryview(data)
        return bytearray(view[start:digests_at]), bytearray(view[digests_at : digests_at + count * DIGEST.size])
    # Version 2: nlink is dropped; the flags are new (nothing skipped, kind file).
    stats, digests = bytearray(), bytearray()
    for d, s, m, c, i, dev, _, mode in RECORD_V2.iter_unpack(memoryview(data)[start : start + count * RECORD_V2.size]):
        stats += STAT.pack(s, m, c, i, dev, mode, 0)
        digests += d
    return stats, digests
