"""checkout, clone and pull never place an object whose bytes are not known
to hash to its id.

An object in the local store is trusted without hashing only when this
process verified it or when a fresh index snapshot of a hardlinked
work-tree file vouches for it. Anything else is hashed; a damaged object is
moved aside under the id its bytes really have, a good copy is fetched from
the remote, and if there is none the checkout writes nothing (exit 10).
"""

from __future__ import annotations

import os
from pathlib import Path

from conftest import one_line_error
from e2e import Work, make_env, object_path
from txn_helpers import b3

ORIGINAL = b"original bytes " * 100
EDITED = b"EDITED!" + ORIGINAL[7:]  # same size: only a hash can tell


def setup(tmp_path: Path, linkmode: str, files: dict[str, bytes]) -> Work:
    w = Work(tmp_path / "work", make_env(tmp_path / "home"))
    w.ok("init", "--class", "data", "--linkmode", linkmode)
    for name, data in files.items():
        w.write(name, data)
    w.commit("one", ".")
    return w


def edit_in_place(path: Path, data: bytes) -> None:
    with open(path, "r+b") as f:
        f.write(data)


def remote_object(w: Work, digest: str) -> Path:
    return Path(w.env["AMA_HOME"]) / "store" / "objects" / digest[:2] / digest[2:]


def test_checkout_force_of_a_file_edited_in_place_restores_the_committed_bytes(tmp_path):
    w = setup(tmp_path, "hardlink", {"victim.bin": ORIGINAL})
    assert (w.root / "victim.bin").stat().st_nlink == 2, "the test needs a hardlinked store"
    edit_in_place(w.root / "victim.bin", EDITED)
    r = w.ok("checkout", "-f")
    assert "damaged" in r.err
    assert (w.root / "victim.bin").read_bytes() == ORIGINAL
    assert object_path(w, b3(ORIGINAL)).read_bytes() == ORIGINAL
    assert object_path(w, b3(EDITED)).read_bytes() == EDITED, "the edit is kept under its own id"
    assert w.lines("status", "--porcelain") == []
    w.ok("fsck")


def test_two_paths_sharing_a_damaged_object_both_get_the_committed_bytes(tmp_path):
    w = setup(tmp_path, "hardlink", {"a.bin": ORIGINAL, "b.bin": ORIGINAL})
    linked = next(n for n in ("a.bin", "b.bin") if (w.root / n).stat().st_nlink == 2)
    other = "b.bin" if linked == "a.bin" else "a.bin"
    edit_in_place(w.root / linked, EDITED)
    (w.root / other).unlink()
    w.ok("checkout", "--force")
    assert (w.root / "a.bin").read_bytes() == ORIGINAL
    assert (w.root / "b.bin").read_bytes() == ORIGINAL
    assert w.lines("status", "--porcelain") == []


def test_copy_mode_never_writes_a_flipped_byte(tmp_path):
    w = setup(tmp_path, "copy", {"f.bin": ORIGINAL})
    w.write("f.bin", b"second version\n")
    w.commit("two", "f.bin")
    stored = object_path(w, b3(ORIGINAL))
    os.chmod(stored, 0o644)
    edit_in_place(stored, b"X")
    w.ok("checkout", "data/1/1")
    assert (w.root / "f.bin").read_bytes() == ORIGINAL
    assert stored.read_bytes() == ORIGINAL


def test_no_good_copy_anywhere_writes_nothing_and_says_so(tmp_path):
    w = setup(tmp_path, "copy", {"f.bin": ORIGINAL, "other.txt": b"v1\n"})
    w.write("f.bin", b"second version\n")
    w.write("other.txt", b"v2\n")
    w.commit("two", ".")
    stored = object_path(w, b3(ORIGINAL))
    os.chmod(stored, 0o644)
    edit_in_place(stored, b"X")
    remote_object(w, b3(ORIGINAL)).unlink()
    line = one_line_error(w("checkout", "data/1/1"), 10)
    assert "f.bin" in line and "damaged" in line
    assert (w.root / "f.bin").read_bytes() == b"second version\n"
    assert (w.root / "other.txt").read_bytes() == b"v2\n", "nothing is written"
    assert "data/1/2" in w.ok("status").out or w.lines("status", "--porcelain") == []
