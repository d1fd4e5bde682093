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

from .errors import Corrupt
from .fsutil import atomic_write
from .names import is_class_name, is_hex64
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
    """The pointer at ``path``; None if there is none.

    Exactly the three lines ``write_pointer`` writes. Anything else (a git
    merge left conflict markers, a hand edit, a truncated file) is refused
    with exit 6 naming the file: a pointer read leniently could pin the
    wrong version without a word.
    """
    try:
        with open(path, "rb") as f:
            raw = f.read(4096)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as e:
        raise Corrupt(f"{POINTER_FILE} cannot be read: {e.strerror}") from None
    pointer = _parse(raw)
    if pointer is None:
        hint = ("it holds git merge conflict markers: keep one side's three lines, then 'git add " + POINTER_FILE + "'"
                if b"<<<<<<<" in raw or b">>>>>>>" in raw
                else "restore it with 'git checkout -- " + POINTER_FILE + "' or 'ama checkout CLASS/SEQ/N'")
        raise Corrupt(f"{path} is not a valid pointer file (asset, version, commit): {hint}")
    return pointer


def _parse(raw: bytes) -> Pointer | None:
    try:
        lines = raw.decode("ascii").splitlines()
    except UnicodeDecodeError:
        return None
    fields = dict(line.split(": ", 1) for line in lines if ": " in line)
    if len(lines) != 3 or len(fields) != 3 or set(fields) != {"asset", "version", "commit"}:
        return None
    cls, _, seq = fields["asset"].partition("/")
    version = fields["version"]
    if not (is_class_name(cls) and seq.isdigit() and int(seq) >= 1 and version.isdigit() and int(version) >= 1
            and is_hex64(fields["commit"])):
        return None
    return Pointer(fields["asset"], int(version), fields["commit"])


def write_pointer(repo: Repo, asset: str, version: int, commit: str) -> None:
    text = f"asset: {asset}\nversion: {version}\ncommit: {commit}\n"
    atomic_write(os.path.join(repo.root, POINTER_FILE), text.encode())
