"""Shared steps of the storage tests (prune, fsck --remote, gc --remote, push)."""

from __future__ import annotations

from pathlib import Path

from e2e import Work

from ama.hashing import hash_bytes

A1, A2, A3 = b"a1" * 500, b"a2" * 600, b"a3" * 700
B = b"shared b" * 100


def commit_three_versions(w: Work) -> None:
    """data/1 versions 1-3 in ``w``: a.bin changes each time (saved as a new
    file, so the hardlinked store copy of the old one survives), b.bin never."""
    for data, message in ((A1, "one"), (A2, "two"), (A3, "three")):
        (w.root / "a.bin").unlink(missing_ok=True)
        w.write("a.bin", data)
        w.write("b.bin", B)
        w.commit(message, "a.bin", "b.bin")


def store_dir(w: Work) -> Path:
    """The directory remote of ``w``'s environment (the per-user store)."""
    return Path(w.env["AMA_HOME"]) / "store"


def remote_object(remote_root: Path, digest_or_data: str | bytes) -> Path:
    digest = hash_bytes(digest_or_data) if isinstance(digest_or_data, bytes) else digest_or_data
    return remote_root / "objects" / digest[:2] / digest[2:]


def damage(path: Path, data: bytes) -> None:
    path.chmod(0o644)
    path.write_bytes(data)
