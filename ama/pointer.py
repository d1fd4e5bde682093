"""The pointer file: ``.ama-asset`` at the work-tree root.

Written by every commit and checkout, meant to be tracked by git, so that a
git commit pins a data version. Plain text, one ``key: value`` per line::

    asset: genomics/12
    version: 3
    commit: <64 hex>
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from .fsutil import atomic_write
from .repo import Repo

POINTER_FILE = ".ama-asset"


@dataclass
class Pointer:
    asset: str
    version: int
    commit: str

    @property
    def name(self) -> str:
        return f"{self.asset}/{self.version}"


def read_pointer(repo: Repo) -> Pointer | None:
    return read_pointer_file(os.path.join(repo.root, POINTER_FILE))


def read_pointer_file(path: str) -> Pointer | None:
    try:
        with open(path) as f:
            fields = dict(line.split(":", 1) for line in f.read().splitlines() if ":" in line)
        return Pointer(fields["asset"].strip(), int(fields["version"]), fields["commit"].strip())
    except (OSError, KeyError, ValueError):
        return None


def write_pointer(repo: Repo, asset: str, version: int, commit: str) -> None:
    text = f"asset: {asset}\nversion: {version}\ncommit: {commit}\n"
    atomic_write(os.path.join(repo.root, POINTER_FILE), text.encode())
