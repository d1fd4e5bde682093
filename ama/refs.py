"""Refs, HEAD and the ref log.

``.ama/refs/assets/<class>/<seq>`` holds the commit id of the newest version
of that asset known here. ``.ama/HEAD`` says which asset the work tree is on
and which commit it was last synced to (committed or checked out). Every ref
change is appended to ``.ama/logs/<ref>`` with old, new, who, when and why.
"""

from __future__ import annotations

import os

from .errors import AmaError, Conflict, Corrupt, UsageError
from .fsutil import LockFile, atomic_write, write_all
from .names import is_class_name, is_hex64
from .repo import Repo

ZERO = "0" * 64


def __getattr__(name: str):
    """``CLASS_NAME``, the compiled pattern of names.is_class_name for
    modules that match with it, built on first use: ``ama status`` never pays
    for ``re``."""
    if name == "CLASS_NAME":
        import re

        globals()[name] = pattern = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*\Z")
        return pattern
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def is_ref_name(ref: str) -> bool:
    """Whether ``ref`` is ``assets/<class>/<seq>`` (seq: ASCII digits)."""
    parts = ref.split("/")
    return (len(parts) == 3 and parts[0] == "assets" and is_class_name(parts[1])
            and parts[2].isascii() and parts[2].isdigit())


def check_class(name: str) -> str:
    if not is_class_name(name) or name.endswith(".lock"):
        raise UsageError(f"bad asset class '{name}': use letters, digits, '.', '_' and '-'")
    return name


def check_ref_name(ref: str) -> str:
    if ref.startswith("refs/"):
        ref = ref[5:]
    if not is_ref_name(ref):
        raise UsageError(f"bad ref name '{ref}': expected assets/<class>/<seq>")
    return ref


def read_ref(repo: Repo, ref: str) -> str | None:
    ref = check_ref_name(ref)
    try:
        with open(repo.path("refs", ref), "rb") as f:
            value = f.read().strip().decode("ascii", "replace")
    except FileNotFoundError:
        return None
    if not is_hex64(value):
        raise Corrupt(
            f".ama/refs/{ref} is corrupt: expected a 64-hex commit id; remove it "
            f"(rm .ama/refs/{ref}) and 'ama fetch' sets it again"
        )
    return value


def list_refs(repo: Repo) -> dict[str, str]:
    refs = {}
    base = repo.path("refs", "assets")
    for cls in sorted(os.listdir(base)) if os.path.isdir(base) else []:
        for seq in sorted(os.listdir(os.path.join(base, cls)), key=lambda s: (len(s), s)):
            if seq.isdigit():
                name = f"assets/{cls}/{seq}"
                value = read_ref(repo, name)
                if value:
                    refs[name] = value
    return refs


def update_ref(repo: Repo, ref: str, new: str, old: str | None = None, reason: str = "") -> None:
    """Move ``ref`` to ``new``; if ``old`` is given the ref must hold it now
    (``ZERO`` meaning: must not exist yet). The change is logged."""
    ref = check_ref_name(ref)
    path = repo.path("refs", ref)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with LockFile(path) as lock:
        current = read_ref(repo, ref)
        if old is not None and (current or ZERO) != old:
            raise Conflict(f"ref {ref} is at {(current or ZERO)[:12]}, not {old[:12]}: it moved; nothing changed")
        lock.write(f"{new}\n".encode())
        # Under the lock, before the move, as git writes its reflog: two
        # updates of one ref are logged in the order they happen.
        append_log(repo, ref, current or ZERO, new, reason)
        lock.commit()


def append_log(repo: Repo, ref: str, old: str, new: str, reason: str) -> None:
    from . import ident

    when, tz = ident.now()
    line = f"{old} {new} {ident.author(repo.root)} {when} {tz}\t{reason}\n"
    path = repo.path("logs", ref)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        write_all(fd, line.encode())
        os.fsync(fd)
    finally:
        os.close(fd)


# -- HEAD --------------------------------------------------------------------


class Head:
    """Which asset the work tree is on and the commit it was last synced to."""

    __slots__ = ("cls", "seq", "version", "commit")

    def __init__(self, cls: str, seq: int | None = None, version: int | None = None, commit: str | None = None):
        self.cls = cls
        self.seq = seq
        self.version = version
        self.commit = commit

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Head) and all(getattr(self, f) == getattr(other, f) for f in self.__slots__)

    def __repr__(self) -> str:
        return f"Head({self.cls!r}, {self.seq!r}, {self.version!r}, {self.commit!r})"

    @property
    def asset(self) -> str | None:
        return f"{self.cls}/{self.seq}" if self.seq is not None else None

    @property
    def ref(self) -> str | None:
        return f"assets/{self.cls}/{self.seq}" if self.seq is not None else None


def read_head(repo: Repo) -> Head:
    try:
        with open(repo.path("HEAD"), "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return _head_without_file(repo)
    try:
        fields = dict(line.split(" ", 1) for line in data.decode("utf-8").splitlines())
        head = Head(
            cls=fields.pop("class"),
            seq=_positive(fields.pop("seq")) if "seq" in fields else None,
            version=_positive(fields.pop("version")) if "version" in fields else None,
            commit=fields.pop("commit", None),
        )
        if (
            fields
            or not is_class_name(head.cls)
            or (head.commit is not None and not is_hex64(head.commit))
            or (head.version is not None and head.seq is None)
        ):
            raise ValueError
    except (KeyError, ValueError):
        raise Corrupt(
            ".ama/HEAD is corrupt; rewrite it with 'ama init --class NAME', then 'ama checkout NAME/SEQ/N'"
        ) from None
    return head


def _positive(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or int(text) < 1:
        raise ValueError(text)
    return int(text)


def _head_without_file(repo: Repo) -> Head:
    """HEAD when ``.ama/HEAD`` is missing: a new repository's (class named
    after the directory), or, if the work tree is on an asset already, that
    asset as ``.ama-asset`` or the only ref names it, never a new one."""
    from .pointer import read_pointer

    pointer = read_pointer(repo)
    refs = list_refs(repo)
    if pointer is not None and pointer.asset.rpartition("/")[2].isdigit():
        cls, _, seq = pointer.asset.rpartition("/")
        return Head(cls, int(seq), pointer.version, pointer.commit)
    if not refs:
        return Head(cls=os.path.basename(repo.root) or "data")
    if len(refs) == 1:
        ((ref, commit),) = refs.items()
        _, cls, seq = ref.split("/")
        return Head(cls, int(seq), _version_of(repo, commit), commit)
    raise Corrupt(
        f".ama/HEAD is missing and .ama/refs names {len(refs)} assets ({', '.join(r[7:] for r in refs)}): "
        "ama cannot tell which one this work tree is on; restore .ama/HEAD from a backup, "
        "or the work tree's .ama-asset file from git"
    )


def _version_of(repo: Repo, commit_id: str) -> int | None:
    from .objects import Commit

    try:
        return Commit.parse(repo.store.read_bytes(commit_id), commit_id).version
    except AmaError:
        return None


def write_head(repo: Repo, head: Head) -> None:
    lines = [f"class {head.cls}"]
    if head.seq is not None:
        lines.append(f"seq {head.seq}")
    if head.version is not None:
        lines.append(f"version {head.version}")
    if head.commit:
        lines.append(f"commit {head.commit}")
    atomic_write(repo.path("HEAD"), ("\n".join(lines) + "\n").encode())


