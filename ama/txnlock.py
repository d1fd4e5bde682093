"""``.ama/txn.lock``: the repository's transaction lock (docs/locks-and-temp-files.md)."""

from __future__ import annotations

from .fsutil import Lock, remove_stale_temps
from .repo import Repo


class TxnLock(Lock):
    """``.ama/txn.lock``: one commit, checkout, pull or gc at a time per
    repository. Taking it also removes the temp files that killed commands
    left in ``.ama/`` and at the work-tree root (HEAD, PENDING, ``.ama-asset``...)."""

    def __init__(self, repo: Repo):
        super().__init__(repo.path("txn.lock"), record_owner=True)
        self.repo = repo

    def acquire(self) -> TxnLock:
        super().acquire()
        remove_stale_temps(self.repo.ama_dir)
        remove_stale_temps(self.repo.root)
        return self
