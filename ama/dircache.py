"""``.ama/dircache``: what the last status read of each directory, so the
next one need not read it again while it is unchanged (Mercurial's
dirstate-v2 rule, git's untracked cache). docs/change-detection.md, "The
directory cache", gives the argument why it cannot hide a new file.

The file::

    magic "AMADIRC\\0", u32 version (1), u32 0,
    the BLAKE3 trailer of the index it was made with (32 bytes),
    the records (below), the BLAKE3 of everything before (32 bytes).

Each record, in path order: i64 mtime_ns, i64 ctime_ns, u64 ino, u64 dev,
u32 path length, u32 untracked files, u32 untracked directories, u32 names
length, the directory's path ("" for the root), then its untracked names,
each ending in NUL, files first. Little-endian. Only the compiled core and
its twin (``ama/_purecore.py``) read and make records; this module checks
the frame and writes the file.

It is a cache: a missing, damaged or foreign file is ignored and replaced,
never an error; failing to write it never fails a command.
"""

from __future__ import annotations

import os
import struct

from .fsutil import temp_name, write_all

MAGIC = b"AMADIRC\0"
VERSION = 1
HEADER = struct.Struct("<8sII32s")
TRAILER_SIZE = 32
FILE = "dircache"
# File timestamps come from the kernel's coarse clock, which may lag the
# clock status reads by a tick (at most 10 ms at HZ=100): the cut-off is
# taken that much earlier.
CLOCK_SLACK_NS = 20_000_000


def cutoff(now_ns: int) -> int:
    """The start of the second in which a status that began at ``now_ns``
    (minus the clock slack) runs: only directories whose mtime and ctime are
    strictly older are recorded."""
    return (now_ns - CLOCK_SLACK_NS) // 1_000_000_000 * 1_000_000_000


def load(ama_dir: str, index_checksum: bytes | None) -> bytes:
    """The records cached for the index with this checksum; b"" when there
    are none: no file, another index, or anything damaged."""
    if index_checksum is None:
        return b""
    try:
        with open(os.path.join(ama_dir, FILE), "rb") as f:
            data = f.read()
    except OSError:
        return b""
    if len(data) < HEADER.size + TRAILER_SIZE:
        return b""
    magic, version, _, key = HEADER.unpack_from(data)
    if magic != MAGIC or version != VERSION or key != index_checksum:
        return b""
    from blake3 import blake3

    body = memoryview(data)[:-TRAILER_SIZE]
    if blake3(body).digest() != data[-TRAILER_SIZE:]:
        return b""
    return data[HEADER.size : -TRAILER_SIZE]


def save(ama_dir: str, index_checksum: bytes, records: bytes) -> None:
    """Write the cache for the index with this checksum (the caller holds
    the index lock). Not fsynced: losing it in a crash only costs the next
    status its reads."""
    from blake3 import blake3

    data = HEADER.pack(MAGIC, VERSION, 0, index_checksum) + records
    tmp = temp_name(ama_dir)
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
        try:
            write_all(fd, data + blake3(data).digest())
        finally:
            os.close(fd)
        os.replace(tmp, os.path.join(ama_dir, FILE))
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
