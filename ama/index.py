"""``.ama/index``: the stat snapshot of every staged path.

Binary, versioned, checksummed; the format is in ``docs/index-format.md``.
In memory the index is a dict from path to a plain tuple (fields named by
the ``F_*`` constants): at a million entries, tuples straight out of
``struct.iter_unpack`` load an order of magnitude faster than objects.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterable

from blake3 import blake3

from .errors import Corrupt
from .fsutil import LockFile

MAGIC = b"AMAINDEX"
VERSION = 2
HEADER = struct.Struct("<8sII32s")  # magic, version, entry count, cached root tree id
RECORD = struct.Struct("<32sQqqQQII")  # digest, size, mtime, ctime, ino, dev, nlink, mode
TRAILER_SIZE = 32

F_DIGEST, F_SIZE, F_MTIME, F_CTIME, F_INO, F_DEV, F_NLINK, F_MODE = range(8)
# entry[1:6] is (size, mtime_ns, ctime_ns, ino, dev): statcheck compares it with
# the same tuple built from lstat in one step, so keep these fields together.

Entry = tuple  # (digest: bytes32, size, mtime_ns, ctime_ns, ino, dev, nlink, mode)

RECOVER_HINT = (
    "move it aside (mv .ama/index .ama/index.bad) and 'ama add' your files again; "
    "committed versions are not affected"
)


def make_entry(digest: str, st: os.stat_result) -> Entry:
    return (
        bytes.fromhex(digest),
        st.st_size,
        st.st_mtime_ns,
        st.st_ctime_ns,
        st.st_ino,
        st.st_dev,
        st.st_nlink,
        st.st_mode,
    )


def entry_id(entry: Entry) -> str:
    return entry[F_DIGEST].hex()


class Index:
    def __init__(self, entries: dict[str, Entry] | None = None, mtime_ns: int = 0, tree: str | None = None):
        self.entries: dict[str, Entry] = entries if entries is not None else {}
        # The root tree id these entries make, when known (git's cache-tree,
        # for the root only): status compares it with HEAD's tree instead of
        # walking the committed trees. Every content change must go through
        # ``record``/``remove``, which drop it.
        self.tree = tree
        # When the index file was last written: entries whose timestamps are
        # not older than this are "racily clean" and must be hashed.
        self.mtime_ns = mtime_ns
        # Paths whose entry was taken from a fresh hash of the file in this
        # process (staged or refreshed): their snapshot is trusted on write.
        self.verified: set[str] = set()

    @classmethod
    def load(cls, path: str) -> Index:
        try:
            with open(path, "rb") as f:
                data = f.read()
                mtime_ns = os.fstat(f.fileno()).st_mtime_ns
        except FileNotFoundError:
            return cls()
        entries, tree = parse(data, path)
        return cls(entries, mtime_ns, tree)

    def serialize(self) -> bytes:
        paths = sorted(self.entries)
        entries = self.entries
        pack = RECORD.pack
        body = b"".join([pack(*entries[p]) for p in paths])
        names = "\0".join(paths).encode() + (b"\0" if paths else b"")
        tree = bytes.fromhex(self.tree) if self.tree else bytes(32)
        data = HEADER.pack(MAGIC, VERSION, len(paths), tree) + body + names
        return data + blake3(data).digest()

    def record(self, path: str, entry: Entry) -> None:
        """Set ``path``'s entry from a snapshot just taken with its hash."""
        old = self.entries.get(path)
        if old is None or old[F_DIGEST] != entry[F_DIGEST] or old[F_SIZE] != entry[F_SIZE] or (
            (old[F_MODE] ^ entry[F_MODE]) & 0o100
        ):
            self.tree = None
        self.entries[path] = entry
        self.verified.add(path)

    def remove(self, path: str) -> bool:
        if self.entries.pop(path, None) is None:
            return False
        self.tree = None
        return True

    def same_content(self, other: Index) -> bool:
        """Whether both name the same files with the same contents and modes."""
        if self.entries.keys() != other.entries.keys():
            return False
        theirs = other.entries
        return all(
            e[F_DIGEST] == theirs[p][F_DIGEST] and (e[F_MODE] ^ theirs[p][F_MODE]) & 0o100 == 0
            for p, e in self.entries.items()
        )

    def write(self, lock: LockFile) -> None:
        """Write through the held ``lock`` and move it over the index."""
        self.smudge_racy()
        lock.write(self.serialize())
        lock.commit()

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
        entries = self.entries
        racy = [
            p
            for p, e in entries.items()
            if (e[F_MTIME] >= since or e[F_CTIME] >= since) and e[F_CTIME] and p not in self.verified
        ]
        for p in racy:
            e = entries[p]
            entries[p] = e[:F_CTIME] + (0,) + e[F_CTIME + 1 :]

    def is_racy(self, entry: Entry) -> bool:
        return entry[F_MTIME] >= self.mtime_ns or entry[F_CTIME] >= self.mtime_ns

    def paths_under(self, prefixes: Iterable[str]) -> list[str]:
        """Tracked paths equal to or below any of ``prefixes`` ('' is all)."""
        result = []
        for prefix in prefixes:
            if prefix in ("", "."):
                return sorted(self.entries)
            if prefix in self.entries:
                result.append(prefix)
            below = prefix.rstrip("/") + "/"
            result.extend(p for p in self.entries if p.startswith(below))
        return sorted(set(result))


def parse(data: bytes, path: str = ".ama/index") -> tuple[dict[str, Entry], str | None]:
    if len(data) < HEADER.size + TRAILER_SIZE:
        raise Corrupt(f"{path} is truncated; {RECOVER_HINT}")
    magic, version, count, tree = HEADER.unpack_from(data)
    if magic != MAGIC:
        raise Corrupt(f"{path} is not an ama index (bad signature); {RECOVER_HINT}")
    # The checksum before the version: a damaged version field is damage,
    # not a format this ama does not know (every version keeps the trailer).
    body, trailer = data[:-TRAILER_SIZE], data[-TRAILER_SIZE:]
    if blake3(body, max_threads=blake3.AUTO if len(body) > 1 << 24 else 1).digest() != trailer:
        raise Corrupt(f"{path} is corrupt (checksum mismatch); {RECOVER_HINT}")
    if version != VERSION:
        raise Corrupt(f"{path} has format version {version}; this ama reads version {VERSION}; {RECOVER_HINT}")
    start = HEADER.size
    end = start + count * RECORD.size
    if end > len(body):
        raise Corrupt(f"{path} is truncated; {RECOVER_HINT}")
    try:
        names = body[end:].decode()
    except UnicodeDecodeError:
        raise Corrupt(f"{path} is corrupt (bad path name); {RECOVER_HINT}") from None
    paths = names.split("\0")[:-1] if count else []
    if len(paths) != count:
        raise Corrupt(f"{path} is corrupt (entry count mismatch); {RECOVER_HINT}")
    records = RECORD.iter_unpack(memoryview(body)[start:end])
    return dict(zip(paths, records, strict=True)), (tree.hex() if any(tree) else None)
