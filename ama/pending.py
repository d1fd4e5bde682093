"""``.ama/PENDING``: the record of a commit transaction in flight.

It exists exactly while a commit is running or was interrupted, and holds
everything the commit object is made from, so finishing it later gives the
same commit id (docs/commit-protocol.md). The transaction itself is
``ama.txn``.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field

from . import records
from .errors import Corrupt
from .fsutil import atomic_write
from .objects import Commit
from .repo import Repo


@dataclass
class Pending:
    txid: str
    cls: str
    tree: str
    message: str
    author: str
    time: int
    tz: str
    remote: str
    parent: str | None = None
    seq: int | None = None
    version: int | None = None
    commit: str | None = None
    inputs: list[list[str]] = field(default_factory=list)
    meta: dict = field(default_factory=dict)

    @property
    def asset(self) -> str | None:
        return f"{self.cls}/{self.seq}" if self.seq is not None else None

    def describe(self) -> str:
        what = self.asset or f"a new {self.cls} asset"
        return what + (f" version {self.version}" if self.version else "")

    def make_commit(self) -> Commit:
        return Commit(
            tree=self.tree,
            parent=self.parent,
            asset=f"{self.cls}/{self.seq}",
            version=self.version or 0,
            author=self.author,
            time=self.time,
            tz=self.tz,
            message=self.message,
            inputs=[tuple(i) for i in self.inputs],
            meta=self.meta,
        )

    def save(self, repo: Repo) -> None:
        record = asdict(self)
        record["class"] = record.pop("cls")
        record["asset"] = self.asset
        record["format"] = records.FORMAT
        atomic_write(repo.pending_path, (json.dumps(record, indent=1, sort_keys=True) + "\n").encode())

    @classmethod
    def load(cls, repo: Repo) -> Pending | None:
        try:
            with open(repo.pending_path, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            return None
        hint = "move it aside (mv .ama/PENDING .ama/PENDING.bad) and commit again"
        try:
            record = records.load(data, records.PENDING, ".ama/PENDING", strict=True)
        except Corrupt as e:
            raise Corrupt(f"{e}; {hint}") from None
        record.pop("asset", None)
        record.pop("format", None)
        record["cls"] = record.pop("class")
        return cls(**record)

    @staticmethod
    def remove(repo: Repo) -> None:
        try:
            os.unlink(repo.pending_path)
        except FileNotFoundError:
            pass
