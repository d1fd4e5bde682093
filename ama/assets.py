"""Asset records on a remote: sequence numbers, versions, heads, aliases.

Written once here, above the storage interface, for every backend::

    assets/<class>/<seq>/asset.json          created once (allocates seq)
    assets/<class>/<seq>/versions/<n>.json   reserved, then committed (CAS)
    assets/<class>/<seq>/HEAD                latest committed version (CAS)
    aliases/<class>/<alias>                  -> seq

Every write is create-if-absent or compare-and-swap, so two writers never
both get the same seq or version, and nothing is overwritten blindly.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from . import records
from .errors import AlreadyExists, Conflict, Corrupt, LockHeld, NotFound, PreconditionFailed, RemoteError, UsageError
from .remote.base import Remote

RESERVED = "reserved"
COMMITTED = "committed"
ABANDONED = "abandoned"
# How many of the newest records recovery looks through for its own txid.
RECOVERY_SCAN = 64


def _dump(record: dict) -> bytes:
    return (json.dumps({"format": records.FORMAT, **record}, sort_keys=True, indent=1) + "\n").encode()


def _load(data: bytes, key: str, kind: tuple[dict, dict]) -> dict:
    """A remote record, every field checked (ama.records): Corrupt naming it."""
    return records.load(data, kind, f"remote record {key}")


def asset_prefix(cls: str, seq: int) -> str:
    return f"assets/{cls}/{seq}"


def version_key(cls: str, seq: int, n: int) -> str:
    return f"{asset_prefix(cls, seq)}/versions/{n}.json"


def head_key(cls: str, seq: int) -> str:
    return f"{asset_prefix(cls, seq)}/HEAD"


def parse_asset_name(name: str) -> tuple[str, int | str, int | None]:
    """'class/seq', 'class/seq/n' or 'class/alias' -> (class, seq or alias, n)."""
    parts = name.strip("/").split("/")
    if len(parts) not in (2, 3) or not all(parts):
        raise UsageError(f"'{name}' is not an asset name: expected CLASS/SEQ, CLASS/SEQ/N or CLASS/ALIAS")
    cls, middle = parts[0], parts[1]
    n = None
    if len(parts) == 3:
        if not parts[2].isdigit() or int(parts[2]) < 1:
            raise UsageError(f"'{name}': version must be a number from 1")
        n = int(parts[2])
    return cls, (int(middle) if middle.isdigit() else middle), n


@dataclass
class RemoteHead:
    """An asset's HEAD record on a remote (``refs.Head`` is a work tree's)."""

    version: int
    commit: str
    token: str


class Assets:
    """The asset records of one remote."""

    def __init__(self, remote: Remote):
        self.remote = remote

    # -- reading -------------------------------------------------------------

    def list_classes(self) -> list[str]:
        classes = {key.split("/")[1] for key in self.remote.list("assets/") if key.count("/") >= 3}
        return sorted(classes)

    def list_seqs(self, cls: str) -> list[int]:
        seqs = set()
        for key in self.remote.list(f"assets/{cls}/"):
            parts = key.split("/")
            if len(parts) >= 4 and parts[2].isdigit() and parts[3] == "asset.json":
                seqs.add(int(parts[2]))
        return sorted(seqs)

    def read_asset(self, cls: str, seq: int) -> dict:
        key = f"{asset_prefix(cls, seq)}/asset.json"
        try:
            return _load(self.remote.get(key), key, records.ASSET)
        except NotFound:
            raise NotFound(f"asset {cls}/{seq} does not exist on {self.remote.url}") from None

    def version_numbers(self, cls: str, seq: int) -> list[int]:
        numbers = []
        for key in self.remote.list(f"{asset_prefix(cls, seq)}/versions/"):
            name = key.rsplit("/", 1)[-1]
            if name.endswith(".json") and name[:-5].isdigit():
                numbers.append(int(name[:-5]))
        return sorted(numbers)

    def read_version(self, cls: str, seq: int, n: int) -> tuple[dict, str]:
        key = version_key(cls, seq, n)
        try:
            data, token = self.remote.get_versioned(key)
        except NotFound:
            raise NotFound(f"version {cls}/{seq}/{n} does not exist on {self.remote.url}") from None
        return _load(data, key, records.VERSION), token

    def versions(self, cls: str, seq: int) -> list[dict]:
        return [self.read_version(cls, seq, n)[0] for n in self.version_numbers(cls, seq)]

    def head(self, cls: str, seq: int) -> RemoteHead | None:
        key = head_key(cls, seq)
        try:
            data, token = self.remote.get_versioned(key)
        except NotFound:
            return None
        record = _load(data, key, records.HEAD)
        return RemoteHead(record["version"], record["commit"], token)

    def settled_head(self, cls: str, seq: int) -> RemoteHead | None:
        """The asset's HEAD, first rolled forward to the newest committed
        version if it lags behind one.

        HEAD moves after the version record is committed, so a commit killed
        in between leaves HEAD one version behind for good. Every committed
        record is complete (its objects were uploaded first) and committed
        versions form one chain, so moving HEAD to the newest is what that
        commit would have done; it is a compare-and-swap, and two processes
        doing it at once move it to the same place. On a remote this
        process may not write, the newer version is returned all the same.
        """
        for _ in range(100):
            head = self.head(cls, seq)
            newest = self._committed_after(cls, seq, head.version if head else 0)
            if newest is None:
                return head
            n, commit = newest
            data = _dump({"version": n, "commit": commit})
            try:
                if head is None:
                    token = self.remote.create(head_key(cls, seq), data)
                else:
                    token = self.remote.replace(head_key(cls, seq), data, head.token)
            except (AlreadyExists, PreconditionFailed):
                continue  # moved meanwhile: look again
            except (RemoteError, LockHeld):
                return RemoteHead(n, commit, "")
            return RemoteHead(n, commit, token)
        raise Conflict(f"the HEAD of asset {cls}/{seq} keeps moving; try again")

    def _committed_after(self, cls: str, seq: int, version: int) -> tuple[int, str] | None:
        """(n, commit) of the newest committed version above ``version``."""
        found = None
        n = version + 1
        while True:
            try:
                record, _ = self.read_version(cls, seq, n)
            except NotFound:
                return found
            status = record.get("status")
            if status == COMMITTED:
                commit = record.get("commit")
                if not isinstance(commit, str):
                    raise Corrupt(f"remote record {version_key(cls, seq, n)} has no commit id")
                found = (n, commit)
            elif status != ABANDONED:
                # A reservation: nothing above it can be committed yet.
                return found
            n += 1

    def resolve_alias(self, cls: str, alias: str) -> int:
        key = f"aliases/{cls}/{alias}"
        try:
            return _load(self.remote.get(key), key, records.ALIAS)["seq"]
        except NotFound:
            raise NotFound(f"no asset {cls}/{alias} on {self.remote.url}") from None

    def commit_of(self, cls: str, seq: int, n: int | None = None) -> tuple[int, str]:
        """(version, commit id) of version ``n``, or of the asset's head."""
        if n is None:
            head = self.settled_head(cls, seq)
            if head is None:
                raise NotFound(f"asset {cls}/{seq} has no committed version yet")
            return head.version, head.commit
        record, _ = self.read_version(cls, seq, n)
        if record.get("status") != COMMITTED:
            raise NotFound(f"version {cls}/{seq}/{n} is {record.get('status')}, not committed")
        return n, record["commit"]

    # -- stage 1: allocate and reserve ----------------------------------------

    def allocate_seq(self, cls: str, txid: str, user: str) -> int:
        """Create the next ``asset.json`` of ``cls``; return its seq."""
        seqs = self.list_seqs(cls)
        seq = (seqs[-1] + 1) if seqs else 1
        record = {"class": cls, "created": int(time.time()), "creator": user, "txid": txid}
        for _ in range(1000):
            try:
                self.remote.create(f"{asset_prefix(cls, seq)}/asset.json", _dump({**record, "seq": seq}))
                return seq
            except AlreadyExists:
                seq += 1
        raise Conflict(f"could not allocate a sequence number for class {cls}: too many concurrent writers")

    def find_own_seq(self, cls: str, txid: str) -> int | None:
        """The seq an interrupted transaction allocated, if it got that far."""
        for seq in reversed(self.list_seqs(cls)[-RECOVERY_SCAN:]):
            try:
                if self.read_asset(cls, seq).get("txid") == txid:
                    return seq
            except NotFound:
                continue
        return None

    def find_own_version(self, cls: str, seq: int, txid: str) -> int | None:
        for n in reversed(self.version_numbers(cls, seq)[-RECOVERY_SCAN:]):
            record, _ = self.read_version(cls, seq, n)
            if record.get("txid") == txid:
                return n
        return None

    def reserve_version(self, cls: str, seq: int, parent: str | None, txid: str, user: str) -> int:
        """Reserve the next version of ``cls/seq`` on top of ``parent``.

        Refuses when the asset moved on (its head is not ``parent``, or the
        newest version that was not abandoned is not ``parent``) or when
        another transaction holds a reservation, so versions never fork.
        """
        head = self.settled_head(cls, seq)
        head_commit = head.commit if head else None
        if head_commit != parent:
            at = f"version {head.version}" if head else "no version"
            raise Conflict(
                f"asset {cls}/{seq} moved on (it is at {at}, this work tree is not): "
                f"run 'ama pull' to update, then commit again"
            )
        numbers = self.version_numbers(cls, seq)
        # HEAD moves only after a version is committed, so it can lag behind
        # the records (a commit killed in between, or still running): the
        # version below the one reserved must itself be ``parent``.
        for n in reversed(numbers):
            last, _ = self.read_version(cls, seq, n)
            status = last.get("status")
            if status == ABANDONED:
                continue
            if status == RESERVED and last.get("txid") != txid:
                raise Conflict(
                    f"asset {cls}/{seq} is moving on: version {n} is reserved by an unfinished commit of "
                    f"{last.get('user', 'someone')}; wait for it, then 'ama pull' and commit again "
                    f"(if it was given up, expire it with 'ama gc --expire-reservations')"
                )
            if status == COMMITTED and last.get("commit") != parent:
                raise Conflict(
                    f"asset {cls}/{seq} moved on: version {n} was committed by another writer "
                    f"(it may still be finishing); run 'ama pull', then commit again"
                )
            break
        n = (numbers[-1] + 1) if numbers else 1
        record = {
            "version": n,
            "status": RESERVED,
            "txid": txid,
            "user": user,
            "parent": parent,
            "reserved_at": int(time.time()),
        }
        try:
            self.remote.create(version_key(cls, seq, n), _dump(record))
        except AlreadyExists:
            raise Conflict(
                f"asset {cls}/{seq} moved on: version {n} was just taken by another writer; "
                f"run 'ama pull', then commit again"
            ) from None
        return n

    # -- stage 2: publish -------------------------------------------------------

    def commit_version(self, cls: str, seq: int, n: int, txid: str, fields: dict) -> None:
        """Turn our reservation into a committed version (compare-and-swap)."""
        record, token = self.read_version(cls, seq, n)
        if record.get("txid") != txid:
            raise Conflict(f"version {cls}/{seq}/{n} belongs to another transaction; nothing was changed")
        if record.get("status") == COMMITTED:
            if record.get("commit") != fields["commit"]:
                raise Conflict(f"version {cls}/{seq}/{n} was committed with another commit")
            return
        if record.get("status") != RESERVED:
            raise Conflict(
                f"version {cls}/{seq}/{n} is {record.get('status')}: the reservation expired; "
                f"give this commit up with 'ama commit --abandon' (it then becomes a new asset)"
            )
        updated = {**record, **fields, "status": COMMITTED, "committed_at": int(time.time())}
        try:
            self.remote.replace(version_key(cls, seq, n), _dump(updated), token)
        except PreconditionFailed:
            raise Conflict(f"version {cls}/{seq}/{n} changed while committing; run 'ama commit' again") from None

    def advance_head(self, cls: str, seq: int, n: int, commit: str, parent: str | None) -> None:
        """Move the asset's HEAD from ``parent`` to ``commit`` (CAS)."""
        data = _dump({"version": n, "commit": commit})
        head = self.head(cls, seq)
        if head is not None and (head.commit == commit or head.version >= n):
            # Already moved here, or past it: our version n is committed, so
            # another process rolled HEAD forward over it (settled_head).
            return
        try:
            if head is None:
                if parent is not None:
                    raise Conflict(f"asset {cls}/{seq} has no HEAD but this commit has a parent")
                self.remote.create(head_key(cls, seq), data)
            elif head.commit != parent or head.version >= n:
                raise Conflict(f"asset {cls}/{seq} moved on to version {head.version}; run 'ama pull'")
            else:
                self.remote.replace(head_key(cls, seq), data, head.token)
        except (AlreadyExists, PreconditionFailed):
            # Someone else wrote HEAD between our read and our write. It may
            # be a reader's roll-forward over our committed version n
            # (settled_head): then HEAD is where we wanted it, and this
            # commit succeeded.
            now = self.head(cls, seq)
            if now is not None and (now.commit == commit or now.version >= n):
                return
            raise Conflict(f"asset {cls}/{seq} moved on while committing; run 'ama pull'") from None

    def abandon(self, cls: str, seq: int, n: int, txid: str) -> bool:
        """Mark our reservation abandoned; False if it was not ours or not reserved."""
        try:
            record, token = self.read_version(cls, seq, n)
        except NotFound:
            return False
        if record.get("txid") != txid or record.get("status") != RESERVED:
            return False
        updated = {**record, "status": ABANDONED, "abandoned_at": int(time.time())}
        try:
            self.remote.replace(version_key(cls, seq, n), _dump(updated), token)
        except PreconditionFailed:
            return False
        return True

    def stale_reservations(self, cls: str, older_than: float, keep_txid: str | None = None) -> list[tuple[int, int, str]]:
        """(seq, version, txid) of reservations older than ``older_than`` seconds."""
        stale = []
        now = time.time()
        for seq in self.list_seqs(cls):
            for n in self.version_numbers(cls, seq):
                record, _ = self.read_version(cls, seq, n)
                if (
                    record.get("status") == RESERVED
                    and record.get("txid") != keep_txid
                    and now - record.get("reserved_at", now) >= older_than
                ):
                    stale.append((seq, n, record["txid"]))
        return stale

    def expire_reservations(self, cls: str, older_than: float, keep_txid: str | None = None) -> list[str]:
        """Abandon reservations older than ``older_than`` seconds; their names."""
        return [
            f"{cls}/{seq}/{n}"
            for seq, n, txid in self.stale_reservations(cls, older_than, keep_txid)
            if self.abandon(cls, seq, n, txid)
        ]

    # -- aliases ------------------------------------------------------------

    def set_alias(self, cls: str, alias: str, seq: int, force: bool = False) -> None:
        key = f"aliases/{cls}/{alias}"
        data = _dump({"seq": seq})
        try:
            self.remote.create(key, data)
            return
        except AlreadyExists:
            pass
        current, token = self.remote.get_versioned(key)
        current_seq = _load(current, key, records.ALIAS)["seq"]
        if current_seq == seq:
            return
        if not force:
            raise Conflict(f"alias {cls}/{alias} already names {cls}/{current_seq}; use --force to move it")
        try:
            self.remote.replace(key, data, token)
        except PreconditionFailed:
            raise Conflict(f"alias {cls}/{alias} changed meanwhile; nothing was changed") from None

    def list_aliases(self, cls: str) -> dict[str, int]:
        aliases = {}
        for key in self.remote.list(f"aliases/{cls}/"):
            aliases[key.rsplit("/", 1)[-1]] = _load(self.remote.get(key), key, records.ALIAS)["seq"]
        return aliases
