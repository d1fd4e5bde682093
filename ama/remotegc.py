"""Garbage collection on a remote (``ama gc --remote NAME``).

Removes what no committed version needs and no commit in flight can still
use: objects no committed version names, temporary files and unfinished
multipart uploads older than the grace period, and it expires (marks
abandoned) reservations older than the grace period. The argument for why
an in-flight commit never loses an object is in docs/commit-protocol.md,
"Remote garbage collection".
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from . import failpoint
from .assets import COMMITTED, RESERVED, Assets
from .errors import Corrupt
from .remote.base import Leftover, Remote, object_key
from .remotecheck import walk_versions

# Objects are removed in batches this large; before each batch gc checks
# that no commit has started since it began.
BATCH = 16


@dataclass
class RemoteSweep:
    expired: list[str] = field(default_factory=list)  # class/seq/n
    objects: list[str] = field(default_factory=list)
    object_bytes: int = 0
    young: int = 0  # unreferenced objects inside the grace period, left
    leftovers: list[Leftover] = field(default_factory=list)
    leftover_bytes: int = 0
    # Why unreferenced objects were left alone, if they were.
    objects_skipped: str = ""


def _records(assets: Assets) -> tuple[list[tuple[str, str]], list[str], set[str]]:
    """(committed (name, commit) pairs, live reservations, version record keys)."""
    committed, reserved, keys = [], [], set()
    for cls in assets.list_classes():
        for seq in assets.list_seqs(cls):
            for n in assets.version_numbers(cls, seq):
                record, _ = assets.read_version(cls, seq, n)
                keys.add(f"{cls}/{seq}/{n}")
                if record.get("status") == COMMITTED:
                    committed.append((f"{cls}/{seq}/{n}", str(record.get("commit"))))
                elif record.get("status") == RESERVED:
                    reserved.append(f"{cls}/{seq}/{n}")
    return committed, reserved, keys


def _version_keys(remote: Remote) -> set[str]:
    """"class/seq/n" of every version record, from one listing (no reads)."""
    found = set()
    for key in remote.list("assets/"):
        parts = key.split("/")
        if len(parts) == 5 and parts[3] == "versions" and parts[4].endswith(".json"):
            found.add(f"{parts[1]}/{parts[2]}/{parts[4][:-5]}")
    return found


def collect(remote: Remote, grace: float, dry_run: bool, keep_txid: str | None = None, jobs: int = 8) -> RemoteSweep:
    """Sweep ``remote``; ``grace`` in seconds. With ``dry_run`` only report."""
    sweep = RemoteSweep()
    now = time.time()
    assets = Assets(remote)

    # 1. Reservations older than the grace period: their commits will never
    # finish (and if one still runs, its compare-and-swap now fails).
    for cls in assets.list_classes():
        for seq, n, txid in assets.stale_reservations(cls, grace, keep_txid):
            if dry_run or assets.abandon(cls, seq, n, txid):
                sweep.expired.append(f"{cls}/{seq}/{n}")

    # 2. What the committed versions name, read and hashed.
    committed, reserved, keys_at_start = _records(assets)
    if not dry_run:
        reserved = [r for r in reserved if r not in sweep.expired]
    walk = walk_versions(remote, committed, jobs)
    broken = [p for p in walk.problems.values() if p.kind in ("commit", "tree", "version")]
    if broken:
        raise Corrupt(
            f"remote {remote.url}: {broken[0].kind} {broken[0].name[:12]} of a committed version is "
            f"{broken[0].what}, so what it names is unknown; gc removed nothing "
            f"(check the remote with 'ama fsck --remote NAME')"
        )
    referenced = walk.graph.kind.keys()

    # 3. Unreferenced objects older than the grace period, unless a commit
    # is in flight (it may be uploading, or reusing, any of them).
    candidates = []
    for digest, written, size in remote.list_objects():
        if digest in referenced:
            continue
        if now - written < grace:
            sweep.young += 1
        else:
            candidates.append((digest, size))
    if reserved:
        sweep.objects_skipped = f"a commit is in flight ({', '.join(reserved[:3])})"
    else:
        for start in range(0, len(candidates), BATCH):
            if not dry_run and _version_keys(remote) - keys_at_start:
                sweep.objects_skipped = "a commit started meanwhile"
                break
            for digest, size in candidates[start : start + BATCH]:
                if not dry_run:
                    remote.delete(object_key(digest))
                    failpoint.hit("gc-removed-object")
                sweep.objects.append(digest)
                sweep.object_bytes += size

    # 4. Temporary files and unfinished uploads past the grace period.
    for leftover in remote.leftovers():
        if now - leftover.started >= grace:
            if not dry_run and not remote.remove_leftover(leftover):
                continue
            sweep.leftovers.append(leftover)
            sweep.leftover_bytes += leftover.size
    return sweep
